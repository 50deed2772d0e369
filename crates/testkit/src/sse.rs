//! Server-Sent Events as a client reads them: bytes in, one block (an event or a comment) at
//! a time out, parsed as a browser's `EventSource` does for the fields the shop sends.

use serde_json::Value;

/// One block of a stream.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SseEvent {
    /// `event:` (empty for a comment or the opening `retry:` block).
    pub event: String,
    pub id: Option<String>,
    pub data: String,
    /// A `: …` line.
    pub comment: Option<String>,
    pub retry: Option<String>,
}

impl SseEvent {
    /// `data` as JSON.
    ///
    /// # Panics
    ///
    /// When it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {:?}", self.data))
    }
}

/// What came of a stream and is not read yet.
#[derive(Debug, Default)]
pub struct SseBuffer(String);

impl SseBuffer {
    /// Bytes as they came.
    ///
    /// # Panics
    ///
    /// When they are not UTF-8 (the shop sends ASCII).
    pub fn push(&mut self, bytes: &[u8]) {
        self.0
            .push_str(std::str::from_utf8(bytes).expect("an event stream is UTF-8"));
    }

    /// The next whole block, if one has come.
    ///
    /// # Panics
    ///
    /// On a field the shop never sends.
    pub fn next_block(&mut self) -> Option<SseEvent> {
        let end = self.0.find("\n\n")?;
        let block: String = self.0.drain(..end + 2).collect();
        let mut e = SseEvent::default();
        for line in block.lines().filter(|l| !l.is_empty()) {
            let (field, value) = line.split_once(": ").unwrap_or((line, ""));
            match field {
                "" => e.comment = Some(value.to_owned()),
                "event" => e.event = value.to_owned(),
                "id" => e.id = Some(value.to_owned()),
                "data" => e.data = value.to_owned(),
                "retry" => e.retry = Some(value.to_owned()),
                other => panic!("unknown field {other:?} in {block:?}"),
            }
        }
        Some(e)
    }
}

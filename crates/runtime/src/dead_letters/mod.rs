//! Dead letters: what a consumer writes on a message it sends to `<queue>.dead-letter`
//! (why, when, after how many attempts, the error), how a dead letter reads back, and the
//! operator's tools over a dead-letter queue (`<consumer> dead-letters list|show|replay|
//! discard`: [`cli`], over the broker in [`sweep`]).
//!
//! The reason travels with the message, in headers added to a copy of it: the consumer
//! publishes the copy to the dead-letter queue under publisher confirms, then acks the
//! original (`crate::consumer`'s `dead_letter::send`). Everything else of the original
//! (body, `content_type`, `message_id`, its headers) is kept, so a replay is the same
//! message and the consumers' de-duplication skips it when it was applied already. What the
//! broker dead-letters itself (the delivery limit) carries RabbitMQ's `x-death` instead,
//! whose reason (`delivery_limit`, `rejected`) is read the same way.

pub mod cli;
pub mod sweep;

use std::time::{SystemTime, UNIX_EPOCH};

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

/// Why the message was dead-lettered: `undecodable`, `unknown_type`, `unknown_version`,
/// `handler_error`, or the handler's own reason.
pub const REASON_HEADER: &str = "x-dead-letter-reason";
/// The error that sent it there, at most [`ERROR_LIMIT`] bytes.
pub const ERROR_HEADER: &str = "x-dead-letter-error";
/// When it was dead-lettered the last time (a timestamp, seconds).
pub const AT_HEADER: &str = "x-dead-letter-at";
/// When it was dead-lettered the first time, kept across replays.
pub const FIRST_AT_HEADER: &str = "x-first-death-at";
/// The queue it was taken from.
pub const QUEUE_HEADER: &str = "x-dead-letter-queue";
/// How many times the handler was tried on it before it was given up.
pub const ATTEMPTS_HEADER: &str = "x-dead-letter-attempts";
/// How many times it was replayed from the dead-letter queue.
pub const REPLAYS_HEADER: &str = "x-replays";
/// The longest error text kept on a dead letter.
pub const ERROR_LIMIT: usize = 500;

/// Headers of a dead letter's last death, removed by a replay (the first death's time and
/// the replay count stay).
const DEATH_HEADERS: [&str; 9] = [
    REASON_HEADER,
    ERROR_HEADER,
    AT_HEADER,
    QUEUE_HEADER,
    ATTEMPTS_HEADER,
    "x-death",
    "x-last-death-reason",
    "x-last-death-queue",
    "x-delivery-count",
];

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn long_string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s.as_bytes()))
}

/// `error` cut to at most [`ERROR_LIMIT`] bytes, on a character boundary.
fn truncated(error: &str) -> &str {
    if error.len() <= ERROR_LIMIT {
        return error;
    }
    let mut end = ERROR_LIMIT;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    &error[..end]
}

/// The properties of the dead letter of a message taken from `queue`: the original's, with
/// the reason, the error, the time and the attempts added.
pub fn dead_letter_properties(
    original: &BasicProperties,
    queue: &str,
    reason: &str,
    error: &str,
    attempts: u32,
) -> BasicProperties {
    let mut headers = original.headers().clone().unwrap_or_default();
    let now = now_secs();
    headers.insert(REASON_HEADER.into(), long_string(reason));
    headers.insert(ERROR_HEADER.into(), long_string(truncated(error)));
    headers.insert(AT_HEADER.into(), AMQPValue::Timestamp(now));
    headers.insert(QUEUE_HEADER.into(), long_string(queue));
    headers.insert(
        ATTEMPTS_HEADER.into(),
        AMQPValue::LongLongInt(i64::from(attempts)),
    );
    if !headers.inner().contains_key(FIRST_AT_HEADER) {
        headers.insert(FIRST_AT_HEADER.into(), AMQPValue::Timestamp(now));
    }
    original.clone().with_headers(headers)
}

/// The properties a replay publishes: the dead letter's without its last death's headers,
/// with its replay count one higher.
pub fn replay_properties(dead: &BasicProperties) -> BasicProperties {
    let mut kept: std::collections::BTreeMap<ShortString, AMQPValue> = dead
        .headers()
        .as_ref()
        .map(|h| h.inner().clone())
        .unwrap_or_default();
    kept.retain(|k, _| !DEATH_HEADERS.contains(&k.as_str()));
    let replays = replays(dead.headers().as_ref()) + 1;
    kept.insert(
        REPLAYS_HEADER.into(),
        AMQPValue::LongLongInt(replays as i64),
    );
    dead.clone().with_headers(FieldTable::from(kept))
}

fn header<'a>(headers: Option<&'a FieldTable>, name: &str) -> Option<&'a AMQPValue> {
    headers?.inner().get(name)
}

fn text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

fn integer(value: &AMQPValue) -> Option<u64> {
    match value {
        AMQPValue::Timestamp(v) => Some(*v),
        AMQPValue::LongLongInt(v) => u64::try_from(*v).ok(),
        AMQPValue::LongInt(v) => u64::try_from(*v).ok(),
        AMQPValue::LongUInt(v) => Some(u64::from(*v)),
        AMQPValue::ShortInt(v) => u64::try_from(*v).ok(),
        AMQPValue::ShortUInt(v) => Some(u64::from(*v)),
        _ => None,
    }
}

fn replays(headers: Option<&FieldTable>) -> u64 {
    header(headers, REPLAYS_HEADER)
        .and_then(integer)
        .unwrap_or(0)
}

/// The first entry of RabbitMQ's `x-death` header (its latest death), when the broker
/// dead-lettered the message itself.
fn broker_death(headers: Option<&FieldTable>) -> Option<&FieldTable> {
    match header(headers, "x-death")? {
        AMQPValue::FieldArray(deaths) => match deaths.as_slice().first()? {
            AMQPValue::FieldTable(death) => Some(death),
            _ => None,
        },
        _ => None,
    }
}

/// One dead letter as the tools show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its `message_id`, or `body-` and a digest of its body for a message without one
    /// (the original Python producers').
    pub id: String,
    /// Its `content_type`, `-` when it has none.
    pub event: String,
    /// Ours ([`REASON_HEADER`]), else the broker's (`x-death`), else `unknown`.
    pub reason: String,
    /// When it was dead-lettered last (seconds since the epoch), when known.
    pub at: Option<u64>,
    /// Handler attempts ([`ATTEMPTS_HEADER`]); unknown for what the broker dead-lettered.
    pub attempts: Option<u64>,
    pub replays: u64,
    pub error: Option<String>,
}

impl DeadLetter {
    pub fn read(properties: &BasicProperties, body: &[u8]) -> Self {
        let headers = properties.headers().as_ref();
        let death = broker_death(headers);
        let death_field = |name: &str| death.and_then(|d| d.inner().get(name));
        let id = properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("body-{:016x}", fnv1a(body)));
        DeadLetter {
            id,
            event: properties
                .content_type()
                .as_ref()
                .map_or_else(|| "-".to_owned(), |c| c.as_str().to_owned()),
            reason: header(headers, REASON_HEADER)
                .and_then(text)
                .or_else(|| death_field("reason").and_then(text))
                .unwrap_or_else(|| "unknown".to_owned()),
            at: header(headers, AT_HEADER)
                .and_then(integer)
                .or_else(|| death_field("time").and_then(integer)),
            // Not `x-delivery-count`: in the dead-letter queue that counts its own returns.
            attempts: header(headers, ATTEMPTS_HEADER).and_then(integer),
            replays: replays(headers),
            error: header(headers, ERROR_HEADER).and_then(text),
        }
    }
}

/// FNV-1a, 64 bits: a stable digest naming a message without an id.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;

//! The bytes of the event stream (the `text/event-stream` format): each event encoded once,
//! and the same bytes written to every stream.

use std::time::Duration;

use axum::body::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

/// One product's like count now, in a `likes` event's data: `{"id": 12, "likes": 40}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct LikeCount {
    pub id: u64,
    pub likes: u64,
}

/// `event: likes`, resumable from `id`, with the counts of the products that changed.
pub fn likes(id: u64, counts: &[(u64, u64)]) -> Bytes {
    let data: Vec<LikeCount> = counts
        .iter()
        .map(|&(id, likes)| LikeCount { id, likes })
        .collect();
    // A list of numbers cannot fail to encode, nor hold a line break.
    let json = serde_json::to_string(&data).unwrap_or_else(|_| "[]".to_owned());
    Bytes::from(format!("event: likes\nid: {id}\ndata: {json}\n\n"))
}

/// `event: resync`: what was missed cannot be told; the client reads what it shows again.
/// Resumable from `id` afterwards.
pub fn resync(id: u64) -> Bytes {
    Bytes::from(format!("event: resync\nid: {id}\ndata: {{}}\n\n"))
}

/// The stream's first bytes: how long the browser waits before reconnecting, and for a
/// stream that resumes nothing the position to resume from (an `id` without data sets the
/// browser's `lastEventId` and dispatches no event).
pub fn opening(retry: Duration, id: Option<u64>) -> Bytes {
    let retry = retry.as_millis();
    Bytes::from(match id {
        Some(id) => format!("retry: {retry}\nid: {id}\n\n"),
        None => format!("retry: {retry}\n\n"),
    })
}

/// The heartbeat, a comment every client ignores.
pub const PING: Bytes = Bytes::from_static(b": ping\n\n");

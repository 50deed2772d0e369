//! One open stream: its first bytes, then each update, a heartbeat when quiet, and its end
//! when the process stops.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use super::{Live, Place, Update, frame};
use crate::metrics::LIVE_EVENTS_SENT;

pub(super) struct Stream {
    /// Written before any update.
    pub first: VecDeque<Bytes>,
    pub updates: broadcast::Receiver<Arc<Update>>,
    /// Updates whose counts were read before this are older than what `first` told.
    pub skip_before: Option<Instant>,
    pub stopping: CancellationToken,
    pub heartbeat: Duration,
    pub settled: Live,
    /// Held as long as the stream is open (its body is dropped when the client leaves).
    pub _place: Place,
}

/// The `200 text/event-stream` answer over `stream`.
pub(super) fn respond(stream: Stream) -> Response {
    let ping = tokio::time::interval_at(
        tokio::time::Instant::now() + stream.heartbeat,
        stream.heartbeat,
    );
    let body = futures_util::stream::unfold((stream, ping), |(mut s, mut ping)| async move {
        let bytes = s.next(&mut ping).await?;
        Some((Ok::<_, Infallible>(bytes), (s, ping)))
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx passes the stream on as it comes, whatever its location says.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

impl Stream {
    /// The next bytes to write; `None` ends the stream.
    async fn next(&mut self, ping: &mut tokio::time::Interval) -> Option<Bytes> {
        while let Some(first) = self.first.pop_front() {
            if !first.is_empty() {
                return Some(first);
            }
        }
        loop {
            tokio::select! {
                biased;
                () = self.stopping.cancelled() => return None,
                update = self.updates.recv() => match update {
                    Ok(update) => {
                        if self.skip_before.is_some_and(|before| update.read_done < before) {
                            continue;
                        }
                        ping.reset();
                        return Some(update.frame.clone());
                    }
                    Err(RecvError::Lagged(_)) => {
                        // What is still queued is older than what the client reads again.
                        self.skip_before = Some(Instant::now());
                        LIVE_EVENTS_SENT.increment(["resync"]);
                        ping.reset();
                        return Some(frame::resync(self.settled.settled()));
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = ping.tick() => return Some(frame::PING),
            }
        }
    }
}

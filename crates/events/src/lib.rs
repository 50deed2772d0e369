//! The wire contract between admin-svc and main-svc.
//!
//! Events travel over RabbitMQ on the default exchange, routed by queue name. The event type
//! is the AMQP `content_type` property; the body is JSON. This crate decodes exactly what the
//! original Python (Flask + Django) producers put on the wire (no `message_id`, no headers, a
//! deleted id that may be `"5"` or `5`), and encodes what this system adds on top: a
//! `message_id` for de-duplication, a `timestamp`, persistent delivery, the publishing
//! service's `app_id`, W3C trace context headers, and a product `version` for ordering.

mod id;
mod trace;

use std::fmt;
use std::str::FromStr;

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use serde::{Deserialize, Serialize};

pub use trace::{TraceContext, TraceContextError};

/// Default queue consumed by main-svc: product events from admin-svc.
pub const DEFAULT_MAIN_QUEUE: &str = "main";
/// Default queue consumed by admin-svc: like events from main-svc.
pub const DEFAULT_ADMIN_QUEUE: &str = "admin";
/// AMQP `delivery_mode` of a message the broker writes to disk.
pub const PERSISTENT: u8 = 2;
/// Header carrying the W3C trace parent.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// Header carrying the W3C trace state.
pub const TRACESTATE_HEADER: &str = "tracestate";
/// Header carrying when the event was committed in the producer's outbox, in microseconds
/// since the Unix epoch (a long-long integer): the start of the end-to-end lag the consumer
/// measures. Absent on messages from the original Python producers.
pub const CREATED_AT_HEADER: &str = "x-created-at-us";
/// Header carrying the version of the events' schema (an integer). Absent on the original
/// Python producers' messages, which are version 1. It is bumped only by a change a
/// consumer cannot apply without knowing it (a field changing meaning, a field becoming
/// required); an added field is not such a change, since consumers ignore fields they do not
/// know. A consumer dead-letters a version above [`EVENT_VERSION`] (reason
/// `unknown_version`) rather than apply it half.
pub const EVENT_VERSION_HEADER: &str = "x-event-version";
/// The newest schema version this build encodes and understands.
pub const EVENT_VERSION: i64 = 1;

/// The kinds of event, named on the wire by the AMQP `content_type` property: the
/// original's four, and `products_liked`, this system's batch of likes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    ProductCreated,
    ProductUpdated,
    ProductDeleted,
    ProductLiked,
    ProductsLiked,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::ProductCreated,
        EventKind::ProductUpdated,
        EventKind::ProductDeleted,
        EventKind::ProductLiked,
        EventKind::ProductsLiked,
    ];

    /// The `content_type` string of this kind, as the original producers send it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ProductCreated => "product_created",
            EventKind::ProductUpdated => "product_updated",
            EventKind::ProductDeleted => "product_deleted",
            EventKind::ProductLiked => "product_liked",
            EventKind::ProductsLiked => "products_liked",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = DecodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DecodeError::UnknownContentType(s.to_owned()))
    }
}

/// A product as carried by created and updated events.
///
/// `version` is absent from the original producers' messages; this system always sends it.
/// It grows by one on every change of the product, so a consumer can ignore a state older
/// than the one it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductState {
    #[serde(deserialize_with = "id::deserialize")]
    pub id: u64,
    pub title: String,
    pub image: String,
    #[serde(default, deserialize_with = "id::deserialize_or_zero")]
    pub likes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// A product as both HTTP APIs show it (docs/contract.md): the catalogue's, or the shop's mirror
/// of it with the likes the shop recorded. `likes` is read-only for clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": 1, "title": "Mug", "image": "https://example.com/mug.png", "likes": 0})))]
pub struct Product {
    pub id: u64,
    pub title: String,
    pub image: String,
    pub likes: u64,
}

/// One product's likes in a [`Event::ProductsLiked`] batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikeCount {
    /// The liked product's id.
    #[serde(deserialize_with = "id::deserialize")]
    pub id: u64,
    /// How many shoppers liked it in the batch (each once).
    #[serde(deserialize_with = "id::deserialize")]
    pub count: u64,
}

/// The body of a `products_liked` event: `{"likes":[{"id":7,"count":3},…]}`.
#[derive(Serialize, Deserialize)]
struct LikesBody {
    likes: Vec<LikeCount>,
}

/// One event, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    ProductCreated(ProductState),
    ProductUpdated(ProductState),
    /// The id of the deleted product.
    ProductDeleted(u64),
    /// The id of the liked product.
    ProductLiked(u64),
    /// The likes main-api committed in one transaction (one group commit), by product, each
    /// product once, ordered by id. Not in the original: its consumers never see it.
    ProductsLiked(Vec<LikeCount>),
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::ProductCreated(_) => EventKind::ProductCreated,
            Event::ProductUpdated(_) => EventKind::ProductUpdated,
            Event::ProductDeleted(_) => EventKind::ProductDeleted,
            Event::ProductLiked(_) => EventKind::ProductLiked,
            Event::ProductsLiked(_) => EventKind::ProductsLiked,
        }
    }

    /// The id of the product the event is about; of a batch of likes, its first product's
    /// (0 for an empty batch).
    pub fn product_id(&self) -> u64 {
        match self {
            Event::ProductCreated(p) | Event::ProductUpdated(p) => p.id,
            Event::ProductDeleted(id) | Event::ProductLiked(id) => *id,
            Event::ProductsLiked(likes) => likes.first().map_or(0, |l| l.id),
        }
    }

    /// The JSON body of this event.
    pub fn body(&self) -> Vec<u8> {
        // Serialising these plain structs and integers cannot fail.
        match self {
            Event::ProductCreated(p) | Event::ProductUpdated(p) => {
                serde_json::to_vec(p).unwrap_or_default()
            }
            Event::ProductDeleted(id) | Event::ProductLiked(id) => id.to_string().into_bytes(),
            Event::ProductsLiked(likes) => serde_json::to_vec(&LikesBody {
                likes: likes.clone(),
            })
            .unwrap_or_default(),
        }
    }

    /// Decodes a body of the given `content_type`.
    pub fn decode(content_type: &str, body: &[u8]) -> Result<Self, DecodeError> {
        let kind: EventKind = content_type.parse()?;
        let invalid = |source| DecodeError::InvalidBody { kind, source };
        Ok(match kind {
            EventKind::ProductCreated => {
                Event::ProductCreated(serde_json::from_slice(body).map_err(invalid)?)
            }
            EventKind::ProductUpdated => {
                Event::ProductUpdated(serde_json::from_slice(body).map_err(invalid)?)
            }
            EventKind::ProductDeleted => {
                Event::ProductDeleted(id::from_json(body).map_err(invalid)?)
            }
            EventKind::ProductLiked => Event::ProductLiked(id::from_json(body).map_err(invalid)?),
            EventKind::ProductsLiked => {
                let body: LikesBody = serde_json::from_slice(body).map_err(invalid)?;
                Event::ProductsLiked(body.likes)
            }
        })
    }
}

/// Why a message could not be decoded. A consumer dead-letters such a message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("message has no content_type, so its event type is unknown")]
    MissingContentType,
    #[error("unknown event type (content_type {0:?})")]
    UnknownContentType(String),
    #[error("event schema version {0} is newer than this consumer knows ({EVENT_VERSION})")]
    UnsupportedVersion(String),
    #[error("body of {kind} is not valid: {source}")]
    InvalidBody {
        kind: EventKind,
        #[source]
        source: serde_json::Error,
    },
}

impl DecodeError {
    /// Why such a message is dead-lettered, as the `reason` of the dead letter and of
    /// `events_dead_lettered_total`: `unknown_type`, `unknown_version` or `undecodable`.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::MissingContentType | DecodeError::UnknownContentType(_) => "unknown_type",
            DecodeError::UnsupportedVersion(_) => "unknown_version",
            DecodeError::InvalidBody { .. } => "undecodable",
        }
    }
}

/// The schema version a message declares ([`EVENT_VERSION_HEADER`], absent = 1), refused
/// when this build does not know it (newer, or not a positive integer).
fn check_version(properties: &BasicProperties) -> Result<(), DecodeError> {
    let Some(value) = properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(EVENT_VERSION_HEADER))
    else {
        return Ok(());
    };
    let version = match value {
        AMQPValue::ShortShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortInt(v) => Some(i64::from(*v)),
        AMQPValue::LongUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        AMQPValue::LongLongInt(v) => Some(*v),
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).parse().ok(),
        AMQPValue::ShortString(s) => s.as_str().parse().ok(),
        _ => None,
    };
    match version {
        Some(v) if (1..=EVENT_VERSION).contains(&v) => Ok(()),
        Some(v) => Err(DecodeError::UnsupportedVersion(v.to_string())),
        None => Err(DecodeError::UnsupportedVersion(format!("{value:?}"))),
    }
}

/// A message as it travels on the broker: the event plus the properties around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Absent on messages from the original Python producers.
    pub message_id: Option<String>,
    /// Seconds since the Unix epoch, when the message was published.
    pub timestamp: Option<u64>,
    pub app_id: Option<String>,
    pub trace: Option<TraceContext>,
    /// When the event was committed by its producer ([`CREATED_AT_HEADER`]).
    pub created_us: Option<u64>,
    pub event: Event,
}

impl Envelope {
    /// Decodes an AMQP delivery's properties and body.
    pub fn from_amqp(properties: &BasicProperties, body: &[u8]) -> Result<Self, DecodeError> {
        let content_type = properties
            .content_type()
            .as_ref()
            .ok_or(DecodeError::MissingContentType)?;
        let kind: EventKind = content_type.as_str().parse()?;
        check_version(properties)?;
        let event = Event::decode(kind.as_str(), body)?;
        let header = |name: &str| -> Option<String> {
            match properties.headers().as_ref()?.inner().get(name)? {
                AMQPValue::LongString(s) => {
                    Some(String::from_utf8_lossy(s.as_bytes()).into_owned())
                }
                AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
                _ => None,
            }
        };
        // A malformed trace header is dropped, never a reason to reject the event.
        let trace = header(TRACEPARENT_HEADER)
            .and_then(|tp| TraceContext::new(&tp, header(TRACESTATE_HEADER).as_deref()).ok());
        Ok(Envelope {
            message_id: properties
                .message_id()
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .filter(|s| !s.is_empty()),
            timestamp: *properties.timestamp(),
            app_id: properties.app_id().as_ref().map(|s| s.as_str().to_owned()),
            trace,
            created_us: properties.headers().as_ref().and_then(|h| {
                match h.inner().get(CREATED_AT_HEADER)? {
                    AMQPValue::LongLongInt(us) => u64::try_from(*us).ok(),
                    AMQPValue::Timestamp(us) => Some(*us),
                    _ => None,
                }
            }),
            event,
        })
    }
}

/// An encoded message ready to publish: what an outbox row holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub message_id: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub trace: Option<TraceContext>,
}

impl OutgoingMessage {
    /// Encodes `event` with a fresh message id.
    pub fn new(event: &Event, trace: Option<TraceContext>) -> Self {
        OutgoingMessage {
            message_id: uuid::Uuid::new_v4().to_string(),
            content_type: event.kind().as_str().to_owned(),
            body: event.body(),
            trace,
        }
    }

    /// The AMQP properties this system puts on every message it publishes: `timestamp` is
    /// the publish time in seconds, `created_us` the commit time of the event.
    pub fn properties(
        &self,
        app_id: &str,
        timestamp: u64,
        created_us: Option<u64>,
    ) -> BasicProperties {
        let mut headers = FieldTable::default();
        headers.insert(
            EVENT_VERSION_HEADER.into(),
            AMQPValue::LongLongInt(EVENT_VERSION),
        );
        if let Some(us) = created_us.and_then(|us| i64::try_from(us).ok()) {
            headers.insert(CREATED_AT_HEADER.into(), AMQPValue::LongLongInt(us));
        }
        if let Some(trace) = &self.trace {
            headers.insert(
                TRACEPARENT_HEADER.into(),
                AMQPValue::LongString(LongString::from(trace.traceparent().as_bytes())),
            );
            if let Some(state) = trace.tracestate() {
                headers.insert(
                    TRACESTATE_HEADER.into(),
                    AMQPValue::LongString(LongString::from(state.as_bytes())),
                );
            }
        }
        BasicProperties::default()
            .with_content_type(ShortString::from(self.content_type.as_str()))
            .with_message_id(ShortString::from(self.message_id.as_str()))
            .with_timestamp(timestamp)
            .with_delivery_mode(PERSISTENT)
            .with_app_id(ShortString::from(app_id))
            .with_headers(headers)
    }
}

#[cfg(test)]
mod tests;

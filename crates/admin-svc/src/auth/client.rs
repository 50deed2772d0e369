//! Who is on the other end of a request, as the audit log and the sessions list note it:
//! the client's address (`ClientIp`, as the trusted proxies tell it), its user agent and
//! the request's trace.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use shop_runtime::http::{ClientIp, RequestTrace};

use crate::AppState;
use crate::audit::{Action, Record};
use crate::auth::Actor;

/// The longest user agent kept (`admin_sessions.user_agent`).
pub const USER_AGENT_MAX: usize = 300;

#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<IpAddr>,
    /// The `User-Agent`, at most [`USER_AGENT_MAX`] characters (empty without one).
    pub user_agent: String,
    pub trace_id: Option<String>,
}

impl Client {
    /// An audit record of `action` by `actor`, from this client.
    pub fn record(&self, action: Action, actor: Option<&Actor>) -> Record {
        let mut record = Record::new(action, actor);
        record.ip = self.ip;
        record.trace_id.clone_from(&self.trace_id);
        record
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .chars()
                    .take(USER_AGENT_MAX)
                    .collect()
            })
            .unwrap_or_default();
        let trace_id = parts
            .extensions
            .get::<RequestTrace>()
            .map(|t| t.0.trace_id().to_owned());
        Ok(Client {
            ip,
            user_agent,
            trace_id,
        })
    }
}

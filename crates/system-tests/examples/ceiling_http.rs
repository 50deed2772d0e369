//! The HTTP ceiling of this machine for the shop's list: a minimal axum server answering
//! every GET with the same body, held in memory, as `application/json`. `scripts/bench.sh`
//! gives it the list body the shop answered and measures it with the same wrk settings as
//! the services, so the ratio of a service's rate to this one is what its own work costs.
//!
//! `ceiling_http BODY_FILE PORT` (listens on 127.0.0.1 until killed).

use std::net::SocketAddr;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(port)) = (args.next(), args.next()) else {
        eprintln!("usage: ceiling_http BODY_FILE PORT");
        std::process::exit(2);
    };
    let port: u16 = port.parse().map_err(std::io::Error::other)?;
    let body = axum::body::Bytes::from(std::fs::read(&file)?);
    let answer = move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body).into_response() }
    };
    let app = Router::new().fallback(get(answer));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    axum::serve(listener, app).await
}

//! An OTLP/HTTP trace sink: testkit's receiver (`POST /v1/traces`, decoded as a collector
//! does), counting the spans of each service and keeping none. Two uses:
//!
//! - in the compose proof, in Jaeger's place (`deploy/proof/otlp-sink.Dockerfile`):
//!   `otlp-sink --otlp 0.0.0.0:4318 --health 0.0.0.0:14269 --stats 0.0.0.0:16686`, Jaeger's
//!   ports: its admin health check (`GET /` on 14269) and `GET /stats` (on the UI's port): the
//!   spans received, in all and by `service.name`. Not Jaeger: no trace store, no UI;
//! - behind the tracing benchmark (`scripts/bench-tracing.sh`): `otlp-sink --otlp
//!   127.0.0.1:PORT`, printing the count every ten seconds.
//!
//! Runs until SIGTERM or SIGINT.
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use clap::Parser;
use serde_json::json;
use testkit::OtlpReceiver;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Parser)]
#[command(about = "An OTLP/HTTP trace sink that counts spans by service")]
struct Options {
    /// Where OTLP/HTTP exports arrive (POST /v1/traces).
    #[arg(long, default_value = "127.0.0.1:4318")]
    otlp: String,
    /// Where `GET /` answers 200 (a health check), if anywhere.
    #[arg(long)]
    health: Option<String>,
    /// Where `GET /stats` answers the counts as JSON, if anywhere.
    #[arg(long)]
    stats: Option<String>,
}

async fn serve(addr: &str, app: Router) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(())
}

async fn stats(State(receiver): State<Arc<OtlpReceiver>>) -> axum::Json<serde_json::Value> {
    axum::Json(json!({
        "spans": receiver.count(),
        "by_service": receiver.count_by_service(),
    }))
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = Options::parse();
    let receiver = Arc::new(OtlpReceiver::counting_on(&options.otlp).await);
    eprintln!("OTLP receiver on {}", options.otlp);
    if let Some(addr) = &options.health {
        serve(
            addr,
            Router::new().route("/", get(|| async { r#"{"status":"Server available"}"# })),
        )
        .await?;
    }
    if let Some(addr) = &options.stats {
        let app = Router::new()
            .route("/stats", get(stats))
            .with_state(receiver.clone());
        serve(addr, app).await?;
    }
    let mut term = signal(SignalKind::terminate())?;
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => eprintln!("spans received: {}", receiver.count()),
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    eprintln!("spans received: {}", receiver.count());
    Ok(())
}

//! An OTLP/HTTP trace receiver for benchmarks: takes spans on `OTLP_SINK_PORT` (default
//! 4318), decodes them as a collector would, keeps only their count, and prints it every
//! ten seconds until stopped.
#![allow(clippy::unwrap_used)]

#[tokio::main]
async fn main() {
    let port = std::env::var("OTLP_SINK_PORT").unwrap_or_else(|_| "4318".to_owned());
    let receiver = testkit::OtlpReceiver::counting_on(&format!("127.0.0.1:{port}")).await;
    eprintln!("OTLP receiver on {}", receiver.endpoint());
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        eprintln!("spans received: {}", receiver.count());
    }
}

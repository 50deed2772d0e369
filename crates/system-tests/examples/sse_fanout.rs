//! What live like-count streams cost one main-api, against a running stack: opens STREAMS
//! streams of `GET /flask/api/products/events` at BASE (main-api itself, or nginx), reads
//! the process PID's resident memory and open files before and after, then likes PRODUCT
//! (by a new shopper, on LIKE_BASE: main-api) ROUNDS times, 700 ms apart (past the streams'
//! 500 ms coalescing), timing each like until every stream has its `likes` event, and the
//! process's CPU time over the rounds beyond its idle rate (the like's own work included).
//! Prints
//! `streams=… opened=… refused=… rss_kb_per_stream=… fds_per_stream=… first_ms=… p50_ms=…
//! all_ms=… missed=… cpu_ms_per_update=…` (first/p50/all: a like to the first stream's
//! event, to the median's, to the last's, medians over the rounds). Asserts nothing.
//! `scripts/bench.sh` runs it.
//!
//! `sse_fanout BASE LIKE_BASE PID STREAMS PRODUCT ROUNDS`
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

fn proc_status(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}

/// utime + stime of the process, in milliseconds.
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks * 1000.0 / 100.0
}

/// Opens one stream on a raw connection (no client library in the figures): `true` once
/// the answer is a 200 and its opening came; then sends a message on `events` for each
/// `likes` event, until the connection ends.
async fn stream(addr: String, events: mpsc::UnboundedSender<Instant>) -> bool {
    let Ok(mut conn) = TcpStream::connect(&addr).await else {
        return false;
    };
    let request = format!(
        "GET /flask/api/products/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    );
    if conn.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = vec![0u8; 16 * 1024];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return false;
    }
    tokio::spawn(async move {
        let mut carry = String::new();
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let at = Instant::now();
                    carry.push_str(&String::from_utf8_lossy(&buf[..n]));
                    while let Some(i) = carry.find("event: likes") {
                        let _ = events.send(at);
                        carry.drain(..i + 12);
                    }
                    let keep = carry.len().saturating_sub(16);
                    carry.drain(..keep);
                }
            }
        }
    });
    true
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, like_base, pid, streams, product, rounds] = args.as_slice() else {
        eprintln!("usage: sse_fanout BASE LIKE_BASE PID STREAMS PRODUCT ROUNDS");
        std::process::exit(2);
    };
    let addr = base.trim_start_matches("http://").to_owned();
    let pid: u32 = pid.parse().unwrap();
    let streams: usize = streams.parse().unwrap();
    let rounds: usize = rounds.parse().unwrap();
    let http = reqwest::Client::new();

    let (rss0, fds0) = (proc_status(pid, "VmRSS:"), open_fds(pid));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut opened = 0usize;
    // In groups of 50 at once, as a crowd of browsers would arrive.
    for group in (0..streams).collect::<Vec<_>>().chunks(50) {
        let tries: Vec<_> = group
            .iter()
            .map(|_| tokio::spawn(stream(addr.clone(), tx.clone())))
            .collect();
        for t in tries {
            opened += usize::from(t.await.unwrap());
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss1, fds1) = (proc_status(pid, "VmRSS:"), open_fds(pid));
    while rx.try_recv().is_ok() {}

    // The process's CPU while the streams are open and nothing happens (its version checks,
    // the poller's ticks), taken off the rounds' figure.
    let idle_start = (Instant::now(), cpu_ms(pid));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rate = (cpu_ms(pid) - idle_start.1) / idle_start.0.elapsed().as_secs_f64();
    let (mut first, mut mid, mut all, mut missed) = (Vec::new(), Vec::new(), Vec::new(), 0);
    let cpu0 = (Instant::now(), cpu_ms(pid));
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(700)).await;
        while rx.try_recv().is_ok() {}
        let start = Instant::now();
        let res = http
            .post(format!("{like_base}/flask/api/products/{product}/like"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "the like");
        let mut got = Vec::with_capacity(opened);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while got.len() < opened {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(at)) => got.push(at.duration_since(start).as_secs_f64() * 1000.0),
                _ => break,
            }
        }
        missed += opened - got.len();
        if let (Some(f), Some(l)) = (got.first(), got.last()) {
            first.push(*f);
            all.push(*l);
            mid.push(got[got.len() / 2]);
        }
    }
    let busy = cpu_ms(pid) - cpu0.1 - idle_rate * cpu0.0.elapsed().as_secs_f64();
    let cpu_per_update = busy.max(0.0) / rounds.max(1) as f64;
    let per =
        |after: u64, before: u64| (after.saturating_sub(before)) as f64 / opened.max(1) as f64;
    println!(
        "streams={streams} opened={opened} refused={} rss_kb_per_stream={:.1} fds_per_stream={:.2} \
         first_ms={:.1} p50_ms={:.1} all_ms={:.1} missed={missed} cpu_ms_per_update={:.1}",
        streams - opened,
        per(rss1, rss0),
        per(fds1, fds0),
        median(first),
        median(mid),
        median(all),
        cpu_per_update,
    );
}

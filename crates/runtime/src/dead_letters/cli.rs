//! `<consumer> dead-letters list|show|replay|discard`: the operator's commands over the
//! consumer's dead-letter queue (the process around them: [`crate::service::tools`]) (`<queue>.dead-letter`, or `--queue`). What they print is on
//! standard output; log lines (one per message replayed or discarded) on standard error.
//! Exit codes: 0 done, 1 the broker failed (or a replay was not confirmed), 2 refused (a
//! wrong queue, an unknown id), having changed nothing.

use std::fmt::Write as _;

use lapin::types::AMQPValue;

use super::sweep::{Action, DeadLetterQueue, Taken, ToolError};
use super::utc;

/// The most dead letters one command reads (the oldest first).
pub const DEFAULT_MAX: usize = 10_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dead-letter queue [default: this consumer's queue followed by `.dead-letter`].
    #[arg(long, global = true)]
    pub queue: Option<String>,
    /// Read at most this many dead letters, the oldest first.
    #[arg(long, global = true, default_value_t = DEFAULT_MAX)]
    pub max: usize,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the dead letters: id, event, reason, when, attempts, replays, the start of the body.
    List,
    /// Show one dead letter whole: its properties, headers, error and body.
    Show { id: String },
    /// Publish dead letters back into the work queue (consumers skip what was applied).
    Replay {
        /// Message ids (as `list` shows them).
        #[arg(required_unless_present = "all")]
        ids: Vec<String>,
        /// Every dead letter.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
    /// Delete dead letters, with a log line each.
    Discard {
        #[arg(required_unless_present = "all")]
        ids: Vec<String>,
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

/// Runs `args`' command on `dlq`: what to print and the exit code.
pub async fn run(dlq: &DeadLetterQueue, args: &Args) -> Result<(String, u8), ToolError> {
    match &args.command {
        Command::List => {
            let taken = dlq.sweep(args.max, |_| Ok(())).await?;
            Ok((list(dlq, &taken), 0))
        }
        Command::Show { id } => {
            let taken = dlq
                .sweep(args.max, |t| require(dlq, t, std::slice::from_ref(id)))
                .await?;
            let out = taken
                .iter()
                .filter(|t| &t.letter.id == id)
                .map(show)
                .collect::<Vec<_>>()
                .join("\n");
            Ok((out, 0))
        }
        Command::Replay { ids, all } => act(dlq, args.max, ids, *all, Action::Replay).await,
        Command::Discard { ids, all } => act(dlq, args.max, ids, *all, Action::Discard).await,
    }
}

/// Refuses when an id of `ids` is not among `taken`.
fn require(dlq: &DeadLetterQueue, taken: &[Taken], ids: &[String]) -> Result<(), ToolError> {
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| !taken.iter().any(|t| &t.letter.id == *id))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(ToolError::Refused(format!(
        "no dead letter {} in `{}` ({} read)",
        missing.join(", "),
        dlq.name,
        taken.len()
    )))
}

async fn act(
    dlq: &DeadLetterQueue,
    max: usize,
    ids: &[String],
    all: bool,
    action: Action,
) -> Result<(String, u8), ToolError> {
    let taken = dlq
        .sweep(max, |taken| {
            if !all {
                require(dlq, taken, ids)?;
            }
            for t in taken.iter_mut() {
                if all || ids.contains(&t.letter.id) {
                    t.action = action;
                }
            }
            Ok(())
        })
        .await?;
    let mut out = String::new();
    let (mut done, mut failed) = (0, 0);
    for t in taken.iter().filter(|t| t.action == action) {
        let l = &t.letter;
        match (&t.failed, action) {
            (Some(why), _) => {
                failed += 1;
                let _ = writeln!(out, "NOT replayed {} ({}): {why}; it stays", l.id, l.event);
            }
            (None, Action::Replay) => {
                done += 1;
                let _ = writeln!(
                    out,
                    "replayed {} ({}, {}) into {}",
                    l.id, l.event, l.reason, dlq.work
                );
            }
            (None, _) => {
                done += 1;
                let _ = writeln!(out, "discarded {} ({}, {})", l.id, l.event, l.reason);
            }
        }
    }
    let verb = if action == Action::Replay {
        "replayed"
    } else {
        "discarded"
    };
    let _ = writeln!(
        out,
        "{done} {verb}, {failed} failed, {} left in {}",
        taken.len() - done,
        dlq.name
    );
    Ok((out, u8::from(failed > 0)))
}

/// The table `list` prints.
fn list(dlq: &DeadLetterQueue, taken: &[Taken]) -> String {
    let mut rows = vec![
        [
            "ID",
            "EVENT",
            "REASON",
            "DEAD-LETTERED",
            "ATTEMPTS",
            "REPLAYS",
            "BODY",
        ]
        .map(str::to_owned),
    ];
    for t in taken {
        let l = &t.letter;
        rows.push([
            l.id.clone(),
            l.event.clone(),
            l.reason.clone(),
            l.at.map_or_else(|| "-".to_owned(), utc),
            l.attempts.map_or_else(|| "-".to_owned(), |a| a.to_string()),
            l.replays.to_string(),
            short_body(&t.delivery.data),
        ]);
    }
    let mut widths = [0; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = format!(
        "{} dead letters in {} (replays go to {}){}\n",
        taken.len(),
        dlq.name,
        dlq.work,
        if (dlq.ready as usize) > taken.len() {
            format!("; {} ready, only the oldest read (--max)", dlq.ready)
        } else {
            String::new()
        }
    );
    if taken.is_empty() {
        return out;
    }
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// The first 60 characters of a body, on one line.
fn short_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body).replace(['\n', '\r', '\t'], " ");
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// Everything about one dead letter, as `show` prints it.
fn show(t: &Taken) -> String {
    let l = &t.letter;
    let p = &t.delivery.properties;
    let mut out = String::new();
    let _ = writeln!(out, "id:            {}", l.id);
    let _ = writeln!(out, "event:         {}", l.event);
    let _ = writeln!(out, "reason:        {}", l.reason);
    let _ = writeln!(
        out,
        "dead-lettered: {}",
        l.at.map_or_else(|| "-".to_owned(), utc)
    );
    let _ = writeln!(
        out,
        "attempts:      {}",
        l.attempts.map_or_else(|| "-".to_owned(), |a| a.to_string())
    );
    let _ = writeln!(out, "replays:       {}", l.replays);
    let _ = writeln!(out, "error:         {}", l.error.as_deref().unwrap_or("-"));
    let _ = writeln!(
        out,
        "message_id:    {}",
        p.message_id().as_ref().map_or("-", |s| s.as_str())
    );
    let _ = writeln!(
        out,
        "app_id:        {}",
        p.app_id().as_ref().map_or("-", |s| s.as_str())
    );
    let _ = writeln!(
        out,
        "timestamp:     {}",
        p.timestamp().map_or_else(|| "-".to_owned(), utc)
    );
    let _ = writeln!(out, "headers:");
    for (name, value) in p
        .headers()
        .as_ref()
        .map(|h| h.inner().iter())
        .into_iter()
        .flatten()
    {
        let _ = writeln!(out, "  {name}: {}", header_value(value));
    }
    let _ = writeln!(out, "body ({} bytes):", t.delivery.data.len());
    let _ = writeln!(out, "{}", String::from_utf8_lossy(&t.delivery.data));
    out
}

fn header_value(value: &AMQPValue) -> String {
    match value {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_owned(),
        AMQPValue::Timestamp(t) => utc(*t),
        other => format!("{other:?}"),
    }
}

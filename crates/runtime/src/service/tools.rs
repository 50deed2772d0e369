//! The operator's commands a consumer binary runs instead of consuming:
//! `dead-letters list|show|replay|discard` ([`crate::dead_letters::cli`]).

use std::process::ExitCode;

use crate::dead_letters::cli::{Args, run};
use crate::dead_letters::sweep::{DeadLetterQueue, SUFFIX, ToolError};
use crate::settings::ServiceDefaults;

/// The whole command: settings from the environment as the consumer reads them (logs on
/// standard error), one pass over the queue, its answer on standard output.
pub async fn dead_letters(defaults: ServiceDefaults, args: Args) -> ExitCode {
    let settings = match super::start::tool(defaults).await {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(1);
        }
    };
    let queue = args
        .queue
        .clone()
        .unwrap_or_else(|| format!("{}{SUFFIX}", settings.amqp.consume_queue));
    let result = match DeadLetterQueue::open(&settings.amqp, &queue).await {
        Ok(dlq) => {
            let result = run(&dlq, &args).await;
            dlq.close().await;
            result
        }
        Err(e) => Err(e),
    };
    crate::telemetry::shutdown(std::time::Duration::from_secs(2)).await;
    match result {
        Ok((out, code)) => {
            print!("{out}");
            ExitCode::from(code)
        }
        Err(ToolError::Refused(why)) => {
            eprintln!("error: {why}; nothing was changed");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

//! Progress on standard error, as the scripts print it (`log` in scripts/services.sh), and
//! each part's time.

use std::fmt::Display;
use std::time::Instant;

/// A line in bold, after `==>`.
pub fn log(msg: impl Display) {
    eprintln!("\x1b[1m==> {msg}\x1b[0m");
}

/// Parts of a run and how long each took, printed at the end (`time_steps` in
/// scripts/services.sh).
pub struct Steps {
    prefix: &'static str,
    started: Instant,
    current: Option<(String, Instant)>,
    done: Vec<(u64, String)>,
}

impl Steps {
    pub fn new(prefix: &'static str) -> Self {
        Steps {
            prefix,
            started: Instant::now(),
            current: None,
            done: Vec::new(),
        }
    }

    /// Ends the current part and starts the next.
    pub fn step(&mut self, name: impl Into<String>) {
        self.end();
        let name = name.into();
        log(format!("{}{name}", self.prefix));
        self.current = Some((name, Instant::now()));
    }

    pub fn end(&mut self) {
        if let Some((name, since)) = self.current.take() {
            self.done.push((since.elapsed().as_secs(), name));
        }
    }

    /// Each part's time and the total.
    pub fn print(&mut self) {
        self.end();
        log(format!("{}time per part", self.prefix));
        for (secs, name) in &self.done {
            eprintln!("{secs:5} s  {name}");
        }
        log(format!(
            "{}total: {} s",
            self.prefix,
            self.started.elapsed().as_secs()
        ));
    }
}

//! The soak's faults: when each comes, and the database pause that must end whatever
//! happens.

use std::time::Duration;

use testkit::Proc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL, then started again (as an orchestrator would).
    KillConsumer(Proc),
    /// The soak's own RabbitMQ node stopped (`rabbitmqctl stop`) and booted again.
    BrokerRestart,
    /// The soak's own `mariadbd` stopped with SIGSTOP for this long, then SIGCONT.
    DatabasePause(Duration),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::KillConsumer(p) => write!(f, "{} SIGKILLed and started again", p.binary()),
            Fault::BrokerRestart => write!(f, "broker node stopped and booted again"),
            Fault::DatabasePause(d) => write!(f, "database paused (SIGSTOP) for {} s", d.as_secs()),
        }
    }
}

/// The faults of a run of `total`: at least three (one of each kind, the broker's first),
/// about one every three minutes, spread evenly from 15 % to 80 % of the run, so that the warm-up is quiet
/// and the run ends with a fault-free fifth. A pause lasts a thirtieth of the run, 5 to
/// 10 s.
pub fn schedule(total: Duration) -> Vec<(Duration, Fault)> {
    let secs = total.as_secs_f64();
    let n = ((secs / 60.0 * 0.3).round() as usize).max(3);
    let pause = Duration::from_secs((secs / 30.0).clamp(5.0, 10.0) as u64);
    let (first, last) = (0.15 * secs, 0.8 * secs);
    let step = (last - first) / (n - 1) as f64;
    (0..n)
        .map(|i| {
            let at = Duration::from_secs_f64(first + step * i as f64);
            // The broker first: its node takes the longest to come back (half a minute
            // on a busy machine), which in a short run is best spent in the warm-up.
            let fault = match i % 3 {
                0 => Fault::BrokerRestart,
                1 if (i / 3) % 2 == 0 => Fault::KillConsumer(Proc::AdminConsumer),
                1 => Fault::KillConsumer(Proc::MainConsumer),
                _ => Fault::DatabasePause(pause),
            };
            (at, fault)
        })
        .collect()
}

/// `kill -SIGNAL pid`.
pub fn signal(pid: u32, signal: &str) -> bool {
    std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}

/// A paused `mariadbd`: continued when dropped, so that no error or panic of the soak
/// leaves it stopped.
pub struct Paused(pub u32);

impl Paused {
    pub fn new(pid: u32) -> Self {
        signal(pid, "STOP");
        Paused(pid)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        signal(self.0, "CONT");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_minutes_have_one_fault_of_each_kind_and_twenty_have_two() {
        let short = schedule(Duration::from_secs(180));
        assert_eq!(short.len(), 3);
        assert_eq!(short[0], (Duration::from_secs(27), Fault::BrokerRestart));
        assert_eq!(short[1].1, Fault::KillConsumer(Proc::AdminConsumer));
        assert_eq!(
            short[2],
            (
                Duration::from_secs(144),
                Fault::DatabasePause(Duration::from_secs(6))
            )
        );
        let long = schedule(Duration::from_secs(1200));
        assert_eq!(long.len(), 6);
        assert_eq!(long[4].1, Fault::KillConsumer(Proc::MainConsumer));
        assert_eq!(
            long[5],
            (
                Duration::from_secs(960),
                Fault::DatabasePause(Duration::from_secs(10))
            )
        );
    }
}

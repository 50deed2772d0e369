//! Capped exponential backoff with jitter, for reconnecting to the broker or the database.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        let min = min.min(max);
        Backoff {
            min,
            max,
            current: min,
        }
    }

    /// The next delay: doubles each time up to the cap, with up to 20% jitter so that many
    /// processes do not reconnect in lockstep.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.current;
        self.current = (self.current * 2).min(self.max);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = base.mul_f64(f64::from(nanos % 200) / 1000.0);
        (base + jitter).min(self.max)
    }

    pub fn reset(&mut self) {
        self.current = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(120));
        let second = b.next_delay();
        assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(240));
        for _ in 0..10 {
            assert!(b.next_delay() <= Duration::from_secs(1));
        }
        assert_eq!(b.next_delay(), Duration::from_secs(1));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(120));
    }
}

//! Slowing down password guessing: failed sign-ins are counted per account and per client
//! address; past a few, each further attempt must wait, twice as long each time (up to 15
//! minutes), and is refused with `429` and `Retry-After` without checking the password.
//! A success clears the account's count. Counts live in the process (several replicas each
//! keep their own) and are forgotten after 15 minutes without failures.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per account before waits begin.
const ACCOUNT_FREE: u32 = 5;
/// Failures allowed per client address (several admins may share one).
const ADDRESS_FREE: u32 = 20;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Which counter a key belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Account(String),
    Address(String),
}

impl Key {
    fn free(&self) -> u32 {
        match self {
            Key::Account(_) => ACCOUNT_FREE,
            Key::Address(_) => ADDRESS_FREE,
        }
    }
}

#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<Key, Failures>>,
}

impl Throttle {
    /// How long the caller must still wait before trying `keys` again, if at all.
    pub fn wait(&self, keys: &[Key], now: Instant) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|key| {
                let f = map.get(key)?;
                let over = f.count.checked_sub(key.free())?;
                let wait = Duration::from_secs(1u64 << over.min(20)).min(MAX_WAIT);
                (f.last + wait)
                    .checked_duration_since(now)
                    .filter(|left| !left.is_zero())
            })
            .max()
    }

    /// Counts a failed sign-in against every key.
    pub fn fail(&self, keys: &[Key], now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        }
        for key in keys {
            let f = map.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.duration_since(f.last) >= FORGET_AFTER {
                f.count = 0;
            }
            f.count += 1;
            f.last = now;
        }
    }

    /// Clears `key` after a successful sign-in.
    pub fn clear(&self, key: &Key) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_begin_after_the_free_failures_and_double() {
        let t = Throttle::default();
        let account = [Key::Account("ada@example.com".into())];
        let start = Instant::now();
        for _ in 0..ACCOUNT_FREE {
            assert_eq!(t.wait(&account, start), None);
            t.fail(&account, start);
        }
        assert_eq!(t.wait(&account, start), Some(Duration::from_secs(1)));
        t.fail(&account, start);
        assert_eq!(t.wait(&account, start), Some(Duration::from_secs(2)));
        assert_eq!(t.wait(&account, start + Duration::from_secs(2)), None);
        t.clear(&account[0]);
        assert_eq!(t.wait(&account, start), None);
    }

    #[test]
    fn addresses_get_more_attempts_and_failures_are_forgotten() {
        let t = Throttle::default();
        let address = [Key::Address("203.0.113.9".into())];
        let start = Instant::now();
        for _ in 0..ADDRESS_FREE {
            t.fail(&address, start);
        }
        assert_eq!(t.wait(&address, start), Some(Duration::from_secs(1)));
        let later = start + FORGET_AFTER;
        t.fail(&address, later);
        assert_eq!(t.wait(&address, later), None, "counting started again");
    }
}

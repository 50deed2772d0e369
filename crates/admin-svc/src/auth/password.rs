//! Passwords: Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane: the `argon2`
//! crate's defaults), hashed off the async threads.
//!
//! Each hash or check takes 19 MiB for its few tens of milliseconds. At most
//! [`CONCURRENT_HASHES`] run at once; further sign-ins wait their turn (under the request's
//! own timeout), so a burst of sign-ins costs the process 2 × 19 MiB at most rather than
//! 19 MiB a request, and the allocator returns the blocks to the system after
//! (docs/performance.md, "Memory").

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest and longest password accepted (NIST SP 800-63B: at least 8; admins get 12).
pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

/// Checks a new password's length (characters, not bytes).
pub fn check_new(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&n) {
        return Err(format!(
            "the password must be {MIN_CHARS} to {MAX_CHARS} characters long"
        ));
    }
    Ok(())
}

/// How many Argon2 computations (hashes and checks) may hold their 19 MiB at once.
pub const CONCURRENT_HASHES: usize = 2;

static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_HASHES);

/// Runs `f` (one Argon2 computation) on a blocking thread once one of the
/// [`CONCURRENT_HASHES`] permits is free. The permit moves into the closure: it is
/// released when the computation ends, even if the request that asked for it is dropped.
async fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let permit = HASHING.acquire().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let _permit = permit;
        running::enter();
        let out = f();
        running::leave();
        out
    })
    .await?)
}

/// The PHC string of `password` with a fresh salt.
pub async fn hash(password: String) -> anyhow::Result<String> {
    bounded(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
    })
    .await?
}

/// A hash of nothing anyone knows, verified against when the email is unknown, so that an
/// unknown email and a wrong password take the same time.
static DUMMY: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"no user has this password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Whether `password` matches `stored` (a PHC string); `None` for `stored` checks against
/// a dummy hash and answers `false`, in the same time.
pub async fn verify(stored: Option<String>, password: String) -> bool {
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| DUMMY.clone());
    let ok = bounded(move || {
        PasswordHash::new(&stored).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false);
    known && ok
}

/// How many computations run now and the most seen at once (read by the tests).
mod running {
    use std::sync::atomic::{AtomicUsize, Ordering};

    static NOW: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);

    pub(super) fn enter() {
        let now = NOW.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
    }

    pub(super) fn leave() {
        NOW.fetch_sub(1, Ordering::SeqCst);
    }

    #[cfg(test)]
    pub(super) fn peak() -> usize {
        PEAK.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_verify_and_are_argon2id_with_owasp_parameters() {
        let h = super::hash("correct horse battery".to_owned())
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(super::verify(Some(h.clone()), "correct horse battery".to_owned()).await);
        assert!(!super::verify(Some(h), "wrong horse battery".to_owned()).await);
        assert!(!super::verify(None, "no user has this password".to_owned()).await);
        assert!(super::check_new("short").is_err());
        assert!(super::check_new("twelve chars").is_ok());
        assert!(super::check_new(&"x".repeat(129)).is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_bound_hash_at_once() {
        let h = super::hash("correct horse battery".to_owned())
            .await
            .unwrap();
        let checks: Vec<_> = (0..8)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(super::verify(Some(h), "correct horse battery".to_owned()))
            })
            .collect();
        for check in checks {
            assert!(check.await.unwrap());
        }
        // Eight checks asked at once; tokio's blocking pool would have run all eight.
        let peak = super::running::peak();
        assert!(
            (1..=super::CONCURRENT_HASHES).contains(&peak),
            "{peak} computations at once"
        );
    }
}

//! Passwords: Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane: the `argon2`
//! crate's defaults), hashed off the async threads.

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

/// The PHC string of `password` with a fresh salt.
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
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
    let ok = tokio::task::spawn_blocking(move || {
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
}

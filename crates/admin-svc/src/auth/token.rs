//! API tokens for machine clients: `shop_` and 64 random hex digits, shown once; the
//! database keeps only their SHA-256, so a leaked database leaks no usable token.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "shop_";

/// A new random token (256 bits).
pub fn generate() -> String {
    format!("{PREFIX}{}", random_hex(32))
}

/// What the database keeps of a token.
pub fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Whether `raw` looks like one of our tokens (before any database lookup).
pub fn well_formed(raw: &str) -> bool {
    raw.strip_prefix(PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `n` random bytes as hex digits (an `admin_sessions` id: 16 bytes, 32 digits).
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_random_well_formed_and_digested() {
        let (a, b) = (super::generate(), super::generate());
        assert_ne!(a, b);
        assert!(super::well_formed(&a), "{a}");
        assert!(!super::well_formed("shop_xyz"));
        assert!(!super::well_formed(&a.replace("shop_", "shap_")));
        assert_eq!(super::digest(&a).len(), 64);
        assert_ne!(super::digest(&a), super::digest(&b));
    }
}

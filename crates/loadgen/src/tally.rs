//! What the load generator was answered, kept for a soak (`LOADGEN_TALLY=FILE`: written as
//! JSON when the run ends) so that the shop's rows can be compared with it: a like answered
//! 200 must be counted once, a product created 201 must be in the catalogue and the shop.
//!
//! A request whose answer never came (a timeout, goose stopping with it in flight, a 5xx
//! after the work began) may or may not have taken effect: it is counted as `unsure`, and
//! the shop's rows must lie between the sure successes and the sure successes plus the
//! unsure ones.

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default, serde::Serialize)]
pub struct Tally {
    /// Likes answered 200, per product id.
    pub likes_ok: BTreeMap<u64, u64>,
    /// Likes answered 400 (already liked by this shopper: no effect).
    pub likes_refused: u64,
    /// Likes sent whose outcome is not known (no answer, or another status).
    pub likes_unsure: u64,
    /// Ids of the products whose create was answered 201.
    pub created: Vec<u64>,
    /// Creates sent whose outcome is not known.
    pub creates_unsure: u64,
    /// Renames answered 202.
    pub renamed: u64,
}

static TALLY: Mutex<Option<Tally>> = Mutex::new(None);

fn with(f: impl FnOnce(&mut Tally)) {
    let mut guard = TALLY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f(guard.get_or_insert_with(Tally::default));
}

/// A like was sent; counted as unsure until [`like_answered`] says otherwise.
pub fn like_sent() {
    with(|t| t.likes_unsure += 1);
}

/// The answer to a like of `product` (`None`: no answer).
pub fn like_answered(product: u64, status: Option<u16>) {
    with(|t| match status {
        Some(200) => {
            t.likes_unsure -= 1;
            *t.likes_ok.entry(product).or_default() += 1;
        }
        Some(400) => {
            t.likes_unsure -= 1;
            t.likes_refused += 1;
        }
        _ => {}
    });
}

pub fn create_sent() {
    with(|t| t.creates_unsure += 1);
}

pub fn created(id: u64) {
    with(|t| {
        t.creates_unsure -= 1;
        t.created.push(id);
    });
}

pub fn renamed() {
    with(|t| t.renamed += 1);
}

/// Writes the tally to `LOADGEN_TALLY`, if set.
pub fn write() -> std::io::Result<()> {
    let Ok(path) = std::env::var("LOADGEN_TALLY") else {
        return Ok(());
    };
    let guard = TALLY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let empty = Tally::default();
    let json = serde_json::to_string(guard.as_ref().unwrap_or(&empty))?;
    std::fs::write(path, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_move_likes_from_unsure() {
        like_sent();
        like_sent();
        like_sent();
        like_answered(7, Some(200));
        like_answered(7, Some(400));
        like_answered(7, None);
        create_sent();
        created(3);
        let guard = TALLY.lock().unwrap();
        let t = guard.as_ref().unwrap();
        assert_eq!(t.likes_ok[&7], 1);
        assert_eq!(t.likes_refused, 1);
        assert_eq!(t.likes_unsure, 1);
        assert_eq!((t.created.clone(), t.creates_unsure), (vec![3], 0));
    }
}

//! The poller's bookkeeping of likes committed out of order, and the event bytes.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use super::frame;
use super::poller::{GAP_WAIT, Tracker};

fn products(t: &mut Tracker, rows: &[(u64, u64)], now: Instant) -> Vec<u64> {
    t.take(rows, now).into_iter().collect()
}

#[test]
fn a_like_committed_after_a_newer_one_is_still_read() {
    let now = Instant::now();
    let mut t = Tracker::start(&[5, 4, 3], now);
    assert_eq!((t.seen(), t.settled(), t.gaps()), (5, 5, vec![]));
    // 7 is seen before 6: 6 is waited for, and the position stays below it.
    assert_eq!(products(&mut t, &[(7, 70)], now), vec![70]);
    assert_eq!((t.seen(), t.settled(), t.gaps()), (7, 5, vec![6]));
    // 6 shows up later: its product is in that round, and the position moves on.
    assert_eq!(
        products(&mut t, &[(6, 60), (8, 80), (8, 80)], now),
        vec![60, 80]
    );
    assert_eq!((t.seen(), t.settled(), t.gaps()), (8, 8, vec![]));
}

#[test]
fn holes_among_the_newest_likes_at_start_are_gaps() {
    let now = Instant::now();
    let t = Tracker::start(&[10, 7, 6], now);
    assert_eq!((t.seen(), t.settled(), t.gaps()), (10, 7, vec![8, 9]));
    let empty = Tracker::start(&[], now);
    assert_eq!((empty.seen(), empty.settled()), (0, 0));
}

#[test]
fn gaps_are_given_up_after_a_while_and_bounded() {
    let now = Instant::now();
    let mut t = Tracker::start(&[1], now);
    products(&mut t, &[(4, 1)], now);
    t.expire(now + GAP_WAIT / 2, GAP_WAIT);
    assert_eq!(t.gaps(), vec![2, 3]);
    t.expire(now + GAP_WAIT, GAP_WAIT);
    assert_eq!((t.gaps(), t.settled()), (vec![], 4));
    // A jump of the numbering waits for the newest few hundred numbers at most.
    products(&mut t, &[(100_000, 1)], now);
    assert_eq!(t.gaps().len(), 256);
    assert_eq!(t.settled(), 100_000 - 257);
    // A number seen twice (asked for again) counts once.
    assert!(products(&mut t, &[(3, 9)], now).is_empty());
}

#[test]
fn event_bytes() {
    assert_eq!(
        frame::likes(42, &[(12, 40), (97, 3)]),
        "event: likes\nid: 42\ndata: [{\"id\":12,\"likes\":40},{\"id\":97,\"likes\":3}]\n\n"
    );
    assert_eq!(frame::resync(7), "event: resync\nid: 7\ndata: {}\n\n");
    assert_eq!(
        frame::opening(Duration::from_secs(2), Some(5)),
        "retry: 2000\nid: 5\n\n"
    );
    assert_eq!(
        frame::opening(Duration::from_secs(2), None),
        "retry: 2000\n\n"
    );
    assert_eq!(frame::PING, ": ping\n\n");
}

//! The search and sort rows (`scripts/bench.sh`, "search and sorted pages"): a page as the
//! gallery and the admin table ask for it, at 100,000 products, 32 connections. Only when
//! the run measured them (runs before search existed have no such rows).

use super::figures::{le, num, verdict};
use super::rows::{Row, row};
use super::{Measurements, Wrk};

/// (key, what the request is).
const RUNS: [(&str, &str); 8] = [
    (
        "shop_typing",
        "shop search while typing: two words and a prefix",
    ),
    (
        "shop_word",
        "shop search: one word matching 1/32 of the catalogue",
    ),
    ("shop_number", "shop search: a colour and a product number"),
    ("catalogue_search", "admin table search, newest first"),
    ("catalogue_title", "admin table sorted by title, first page"),
    ("catalogue_likes", "admin table sorted by likes, page 3"),
    (
        "catalogue_deep",
        "admin table sorted by title, page 2,000 (offset 49,975)",
    ),
    (
        "catalogue_search_title",
        "admin table search matching 1/16, sorted by title",
    ),
];

pub fn rows(m: &Measurements) -> Vec<Row> {
    let products = m.get("big.products");
    let mut rows = Vec::new();
    for (key, what) in RUNS {
        let key = format!("search.{key}");
        if m.get(&key).is_empty() {
            continue;
        }
        let wrk = Wrk::of(m, &key);
        let answered = m.get(&format!("{key}.n"));
        rows.push(row(
            format!(
                "{what}: GET /{} ({} products, 32 connections)",
                m.get(&format!("{key}.url")),
                num(products)
            ),
            format!(
                "{}; {answered} products a page; the first request (reading what the others \
                 find held) {} ms",
                wrk.measured(),
                m.get(&format!("{key}.first_ms"))
            ),
            "p99 ≤ 20 ms",
            "—".to_owned(),
            "—".to_owned(),
            verdict(wrk.bad == "0" && le(&wrk.p99, "20")),
        ));
    }
    rows
}

//! Search by title, backed by an index table (`product_search_terms`) in each service's
//! database.
//!
//! # What a search matches
//!
//! A title and a query are cut into words the same way: runs of letters and digits (any
//! script); everything else (spaces, punctuation, `"+-*@(~`) separates words and is never
//! syntax. Words are compared in lower case with accents removed (Unicode NFKD, combining
//! marks dropped: `Café` is `cafe`), at most [`MAX_WORD`] characters of each. Every word of
//! the query but the last must be a whole word of the title; the last may be the start of one,
//! so that a search works while it is typed: `blue wid` finds "Blue Widget", `wid` finds
//! "widget" and "Widgets", `blue` finds "Blue" and "Blueberry". There are no stop words and
//! no minimum length: `a` finds every title with a word starting with "a". A query with no
//! letters or digits searches for nothing (the unfiltered list).
//!
//! # How it is indexed, and why
//!
//! Each product has one row per prefix of each word of its title (`b`, `bl`, `blu`, `blue`)
//! and one per whole word, marked by a final `.` (`blue.`), keyed `(term, product_id)`.
//! Every query word is then one exact-match range of that key, in product id order: a page of
//! results in id order reads just that page's rows from the index, and an intersection of
//! words is an indexed join. MariaDB's FULLTEXT was measured against and set aside: InnoDB's
//! minimum token size (3) and stop words lose short words and "The", its boolean syntax has to
//! be escaped, and it sorts all matches for a page. The cost of this index is space: about
//! twenty rows a product for a three-word title.
//!
//! Rows are written by whoever writes a product, in the transaction of the change, and
//! products written before the table existed, or before [`VERSION`] changed, are indexed by
//! an API at start: [`super::search_index`].

use std::collections::BTreeSet;

use sqlx::{MySql, MySqlPool, QueryBuilder};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::statement;

/// The most characters of a word that are indexed and compared; longer words match on these.
pub const MAX_WORD: usize = 32;

/// The longest query, in characters.
pub const MAX_QUERY: usize = 200;

/// The most words of a query that are matched (each is one join): the longest ones.
pub const MAX_QUERY_WORDS: usize = 8;

/// The version of the rules above: change it when the terms a title makes change, and every
/// process reindexes at start ([`reindex`]).
pub const VERSION: u32 = 1;

/// Marks a whole word in the index.
const WHOLE: char = '.';

/// The words of `text`: lower case, accents removed, at most [`MAX_WORD`] characters each.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut len = 0;
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                if len < MAX_WORD {
                    word.push(lower);
                    len += 1;
                }
            }
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
            len = 0;
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The index terms of a title: every prefix of every word, and every whole word marked.
pub fn terms(title: &str) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    for word in words(title) {
        let mut prefix = String::new();
        for c in word.chars() {
            prefix.push(c);
            terms.insert(prefix.clone());
        }
        prefix.push(WHOLE);
        terms.insert(prefix);
    }
    terms
}

/// A checked query: the index terms every match has.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Search {
    /// Normalised, as the user typed them (for links and logs).
    text: String,
    /// Distinct terms, the most selective guess first ([`selectivity`]): the first drives
    /// the search, the others are checked against each of its products.
    terms: Vec<String>,
}

impl Search {
    /// `q` as a search: `Ok(None)` when it has no letters or digits; an error naming `q` when
    /// it is over [`MAX_QUERY`] characters. Of a query of more than [`MAX_QUERY_WORDS`] words
    /// the longest are matched.
    pub fn parse(q: &str) -> Result<Option<Search>, String> {
        if q.chars().count() > MAX_QUERY {
            return Err(format!("q must be at most {MAX_QUERY} characters"));
        }
        let mut words = words(q);
        let Some(last) = words.pop() else {
            return Ok(None);
        };
        let mut terms: Vec<String> = words.iter().map(|w| format!("{w}{WHOLE}")).collect();
        terms.push(last.clone());
        words.push(last);
        terms.sort_by(|a, b| selectivity(b).cmp(&selectivity(a)).then_with(|| a.cmp(b)));
        terms.dedup();
        // A prefix that is the start of a whole word also asked for adds nothing.
        let whole: Vec<String> = terms
            .iter()
            .filter(|t| t.ends_with(WHOLE))
            .cloned()
            .collect();
        terms.retain(|t| t.ends_with(WHOLE) || !whole.iter().any(|w| w.starts_with(t.as_str())));
        terms.truncate(MAX_QUERY_WORDS);
        Ok(Some(Search {
            text: words.join(" "),
            terms,
        }))
    }

    /// Whether one index term answers it: its matches are one range of the index, in id
    /// order, and a page reads just the page.
    pub fn is_one_term(&self) -> bool {
        self.terms.len() == 1
    }

    /// The normalised words searched for.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Pushes ` FROM product_search_terms t0 JOIN … WHERE t0.term = ? AND …`: the matches,
    /// whose ids are `t0.product_id`, in that index's order. The caller goes on with ` AND …`
    /// or an `ORDER BY`.
    pub fn push_matches(&self, query: &mut QueryBuilder<'_, MySql>) {
        query.push(" FROM product_search_terms t0");
        for (i, term) in self.terms.iter().enumerate().skip(1) {
            query.push(format_args!(
                " JOIN product_search_terms t{i} ON t{i}.product_id = t0.product_id AND t{i}.term = "
            ));
            query.push_bind(term.clone());
        }
        query.push(" WHERE t0.term = ");
        query.push_bind(self.terms[0].clone());
    }

    /// The ids of matching products after `after`, ascending, at most `limit`.
    pub async fn ids_after(
        &self,
        pool: &MySqlPool,
        after: u64,
        limit: usize,
    ) -> Result<Vec<u64>, sqlx::Error> {
        let mut query = QueryBuilder::new("SELECT t0.product_id");
        self.push_matches(&mut query);
        query.push(" AND t0.product_id > ");
        query.push_bind(after);
        query.push(" ORDER BY t0.product_id LIMIT ");
        query.push_bind(u64::try_from(limit).unwrap_or(u64::MAX));
        statement::run(
            "search_products",
            "SELECT product_search_terms",
            query.build_query_scalar().fetch_all(pool),
        )
        .await
    }
}

/// How few products a term is guessed to match, for the order of a search's joins (MariaDB
/// keeps the first term's index order, which pages need, so it cannot reorder them): a term
/// with a digit (a model or reference number) before others, then longer before shorter.
fn selectivity(term: &str) -> (bool, usize) {
    (term.chars().any(|c| c.is_numeric()), term.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_and_accents_and_split_on_everything_else() {
        assert_eq!(words("Blue Widget"), ["blue", "widget"]);
        assert_eq!(words("  Café-crème, ÉTÉ! "), ["cafe", "creme", "ete"]);
        assert_eq!(words("\"+-*@(~)"), Vec::<String>::new());
        assert_eq!(words("x2 Ölçü 東京"), ["x2", "olcu", "東京"]);
        assert_eq!(words("ﬁne"), ["fine"], "compatibility forms are folded too");
        let long = "a".repeat(40);
        assert_eq!(words(&long), ["a".repeat(MAX_WORD)]);
    }

    #[test]
    fn a_title_is_indexed_by_every_prefix_and_every_whole_word() {
        let t: Vec<String> = terms("Blue blu").into_iter().collect();
        assert_eq!(t, ["b", "bl", "blu", "blu.", "blue", "blue."]);
        assert!(terms("").is_empty());
    }

    #[test]
    fn a_query_is_whole_words_and_a_last_prefix() {
        let s = Search::parse("Blue  WID").unwrap().unwrap();
        assert_eq!(s.terms, ["blue.", "wid"]);
        assert_eq!(s.text(), "blue wid");
        // The prefix `blu` adds nothing to the whole word `blue`.
        assert_eq!(Search::parse("blue blu").unwrap().unwrap().terms, ["blue."]);
        assert_eq!(
            Search::parse("blue blue").unwrap().unwrap().terms,
            ["blue."]
        );
        assert_eq!(Search::parse("\"+-*@(~").unwrap(), None);
        assert_eq!(Search::parse("   ").unwrap(), None);
        assert!(Search::parse(&"x".repeat(MAX_QUERY)).unwrap().is_some());
        assert_eq!(
            Search::parse(&"x".repeat(MAX_QUERY + 1)),
            Err("q must be at most 200 characters".to_owned())
        );
        assert_eq!(
            Search::parse("lamp 4821").unwrap().unwrap().terms,
            ["4821", "lamp."]
        );
        let many = Search::parse("a bb c d e f g h iii j").unwrap().unwrap();
        assert_eq!(
            many.terms,
            ["iii.", "bb.", "a.", "c.", "d.", "e.", "f.", "g."]
        );
    }
}

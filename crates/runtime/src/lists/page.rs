//! A page of a list: `?limit=N&after=ID`, checked.

/// The largest page.
pub const MAX_PAGE: usize = 1000;

/// The page size when `after` comes without `limit`.
pub const DEFAULT_PAGE: usize = 100;

/// `?limit=N&after=ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub after: u64,
}

impl Page {
    /// `None` when the query asks for no page (the whole list); other parameters are
    /// ignored, as they always were.
    pub fn parse(query: Option<&str>) -> Result<Option<Page>, &'static str> {
        let (mut limit, mut after) = (None, None);
        for pair in query.unwrap_or("").split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "limit" => limit = Some(value),
                "after" => after = Some(value),
                _ => {}
            }
        }
        if limit.is_none() && after.is_none() {
            return Ok(None);
        }
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(raw) => digits(raw)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or("limit must be a whole number from 1 to 1000")?,
        };
        let after = match after {
            None => 0,
            Some(raw) => {
                digits(raw).ok_or("after must be a product id: a whole number, 0 or more")?
            }
        };
        Ok(Some(Page { limit, after }))
    }
}

/// Plain decimal digits that fit in 64 bits.
fn digits(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_parameters_are_checked() {
        assert_eq!(Page::parse(None), Ok(None));
        assert_eq!(Page::parse(Some("x=1")), Ok(None));
        assert_eq!(
            Page::parse(Some("limit=10")),
            Ok(Some(Page {
                limit: 10,
                after: 0
            }))
        );
        assert_eq!(
            Page::parse(Some("after=7")),
            Ok(Some(Page {
                limit: DEFAULT_PAGE,
                after: 7
            }))
        );
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=-1",
            "limit=",
            "limit=ten",
            "after=-1",
            "after=1.5",
            "after=",
            "after=99999999999999999999",
        ] {
            assert!(Page::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}

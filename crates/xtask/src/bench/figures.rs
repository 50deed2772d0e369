//! Reading and formatting figures as the benchmark always has (scripts/bench-lib.sh): a
//! number is what awk makes of a string (its leading numeric part, else 0), `num` rounds and
//! groups thousands, `ratio` is a whole percentage.

/// The value of `key=value` in a line of such fields (http_load's, create_to_listed's, and
/// the wrk runs as the bench records them): the last field named `key`, up to the next
/// space; empty when there is none (`field` in scripts/bench-lib.sh).
pub fn field(line: &str, key: &str) -> String {
    let pattern = format!(" {key}=");
    let values: Vec<&str> = line
        .split('\n')
        .enumerate()
        .filter_map(|(i, l)| {
            // sed reads " $1": the first line as if it started with a space.
            let at = if i == 0 {
                format!(" {l}").rfind(&pattern).map(|at| at.checked_sub(1))
            } else {
                l.rfind(&pattern).map(Some)
            }?;
            let rest = match at {
                Some(at) => &l[at + pattern.len()..],
                None => &l[pattern.len() - 1..],
            };
            Some(rest.split(' ').next().unwrap_or_default())
        })
        .collect();
    values.join("\n")
}

/// The number awk reads in `s`: its longest leading decimal number (after blanks), else 0.
pub fn number(s: &str) -> f64 {
    let t = s.trim_start_matches([' ', '\t', '\n']);
    let b = t.as_bytes();
    let mut end = 0;
    if end < b.len() && (b[end] == b'+' || b[end] == b'-') {
        end += 1;
    }
    let digits_from = end;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    let mut mantissa_digits = end - digits_from;
    if end < b.len() && b[end] == b'.' {
        let mut e = end + 1;
        while e < b.len() && b[e].is_ascii_digit() {
            e += 1;
        }
        mantissa_digits += e - end - 1;
        if mantissa_digits > 0 {
            end = e;
        }
    }
    if mantissa_digits == 0 {
        return 0.0;
    }
    if end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut e = end + 1;
        if e < b.len() && (b[e] == b'+' || b[e] == b'-') {
            e += 1;
        }
        let from = e;
        while e < b.len() && b[e].is_ascii_digit() {
            e += 1;
        }
        if e > from {
            end = e;
        }
    }
    t[..end].parse().unwrap_or(0.0)
}

/// `%.0f`: rounded to a whole number, halves to even, as C's printf.
pub fn whole(x: f64) -> String {
    format!("{x:.0}")
}

/// 12345.6 → "12,346".
pub fn num(s: &str) -> String {
    let mut s = whole(number(s));
    let mut r = String::new();
    while s.len() > 3 {
        r = format!(",{}{r}", &s[s.len() - 3..]);
        s.truncate(s.len() - 3);
    }
    s + &r
}

/// `a` as a whole percentage of `b`, "—" when `b` is not above 0.
pub fn ratio(a: &str, b: &str) -> String {
    if number(b) > 0.0 {
        format!("{} %", whole(100.0 * number(a) / number(b)))
    } else {
        "—".to_owned()
    }
}

/// `a ≥ b` as numbers.
pub fn ge(a: &str, b: &str) -> bool {
    number(a) >= number(b)
}

/// `a ≤ b` as numbers.
pub fn le(a: &str, b: &str) -> bool {
    number(a) <= number(b)
}

/// `key`'s share of the answers of an http_load line, "—" when none were answered.
pub fn share(line: &str, key: &str) -> String {
    let n = number(&field(line, key));
    let d = number(&field(line, "answered"));
    if d > 0.0 {
        format!("{:.1} %", 100.0 * n / d)
    } else {
        "—".to_owned()
    }
}

/// A whole number of a measurement, as bash's arithmetic reads one (0 when empty).
pub fn int(s: &str) -> i64 {
    s.trim().parse().unwrap_or(0)
}

/// "met" or "missed".
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_by_name_the_last_one_winning() {
        let line = "like sent=10 answered=9 s200=8 p99_ms=1.50 elapsed_s=2.00";
        assert_eq!(field(line, "sent"), "10");
        assert_eq!(field(line, "s200"), "8");
        assert_eq!(field(line, "p99_ms"), "1.50");
        assert_eq!(field(line, "elapsed_s"), "2.00");
        assert_eq!(field(line, "missing"), "");
        assert_eq!(field("n=200 p50_ms=1.00", "n"), "200");
        assert_eq!(field("a=1 a=2", "a"), "2");
        assert_eq!(field("rps= p50_ms=0.00", "rps"), "");
    }

    #[test]
    fn numbers_read_as_awk_reads_them() {
        assert_eq!(number("12"), 12.0);
        assert_eq!(number(" 1.5ms"), 1.5);
        assert_eq!(number("-3"), -3.0);
        assert_eq!(number("1e3"), 1000.0);
        assert_eq!(number("1e"), 1.0);
        assert_eq!(number(""), 0.0);
        assert_eq!(number("—"), 0.0);
        assert_eq!(number("."), 0.0);
        assert_eq!(number(".5"), 0.5);
    }

    #[test]
    fn num_rounds_and_groups_thousands() {
        assert_eq!(num("0"), "0");
        assert_eq!(num("999"), "999");
        assert_eq!(num("1000"), "1,000");
        assert_eq!(num("12345.6"), "12,346");
        assert_eq!(num("1234567"), "1,234,567");
        assert_eq!(num("2.5"), "2");
        assert_eq!(num("3.5"), "4");
        assert_eq!(num(""), "0");
    }

    #[test]
    fn ratios_and_shares() {
        assert_eq!(ratio("50", "200"), "25 %");
        assert_eq!(ratio("50", "0"), "—");
        assert_eq!(ratio("50", ""), "—");
        assert_eq!(share("x answered=200 s200=50", "s200"), "25.0 %");
        assert_eq!(share("x answered=0 s200=0", "s200"), "—");
    }
}

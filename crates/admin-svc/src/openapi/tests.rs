//! The patterns of the document against the rules they describe: every value a pattern
//! matches is accepted by `validation::product_input`, and every value it does not match is
//! refused, but for the cases the patterns leave out on purpose (a title starting with a
//! zero-width character; URLs of an unusual shape).

use regex::Regex;
use serde_json::json;

use super::{IMAGE_PATTERN, TITLE_PATTERN};
use crate::validation::product_input;

fn title_accepted(title: &str) -> bool {
    product_input(&json!({"title": title, "image": "/a.png"})).is_ok()
}

fn image_accepted(image: &str) -> bool {
    product_input(&json!({"title": "Mug", "image": image})).is_ok()
}

/// Characters that matter to the rules: letters, digits, symbols a URL treats apart, white
/// space that is trimmed (or refused inside), zero-width and control characters,
/// bidirectional overrides, and characters outside ASCII.
const ALPHABET: &[char] = &[
    'a', 'Z', '0', '9', '/', '\\', ':', '.', '-', '*', '@', '%', '?', '#', '[', '"', '~', ' ',
    '\t', '\n', '\u{a0}', '\u{2007}', '\u{3000}', '\u{85}', '\u{200b}', '\u{2060}', '\u{feff}',
    '\u{202e}', '\u{2067}', '\u{0}', '\u{1b}', '\u{7f}', '\u{9b}', 'é', '👩', 'ß',
];

/// A small deterministic generator (xorshift64*), so that a failure reproduces.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    fn pick(&mut self, chars: &[char]) -> char {
        chars[self.below(chars.len())]
    }

    fn text(&mut self, chars: &[char], max: usize) -> String {
        let len = self.below(max + 1);
        (0..len).map(|_| self.pick(chars)).collect()
    }
}

/// Every string of the alphabet up to three characters long, then random ones up to ten.
fn corpus() -> Vec<String> {
    let mut all = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..3 {
        last = last
            .iter()
            .flat_map(|s| ALPHABET.iter().map(move |c| format!("{s}{c}")))
            .collect();
        all.extend(last.iter().cloned());
    }
    let mut rng = Rng(0x5eed);
    all.extend((0..20_000).map(|_| rng.text(ALPHABET, 10)));
    all
}

fn is_trimmed(c: char) -> bool {
    c.is_whitespace()
}

#[test]
fn the_title_pattern_is_the_rule_of_titles() {
    let pattern = Regex::new(TITLE_PATTERN).unwrap();
    let mut matched = 0;
    for title in corpus() {
        let matches = pattern.is_match(&title);
        let accepted = title_accepted(&title);
        if matches {
            matched += 1;
            assert!(accepted, "{title:?} matches the pattern but is refused");
        } else if accepted {
            // Left out on purpose: a title whose first character is zero-width.
            let first = title.trim_start_matches(is_trimmed).chars().next();
            assert!(
                first.is_some_and(|c| matches!(
                    c,
                    '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'
                )),
                "{title:?} is accepted but the pattern does not match it"
            );
        }
    }
    assert!(matched > 10_000, "only {matched} titles matched");
    for (length, fits) in [(1, true), (200, true), (201, false)] {
        let title = format!(" \t{}\u{3000}\n", "é".repeat(length));
        assert_eq!(pattern.is_match(&title), fits, "{length} characters");
        assert_eq!(title_accepted(&title), fits, "{length} characters");
    }
}

#[test]
fn the_image_pattern_is_the_rule_of_paths() {
    let pattern = Regex::new(IMAGE_PATTERN).unwrap();
    let mut rng = Rng(0xbeef);
    let mut matched = 0;
    let paths = corpus().into_iter().chain((0..20_000).map(|_| {
        let pad: &[char] = &[' ', '\t', '\u{3000}', '\n'];
        format!(
            "{}/{}{}",
            rng.text(pad, 2),
            rng.text(ALPHABET, 12),
            rng.text(pad, 2)
        )
    }));
    for image in paths {
        let matches = pattern.is_match(&image);
        let accepted = image_accepted(&image);
        if image.trim().starts_with('/') || !accepted {
            assert_eq!(
                matches, accepted,
                "{image:?}: pattern {matches}, service {accepted}"
            );
            matched += usize::from(matches);
        } else {
            // Accepted URLs that the pattern does not describe are checked below.
            assert!(
                image.trim().to_ascii_lowercase().starts_with("http"),
                "{image:?}"
            );
        }
    }
    assert!(matched > 5_000, "only {matched} paths matched");
    for (length, fits) in [(1, true), (200, true), (201, false)] {
        let image = format!(" /{}\t", "é".repeat(length - 1));
        assert_eq!(pattern.is_match(&image), fits, "{length} characters");
        assert_eq!(image_accepted(&image), fits, "{length} characters");
    }
}

#[test]
fn every_url_the_image_pattern_matches_is_accepted() {
    let pattern = Regex::new(IMAGE_PATTERN).unwrap();
    // Every printable ASCII character in a host: the pattern's host characters are exactly
    // those the service takes there (but `%`, whose escapes it leaves out).
    for c in (0x21u8..0x7f).map(char::from) {
        let url = format!("https://a{c}b.example/x.png");
        let matches = pattern.is_match(&url);
        let accepted = image_accepted(&url);
        if matches {
            assert!(accepted, "{url:?} matches the pattern but is refused");
        } else if accepted {
            // A character that ends the host, or an escape.
            assert!(
                "%:/?#@\\".contains(c),
                "{url:?} is accepted but not described"
            );
        }
    }
    // Random URLs of every shape, most of them near the pattern, some not.
    let scheme = [
        "http://", "https://", "HTTPS://", "hTtP://", "http:/", "ftp://",
    ];
    let label: &[char] = &[
        'a', 'x', 'n', 'Z', 'q', '0', '7', '-', '*', '_', '~', '"', '{',
    ];
    let junk: &[char] = &['%', '@', '^', '|', 'é', ' ', '\u{200b}', '.', ':', '/'];
    let rest: &[char] = &['/', '?', '#', 'a', '.', '%', '@', ':', 'é', '/', 'a'];
    let mut rng = Rng(0xfeed);
    let mut matched = 0;
    for _ in 0..100_000 {
        let labels: Vec<String> = (0..=rng.below(3))
            .map(|_| {
                (0..=rng.below(12))
                    .map(|_| {
                        if rng.below(40) == 0 {
                            rng.pick(junk)
                        } else {
                            rng.pick(label)
                        }
                    })
                    .collect()
            })
            .collect();
        let port = match rng.below(4) {
            0 => format!(":{}", rng.below(100_000)),
            1 => ":".to_owned(),
            _ => String::new(),
        };
        let mut path = rng.text(rest, 8);
        if rng.below(10) == 0 {
            path.push(rng.pick(junk));
        }
        let url = format!(
            "{}{}{}{path}",
            scheme[rng.below(scheme.len())],
            labels.join("."),
            port,
        );
        if pattern.is_match(&url) {
            matched += 1;
            assert!(
                image_accepted(&url),
                "{url:?} matches the pattern but is refused"
            );
        }
    }
    assert!(matched > 5_000, "only {matched} URLs matched");
    // The longest URL the pattern allows fits in 200 characters.
    let label = "a".repeat(15);
    let longest = format!(
        "https://{label}-{label}.{label}-{label}.a{}-{label}:8080/{}",
        "a".repeat(14),
        "p".repeat(90)
    );
    assert!(pattern.is_match(&longest), "{longest}");
    assert!(longest.chars().count() <= 200, "{longest}");
    assert!(image_accepted(&longest));
}

#[test]
fn the_email_pattern_is_the_rule_of_emails() {
    let pattern = Regex::new(super::EMAIL_PATTERN).unwrap();
    let alphabet: &[char] = &[
        'a', 'Z', '0', '.', '@', '-', '+', ' ', '\t', '\u{3000}', '\u{1b}', '\u{202e}', 'é',
        '\u{200b}',
    ];
    let mut rng = Rng(0xe4a1);
    let shaped = (0..40_000).map(|_| {
        let part = |rng: &mut Rng, max| rng.text(alphabet, max);
        format!(
            "{}@{}.{}",
            part(&mut rng, 4),
            part(&mut rng, 4),
            part(&mut rng, 4)
        )
    });
    let mut matched = 0;
    for email in corpus().into_iter().chain(shaped) {
        let matches = pattern.is_match(&email);
        let accepted = crate::fields::is_email(email.trim());
        assert_eq!(
            matches, accepted,
            "{email:?}: pattern {matches}, service {accepted}"
        );
        matched += usize::from(matches);
    }
    assert!(matched > 500, "only {matched} emails matched");
    let label = "b".repeat(40);
    for (email, fits) in [
        (
            format!("{}@{label}.{label}.{label}.{label}", "a".repeat(64)),
            true,
        ),
        (format!("{}@b.c", "a".repeat(65)), false),
        (format!("a@{label}b.c"), false),
        ("a@b.c.d.e.f".to_owned(), false),
    ] {
        assert_eq!(pattern.is_match(&email), fits, "{email}");
        assert_eq!(crate::fields::is_email(&email), fits, "{email}");
    }
}

#[test]
fn the_token_name_pattern_is_the_rule_of_token_names() {
    let pattern = Regex::new(super::TOKEN_NAME_PATTERN).unwrap();
    let accepted = |name: &str| {
        let body = json!({ "name": name });
        let mut errors = crate::error::FieldErrors::new();
        crate::fields::name(body.as_object().unwrap(), "name", 100, &mut errors).is_some()
    };
    for name in corpus() {
        let first = name.trim_start_matches(is_trimmed).chars().next();
        let zero_width_first =
            first.is_some_and(|c| matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'));
        if !zero_width_first {
            assert_eq!(pattern.is_match(&name), accepted(&name), "{name:?}");
        }
    }
    for (length, fits) in [(1, true), (100, true), (101, false)] {
        let name = format!(" {}\t", "é".repeat(length));
        assert_eq!(pattern.is_match(&name), fits, "{length} characters");
        assert_eq!(accepted(&name), fits, "{length} characters");
    }
}

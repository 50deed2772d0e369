//! The hostile-input suite: hundreds of requests an attacker (or a broken client) sends,
//! straight to the API ports and through nginx as browsers reach them, each with the answer
//! it must get. Any 5xx, hang or connection dropped without an answer fails the suite; so
//! does any rejection without the JSON error shape. A bounded slowloris runs against nginx
//! while a well-behaved client keeps being served. Afterwards nothing changed that should
//! not have, and every process is healthy, its pools returned and its queues drained.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::leftovers::{Inspector, after_traffic};
use testkit::web::Nginx;
use testkit::{Proc, ShopStack, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back for one request.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// The `Allow` header, when there is one.
    allow: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn new(head: &str, body: Vec<u8>) -> Option<Answer> {
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        let allow = head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("allow")
                .then(|| value.trim().to_owned())
        });
        Some(Answer {
            status,
            allow,
            body,
        })
    }

    /// The methods `Allow` lists, in order of name.
    fn allowed(&self) -> Vec<String> {
        let mut methods: Vec<String> = self
            .allow
            .iter()
            .flat_map(|a| a.split(','))
            .map(|m| m.trim().to_owned())
            .collect();
        methods.sort();
        methods
    }
}

/// Sends `request` as it is on a new connection and reads the answer (15 s at most: a body
/// that never completes is given up on after 10 s).
/// `None`: the connection closed, or the time ran out, without a complete answer.
async fn exchange(addr: SocketAddr, request: &[u8]) -> Option<Answer> {
    let work = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        // The server may answer and close before reading a long request: keep what came.
        let _ = s.write_all(request).await;
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).into_owned();
                let lower = head.to_ascii_lowercase();
                let length = lower
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                let chunked = lower.contains("transfer-encoding: chunked");
                let body = &got[end + 4..];
                let done = match length {
                    Some(n) => body.len() >= n,
                    None if chunked => body.ends_with(b"0\r\n\r\n"),
                    None => false,
                };
                if done {
                    let body = if chunked {
                        dechunk(body)
                    } else {
                        body.to_vec()
                    };
                    return Answer::new(&head, body);
                }
            }
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    // Closed: an answer without a length ends here.
                    let end = got.windows(4).position(|w| w == b"\r\n\r\n")?;
                    let head = String::from_utf8_lossy(&got[..end]).into_owned();
                    return Answer::new(&head, got[end + 4..].to_vec());
                }
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(15), work)
        .await
        .ok()
        .flatten()
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            std::str::from_utf8(&body[..line_end]).unwrap_or("0").trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    [head.as_bytes(), body].concat()
}

/// One case: what is sent, where, and the statuses it may get.
struct Case {
    /// Ends with [`MAY_CLOSE`] when the server may end the connection without an answer.
    name: String,
    bytes: Vec<u8>,
    expect: &'static [u16],
}

/// nginx ends a connection whose body stops arriving (after `client_body_timeout`) without
/// an answer: not a hang, since the client is the one stalling.
const MAY_CLOSE: &str = " (may close)";

/// A case's verdict (`None` when it passed), and its answer.
async fn check(addr: SocketAddr, case: &Case, label: &str) -> (Option<String>, Option<Answer>) {
    let Some(answer) = exchange(addr, &case.bytes).await else {
        if case.name.ends_with(MAY_CLOSE) {
            return (None, None);
        }
        let failure = format!("{label} {}: no answer (dropped or hung)", case.name);
        return (Some(failure), None);
    };
    let failure = verdict(&answer, case, label);
    (failure, Some(answer))
}

fn verdict(answer: &Answer, case: &Case, label: &str) -> Option<String> {
    if !case.expect.contains(&answer.status) {
        return Some(format!(
            "{label} {}: {} (expected {:?}) {}",
            case.name,
            answer.status,
            case.expect,
            String::from_utf8_lossy(&answer.body)
                .chars()
                .take(200)
                .collect::<String>()
        ));
    }
    if String::from_utf8_lossy(&answer.body).contains("root:x:0:0") {
        return Some(format!("{label} {}: served a system file", case.name));
    }
    if answer.status == 405 && answer.allowed().is_empty() {
        return Some(format!("{label} {}: 405 without Allow", case.name));
    }
    if answer.status >= 400 && !case.name.starts_with("HEAD ") {
        let shaped = answer
            .json()
            .is_some_and(|v| v.as_object().is_some_and(|o| !o.is_empty()));
        if !shaped {
            return Some(format!(
                "{label} {}: {} without the JSON error shape: {:?}",
                case.name,
                answer.status,
                String::from_utf8_lossy(&answer.body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ));
        }
    }
    None
}

/// A method a route answers, and the statuses it may give to an empty request.
type Allowed = (&'static str, &'static [u16]);

/// Every method on every route, with the answers the contract gives.
fn methods_on_routes(product: u64, auth: &str) -> Vec<Case> {
    let p = format!("/api/products/{product}");
    let history = format!("{p}/history");
    let like = format!("/flask/api/products/{product}/like");
    let routes: Vec<(String, &[Allowed])> = vec![
        (
            "/api/products".into(),
            &[("GET", &[200]), ("HEAD", &[200]), ("POST", &[415])],
        ),
        (
            p,
            &[
                ("GET", &[200]),
                ("HEAD", &[200]),
                ("PUT", &[415]),
                ("PATCH", &[415]),
                ("DELETE", &[401]),
            ],
        ),
        (
            "/api/products/999999".into(),
            &[
                ("GET", &[404]),
                ("HEAD", &[404]),
                ("PUT", &[415]),
                ("PATCH", &[415]),
                ("DELETE", &[404]),
            ],
        ),
        ("/api/products/bulk-delete".into(), &[("POST", &[415])]),
        (history, &[("GET", &[200]), ("HEAD", &[200])]),
        ("/api/audit".into(), &[("GET", &[200]), ("HEAD", &[200])]),
        (
            "/api/user".into(),
            &[("GET", &[200, 404]), ("HEAD", &[200, 404])],
        ),
        ("/api/auth/login".into(), &[("POST", &[415])]),
        // With the (ownerless) token: who it is.
        ("/api/auth/me".into(), &[("GET", &[200]), ("HEAD", &[200])]),
        // A token has no password to change and no sessions.
        ("/api/auth/password".into(), &[("PUT", &[403])]),
        (
            "/api/auth/sessions".into(),
            &[("GET", &[200]), ("HEAD", &[200])],
        ),
        (
            "/api/auth/sessions/sign-out-others".into(),
            &[("POST", &[200])],
        ),
        (
            "/api/auth/sessions/00000000000000000000000000000000".into(),
            &[("DELETE", &[404])],
        ),
        (
            "/api/admins".into(),
            &[("GET", &[200]), ("HEAD", &[200]), ("POST", &[415])],
        ),
        ("/api/admins/999999999".into(), &[("PATCH", &[404])]),
        ("/api/admins/999999999/link".into(), &[("POST", &[404])]),
        ("/api/account-links/inspect".into(), &[("POST", &[415])]),
        ("/api/account-links/redeem".into(), &[("POST", &[415])]),
        (
            "/api/tokens".into(),
            &[("GET", &[200]), ("HEAD", &[200]), ("POST", &[415])],
        ),
        ("/api/tokens/999999999".into(), &[("DELETE", &[404])]),
        ("/api/health".into(), &[("GET", &[200]), ("HEAD", &[200])]),
        (
            "/flask/api/products".into(),
            &[("GET", &[200]), ("HEAD", &[200])],
        ),
        (like, &[("POST", &[200, 400])]),
        (
            "/flask/api/likes".into(),
            &[("GET", &[200]), ("HEAD", &[200])],
        ),
        (
            "/flask/api/health".into(),
            &[("GET", &[200]), ("HEAD", &[200])],
        ),
    ];
    let methods = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
    ];
    let mut cases = Vec::new();
    for (path, allowed) in &routes {
        for method in methods {
            let expect = allowed
                .iter()
                .find(|(m, _)| *m == method)
                .map_or(&[405][..], |(_, e)| *e);
            // The real product is never deleted: its DELETE goes without a token.
            let real_delete = method == "DELETE" && path == &format!("/api/products/{product}");
            let headers: &[(&str, &str)] = if real_delete {
                &[]
            } else {
                &[("Authorization", auth)]
            };
            cases.push(Case {
                name: format!("{method} {path}"),
                bytes: request(method, path, headers, b""),
                expect,
            });
        }
    }
    for method in methods {
        cases.push(Case {
            name: format!("{method} /api/nowhere"),
            bytes: request(method, "/api/nowhere", &[], b""),
            expect: if method == "TRACE" {
                &[404, 405]
            } else {
                &[404]
            },
        });
    }
    cases
}

/// Bodies a broken or hostile client sends to the catalogue's create, signed in.
fn hostile_bodies(auth: &str) -> Vec<Case> {
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let bodies: Vec<(&str, Vec<u8>, &'static [u16])> = vec![
        ("truncated JSON", br#"{"title": "Mu"#.to_vec(), &[400]),
        ("not JSON", b"title=Mug".to_vec(), &[400]),
        ("empty", Vec::new(), &[400]),
        ("a list", b"[1, 2]".to_vec(), &[400]),
        ("a string", br#""Mug""#.to_vec(), &[400]),
        ("null", b"null".to_vec(), &[400]),
        ("deep nesting", deep.into_bytes(), &[400]),
        (
            "invalid UTF-8",
            b"{\"title\": \"\xff\xfe\", \"image\": \"/a\"}".to_vec(),
            &[400],
        ),
        (
            "lone surrogate",
            br#"{"title": "\ud800", "image": "/a"}"#.to_vec(),
            &[400],
        ),
        (
            "NUL in title",
            br#"{"title": "a\u0000b", "image": "/a"}"#.to_vec(),
            &[400],
        ),
        (
            "NUL byte raw",
            b"{\"title\": \"a\0b\", \"image\": \"/a\"}".to_vec(),
            &[400],
        ),
        (
            "control character",
            br#"{"title": "a\u0007b", "image": "/a"}"#.to_vec(),
            &[400],
        ),
        (
            "right-to-left override",
            br#"{"title": "\u202Egpj.exe", "image": "/a"}"#.to_vec(),
            &[400],
        ),
        (
            "invisible only",
            br#"{"title": "\u200B\uFEFF", "image": "/a"}"#.to_vec(),
            &[400],
        ),
        (
            "huge number title",
            br#"{"title": 1e999, "image": "/a"}"#.to_vec(),
            &[400],
        ),
        (
            "huge integer",
            br#"{"title": 123456789012345678901234567890, "image": "/a"}"#.to_vec(),
            &[400],
        ),
        (
            "javascript image",
            br#"{"title": "x", "image": "javascript:alert(1)"}"#.to_vec(),
            &[400],
        ),
        (
            "data image",
            br#"{"title": "x", "image": "data:text/html,<script>alert(1)</script>"}"#.to_vec(),
            &[400],
        ),
        (
            "protocol-relative image",
            br#"{"title": "x", "image": "//evil.example/x.png"}"#.to_vec(),
            &[400],
        ),
        (
            "credentials in image",
            br#"{"title": "x", "image": "https://user:pass@host.example/x.png"}"#.to_vec(),
            &[400],
        ),
        (
            "title too long",
            format!(r#"{{"title": "{}", "image": "/a"}}"#, "x".repeat(201)).into_bytes(),
            &[400],
        ),
        (
            "duplicate keys",
            br#"{"title": "a", "title": "b", "image": "/a", "image": "/b"}"#.to_vec(),
            &[201, 400],
        ),
        (
            "over 64 KiB",
            format!(r#"{{"title": "{}", "image": "/a"}}"#, "x".repeat(70_000)).into_bytes(),
            &[413],
        ),
    ];
    let mut cases: Vec<Case> = bodies
        .into_iter()
        .map(|(name, body, expect)| Case {
            name: format!("create: {name}"),
            bytes: request(
                "POST",
                "/api/products",
                &[
                    ("Authorization", auth),
                    ("Content-Type", "application/json"),
                ],
                &body,
            ),
            expect,
        })
        .collect();
    for (name, ct) in [
        ("text/plain", "text/plain"),
        ("form", "application/x-www-form-urlencoded"),
        ("no type", ""),
    ] {
        let mut headers = vec![("Authorization", auth)];
        if !ct.is_empty() {
            headers.push(("Content-Type", ct));
        }
        cases.push(Case {
            name: format!("create as {name}"),
            bytes: request(
                "POST",
                "/api/products",
                &headers,
                br#"{"title": "x", "image": "/a"}"#,
            ),
            expect: &[415],
        });
    }
    cases
}

/// Paths, headers and cookies that try to confuse routing or parsing.
fn hostile_requests(product: u64, auth: &str) -> Vec<Case> {
    let big = "b".repeat(20_000);
    let mut cases = Vec::new();
    for path in [
        "/api/products/..%2f..%2fetc%2fpasswd",
        "/api/products/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/api/products/0",
        "/api/products/-1",
        "/api/products/1.5",
        "/api/products/99999999999999999999999",
        "/api/products/%00",
        "/api/products/1%00",
        "/api/products/%C0%AE%C0%AE",
        "/api/products/abc",
        "/flask/api/products/abc/like",
        "/flask/api/products/0/like",
        "/flask/api/products/99999999999999999999999/like",
        "/api/products/1;drop",
    ] {
        let method = if path.ends_with("/like") {
            "POST"
        } else {
            "GET"
        };
        cases.push(Case {
            name: format!("{method} {path}"),
            bytes: request(method, path, &[], b""),
            // nginx resolves dot segments (the app's page is its answer then), never a file.
            expect: if path.contains("%2e%2e") || path.contains("..") {
                &[200, 400, 404]
            } else {
                &[400, 404]
            },
        });
    }
    // Search, sort and pages: every new parameter, as text an attacker would try. A search
    // is text, never syntax: answered 200 (matching or not) or 400 naming the parameter. The
    // catalogue checks `limit` and `after` beside its numbered pages' parameters but does not
    // use them; the shop has no `sort`, `page` or `per_page` and ignores them.
    let long_q = format!("q={}", "%22".repeat(201));
    const OK: &[u16] = &[200];
    const BAD: &[u16] = &[400];
    for (query, catalogue, shop) in [
        ("q=%27%20OR%201%3D1%20--%20", OK, OK),
        ("q=%22%2B-*%40(~)%3C%3E", OK, OK),
        ("q=blue*%20-red%20%2Bgreen%20%40distance%203", OK, OK),
        ("q=%25%25%25_%5C", OK, OK),
        ("q=%00", OK, OK),
        ("q=a%00b", OK, OK),
        ("q=%FF%FE", OK, OK),
        ("q=%C0%AE", OK, OK),
        ("q=%F0%9F%92%A3%20%E2%80%AE%20Z%CC%B5%CC%A1", OK, OK),
        ("q=x&q=y&q=", OK, OK),
        ("q", OK, OK),
        (
            "q=a%20b%20c%20d%20e%20f%20g%20h%20i%20j%20k%20l%20m%20n%20o%20p",
            OK,
            OK,
        ),
        (long_q.as_str(), BAD, BAD),
        ("sort=title;DROP%20TABLE%20products", BAD, OK),
        ("sort=title%00", BAD, OK),
        ("sort=-", BAD, OK),
        ("sort=%2Dlikes", OK, OK),
        ("sort=LIKES", BAD, OK),
        ("page=99999999999999999999", BAD, OK),
        ("page=1000000000", OK, OK),
        ("page=0x10", BAD, OK),
        ("page=%2B1", BAD, OK),
        ("page=1%20", BAD, OK),
        ("per_page=-0", BAD, OK),
        ("per_page=100&page=1000000000", OK, OK),
        ("limit=1000&q=a", OK, OK),
        ("limit=1001&q=a", BAD, BAD),
        ("after=18446744073709551615&q=a", OK, OK),
        ("after=18446744073709551616&q=a", BAD, BAD),
        ("after=18446744073709551616", BAD, BAD),
    ] {
        for (path, expect) in [("/api/products", catalogue), ("/flask/api/products", shop)] {
            cases.push(Case {
                name: format!("GET {path}?{query}"),
                bytes: request("GET", &format!("{path}?{query}"), &[], b""),
                expect,
            });
        }
    }
    cases.push(Case {
        name: "URI of 20,000 characters".into(),
        bytes: request("GET", &format!("/api/products?x={big}"), &[], b""),
        expect: &[414, 431],
    });
    cases.push(Case {
        name: "a 20 KB header".into(),
        bytes: request("GET", "/api/products", &[("X-Big", &big)], b""),
        expect: &[431, 400],
    });
    cases.push(Case {
        name: "a 20 KB cookie".into(),
        bytes: request(
            "GET",
            "/flask/api/products",
            &[("Cookie", &format!("x={big}"))],
            b"",
        ),
        expect: &[431, 400],
    });
    for cookie in [
        "shopper_id=not-a-uuid",
        "shopper_id=",
        "shopper_id=\"\"",
        "shopper_id=00000000-0000-0000-0000-000000000000'--",
    ] {
        cases.push(Case {
            name: format!("like with cookie {cookie}"),
            bytes: request(
                "POST",
                &format!("/flask/api/products/{product}/like"),
                &[("Cookie", cookie)],
                b"",
            ),
            expect: &[200, 400],
        });
    }
    for session in [
        "shop_admin_session=forged",
        "shop_admin_session=AAAAAAAAAAAAAAAAAAAAAA",
        "shop_admin_session=%00%ff",
    ] {
        cases.push(Case {
            name: format!("create with session {session}"),
            bytes: request(
                "POST",
                "/api/products",
                &[("Cookie", session), ("Content-Type", "application/json")],
                br#"{"title": "x", "image": "/a"}"#,
            ),
            expect: &[401],
        });
        cases.push(Case {
            name: format!("me with session {session}"),
            bytes: request("GET", "/api/auth/me", &[("Cookie", session)], b""),
            expect: &[401],
        });
    }
    for token in [
        "Bearer",
        "Bearer shop_",
        "Bearer x y",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer shop_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    ] {
        cases.push(Case {
            name: format!("create with Authorization {token}"),
            bytes: request(
                "DELETE",
                &format!("/api/products/{product}"),
                &[("Authorization", token)],
                b"",
            ),
            expect: &[401],
        });
    }
    for tp in [
        "garbage",
        "00-00000000000000000000000000000000-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        &"0".repeat(5000),
    ] {
        cases.push(Case {
            name: format!("list with traceparent {}", &tp[..tp.len().min(20)]),
            bytes: request("GET", "/flask/api/products", &[("traceparent", tp)], b""),
            expect: &[200],
        });
    }
    cases.push(Case {
        name: "login without a password".into(),
        bytes: request(
            "POST",
            "/api/auth/login",
            &[("Content-Type", "application/json")],
            br#"{"email": "a@b.example"}"#,
        ),
        expect: &[400],
    });
    cases.push(Case {
        name: "login with a number for a password".into(),
        bytes: request(
            "POST",
            "/api/auth/login",
            &[("Content-Type", "application/json")],
            br#"{"email": "a@b.example", "password": 5}"#,
        ),
        expect: &[400],
    });
    cases.push(Case {
        name: "like from another site".into(),
        bytes: request(
            "POST",
            &format!("/flask/api/products/{product}/like"),
            &[
                ("Sec-Fetch-Site", "cross-site"),
                ("Origin", "https://evil.example"),
                ("Content-Type", "text/plain"),
            ],
            b"x=1",
        ),
        expect: &[403],
    });
    // Content-Length lies: more announced than sent (the body never completes), and less
    // (the rest is a second, malformed request on the same connection).
    let short = format!(
        "POST /api/products HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"title\": "
    )
    .into_bytes();
    cases.push(Case {
        name: format!("Content-Length larger than the body{MAY_CLOSE}"),
        bytes: short,
        expect: &[400, 408],
    });
    cases.push(Case {
        name: "Content-Length and Transfer-Encoding together".into(),
        bytes: b"POST /api/products HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n0\r\n\r\n".to_vec(),
        expect: &[400, 401],
    });
    cases
}

/// Requests whose answer may come from the HTTP library or nginx themselves, before any
/// route: a status from the listed ones, or the connection closed without one (no hang).
/// nginx skips a header line it cannot read (`ignore_invalid_headers`) and answers the
/// rest; an unknown HTTP version is `505`, the status HTTP has for it.
fn malformed_requests() -> Vec<(&'static str, Vec<u8>, &'static [u16])> {
    vec![
        ("garbage request line", b"GARBAGE\r\n\r\n".to_vec(), &[400]),
        (
            "HTTP/9",
            b"GET / HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
            &[400, 505],
        ),
        (
            "header without colon",
            b"GET /api/products HTTP/1.1\r\nHost: x\r\nNoColon\r\nConnection: close\r\n\r\n"
                .to_vec(),
            &[400, 200],
        ),
        (
            "space before colon",
            b"GET /api/products HTTP/1.1\r\nHost : x\r\n\r\n".to_vec(),
            &[400],
        ),
        (
            "NUL in the request line",
            b"GET /api/\0products HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            &[400],
        ),
        (
            "bad chunk size",
            b"POST /api/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
                .to_vec(),
            // main-api has no such route: 404 before the body is read.
            &[400, 401, 404],
        ),
    ]
}
async fn product_titles(stack: &ShopStack) -> Vec<Value> {
    let mut all: Vec<Value> = stack
        .client
        .catalogue()
        .await
        .into_iter()
        .map(|p| json!([p["id"], p["title"], p["image"]]))
        .collect();
    all.sort_by_key(|p| p[0].as_u64());
    all
}

#[tokio::test]
async fn hostile_input_gets_clear_answers_and_changes_nothing() {
    let stack = ShopStack::start(&testkit::amqp_url(), Default::default()).await;
    let mut inspector = Inspector::connect().await;
    let product = stack.client.create("Mug", "/img/mug.png").await;
    testkit::eventually(WAIT, "product in the shop", || {
        stack.client.shop_product(product)
    })
    .await;
    let before = product_titles(&stack).await;
    let host = |url: &str| url.trim_start_matches("http://").to_owned();
    let nginx = Nginx::start(&host(&stack.client.admin), &host(&stack.client.main)).await;
    let auth = format!("Bearer {}", stack.client.token.clone().unwrap());

    let admin: SocketAddr = host(&stack.client.admin).parse().unwrap();
    let main: SocketAddr = host(&stack.client.main).parse().unwrap();
    let web: SocketAddr = format!("127.0.0.1:{}", nginx.port).parse().unwrap();
    let mut cases = methods_on_routes(product, &auth);
    cases.extend(hostile_bodies(&auth));
    cases.extend(hostile_requests(product, &auth));

    let mut failures = Vec::new();
    let mut sent = 0;
    for case in &cases {
        // Directly, to the API the path belongs to; then through nginx.
        let line = String::from_utf8_lossy(&case.bytes[..case.bytes.len().min(64)]).into_owned();
        let api = if line
            .split_whitespace()
            .nth(1)
            .is_some_and(|p| p.starts_with("/flask/"))
        {
            main
        } else {
            admin
        };
        let mut allowed = Vec::new();
        for (label, addr) in [("api", api), ("nginx", web)] {
            sent += 1;
            let (failure, answer) = check(addr, case, label).await;
            failures.extend(failure);
            allowed.push(answer.filter(|a| a.status == 405).map(|a| a.allowed()));
        }
        // nginx answers a TRACE itself: with the methods the API lists for the path.
        if let [Some(api), Some(nginx)] = &allowed[..]
            && api != nginx
        {
            failures.push(format!(
                "{}: nginx allows {nginx:?}, the API {api:?}",
                case.name
            ));
        }
    }
    // What only nginx answers: the processes' own /metrics, /alive and /ready are not
    // passed on (a JSON 404, not the app's page),
    // and the app's files take GET and HEAD only.
    for (method, path, expect) in [
        ("GET", "/metrics", &[404][..]),
        ("HEAD", "/metrics", &[404]),
        ("POST", "/metrics", &[404]),
        ("TRACE", "/metrics", &[404]),
        ("GET", "/metrics?name=x", &[404]),
        ("GET", "/alive", &[404]),
        ("GET", "/ready", &[404]),
        ("TRACE", "/ready", &[404]),
        ("POST", "/", &[405]),
        ("TRACE", "/", &[405]),
        ("DELETE", "/admin/products", &[405]),
    ] {
        let case = Case {
            name: format!("{method} {path}"),
            bytes: request(method, path, &[], b""),
            expect,
        };
        sent += 1;
        let (failure, answer) = check(web, &case, "nginx").await;
        failures.extend(failure);
        if let Some(a) = answer.filter(|a| a.status == 405)
            && a.allowed() != ["GET", "HEAD"]
        {
            failures.push(format!("nginx {}: Allow {:?}", case.name, a.allow));
        }
    }
    for (name, bytes, expect) in malformed_requests() {
        for (label, addr) in [("admin-api", admin), ("main-api", main), ("nginx", web)] {
            sent += 1;
            match exchange(addr, &bytes).await {
                Some(a) if expect.contains(&a.status) => {}
                // A server may close a connection it cannot parse without an answer.
                None => {}
                Some(a) => failures.push(format!("{label} {name}: {}", a.status)),
            }
        }
    }

    // A bounded slowloris against nginx: 100 connections sending a header byte a second
    // for 12 s, while a well-behaved client keeps listing and liking through nginx.
    let stop_at = Instant::now() + Duration::from_secs(12);
    let mut loris = tokio::task::JoinSet::new();
    for _ in 0..100 {
        loris.spawn(async move {
            let Ok(mut s) = TcpStream::connect(web).await else {
                return;
            };
            let _ = s
                .write_all(b"GET /flask/api/products HTTP/1.1\r\nHost: x\r\n")
                .await;
            while Instant::now() < stop_at {
                if s.write_all(b"X").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    let mut served = 0;
    while Instant::now() < stop_at {
        let list = request("GET", "/flask/api/products", &[], b"");
        match exchange(web, &list).await {
            Some(a) if a.status == 200 => served += 1,
            other => failures.push(format!("during the slowloris: {other:?}")),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    loris.abort_all();
    assert!(
        served >= 50,
        "the shop kept serving during the slowloris: {served}"
    );

    assert!(
        failures.is_empty(),
        "{} of {sent} requests answered wrongly:\n{}\nnginx: {}",
        failures.len(),
        failures.join("\n"),
        nginx
            .error_log()
            .lines()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!("hostile input: {sent} requests, each with its expected answer");

    // Nothing changed that should not have: the one product as it was, plus what the
    // "duplicate keys" creates made (a JSON object's last key wins, as in serde_json).
    let after: Vec<Value> = product_titles(&stack)
        .await
        .into_iter()
        .filter(|p| p[1] != "b")
        .collect();
    assert_eq!(after, before, "the catalogue is as it was");
    let checks = after_traffic(&stack, &mut inspector, WAIT).await;
    for (name, check) in &checks {
        assert!(check.is_ok(), "{name}: {check:?}");
    }
    for p in Proc::ALL {
        let health = stack.svc(p).get_json(p.health_path()).await.unwrap();
        assert_eq!(health["status"], "ok", "{p:?}");
    }
    stack.stop().await;
}

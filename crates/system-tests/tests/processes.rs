//! Each process reads only what it needs and is started like the others: the consumers take
//! a command line as the APIs do, start with consumer settings alone (an API-only variable,
//! even a bad one, is none of their business), and serve the same probes.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use testkit::service::{run_args_to_exit, run_to_exit};
use testkit::{Proc, ShopStack, workspace_binary};

/// Variables only an API reads, each with a value an API refuses.
const API_ONLY: [(&str, &str); 7] = [
    ("SESSION_IDLE_MINUTES", "0"),
    ("COOKIE_SECURE", "maybe"),
    ("CORS_ALLOWED_ORIGINS", "*"),
    ("LIKES_PER_MINUTE_PER_SHOPPER", "lots"),
    ("LIVE_MAX_STREAMS", "many"),
    ("HTTP_MAX_WAITING", "many"),
    ("OUTBOX_BATCH_SIZE", "0"),
];

#[tokio::test]
async fn consumers_parse_their_command_line_like_the_apis() {
    for binary in ["admin-consumer", "main-consumer", "admin-api", "main-api"] {
        let binary = workspace_binary(binary);
        let none = HashMap::new();
        let (code, printed) = run_to_exit_with(&binary, &none, &["--help"]).await;
        assert_eq!(code, Some(0), "{binary} --help: {printed}");
        assert!(printed.contains("Usage:"), "{binary} --help: {printed}");
        assert!(
            printed.contains("docs/operating/configuration.md"),
            "{printed}"
        );
        let (code, printed) = run_to_exit_with(&binary, &none, &["--no-such-flag"]).await;
        assert_eq!(code, Some(2), "{binary} --no-such-flag: {printed}");
        assert!(printed.contains("--no-such-flag"), "{printed}");
    }
}

/// `binary args…` with `env`, to its exit (within 10 s): exit code and what it printed.
async fn run_to_exit_with(
    binary: &str,
    env: &HashMap<String, String>,
    args: &[&str],
) -> (Option<i32>, String) {
    run_args_to_exit(binary, args, env, Duration::from_secs(10)).await
}

#[tokio::test]
async fn a_consumer_starts_with_consumer_settings_alone() {
    let bad: Vec<(&'static str, String)> = API_ONLY
        .iter()
        .map(|(k, v)| (*k, (*v).to_owned()))
        .collect();
    let overrides = HashMap::from([
        (Proc::AdminConsumer, bad.clone()),
        (Proc::MainConsumer, bad.clone()),
    ]);
    let stack = ShopStack::start(&testkit::amqp_url(), overrides).await;
    for p in [Proc::AdminConsumer, Proc::MainConsumer] {
        let svc = stack.svc(p);
        for path in ["/alive", "/ready", "/health"] {
            let res = reqwest::get(svc.url(path)).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{} {path}", p.binary());
        }
    }
    // The same values stop an API at start, naming the variable.
    for (name, value) in API_ONLY {
        let api = if name.starts_with("SESSION") {
            Proc::AdminApi
        } else {
            Proc::MainApi
        };
        let mut env = stack.env(api).clone();
        env.insert(name.to_owned(), value.to_owned());
        let (code, printed) = run_to_exit(
            &workspace_binary(api.binary()),
            &env,
            Duration::from_secs(30),
        )
        .await;
        assert_eq!(
            code,
            Some(1),
            "{} with {name}={value}: {printed}",
            api.binary()
        );
        assert!(printed.contains(name), "{printed}");
    }
    stack.stop().await;
}

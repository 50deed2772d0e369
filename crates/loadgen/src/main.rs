//! A realistic mixed workload for the shop, with goose (Rust's Locust), through the one
//! origin browsers use (nginx: `/flask/…` to the shop, `/api/…` to the catalogue):
//!
//! - **browsers** (most users): the gallery's two requests, the product list and the
//!   shopper's likes;
//! - **returning shoppers**: keep their `shopper_id` cookie, look at the list and their
//!   likes, like a product now and then (a second like of the same product is `400
//!   already liked`, which is what the shop must answer, so it counts as a success);
//! - **new shoppers**: no cookie, look at the list and like one product (a new shopper
//!   each time);
//! - **an admin**: signs in with an API token (`Authorization: Bearer`, from
//!   `ADMIN_TOKEN`), creates a product and renames it now and then.
//!
//! Products liked are 1..=`PRODUCTS` (default 100). Every other option is goose's:
//! `loadgen --host http://127.0.0.1:8080 --users 40 --increase-rate 40 --run-time 20s`
//! (`--help` lists them). It prints goose's per-request tables (throughput, latency
//! percentiles, status codes) at the end, each request type under a short name (`shop
//! list`, `my likes`, `like, returning`, `like, new shopper`, `catalogue list`, `admin
//! create`, `admin rename`); `scripts/bench.sh` runs it. goose's error summary lists the
//! returning shoppers' `400 already liked` answers too, though they count as successes.
//!
//! `ADMIN_HOST=http://…` sends the admin's requests (`/api/…`) there instead of `--host`
//! (to run against the two APIs without nginx); `LOADGEN_TALLY=FILE` writes what it was
//! answered as JSON at the end (`tally.rs`), for scripts/soak.sh to compare with the rows.

mod tally;

use std::sync::OnceLock;
use std::time::Duration;

use goose::prelude::*;

/// How many products there are to like (1..=N).
fn products() -> u64 {
    static N: OnceLock<u64> = OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("PRODUCTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(100)
    })
}

/// An admin path, on `ADMIN_HOST` when set.
fn admin_url(path: &str) -> String {
    static HOST: OnceLock<String> = OnceLock::new();
    let host = HOST.get_or_init(|| std::env::var("ADMIN_HOST").unwrap_or_default());
    format!("{}{path}", host.trim_end_matches('/'))
}

fn admin_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| std::env::var("ADMIN_TOKEN").unwrap_or_default())
}

/// A product id in 1..=N, from the random bits of a fresh UUID (no other RNG needed).
fn random_product() -> u64 {
    (uuid::Uuid::new_v4().as_u128() % u128::from(products())) as u64 + 1
}

/// Fails the transaction (goose counts it) unless the status is one of `ok`; a status in
/// `ok` that goose saw as a failure (a 4xx the scenario expects) is marked a success.
fn expect(
    user: &mut GooseUser,
    mut goose: goose::goose::GooseResponse,
    ok: &[u16],
) -> TransactionResult {
    let status = goose.response.as_ref().map(|r| r.status().as_u16()).ok();
    match status {
        Some(s) if ok.contains(&s) => user.set_success(&mut goose.request),
        _ => Err(Box::new(TransactionError::RequestFailed {
            raw_request: Box::new(goose.request),
        })),
    }
}

async fn list_products(user: &mut GooseUser) -> TransactionResult {
    let goose = user.get_named("/flask/api/products", "shop list").await?;
    expect(user, goose, &[200])
}

async fn my_likes(user: &mut GooseUser) -> TransactionResult {
    let goose = user.get_named("/flask/api/likes", "my likes").await?;
    expect(user, goose, &[200])
}

/// A like by this user's shopper: 200, or 400 when this shopper already liked it.
async fn like(user: &mut GooseUser, name: &str) -> TransactionResult {
    let product = random_product();
    let path = format!("/flask/api/products/{product}/like");
    let request = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path(path.as_str())
        .name(name)
        .build();
    tally::like_sent();
    let goose = user.request(request).await?;
    let status = goose.response.as_ref().map(|r| r.status().as_u16()).ok();
    tally::like_answered(product, status);
    expect(user, goose, &[200, 400])
}

async fn returning_like(user: &mut GooseUser) -> TransactionResult {
    like(user, "like, returning").await
}

async fn new_shopper_like(user: &mut GooseUser) -> TransactionResult {
    like(user, "like, new shopper").await
}

/// New shoppers never keep a cookie: each like makes a new shopper.
async fn forget_cookies(user: &mut GooseUser) -> TransactionResult {
    let builder = reqwest_goose::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent("shop-loadgen");
    user.set_client_builder(builder).await?;
    Ok(())
}

/// The admin: creates a product, then renames it (both through the catalogue API).
async fn admin_edit(user: &mut GooseUser) -> TransactionResult {
    let bearer = format!("Bearer {}", admin_token());
    let n = uuid::Uuid::new_v4().simple().to_string();
    let body =
        serde_json::json!({"title": format!("Loadgen {}", &n[..8]), "image": "/img/loadgen.png"});
    let builder = user
        .get_request_builder(&GooseMethod::Post, &admin_url("/api/products"))?
        .header("Authorization", &bearer)
        .json(&body);
    let request = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path("/api/products")
        .name("admin create")
        .set_request_builder(builder)
        .build();
    tally::create_sent();
    let mut goose = user.request(request).await?;
    let created = match goose.response {
        Ok(response) if response.status().as_u16() == 201 => response,
        _ => {
            return Err(Box::new(TransactionError::RequestFailed {
                raw_request: Box::new(goose.request),
            }));
        }
    };
    let id = created
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["id"].as_u64());
    if let Some(id) = id {
        tally::created(id);
    }
    let Some(id) = id else {
        return user.set_failure(
            "create answered without an id",
            &mut goose.request,
            None,
            None,
        );
    };
    let path = admin_url(&format!("/api/products/{id}"));
    let renamed = serde_json::json!({"title": format!("Loadgen {} v2", &n[..8]), "image": "/img/loadgen.png"});
    let builder = user
        .get_request_builder(&GooseMethod::Put, &path)?
        .header("Authorization", &bearer)
        .json(&renamed);
    let request = GooseRequest::builder()
        .method(GooseMethod::Put)
        .path(path.as_str())
        .name("admin rename")
        .set_request_builder(builder)
        .build();
    let goose = user.request(request).await?;
    if goose
        .response
        .as_ref()
        .is_ok_and(|r| r.status().as_u16() == 202)
    {
        tally::renamed();
    }
    expect(user, goose, &[202])
}

async fn catalogue(user: &mut GooseUser) -> TransactionResult {
    let goose = user
        .get_named(&admin_url("/api/products"), "catalogue list")
        .await?;
    expect(user, goose, &[200])
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    let metrics = GooseAttack::initialize()?
        // The gallery: the list and this visitor's likes, again and again.
        .register_scenario(
            scenario!("browser")
                .set_weight(80)?
                .register_transaction(transaction!(list_products))
                .register_transaction(transaction!(my_likes)),
        )
        .register_scenario(
            scenario!("returning shopper")
                .set_weight(10)?
                .register_transaction(transaction!(list_products))
                .register_transaction(transaction!(my_likes))
                .register_transaction(transaction!(returning_like)),
        )
        .register_scenario(
            scenario!("new shopper")
                .set_weight(8)?
                .register_transaction(transaction!(forget_cookies).set_on_start())
                .register_transaction(transaction!(list_products))
                .register_transaction(transaction!(new_shopper_like)),
        )
        .register_scenario(
            scenario!("admin")
                .set_weight(2)?
                .set_wait_time(Duration::from_millis(200), Duration::from_millis(500))?
                .register_transaction(transaction!(catalogue))
                .register_transaction(transaction!(admin_edit)),
        )
        .execute()
        .await?;
    if let Err(e) = tally::write() {
        eprintln!("loadgen: cannot write LOADGEN_TALLY: {e}");
        std::process::exit(1);
    }
    if metrics.errors.is_empty() {
        println!("loadgen: no request errors");
    } else {
        println!("loadgen: {} kinds of request error", metrics.errors.len());
    }
    Ok(())
}

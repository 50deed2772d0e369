//! What clients read afterwards: a mirror that converged, and fresh answers.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::Check;
use crate::ShopClient;

async fn list(client: &ShopClient, url: &str) -> Result<Vec<Value>, String> {
    let res = client
        .http
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = res.status();
    if status != StatusCode::OK {
        return Err(format!("GET {url} answered {status}"));
    }
    res.json().await.map_err(|e| format!("GET {url}: {e}"))
}

pub async fn shop(client: &ShopClient) -> Result<Vec<Value>, String> {
    list(client, &format!("{}/flask/api/products", client.main)).await
}

pub async fn catalogue(client: &ShopClient) -> Result<Vec<Value>, String> {
    list(client, &format!("{}/api/products", client.admin)).await
}

/// The mirror converged to the catalogue within `within`: the same products with the same
/// titles and images, and the shop's like counts equal to the catalogue's.
pub async fn converged(client: &ShopClient, within: Duration) -> Check {
    let start = Instant::now();
    loop {
        let diff = match (catalogue(client).await, shop(client).await) {
            (Ok(c), Ok(s)) => {
                let key =
                    |p: &Value| json!([p["id"], p["title"], p["image"], p["likes"]]).to_string();
                let c: BTreeSet<String> = c.iter().map(key).collect();
                let s: BTreeSet<String> = s.iter().map(key).collect();
                if c == s {
                    return Ok(format!(
                        "mirror equals the catalogue ({} products) after {:.1} s",
                        c.len(),
                        start.elapsed().as_secs_f64()
                    ));
                }
                let only_c: Vec<_> = c.difference(&s).take(5).cloned().collect();
                let only_s: Vec<_> = s.difference(&c).take(5).cloned().collect();
                format!(
                    "[id, title, image, likes] only in the catalogue: {only_c:?}, only in the shop: {only_s:?}"
                )
            }
            (c, s) => format!("{:?} / {:?}", c.err(), s.err()),
        };
        if start.elapsed() >= within {
            return Err(format!("mirror not converged after {within:?}: {diff}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn answer(req: reqwest::RequestBuilder, what: &str) -> Result<(StatusCode, Value), String> {
    let res = req
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let status = res.status();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

/// Polls `check` until it holds or `within` passed; the time it took.
async fn within_time<F, Fut>(within: Duration, what: &str, mut check: F) -> Result<Duration, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return Ok(start.elapsed());
        }
        if start.elapsed() >= within {
            return Err(format!("{what}: not within {within:?}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes made now are seen, and every read returns the latest data (a pooled connection
/// stuck inside an old transaction answers from its old snapshot): creates a product and
/// waits (up to `within`) until the shop shows it; likes it and waits until the catalogue
/// counts the like; then `reads` reads of each list must all contain it; then renames it,
/// waits until the shop shows the new title, and `reads` reads of each list must all show
/// the new title.
pub async fn fresh_reads(client: &ShopClient, reads: usize, within: Duration) -> Check {
    let create = client
        .http
        .post(format!("{}/api/products", client.admin))
        .json(&json!({"title": "Fresh", "image": "/img/fresh.png"}));
    let (status, created) = answer(create, "create").await?;
    if status != StatusCode::CREATED {
        return Err(format!(
            "a create after the burst answered {status}: {created}"
        ));
    }
    let id = created["id"].as_u64().ok_or("create answered no id")?;
    let has =
        |list: &[Value], title: &str| list.iter().any(|p| p["id"] == id && p["title"] == title);
    let seen = within_time(
        within,
        &format!("product {id} created after the burst in the shop"),
        || async { shop(client).await.is_ok_and(|l| has(&l, "Fresh")) },
    )
    .await?;
    let like = client
        .http
        .post(format!("{}/flask/api/products/{id}/like", client.main));
    let (status, body) = answer(like, "like").await?;
    if status != StatusCode::OK {
        return Err(format!("a like after the burst answered {status}: {body}"));
    }
    let liked = within_time(
        within,
        &format!("the like of product {id} in the catalogue"),
        || async {
            catalogue(client)
                .await
                .is_ok_and(|l| l.iter().any(|p| p["id"] == id && p["likes"] == 1))
        },
    )
    .await?;

    let mut stale = Vec::new();
    let mut read_all = async |title: &str| -> Result<(), String> {
        for (name, url) in [
            ("shop", format!("{}/flask/api/products", client.main)),
            ("catalogue", format!("{}/api/products", client.admin)),
        ] {
            let mut old = 0;
            for _ in 0..reads {
                if !has(&list(client, &url).await?, title) {
                    old += 1;
                }
            }
            if old > 0 {
                stale.push(format!(
                    "{old} of {reads} {name} reads without product {id} titled {title:?}"
                ));
            }
        }
        Ok(())
    };
    read_all("Fresh").await?;
    let rename = client
        .http
        .put(format!("{}/api/products/{id}", client.admin))
        .json(&json!({"title": "Fresher", "image": "/img/fresh.png"}));
    let (status, body) = answer(rename, "update").await?;
    if status != StatusCode::ACCEPTED {
        return Err(format!(
            "an update after the burst answered {status}: {body}"
        ));
    }
    within_time(
        within,
        &format!("product {id} renamed in the shop"),
        || async { shop(client).await.is_ok_and(|l| has(&l, "Fresher")) },
    )
    .await?;
    read_all("Fresher").await?;
    if stale.is_empty() {
        Ok(format!(
            "new product mirrored in {:.2} s, its like in the catalogue in {:.2} s, 4 x {reads} reads all fresh",
            seen.as_secs_f64(),
            liked.as_secs_f64()
        ))
    } else {
        Err(format!("stale reads: {}", stale.join("; ")))
    }
}

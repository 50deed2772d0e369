//! The shop's happy path, as its users go through it: an admin creates a product, the shop
//! lists it, a shopper likes it (once: the same shopper's second like is refused), the
//! catalogue counts the like, and the shopper's likes name the product. Written once, for
//! the system tests (the processes on their own ports) and for the compose proof (the whole
//! `docker-compose.yml`, through its web server: `xtask compose-proof`).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::{ShopClient, eventually};

/// What the happy path leaves behind.
#[derive(Debug, Clone)]
pub struct HappyPath {
    pub id: u64,
    /// The product as the shop listed it first.
    pub listed: Value,
    /// The shopper's cookie (`shopper_id=…`), set by the like.
    pub shopper: Option<String>,
}

/// Goes through the happy path with `client` (the admin's writes authorised by its token or
/// session), waiting up to `within` for the shop's list and for the catalogue's count; panics
/// naming the step that failed.
pub async fn happy_path(
    client: &ShopClient,
    title: &str,
    image: &str,
    within: Duration,
) -> HappyPath {
    let id = client.create(title, image).await;
    let listed = eventually(
        within,
        &format!("the shop to list product {id}"),
        || async {
            client
                .listed_in_shop(id)
                .await
                .filter(|p| p["title"] == title)
        },
    )
    .await;
    let mut shopper = None;
    assert_eq!(
        client.like(id, &mut shopper).await,
        StatusCode::OK,
        "a shopper likes product {id}"
    );
    assert!(shopper.is_some(), "a shopper's first like sets its cookie");
    assert_eq!(
        client.like(id, &mut shopper).await,
        StatusCode::BAD_REQUEST,
        "the same shopper likes product {id} again"
    );
    eventually(
        within,
        &format!("the catalogue to count the like of product {id}"),
        || async { (client.catalogue_likes(id).await == Some(1)).then_some(()) },
    )
    .await;
    assert_eq!(
        client.liked_by(shopper.as_deref()).await,
        Some(vec![id]),
        "the shopper's likes (GET /flask/api/likes)"
    );
    HappyPath {
        id,
        listed,
        shopper,
    }
}

/// Reads that tolerate a stack that is starting, stopping or behind a web server that has
/// lost its upstream: `None` rather than a panic, for polling.
impl ShopClient {
    /// The product as the shop lists it, if the list could be had and holds it.
    pub async fn listed_in_shop(&self, id: u64) -> Option<Value> {
        let res = self
            .http
            .get(format!("{}/flask/api/products", self.main))
            .send()
            .await
            .ok()?;
        if res.status() != StatusCode::OK {
            return None;
        }
        let list: Vec<Value> = res.json().await.ok()?;
        list.into_iter().find(|p| p["id"] == id)
    }

    /// The catalogue's like count of a product (`GET /api/products/{id}`), if it answered
    /// 200.
    pub async fn catalogue_likes(&self, id: u64) -> Option<u64> {
        let res = self
            .http
            .get(format!("{}/api/products/{id}", self.admin))
            .send()
            .await
            .ok()?;
        if res.status() != StatusCode::OK {
            return None;
        }
        res.json::<Value>().await.ok()?["likes"].as_u64()
    }

    /// The ids of the products the shopper with cookie `shopper` has liked
    /// (`GET /flask/api/likes`), if it answered 200.
    pub async fn liked_by(&self, shopper: Option<&str>) -> Option<Vec<u64>> {
        let req = self.http.get(format!("{}/flask/api/likes", self.main));
        let req = match shopper {
            Some(cookie) => req.header("cookie", cookie),
            None => req,
        };
        let res = req.send().await.ok()?;
        if res.status() != StatusCode::OK {
            return None;
        }
        res.json().await.ok()
    }

    /// One like by a new shopper, sent once (no retry after a `503`): its status, or the
    /// error when no answer came.
    pub async fn try_like(&self, id: u64) -> reqwest::Result<StatusCode> {
        self.http
            .post(format!("{}/flask/api/products/{id}/like", self.main))
            .send()
            .await
            .map(|res| res.status())
    }
}

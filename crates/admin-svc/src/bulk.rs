//! `POST /api/products/bulk-delete` (docs/contract.md, "Bulk delete"): up to 500 products
//! deleted in one transaction, each with its own `product_deleted` event and
//! `product.bulk_delete` audit record; an id that names no product is reported, and fails
//! nothing.

use std::collections::HashSet;

use axum::extract::State;
use axum::{Extension, Json};
use events::Event;
use serde::Serialize;
use serde_json::Value;
use shop_runtime::http::{ClientIp, RequestTrace};
use shop_runtime::service::openapi::ProductId;
use shop_runtime::service::openapi::{BodyTooLarge, Busy};
use shop_runtime::{outbox, statement};
use sqlx::{MySqlConnection, QueryBuilder};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::AppState;
use crate::api::{JsonBody, commit_change};
use crate::audit::{self, Action, product::Who};
use crate::auth::Admin;
use crate::db::ProductRow;
use crate::error::{ApiError, FieldErrors};
use crate::openapi::{Forbidden, NotJson, SignInRequired};

/// The most ids one request may name.
pub const MAX_IDS: usize = 500;

/// `{"ids": [1, 2, 3]}`: 1 to 500 product ids (a repeated id counts once). Unknown fields
/// are ignored.
pub struct BulkDeleteInput;

impl PartialSchema for BulkDeleteInput {
    fn schema() -> RefOr<Schema> {
        let ids = ArrayBuilder::new()
            .items(ProductId::schema())
            .min_items(Some(1))
            .max_items(Some(MAX_IDS))
            .description(Some(
                "1 to 500 product ids; a repeated id counts once, an id of no product is \
                 reported as `not_found`",
            ));
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("ids", ids)
                .required("ids")
                .build(),
        )
        .into()
    }
}

impl ToSchema for BulkDeleteInput {}

/// What became of each id.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkDeleted {
    /// Products deleted.
    pub deleted: u64,
    /// Ids that named no product.
    pub not_found: u64,
    /// One per distinct id, in the order given (a repeated id at its first place).
    pub results: Vec<BulkResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub id: u64,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Deleted,
    NotFound,
}

/// The distinct ids of `body`, in their first order; `400 {"ids": ["…"]}` otherwise.
pub fn ids(body: &Value) -> Result<Vec<u64>, ApiError> {
    let refuse = |message: String| {
        let mut errors = FieldErrors::new();
        errors.insert("ids", vec![message]);
        ApiError::Validation(errors)
    };
    let Value::Object(map) = body else {
        return crate::validation::product_input(body).map(|_| Vec::new());
    };
    let list = match map.get("ids") {
        None => return Err(refuse("This field is required.".into())),
        Some(Value::Null) => return Err(refuse("This field may not be null.".into())),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(refuse("Expected a list of product ids.".into())),
    };
    if list.is_empty() {
        return Err(refuse("This list may not be empty.".into()));
    }
    if list.len() > MAX_IDS {
        return Err(refuse(format!(
            "Ensure this field has no more than {MAX_IDS} elements."
        )));
    }
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    for (i, v) in list.iter().enumerate() {
        // A whole number, `1.0` included (JSON Schema's integers are).
        let whole = || {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 18_446_744_073_709_551_616.0)
                .map(|f| f as u64)
        };
        let id = v
            .as_u64()
            .filter(|id| *id >= 1)
            .or_else(whole)
            .ok_or_else(|| {
                refuse(format!(
                    "Element {i} is not a product id (a whole number from 1)."
                ))
            })?;
        if seen.insert(id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Deletes the products of `ids`; answers what became of each.
#[utoipa::path(post, path = "/api/products/bulk-delete", tag = "products",
    request_body = BulkDeleteInput,
    security(("api_token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Deleted the products that existed", body = BulkDeleted),
        (status = 400, description = "`ids` missing, not a list, empty, over 500, or with an element that is not a product id: `{\"ids\": [\"…\"]}`; or a body that is not valid JSON", body = crate::openapi::BadRequestBody),
        (status = 401, response = SignInRequired),
        (status = 403, response = Forbidden),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = NotJson),
        (status = 503, response = Busy)))]
pub async fn bulk_delete(
    Admin(actor): Admin,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    Extension(trace): Extension<RequestTrace>,
    JsonBody(body): JsonBody,
) -> Result<Json<BulkDeleted>, ApiError> {
    let ids = ids(&body)?;
    let who = Who::new(actor, ip, &trace);
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    let mut tx = state.core.pool.begin().await?;
    let found = lock_products(&mut tx, &sorted).await?;
    let found_ids: Vec<u64> = found.iter().map(|r| r.product.id).collect();
    if !found.is_empty() {
        delete_products(&mut tx, &found_ids).await?;
        let mut records = Vec::with_capacity(found.len());
        for row in &found {
            let event = Event::ProductDeleted(row.product.id);
            outbox::enqueue(&mut tx, &trace.message(&event)).await?;
            records.push(who.deleted(Action::ProductBulkDelete, row));
        }
        audit::record(&mut tx, &state.audit, &records).await?;
        commit_change(&state, tx).await?;
    }
    let found_ids: HashSet<u64> = found_ids.into_iter().collect();
    let results: Vec<BulkResult> = ids
        .iter()
        .map(|id| BulkResult {
            id: *id,
            outcome: if found_ids.contains(id) {
                Outcome::Deleted
            } else {
                Outcome::NotFound
            },
        })
        .collect();
    Ok(Json(BulkDeleted {
        deleted: found_ids.len() as u64,
        not_found: (ids.len() - found_ids.len()) as u64,
        results,
    }))
}

/// Reads and locks the products of `ids` (sorted, distinct: rows are locked in id order, as
/// every multi-row lock here is, so that two bulk writes cannot deadlock).
async fn lock_products(
    tx: &mut MySqlConnection,
    ids: &[u64],
) -> Result<Vec<ProductRow>, sqlx::Error> {
    let mut q =
        QueryBuilder::new("SELECT id, title, image, likes, version FROM products WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") ORDER BY id FOR UPDATE");
    statement::run(
        "lock_bulk_products",
        "SELECT products",
        q.build_query_as().fetch_all(&mut *tx),
    )
    .await
}

/// Deletes the products of `ids` (locked) in one statement, and their search terms.
async fn delete_products(tx: &mut MySqlConnection, ids: &[u64]) -> Result<(), sqlx::Error> {
    let mut q = QueryBuilder::new("DELETE FROM products WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    statement::run(
        "bulk_delete_products",
        "DELETE products",
        q.build().execute(&mut *tx),
    )
    .await?;
    for id in ids {
        shop_runtime::lists::search_index::unindex_product(tx, *id).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(body: Value) -> String {
        match ids(&body) {
            Err(ApiError::Validation(e)) => e["ids"][0].clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ids_are_distinct_in_their_first_order() {
        assert_eq!(
            ids(&json!({"ids": [3, 1, 3, 2, 1]})).unwrap(),
            vec![3, 1, 2]
        );
        let max: Vec<u64> = (1..=500).collect();
        assert_eq!(ids(&json!({"ids": max})).unwrap().len(), 500);
    }

    #[test]
    fn bad_lists_are_named() {
        assert_eq!(message(json!({})), "This field is required.");
        assert_eq!(message(json!({"ids": null})), "This field may not be null.");
        assert!(message(json!({"ids": "1"})).starts_with("Expected a list"));
        assert!(message(json!({"ids": []})).contains("empty"));
        let over: Vec<u64> = (1..=501).collect();
        assert!(message(json!({"ids": over})).contains("500"));
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("1"),
            json!(null),
            json!([1]),
        ] {
            assert!(message(json!({"ids": [1, bad]})).starts_with("Element 1"));
        }
    }
}

//! The records of catalogue changes: who made them (an admin, from an address, in a
//! trace), and what each changed, field by field.

use std::net::IpAddr;

use serde_json::{Map, Value, json};
use shop_runtime::http::RequestTrace;

use super::{Action, Record};
use crate::auth::Actor;
use crate::db::ProductRow;

/// Who made a change, as the audit log records them.
#[derive(Debug, Clone)]
pub struct Who {
    pub actor: Actor,
    pub ip: Option<IpAddr>,
    pub trace_id: String,
}

impl Who {
    pub fn new(actor: Actor, ip: Option<IpAddr>, trace: &RequestTrace) -> Self {
        Who {
            actor,
            ip,
            trace_id: trace.0.trace_id().to_owned(),
        }
    }

    fn record(&self, action: Action, row: &ProductRow, changes: Value) -> Record {
        Record {
            product_id: Some(row.product.id),
            product_version: Some(row.version),
            changes: Some(changes),
            ip: self.ip,
            trace_id: Some(self.trace_id.clone()),
            ..Record::new(action, Some(&self.actor))
        }
    }

    /// A new product: every field from `null`.
    pub fn created(&self, row: &ProductRow) -> Record {
        self.record(Action::ProductCreate, row, fields(row, true))
    }

    /// An update from `old` to `new`: the fields that changed (`{}` when none did; the
    /// update still happened, and moved the version).
    pub fn updated(&self, old: &ProductRow, new: &ProductRow) -> Record {
        let mut changes = Map::new();
        let (o, n) = (&old.product, &new.product);
        if o.title != n.title {
            changes.insert("title".into(), json!({"old": o.title, "new": n.title}));
        }
        if o.image != n.image {
            changes.insert("image".into(), json!({"old": o.image, "new": n.image}));
        }
        self.record(Action::ProductUpdate, new, Value::Object(changes))
    }

    /// A deleted product (`action`: a delete or one of a bulk delete): every field to
    /// `null`, at the version it had.
    pub fn deleted(&self, action: Action, row: &ProductRow) -> Record {
        self.record(action, row, fields(row, false))
    }
}

/// Every field of `row`, as `{"old": null, "new": v}` (`created`) or `{"old": v, "new": null}`.
fn fields(row: &ProductRow, created: bool) -> Value {
    let p = &row.product;
    let change = |v: Value| {
        if created {
            json!({"old": null, "new": v})
        } else {
            json!({"old": v, "new": null})
        }
    };
    json!({
        "title": change(json!(p.title)),
        "image": change(json!(p.image)),
        "likes": change(json!(p.likes)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::Product;

    fn row(title: &str, image: &str, version: u64) -> ProductRow {
        ProductRow {
            product: Product {
                id: 7,
                title: title.into(),
                image: image.into(),
                likes: 3,
            },
            version,
        }
    }

    fn who() -> Who {
        Who {
            actor: Actor::unchecked(),
            ip: None,
            trace_id: "0".repeat(32),
        }
    }

    #[test]
    fn an_update_names_only_what_changed() {
        let r = who().updated(&row("Mug", "/a", 1), &row("Big mug", "/a", 2));
        assert_eq!(
            r.changes,
            Some(json!({"title": {"old": "Mug", "new": "Big mug"}}))
        );
        assert_eq!(r.product_version, Some(2));
        let same = who().updated(&row("Mug", "/a", 2), &row("Mug", "/a", 3));
        assert_eq!(same.changes, Some(json!({})));
    }

    #[test]
    fn creates_and_deletes_name_every_field() {
        let c = who().created(&row("Mug", "/a", 1));
        assert_eq!(c.changes.unwrap()["likes"], json!({"old": null, "new": 3}));
        let d = who().deleted(Action::ProductDelete, &row("Mug", "/a", 4));
        assert_eq!(
            d.changes.unwrap()["title"],
            json!({"old": "Mug", "new": null})
        );
        assert_eq!(d.product_version, Some(4));
    }
}

//! Accounts, managed in the browser by an `admin` (docs/contract.md, "Accounts (role
//! `admin`)"): the list, new accounts (who set their own password through a one-time link),
//! changes of name, role and disabled state, and new links for a forgotten password
//! ([`handlers`]); the public routes a link's page calls ([`links`]).
//!
//! An account is never deleted (the audit log names it); it is disabled, which ends its
//! sessions and tokens at once. The last enabled `admin` can be neither disabled nor made a
//! viewer, so the shop always has someone who can manage it.

pub mod db;
pub mod handlers;
pub mod links;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Ref, Schema, Type};

use crate::auth::Role;
use crate::fields::rfc3339;

/// An account, as the accounts page shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountEntry {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// Disabled: cannot sign in; its sessions and tokens do not work.
    pub disabled: bool,
    /// Whether its owner has set a password (a new account has none until its link is used).
    pub password_set: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; `null` before the first sign-in.
    pub last_sign_in_at: Option<String>,
}

impl From<db::AccountRow> for AccountEntry {
    fn from(r: db::AccountRow) -> Self {
        AccountEntry {
            id: r.id,
            name: r.name,
            email: r.email,
            role: r.role,
            disabled: r.disabled,
            password_set: r.password_set,
            created_at: rfc3339(r.created_us),
            last_sign_in_at: r.last_sign_in_us.map(rfc3339),
        }
    }
}

/// A new account. The handler reads the JSON itself (Django REST Framework's messages);
/// this type is its description.
#[derive(Debug, ToSchema)]
pub struct NewAccount {
    /// 1 to 200 characters after trimming.
    #[schema(schema_with = crate::openapi::title)]
    pub name: String,
    /// An email address; stored trimmed and lower-cased; unique.
    #[schema(schema_with = crate::openapi::email)]
    pub email: String,
    pub role: Role,
}

/// A change of an account: at least one of `name` (1 to 200 characters after trimming),
/// `role`, and `disabled` (`true` disables the account, ending its sessions and tokens;
/// `false` enables it). The handler reads the JSON itself; this type is its description.
#[derive(Debug)]
pub struct AccountChange;

impl utoipa::PartialSchema for AccountChange {
    fn schema() -> RefOr<Schema> {
        let fields = ObjectBuilder::new()
            .property("name", crate::openapi::title())
            .property("role", Ref::from_schema_name("Role"))
            .property("disabled", ObjectBuilder::new().schema_type(Type::Boolean))
            .build();
        let given = |field: &str| ObjectBuilder::new().required(field).build();
        let one_at_least = AnyOfBuilder::new()
            .item(given("name"))
            .item(given("role"))
            .item(given("disabled"))
            .build();
        AllOfBuilder::new()
            .item(fields)
            .item(Schema::AnyOf(one_at_least))
            .description(Some(
                "At least one of `name`, `role` and `disabled`; `disabled: true` ends the \
                 account's sessions and tokens at once.",
            ))
            .into()
    }
}

impl ToSchema for AccountChange {}

/// A one-time link for an account's owner to set their password.
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    /// `/set-password#<token>`: the token in the fragment, which no server logs.
    pub link: String,
    /// When it stops working (72 hours from now), RFC 3339, UTC.
    pub expires_at: String,
}

/// A new account and its owner's link.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub admin: AccountEntry,
    pub link: String,
    pub expires_at: String,
}

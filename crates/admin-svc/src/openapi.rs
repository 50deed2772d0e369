//! The admin API's OpenAPI document (served at `/api/openapi.json`, Swagger UI at
//! `/api/docs`): its operations, the security schemes of the writes, the shapes of its
//! errors, and the patterns that describe [`crate::validation`]'s rules for a product's
//! `title` and `image`. Clients are generated from it, and schemathesis checks it against
//! the running service (`scripts/schemathesis.sh`): what it says must be what the service
//! does.

use std::collections::BTreeMap;

use serde::Serialize;
use shop_runtime::problem::ErrorBody;
use shop_runtime::service::openapi::{BodyTooLarge, Busy, CrossSiteRefused};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Object, ObjectBuilder, Type};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

use crate::{accounts, api, audit, auth, bulk, conflict, edit, tokens, validation};

#[derive(OpenApi)]
#[openapi(
    info(title = "admin-svc", description = "The shop's catalogue API."),
    modifiers(&Security),
    paths(
        api::list_products,
        api::create_product,
        api::get_product,
        api::update_product,
        api::delete_product,
        edit::patch_product,
        bulk::bulk_delete,
        audit::routes::product_history,
        audit::routes::audit_log,
        api::random_user,
        auth::handlers::login,
        auth::handlers::logout,
        auth::handlers::me,
        auth::own::change_password,
        auth::sessions::list,
        auth::sessions::revoke,
        auth::sessions::sign_out_others,
        accounts::handlers::list,
        accounts::handlers::create,
        accounts::handlers::update,
        accounts::handlers::link,
        accounts::links::inspect,
        accounts::links::redeem,
        tokens::list,
        tokens::create,
        tokens::revoke,
    ),
    components(
        schemas(
            auth::handlers::Me,
            auth::handlers::LoginInput,
            auth::Role,
            auth::own::PasswordChange,
            auth::sessions::SessionEntry,
            auth::sessions::SignedOut,
            accounts::AccountEntry,
            accounts::NewAccount,
            accounts::AccountChange,
            accounts::Link,
            accounts::Created,
            accounts::links::LinkToken,
            accounts::links::Redeem,
            accounts::links::LinkAccount,
            tokens::Owner,
            tokens::TokenEntry,
            tokens::NewToken,
            tokens::TokenInput,
            events::Product,
            validation::ProductInput,
            api::UserId,
            ErrorBody,
            ValidationErrors,
            BadRequestBody,
            edit::ProductPatch,
            conflict::ConflictBody,
            bulk::BulkDeleteInput,
            bulk::BulkDeleted,
            bulk::BulkResult,
            bulk::Outcome,
            audit::read::Entry,
            audit::read::EntryActor,
        ),
        responses(
            Invalid,
            SignInRequired,
            NotJson,
            CrossSiteRefused,
            Forbidden,
            Busy,
            BodyTooLarge,
            edit::Conflict
        )
    )
)]
pub struct ApiDoc;

/// The two ways to be an admin ([`crate::auth::Admin`]): an API token, or the session
/// cookie that signing in sets. Writes name both; reads need neither.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token for machine clients, sent as `Authorization: Bearer …`; \
                         `admin-api create-token --name NAME` prints a new one.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::COOKIE,
                "The session cookie `POST /api/auth/login` sets (HttpOnly, SameSite=Strict).",
            ))),
        );
    }
}

/// Field name to messages, as Django REST Framework words them:
/// `{"title": ["This field is required."]}`; `non_field_errors` when the body is not a JSON
/// object.
#[derive(Serialize, ToSchema)]
pub struct ValidationErrors(pub BTreeMap<String, Vec<String>>);

/// A 400's body: invalid fields, or `{"error": "Malformed JSON: …"}`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum BadRequestBody {
    Fields(ValidationErrors),
    Malformed(ErrorBody),
}

/// Invalid fields (one list of messages per field), or a body that is not valid JSON.
#[derive(ToResponse)]
pub struct Invalid(pub BadRequestBody);

/// Sign-in required: no session and no API token, or a token that is wrong or revoked.
#[derive(ToResponse)]
#[response(headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"admin\"`")))]
pub struct SignInRequired(pub ErrorBody);

/// Refused: a cross-site request (`Sec-Fetch-Site` or `Origin` of another site), or an
/// account whose role may not do this (a viewer's change to the catalogue).
#[derive(ToResponse)]
pub struct Forbidden(pub ErrorBody);

/// The body is not JSON: its `Content-Type` is missing or not `application/json`.
#[derive(ToResponse)]
pub struct NotJson(pub ErrorBody);

// The patterns of `title` and `image`, built from character classes (the class bodies
// below, without brackets) so that each rule of `crate::validation` reads once. They
// use only what ECMA-262, Python's `re` and Rust's `regex` read alike: classes with
// `\xHH`/`\uHHHH` escapes, bounded repetitions, `^…$`. No lookaround: fuzzers generate
// from these patterns.

/// What `str::trim` removes around a value (Unicode White_Space).
macro_rules! trimmed {
    () => {
        r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}
/// What no value may contain: control characters and bidirectional overrides
/// (`validation::forbidden`).
macro_rules! refused {
    () => {
        r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
    };
}
/// The invisible characters that do not make a title non-blank (besides white space).
macro_rules! zero_width {
    () => {
        r"\u200b-\u200d\u2060\ufeff"
    };
}
/// A character that is neither trimmed away nor refused.
macro_rules! solid {
    () => {
        concat!("[^", trimmed!(), refused!(), "]")
    };
}
/// A character of a host name that the URL parser takes as it is (ASCII, none of the
/// forbidden domain code points, no `%` escapes).
macro_rules! host_char {
    () => {
        r#"[0-9A-Za-z!"$&'()*+,;=_`{}~]"#
    };
}
/// The first character of a host's last label: not a digit, so that the host is never
/// read as an IPv4 address.
macro_rules! host_start {
    () => {
        r#"[A-Za-z!"$&'()*+,;=_`{}~]"#
    };
}

/// A one-line name: after trimming, 1 to N characters (N − 2 given as `$middle`), none
/// refused, starting with a visible one.
macro_rules! one_line {
    ($middle:literal) => {
        concat!(
            "^[",
            trimmed!(),
            "]*[^",
            trimmed!(),
            refused!(),
            zero_width!(),
            "](?:[^",
            refused!(),
            "]{0,",
            $middle,
            "}",
            solid!(),
            ")?[",
            trimmed!(),
            "]*$"
        )
    };
}

/// `title`: after trimming, 1 to 200 characters, none refused, starting with a visible one.
/// (A title that starts with a zero-width character and has a visible one later is accepted
/// too, but is not described: that would need a lookahead.) An account's name too.
pub const TITLE_PATTERN: &str = one_line!("198");

/// An API token's name: as a title, 1 to 100 characters.
pub const TOKEN_NAME_PATTERN: &str = one_line!("98");

/// An email address as `fields::is_email` reads it (after trimming): 1 to 64 characters, `@`,
/// then 2 to 4 dot-separated labels of 1 to 40 characters; no white space, control
/// character, bidirectional override or second `@`.
pub const EMAIL_PATTERN: &str = concat!(
    "^[",
    trimmed!(),
    "]*[^@",
    trimmed!(),
    refused!(),
    "]{1,64}@[^@.",
    trimmed!(),
    refused!(),
    r"]{1,40}(?:\.[^@.",
    trimmed!(),
    refused!(),
    "]{1,40}){1,3}[",
    trimmed!(),
    "]*$"
);

/// `image`: after trimming, a path that starts with one `/` (not `//` or `/\`), at most 200
/// characters; or an `http://` or `https://` URL of the usual shape (a host of up to three
/// labels of letters, digits, the symbols a host may hold and inner hyphens, whose last
/// label does not start with a digit; a port of up to four digits; then a path, query or
/// fragment), which keeps it under 200 characters. No white space or control character
/// anywhere inside.
pub const IMAGE_PATTERN: &str = concat!(
    "^[",
    trimmed!(),
    "]*(?:",
    // A path on this site.
    r"/(?:[^/\\",
    trimmed!(),
    refused!(),
    "]",
    solid!(),
    "{0,198})?",
    "|",
    // An http(s) URL.
    "[hH][tT][tT][pP][sS]?://(?:",
    host_char!(),
    "{1,15}(?:-",
    host_char!(),
    r"{1,15})?\.){0,2}",
    host_start!(),
    host_char!(),
    "{0,14}(?:-",
    host_char!(),
    "{1,15})?(?::[0-9]{1,4})?(?:[/?#]",
    solid!(),
    "{0,90})?",
    ")[",
    trimmed!(),
    "]*$"
);

/// The schema of `ProductInput.title`.
pub fn title() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(TITLE_PATTERN))
        .description(Some(
            "1 to 200 characters once leading and trailing white space is trimmed (the \
             service trims it); no control characters or bidirectional overrides; not only \
             invisible characters.",
        ))
        .build()
}

/// The schema of an API token's `name`.
pub fn token_name() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(TOKEN_NAME_PATTERN))
        .description(Some(
            "1 to 100 characters once leading and trailing white space is trimmed; no \
             control characters or bidirectional overrides; not only invisible characters.",
        ))
        .build()
}

/// The schema of an account's `email`.
pub fn email() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(EMAIL_PATTERN))
        .description(Some(
            "An email address: up to 64 characters, `@`, then 2 to 4 dot-separated labels of \
             up to 40 characters; no white space inside. Stored trimmed and lower-cased.",
        ))
        .build()
}

/// The schema of `ProductInput.image`.
pub fn image() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(IMAGE_PATTERN))
        .description(Some(
            "An `http://` or `https://` URL, or a path on this site starting with one `/`; at \
             most 200 characters once leading and trailing white space is trimmed; no white \
             space or control characters inside, no user name or password. The pattern \
             describes paths exactly and URLs of the usual shape; the service also accepts \
             any other http(s) URL that a WHATWG URL parser reads with a host.",
        ))
        .build()
}

#[cfg(test)]
mod tests;

/// `?q=…&sort=…&page=P&per_page=N`: a numbered page of the sorted, searched catalogue
/// (`shop_runtime::lists::page::Numbered`). With any of these, `limit` and `after` are
/// checked but not used.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// Products whose title has these words (case and accents ignored; the last word may be
    /// the start of one). With no letters or digits, no filter.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// The order: `id`, `title` or `likes`, descending with a leading `-`; ties by id.
    #[param(inline)]
    pub sort: Option<SortOrder>,
    /// The page, from 1 (default 1); a page past the end is `[]`.
    #[param(minimum = 1, maximum = 1_000_000_000)]
    pub page: Option<u64>,
    /// Products a page, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// The orders of [`CatalogueQuery::sort`].
#[derive(ToSchema)]
pub enum SortOrder {
    #[schema(rename = "id")]
    Id,
    #[schema(rename = "-id")]
    IdDescending,
    #[schema(rename = "title")]
    Title,
    #[schema(rename = "-title")]
    TitleDescending,
    #[schema(rename = "likes")]
    Likes,
    #[schema(rename = "-likes")]
    LikesDescending,
}

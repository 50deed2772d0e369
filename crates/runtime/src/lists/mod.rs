//! The product lists the APIs serve from memory, and how they stay fresh.
//!
//! - [`cache`]: one list of one process ([`Listing`]): a snapshot rebuilt when the data
//!   changed, shared by concurrent requests;
//! - [`snapshot`]: the snapshot's bytes, encodings, `ETag`s and answers; [`page`]: what a
//!   request asks for (whole, keyset page, numbered page) and its `Link`s; [`search`]: search
//!   by title through an index table, which [`search_index`] writes; [`found`]: the orders the database worked out
//!   (matches, sorted ids), held per version of the data;
//! - [`feed`]: change notices between a service's processes ([`ChangeFeed`]), and the
//!   version check that is their safety net; [`versions`]: the database's side of it
//!   (`cache_versions`, bumped by writers in their transaction).

pub mod cache;
pub mod feed;
pub mod found;
pub mod page;
pub mod search;
pub mod search_index;
pub mod snapshot;
pub mod versions;

pub use cache::{Listing, LoadQuery};
pub use feed::ChangeFeed;
pub use versions::{Change, VersionsQuery};

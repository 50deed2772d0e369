//! The system tests: the four real processes (admin-api, admin-consumer, main-api,
//! main-consumer), started from the target directory by `testkit::ShopStack`, against the
//! real MariaDB and RabbitMQ. They are in `tests/` (end to end, the fault suite, clients
//! that hang up) and `examples/` (the propagation benchmark and the release-build hang-up
//! check); this library holds nothing.
//!
//! cargo builds a package's own binaries for its tests, never another package's, so build
//! them first: `cargo build --workspace --bins && cargo test -p system-tests`
//! (`scripts/test.sh` does).

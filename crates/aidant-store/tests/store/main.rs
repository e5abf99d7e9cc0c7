//! The store's integration tests, each written once and run on SQLite and
//! PostgreSQL (`backend_tests!`), with the shared fixtures of
//! `aidant_store::testing`.

mod entities;
mod federation;
mod flood;
mod insight;
mod keys;
mod link_records;
mod networks;
mod operations;
mod packages;
mod people;
mod report_writer;
mod reports_and_audit;
mod retention;
mod schema;
mod staff_workspace;
mod upgrades;
mod victims;

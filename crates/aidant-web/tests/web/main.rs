//! The web crate's integration tests: the real router driven in memory on
//! SQLite and PostgreSQL, with shared helpers.

mod api;
mod authorisation;
mod field_app;
mod helpers;
mod pages;
mod snapshots;
mod staff;

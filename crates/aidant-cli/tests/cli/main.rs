//! The `aidant` binary as an operator meets it: real processes, real
//! sockets, real signals, on SQLite and PostgreSQL. One test binary for the
//! crate; what the tests share (the binary, data directories, a running
//! server, stored reports, assertions) is in `helpers`.

mod backup;
mod basics;
mod demo_story;
mod entities;
mod graph;
mod graph_from_database;
mod helpers;
mod keys_audit;
mod link;
mod scale_out;
mod serve;
mod users;

//! Aidant's domain: the types and rules every other crate shares.
//!
//! This crate is pure. It performs no IO, spawns no tasks and knows nothing of
//! HTTP, SQL or JSON wire formats, so that it can be tested exhaustively,
//! benchmarked and fuzzed alone. Everything that crosses a trust boundary is
//! parsed into a type here ("parse, don't validate"); after parsing, no other
//! layer re-checks it.

pub mod audit;
pub mod catalogue;
pub mod csv_quotes;
pub mod geography;
pub mod grading;
pub mod ids;
pub mod insight;
pub mod intelligence;
pub mod operations;
pub mod organisation;
pub mod phone;
pub mod policy;
pub mod postcode;
pub mod publication;
pub mod reference;
pub mod report;
pub mod retention;
pub mod safeguarding;
pub mod search;
pub mod text;
pub mod triage;
pub mod vrm;

pub use catalogue::Catalogue;
pub use reference::ReportRef;
pub use report::{NewReport, ReportAnswers};
pub use triage::{RiskLevel, Triage};

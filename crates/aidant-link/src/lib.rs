//! Entity extraction, normalisation and probabilistic record linkage for Aidant.
//!
//! Pure: no file or network IO and no async. Callers hand in readers and strings; this crate hands
//! back typed values, diagnostics, match weights with explanations, and clusters.

pub mod batch;
pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod decisions;
pub mod dob;
pub mod email;
pub mod explain;
pub mod features;
pub mod incremental;
pub mod mentions;
pub mod model;
pub mod name;
pub mod origin;
pub mod record;
pub mod reference_model;
pub mod spec;
pub mod text;

// The identifiers' parsers live once, in the domain crate, for the report
// form, the queue, the linker and the graph alike.
pub use aidant_core::{phone, postcode, vrm};

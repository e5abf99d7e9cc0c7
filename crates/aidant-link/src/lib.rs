//! Entity extraction, normalisation and probabilistic record linkage for Aidant.
//!
//! Pure: no file or network IO and no async. Callers hand in readers and strings; this crate hands
//! back typed values, diagnostics, match weights with explanations, and clusters.

pub mod batch;
pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod dob;
pub mod email;
pub mod explain;
pub mod features;
pub mod incremental;
pub mod model;
pub mod name;
pub mod phone;
pub mod postcode;
pub mod record;
pub mod text;
pub mod vrm;

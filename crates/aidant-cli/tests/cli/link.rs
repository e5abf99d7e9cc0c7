//! The `aidant link` command run as a process: help text, clusters written, input errors named by
//! row and column, delimiters, Parquet in and out, the column report, warnings and --strict, pairs
//! below the threshold, and outputs that are the same bytes in every run.

use crate::helpers::{aidant, assert_failure_naming, assert_success};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

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

/// Runs `aidant link` on `inputs` with `extra` arguments, writing clusters to `output`.
fn link(inputs: &[&Path], output: &Path, extra: &[&str]) -> Output {
    let mut command = aidant();
    command.arg("link");
    for input in inputs {
        command.arg("--input").arg(input);
    }
    command.arg("--output").arg(output).args(extra).output().expect("runs")
}

/// The fixture model of aidant-link's tests, so that small inputs link without training.
fn fixture_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../aidant-link/tests/fixtures/model-synthetic-10k.json")
}

const PEOPLE: &str =
    "record_id,full_name,dob,phone\n1,Ion Popescu,12/03/1985,07911 123456\n2,POPESCU ION,1985-03-12,+44 7911 123456\n3,Ana Marin,1990-01-01,\n";

#[test]
fn a_semicolon_separated_file_links_and_names_its_source_file() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("people;export.csv");
    std::fs::write(&input, PEOPLE.replace(',', ";")).expect("write input");
    let clusters = directory.path().join("clusters.csv");
    let model = fixture_model();
    let output = link(&[&input], &clusters, &["--model-in", model.to_str().unwrap()]);
    let summary = assert_success(&output);
    assert!(summary.contains("clusters: 2"), "{summary}");
    let written = std::fs::read_to_string(&clusters).expect("clusters written");
    assert_eq!(written.lines().next(), Some("record_id,source_file,cluster_id"));
    assert!(written.lines().skip(1).all(|line| line.contains(",\"people;export.csv\",c") || line.contains(",people;export.csv,c")), "{written}");

    // Told a wrong delimiter, the header is one column with no record id.
    let output = link(&[&input], &clusters, &["--delimiter", ","]);
    assert_failure_naming(&output, "no column for record_id");
    let tabs = directory.path().join("tabs.tsv");
    std::fs::write(&tabs, PEOPLE.replace(',', "\t")).expect("write input");
    assert!(assert_success(&link(&[&tabs], &clusters, &["--delimiter", "\\t", "--model-in", model.to_str().unwrap()])).contains("clusters: 2"));
}

#[test]
fn every_column_is_reported_as_used_or_not_used_by_name() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("people.csv");
    std::fs::write(
        &input,
        "id,first_name,middle_initial,surname,dob,street_name,zipcode\n1,Ion,A,Popescu,12/03/1985,Station Road,B33 8TH\n2,Ana,,Marin,1990-01-01,High Street,M1 1AE\n",
    )
    .expect("write input");
    let output = link(&[&input], &directory.path().join("clusters.csv"), &["--model-in", fixture_model().to_str().unwrap()]);
    let summary = assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    for text in [&summary, &stderr] {
        assert!(text.contains("postcode      <- zipcode"), "{text}");
        assert!(text.contains("address       <- street_name"), "{text}");
        assert!(text.contains("given_name    <- first_name"), "{text}");
        assert!(text.contains("not used: middle_initial"), "{text}");
    }
}

#[test]
fn warnings_head_the_summary_and_strict_stops_on_them() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("people.csv");
    let mut csv = String::from("record_id,full_name,dob,nationality\n");
    for index in 0..40 {
        // A placeholder date of birth in every row: a constant column.
        csv.push_str(&format!("r{index},Person{} Family{},01/01/1900,RO\n", index % 7, index % 11));
    }
    std::fs::write(&input, csv).expect("write input");
    let clusters = directory.path().join("clusters.csv");
    let summary = assert_success(&link(&[&input], &clusters, &[]));
    let after_heading = summary.split("== Summary ==").nth(1).expect("a summary");
    assert!(after_heading.trim_start().starts_with("WARNINGS (2):"), "{summary}");
    assert!(after_heading.contains("column dob (dob) is constant") && after_heading.contains("it was left out"), "{summary}");
    assert!(after_heading.contains("only 40 records: too few to train a model on") && after_heading.contains("--model-in"), "{summary}");
    assert!(after_heading.contains("left out (constant): dob"), "{summary}");

    let stopped = link(&[&input], &clusters, &["--strict"]);
    let stderr = assert_failure_naming(&stopped, "--strict: stopping before linking because of 2 warning(s)");
    assert!(stderr.contains("column dob (dob) is constant"), "{stderr}");
    let model = fixture_model();
    let still = link(&[&input], &clusters, &["--strict", "--model-in", model.to_str().unwrap()]);
    assert_failure_naming(&still, "because of 1 warning(s)");
    let fine = directory.path().join("fine.csv");
    std::fs::write(&fine, PEOPLE).expect("write input");
    assert_success(&link(&[&fine], &clusters, &["--strict", "--model-in", model.to_str().unwrap()]));
}

/// Writes people to a Parquet file as pandas and pyarrow would: an integer id, a name with a
/// null, a date of birth as a timestamp in nanoseconds, and a date column the linker does not use.
fn write_people_parquet(path: &Path) {
    write_people_parquet_compressed(path, parquet::basic::Compression::SNAPPY);
}

/// `write_people_parquet` with the given compression.
fn write_people_parquet_compressed(path: &Path, compression: parquet::basic::Compression) {
    use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    let schema = parquet::schema::parser::parse_message_type(
        "message people { required int64 record_id; optional binary full_name (UTF8); optional int64 dob (TIMESTAMP(NANOS,false)); \
         optional binary phone (UTF8); optional int32 reported (DATE); }",
    )
    .expect("schema");
    let properties = WriterProperties::builder().set_compression(compression).build();
    let mut writer = SerializedFileWriter::new(std::fs::File::create(path).expect("create"), Arc::new(schema), Arc::new(properties)).expect("writer");
    let day = 86_400_000_000_000i64;
    let mut row_group = writer.next_row_group().expect("row group");
    let mut column = row_group.next_column().expect("column").expect("record_id");
    column.typed::<Int64Type>().write_batch(&[1, 2, 3], None, None).expect("ids");
    column.close().expect("close");
    let mut column = row_group.next_column().expect("column").expect("full_name");
    let names = [ByteArray::from("Ion Popescu"), ByteArray::from("POPESCU ION"), ByteArray::from("Ana Marin")];
    column.typed::<ByteArrayType>().write_batch(&names, Some(&[1, 1, 1]), None).expect("names");
    column.close().expect("close");
    let mut column = row_group.next_column().expect("column").expect("dob");
    column.typed::<Int64Type>().write_batch(&[5_549 * day, 5_549 * day, 7_305 * day], Some(&[1, 1, 1]), None).expect("dates of birth");
    column.close().expect("close");
    let mut column = row_group.next_column().expect("column").expect("phone");
    column
        .typed::<ByteArrayType>()
        .write_batch(&[ByteArray::from("07911 123456"), ByteArray::from("+44 7911 123456")], Some(&[1, 1, 0]), None)
        .expect("phones");
    column.close().expect("close");
    let mut column = row_group.next_column().expect("column").expect("reported");
    column.typed::<Int32Type>().write_batch(&[20_000, 20_001, 20_002], Some(&[1, 1, 1]), None).expect("dates");
    column.close().expect("close");
    row_group.close().expect("close");
    writer.close().expect("close");
}

#[test]
fn parquet_files_read_whatever_their_compression() {
    use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
    let directory = tempfile::tempdir().unwrap();
    let model = fixture_model();
    for (name, compression) in [
        ("brotli", Compression::BROTLI(BrotliLevel::default())),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ("lz4", Compression::LZ4_RAW),
        ("none", Compression::UNCOMPRESSED),
    ] {
        let input = directory.path().join(format!("{name}.parquet"));
        write_people_parquet_compressed(&input, compression);
        let summary = assert_success(&link(&[&input], &directory.path().join("clusters.csv"), &["--model-in", model.to_str().unwrap()]));
        assert!(summary.contains("clusters: 2"), "{name}: {summary}");
    }
}

#[test]
fn parquet_in_and_out_links_like_csv() {
    let directory = tempfile::tempdir().unwrap();
    let model = fixture_model();
    let model = model.to_str().unwrap();
    let parquet_input = directory.path().join("people.parquet");
    write_people_parquet(&parquet_input);
    // Found by its magic bytes under any name.
    let renamed = directory.path().join("people.bin");
    std::fs::copy(&parquet_input, &renamed).expect("copy");
    let csv_input = directory.path().join("people.csv");
    std::fs::write(&csv_input, PEOPLE).expect("write input");

    let from_csv = directory.path().join("from_csv.csv");
    assert_success(&link(&[&csv_input], &from_csv, &["--model-in", model]));
    let from_parquet = directory.path().join("from_parquet.csv");
    let summary = assert_success(&link(&[&renamed], &from_parquet, &["--model-in", model]));
    assert!(summary.contains("dob           <- dob  (3 of 3 rows filled)") && summary.contains("not used: reported"), "{summary}");
    assert!(!summary.contains("  dob: "), "no date of birth dropped: {summary}");
    let clusters = |path: &Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .expect("read")
            .lines()
            .map(|line| format!("{} {}", line.split(',').next().unwrap_or(""), line.rsplit(',').next().unwrap_or("")))
            .collect()
    };
    assert_eq!(clusters(&from_parquet), clusters(&from_csv));
    assert!(std::fs::read_to_string(&from_parquet).expect("read").contains("1,people.bin,c0"));

    // Parquet out, by extension or by --output-format.
    let parquet_output = directory.path().join("clusters.parquet");
    let pairs = directory.path().join("pairs.parquet");
    assert_success(&link(&[&parquet_input], &parquet_output, &["--model-in", model, "--pairs-out", pairs.to_str().unwrap()]));
    let forced = directory.path().join("clusters.out");
    assert_success(&link(&[&parquet_input], &forced, &["--model-in", model, "--output-format", "parquet"]));
    assert_eq!(std::fs::read(&forced).expect("read"), std::fs::read(&parquet_output).expect("read"));
    let rows = |path: &Path| -> Vec<String> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let reader = SerializedFileReader::new(std::fs::File::open(path).expect("open")).expect("a parquet file");
        reader.get_row_iter(None).expect("rows").map(|row| row.expect("row").to_string()).collect()
    };
    assert_eq!(
        rows(&parquet_output),
        vec![
            r#"{record_id: "1", source_file: "people.parquet", cluster_id: "c0"}"#,
            r#"{record_id: "2", source_file: "people.parquet", cluster_id: "c0"}"#,
            r#"{record_id: "3", source_file: "people.parquet", cluster_id: "c1"}"#,
        ]
    );
    let pair_rows = rows(&pairs);
    assert_eq!(pair_rows.len(), 1, "{pair_rows:?}");
    assert!(pair_rows[0].starts_with(r#"{record_id_l: "1", record_id_r: "2", match_probability: 0.99"#), "{pair_rows:?}");
}

#[test]
fn min_probability_writes_the_pairs_below_the_threshold_too() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("people.csv");
    std::fs::write(&input, format!("{PEOPLE}4,Ana Marin,1971-06-05,\n5,Ion Popescu,,\n")).expect("write input");
    let model = fixture_model();
    let model = model.to_str().unwrap();
    let clusters = directory.path().join("clusters.csv");
    let pairs = directory.path().join("pairs.csv");
    let pairs_arg = pairs.to_str().unwrap();
    let probabilities = || -> Vec<f64> {
        std::fs::read_to_string(&pairs)
            .expect("pairs")
            .lines()
            .skip(1)
            .map(|line| line.split(',').nth(2).expect("probability").parse().expect("a number"))
            .collect()
    };
    assert_success(&link(&[&input], &clusters, &["--model-in", model, "--pairs-out", pairs_arg]));
    let declared = probabilities();
    assert!(!declared.is_empty() && declared.iter().all(|probability| *probability >= 0.5), "{declared:?}");
    let summary = assert_success(&link(&[&input], &clusters, &["--model-in", model, "--pairs-out", pairs_arg, "--min-probability", "0"]));
    let every = probabilities();
    assert!(every.len() > declared.len() && every.iter().any(|probability| *probability < 0.01), "{every:?}");
    assert!(summary.contains(&format!("pairs written to {pairs_arg}: {}", every.len())), "{summary}");
}

#[test]
fn outputs_are_the_same_bytes_whatever_the_threads_and_evaluation_flags() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("people.csv");
    let mut csv = String::from("record_id,given_name,family_name,dob,postcode\n");
    let (given, family) = (["Ion", "Ioan", "Maria", "Ana", "John", "Jon"], ["Popescu", "Popesku", "Smith", "Smyth", "Marin"]);
    for index in 0..1_200 {
        csv.push_str(&format!(
            "r{index},{},{},19{:02}-0{}-1{},B{} 1AA\n",
            given[index % 6],
            family[index / 6 % 5],
            50 + index % 37,
            1 + index % 9,
            index % 10,
            index % 13
        ));
    }
    std::fs::write(&input, &csv).expect("write input");
    let truth = directory.path().join("truth.csv");
    std::fs::write(&truth, (0..1_200).map(|index| format!("r{index},p{}\n", index / 3)).fold(String::from("record_id,cluster_id\n"), |all, line| all + &line))
        .expect("truth");
    let model = fixture_model();
    let run = |name: &str, threads: &str, extra: &[&str]| -> (Vec<u8>, Vec<u8>) {
        let clusters = directory.path().join(format!("{name}.parquet"));
        let pairs = directory.path().join(format!("{name}-pairs.csv"));
        let mut arguments = vec!["--model-in", model.to_str().unwrap(), "--pairs-out", pairs.to_str().unwrap(), "--min-probability", "0"];
        arguments.extend_from_slice(extra);
        let mut command = aidant();
        command.args(["link", "--input"]).arg(&input).arg("--output").arg(&clusters).args(&arguments).env("RAYON_NUM_THREADS", threads);
        assert_success(&command.output().expect("runs"));
        (std::fs::read(&clusters).expect("clusters"), std::fs::read(&pairs).expect("pairs"))
    };
    let reference = run("one", "1", &[]);
    assert!(reference.1.len() > 1_000, "pairs were written");
    assert!(run("two", "2", &[]) == reference, "two threads");
    assert!(run("truth", "2", &["--blocking-truth", truth.to_str().unwrap()]) == reference, "--blocking-truth changes nothing written");
}

#[test]
fn the_default_model_file_is_printed_and_reads_back_as_the_person_model() {
    let printed = assert_success(&aidant().args(["link", "--print-model-spec"]).output().expect("runs"));
    let shipped = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../aidant-link/data/person-model.toml")).expect("shipped");
    assert_eq!(printed, shipped);
    let spec = aidant_link::spec::ModelSpec::from_toml(&printed).expect("reads back");
    assert_eq!(spec, aidant_link::spec::ModelSpec::default());
}

const REGISTER_MODEL: &str = "version = 1\nperson_fields = [\"given_name\", \"family_name\", \"dob\"]\n\n[[field]]\nname = \"birth_place\"\ncolumns = [\"Place of Birth\"]\ncomparison = \"string\"\n\n[blocking]\nrules = [[\"family_name\", \"birth_place\"]]\n";

#[test]
fn a_model_file_adds_columns_that_are_reported_weighed_and_saved_with_the_model() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("register.csv");
    let mut rows = String::from("record_id,given_name,family_name,dob,place_of_birth,phone,town\n");
    for index in 0..60 {
        rows.push_str(&format!("r{index},Ann{},Wright{},17{:02},Potton{},07911 1234{:02},Sandy\n", index % 7, index % 5, index % 40, index % 9, index));
    }
    std::fs::write(&input, rows).unwrap();
    let spec = directory.path().join("register.toml");
    std::fs::write(&spec, REGISTER_MODEL).unwrap();
    let model = directory.path().join("model.json");
    let clusters = directory.path().join("clusters.csv");
    let summary = assert_success(&link(&[&input], &clusters, &["--model-spec", spec.to_str().unwrap(), "--model-out", model.to_str().unwrap()]));
    assert!(summary.contains("birth_place   <- place_of_birth  (60 of 60 rows filled; added by the model file)"), "{summary}");
    assert!(summary.contains("not used: phone, town"), "a person field the model file leaves out is not read: {summary}");
    assert!(summary.contains("declared: family_name + birth_place"), "{summary}");
    assert!(summary.lines().any(|line| line.trim_start().starts_with("birth_place") && line.contains("Jaro-Winkler >= 0.92:")), "{summary}");
    // The saved model brings its model file back; the same model file again is welcome, another is not.
    let again = assert_success(&link(&[&input], &clusters, &["--model-in", model.to_str().unwrap()]));
    assert!(again.contains("birth_place   <- place_of_birth"), "{again}");
    assert_success(&link(&[&input], &clusters, &["--model-in", model.to_str().unwrap(), "--model-spec", spec.to_str().unwrap()]));
    let other = directory.path().join("other.toml");
    std::fs::write(&other, "version = 1\n").unwrap();
    assert_failure_naming(&link(&[&input], &clusters, &["--model-in", model.to_str().unwrap(), "--model-spec", other.to_str().unwrap()]), "another model file");
}

#[test]
fn a_bad_model_file_stops_the_run_saying_what_is_wrong() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("people.csv");
    std::fs::write(&input, PEOPLE).unwrap();
    let cases = [
        ("version = 1\n[[field]]\nname = \"town\"\ncomparison = \"string\"\nthresholds = [0.8, 0.9]\n", "field \"town\": thresholds are similarities"),
        ("version = 1\n[blocking]\nrules = [[\"parish\"]]\n", "blocking rule 1: \"parish\" is neither"),
        ("version = 1\n[[field]\n", "not valid TOML"),
    ];
    for (text, expected) in cases {
        let spec = directory.path().join("model.toml");
        std::fs::write(&spec, text).unwrap();
        assert_failure_naming(&link(&[&input], &directory.path().join("out.csv"), &["--model-spec", spec.to_str().unwrap()]), expected);
    }
}

#[test]
fn a_quote_never_closed_stops_the_run_naming_its_line() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("people.csv");
    std::fs::write(&input, "record_id,full_name,dob\n1,Ion Popescu,1985-03-12\n2,\"Ana Marin,1990-01-01\n3,Ana Marin,1990-01-01\n").unwrap();
    let output = aidant().args(["link", "--input"]).arg(&input).arg("--output").arg(directory.path().join("clusters.csv")).output().expect("runs");
    let text = assert_failure_naming(&output, "line 3: a quote opened here is never closed");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("read 1 records"), "nothing is linked: {text}");
    assert!(!directory.path().join("clusters.csv").exists(), "no output is written");
    // A quote inside an unquoted field is ordinary text, as the CSV standard reads it.
    std::fs::write(&input, "record_id,full_name,dob\n1,Ion O\"Neill,1985-03-12\n2,Ana Marin,1990-01-01\n").unwrap();
    let summary = assert_success(&aidant().args(["link", "--input"]).arg(&input).arg("--output").arg(directory.path().join("clusters.csv")).output().unwrap());
    assert!(summary.contains("read 2 records"), "{summary}");
}

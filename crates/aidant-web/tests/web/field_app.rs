//! The field app checks a registration on the phone, before a record is
//! saved, with a port of aidant-core's `vrm` to JavaScript
//! (web/src/field/vrm.js): here the port runs under Node.js on thousands of
//! inputs and must give the Rust parser's verdict on every one, and the
//! same mark and spelling when it accepts.

use aidant_core::vrm::Vrm;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

/// What people type, and what they should not: letters and digits, the
/// separators the parser drops, white space it trims and characters it
/// refuses.
const PIECES: &[&str] = &[
    "A", "B", "Z", "a", "k", "0", "1", "5", "9", " ", "  ", "-", ".", "\u{a0}", "\u{85}", "\u{feff}", "\t", "\n", "É", "ß", "٣", "!", "/", "😟", "LJ15", "XKR",
    "AB12", "CDE", "123", "0000",
];
const COUNTRIES: &[&str] = &["", " ", "RO", "ro", " Ro ", "GB", "uk", "GBR", "R0", "ROUX", "É", "D", "\u{85}RO", "BG\u{a0}"];

fn verdict(raw: &str, country: &str) -> serde_json::Value {
    match Vrm::parse_with_country(raw, Some(country)) {
        Ok(vrm) => serde_json::json!({ "ok": true, "mark": vrm.compact(), "display": vrm.to_string() }),
        Err(_) => serde_json::json!({ "ok": false }),
    }
}

#[test]
fn the_phone_reads_registrations_as_the_server_does() {
    let mut cases: Vec<(String, String)> = [
        ("LJ15 XKR", ""),
        ("lj15xkr", ""),
        ("A123 BCD", ""),
        ("ABC 123D", ""),
        ("1 ABC", ""),
        ("ABC 1234", ""),
        ("0 ABC", ""),
        ("LJ15 XK!", ""),
        ("", ""),
        ("  ", "RO"),
        ("B 123 ABC", "RO"),
        ("B-123-ABC", "ro"),
        ("LJ15XKR", "GB"),
        ("B123ABC", "GB"),
        ("B123ABC", "R0"),
    ]
    .iter()
    .map(|(raw, country)| ((*raw).to_owned(), (*country).to_owned()))
    .collect();
    let strategy = (proptest::collection::vec(proptest::sample::select(PIECES), 0..8), proptest::sample::select(COUNTRIES));
    let mut runner = TestRunner::new(Config { cases: 4_000, ..Config::default() });
    for _ in 0..4_000 {
        let (pieces, country) = strategy.new_tree(&mut runner).unwrap().current();
        cases.push((pieces.concat(), country.to_owned()));
    }
    let input = serde_json::to_string(&cases).unwrap();
    let module = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/src/field/vrm.js").canonicalize().unwrap();
    let script = format!(
        "import {{ parseRegistration }} from {module:?};
         let input = '';
         for await (const chunk of process.stdin) input += chunk;
         const verdicts = JSON.parse(input).map(([raw, country]) => {{
           const parsed = parseRegistration(raw, country);
           return parsed.ok ? {{ ok: true, mark: parsed.mark, display: parsed.display }} : {{ ok: false }};
         }});
         process.stdout.write(JSON.stringify(verdicts));",
        module = module.display().to_string()
    );
    let mut node = std::process::Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("Node.js runs (it builds the web assets too)");
    std::io::Write::write_all(&mut node.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "node failed: {}", String::from_utf8_lossy(&output.stderr));
    let phone: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(phone.len(), cases.len());
    let mut accepted = 0;
    for ((raw, country), phone) in cases.iter().zip(&phone) {
        let server = verdict(raw, country);
        assert_eq!(phone, &server, "{raw:?} from {country:?}");
        accepted += usize::from(server["ok"] == true);
    }
    assert!(accepted > 300 && accepted < cases.len() - 300, "both verdicts are tried ({accepted} of {} accepted)", cases.len());
}

//! The safeguarding clock's bank holidays against an independent list: the
//! `holidays` package from PyPI (England), every year from the first our
//! list holds to twenty years past its last, so both the shipped list and
//! the standing rules used after it are checked.

use std::io::Write;
use std::process::Command;

use aidant_core::safeguarding::calendar::bank_holidays_between;
use time::macros::date;

/// Prints the weekday bank holidays of England (the days off; `holidays`
/// also lists a holiday on the weekend day it fell before its substitute)
/// for the years asked, one ISO date a line.
const INDEPENDENT_LIST: &str = r#"
import sys, holidays
first, last = int(sys.argv[1]), int(sys.argv[2])
days = holidays.country_holidays("GB", subdiv="ENG", years=range(first, last + 1))
for day in sorted(days):
    if day.weekday() < 5:
        print(day.isoformat())
"#;

#[test]
fn bank_holidays_agree_with_the_holidays_package() {
    let ours: Vec<String> = bank_holidays_between(date!(2018 - 01 - 01), date!(2048 - 12 - 31)).iter().map(ToString::to_string).collect();
    let python = std::env::var("AIDANT_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(&python)
        .arg("-c")
        .arg(INDEPENDENT_LIST)
        .args(["2018", "2048"])
        .output()
        .unwrap_or_else(|error| panic!("could not run '{python}' (set AIDANT_PYTHON): {error}"));
    assert!(
        output.status.success(),
        "the independent list failed (it needs the holidays package: set AIDANT_PYTHON=.venv/bin/python):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect();
    assert!(theirs.len() > 200, "the independent list has {} days", theirs.len());
    let only_ours: Vec<&String> = ours.iter().filter(|day| !theirs.contains(day)).collect();
    let only_theirs: Vec<&String> = theirs.iter().filter(|day| !ours.contains(day)).collect();
    if !only_ours.is_empty() || !only_theirs.is_empty() {
        let mut report = std::io::stderr();
        writeln!(report, "only ours: {only_ours:?}\nonly theirs: {only_theirs:?}").unwrap();
        panic!("the bank holidays differ from the holidays package's");
    }
}

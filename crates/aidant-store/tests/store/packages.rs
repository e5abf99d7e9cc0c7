//! Export packages on both backends: only what the recipient may have goes
//! in, a victim's identity only to those who safeguard, every file's hash in
//! the manifest, the FollowTheMoney file as followthemoney reads it, and
//! every package in the disclosure log.

use std::io::Write;
use std::process::Command;

use aidant_core::grading::{GradingAnswers, parse_grading};
use aidant_core::intelligence::{PersonNamed, PersonRole};
use aidant_core::organisation::{OrganisationKind, Role};
use aidant_core::text::{BoundedText, Lines};
use aidant_store::Store;
use aidant_store::cases::CaseError;
use aidant_store::cases::packages::{PackageRequest, disclosure_log, make_package};
use aidant_store::intelligence::IntelligenceInsert;
use aidant_store::organisations::Organisation;
use aidant_store::testing::TestDatabase;

use crate::entities::{World, caller, count, drain, world};

fn person(name: &str, role: PersonRole) -> PersonNamed {
    PersonNamed { name: BoundedText::parse(name, 200, Lines::Single).unwrap(), date_of_birth: None, nationality: None, role }
}

/// An intelligence record `owner` holds, graded P or C for `recipients`; returns its reference.
async fn intelligence(
    store: &Store,
    owner: &Organisation,
    author: &aidant_store::organisations::User,
    text: &str,
    people: &[PersonNamed],
    recipients: &[&Organisation],
) -> (aidant_core::ids::IntelligenceId, String) {
    let grading = parse_grading(&GradingAnswers {
        scheme: "3x5x2",
        source: "2",
        intelligence: "B",
        handling: if recipients.is_empty() { "P" } else { "C" },
        conditions_text: "For the named agencies only",
        recipient_organisations: recipients.iter().map(|organisation| organisation.id.clone()).collect(),
        ..GradingAnswers::default()
    })
    .unwrap();
    store
        .create_intelligence(&IntelligenceInsert {
            report_id: None,
            owner_organisation_id: &owner.id,
            created_by: &author.id,
            title: "Nail bar",
            grading: &grading,
            sanitised_text: text,
            source: None,
            review_on: None,
            people,
            share_with: &[],
        })
        .await
        .unwrap()
}

/// Checks a package with Python: every file's SHA-256 against the manifest,
/// the FollowTheMoney lines with followthemoney, the CSV and HTML readable.
const PACKAGE_CHECKER: &str = r#"
import csv, hashlib, io, json, sys, zipfile
from html.parser import HTMLParser
from followthemoney import model
archive = zipfile.ZipFile(sys.argv[1])
manifest = json.loads(archive.read("manifest.json"))
problems = []
for entry in manifest["files"]:
    data = archive.read(entry["name"])
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        problems.append("hash of " + entry["name"])
names = sorted(archive.namelist())
lines = [json.loads(line) for line in archive.read("entities.ftm.json").decode().splitlines() if line.strip()]
for line in lines:
    schema = model.get(line["schema"])
    if schema is None:
        problems.append("unknown schema " + line["schema"])
        continue
    for name in line["properties"]:
        if schema.get(name) is None:
            problems.append(schema.name + " has no property " + name)
    model.get_proxy(line)
records = list(csv.DictReader(io.StringIO(archive.read("records.csv").decode())))
class Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text = []
    def handle_data(self, data):
        self.text.append(data)
page = Text()
page.feed(archive.read("summary.html").decode())
everything = " ".join(archive.read(name).decode() for name in names)
print(json.dumps({"problems": problems, "names": names, "records": [row["reference"] for row in records], "texts": [row["text"] for row in records],
    "ftm": len(lines), "summary": " ".join(page.text), "everything": everything, "manifest": manifest}))
"#;

fn check(bytes: &[u8]) -> serde_json::Value {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("package.zip");
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    let python = std::env::var("AIDANT_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(&python)
        .arg("-c")
        .arg(PACKAGE_CHECKER)
        .arg(&path)
        .output()
        .unwrap_or_else(|error| panic!("could not run '{python}' (set AIDANT_PYTHON): {error}"));
    assert!(
        output.status.success(),
        "the package checker failed (it needs followthemoney: set AIDANT_PYTHON=.venv/bin/python):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn a_package_holds_only_what_the_recipient_may_have(database: TestDatabase) {
    let store = &database.store;
    let World { force, glaa, analyst, glaa_user, .. } = world(store).await;
    let nca = store.create_organisation("National Crime Agency", OrganisationKind::NationalAgency).await.unwrap();
    let people = [person("DUMITRU Florin", PersonRole::SuspectedOffender), person("POPESCU Ioana", PersonRole::PotentialVictim)];
    let (_, open) = intelligence(
        store,
        &force,
        &analyst,
        "DUMITRU Florin, on 07700 900123, keeps Ioana Popescu's passport; she is on 07700 900999. The salon is at LU1 2NX.",
        &people,
        &[],
    )
    .await;
    let (_, nca_only) = intelligence(store, &force, &analyst, "07700 900123 is topped up with 07700 900456 at LU1 2NX.", &people[..1], &[&nca]).await;
    let (glaas, glaa_reference) = intelligence(store, &glaa, &glaa_user, "The GLAA saw 07700 900123 on a booking card.", &[], &[]).await;
    store.share_intelligence(&glaas, &force.id, &glaa_user.id).await.unwrap();
    drain(store).await;
    let analyst_caller = caller(&analyst);
    let references = format!("{open}\n{nca_only}, {glaa_reference}");

    // To the GLAA: the open record only, without the woman.
    let request = PackageRequest { recipient: glaa.id.as_str(), references: &references, charts: Vec::new() };
    let package = make_package(store, &analyst_caller, &request).await.unwrap();
    let checked = check(&package.written.bytes);
    assert_eq!(checked["problems"], serde_json::json!([]), "{checked}");
    assert_eq!(checked["names"], serde_json::json!(["entities.csv", "entities.ftm.json", "manifest.json", "records.csv", "relations.csv", "summary.html"]));
    assert_eq!(checked["records"], serde_json::json!([open]));
    let everything = checked["everything"].as_str().unwrap();
    for secret in ["Popescu", "POPESCU", "900999", "07700 900999", "topped up", "booking card"] {
        assert!(!everything.contains(secret), "{secret} is in the GLAA's package");
    }
    assert_eq!(
        checked["texts"][0], "DUMITRU Florin, on 07700 900123, keeps [withheld]'s passport; she is on [withheld]. The salon is at LU1 2NX.",
        "his phone and the salon are seen apart from her, her phone is not"
    );
    let withheld: Vec<String> = checked["manifest"]["withheld"].as_array().unwrap().iter().map(|line| format!("{}: {}", line["what"], line["why"])).collect();
    assert_eq!(withheld.len(), 3, "{withheld:?}");
    assert!(withheld.iter().any(|line| line.contains(&nca_only) && line.contains("do not name the recipient")), "{withheld:?}");
    assert!(withheld.iter().any(|line| line.contains(&glaa_reference) && line.contains("only the organisation that holds")), "{withheld:?}");
    assert!(withheld.iter().any(|line| line.contains("potential victims")), "{withheld:?}");
    assert!(checked["summary"].as_str().unwrap().contains("DUMITRU Florin"));
    assert_eq!(package.written.sha256.len(), 64);

    // To the NCA, which safeguards: both of the force's records, the woman included.
    let request = PackageRequest { recipient: nca.id.as_str(), references: &references, charts: Vec::new() };
    let to_nca = check(&make_package(store, &analyst_caller, &request).await.unwrap().written.bytes);
    assert_eq!(to_nca["records"], serde_json::json!([open, nca_only]));
    assert!(to_nca["everything"].as_str().unwrap().contains("POPESCU Ioana"));
    assert!(to_nca["everything"].as_str().unwrap().contains("+447700900999"));

    // Bad input: field errors, and nothing recorded.
    let before = count(store, "SELECT COUNT(*) FROM disclosures").await;
    let refused = |request: PackageRequest<'static>| {
        let caller = analyst_caller.clone();
        async move {
            match make_package(store, &caller, &request).await {
                Err(CaseError::Invalid(errors)) => errors.into_iter().map(|error| format!("{}: {}", error.field, error.message)).collect::<Vec<_>>(),
                other => panic!("refused with field errors, not {:?}", other.map(|package| package.file_name)),
            }
        }
    };
    let own = force.id.to_string();
    let errors = refused(PackageRequest { recipient: Box::leak(own.into_boxed_str()), references: "", charts: Vec::new() }).await;
    assert!(errors[0].starts_with("recipient: Choose another organisation"), "{errors:?}");
    let glaa_id: &'static str = Box::leak(glaa.id.to_string().into_boxed_str());
    let errors = refused(PackageRequest { recipient: glaa_id, references: "", charts: Vec::new() }).await;
    assert_eq!(errors, ["references: Enter at least one report or intelligence reference, or choose a chart"]);
    let errors = refused(PackageRequest { recipient: glaa_id, references: "ZZZ-NOPE INT-ABCDEF", charts: Vec::new() }).await;
    assert_eq!(errors.len(), 2, "each unknown reference is named: {errors:?}");
    let nothing: &'static str = Box::leak(format!("{nca_only} {glaa_reference}").into_boxed_str());
    let errors = refused(PackageRequest { recipient: glaa_id, references: nothing, charts: Vec::new() }).await;
    assert!(errors[0].starts_with("references: Nothing chosen may go to GLAA"), "{errors:?}");
    assert_eq!(count(store, "SELECT COUNT(*) FROM disclosures").await, before);

    // The log: supervisors read it; analysts may not.
    assert!(matches!(disclosure_log(store, &analyst_caller).await, Err(CaseError::Denied { .. })));
    let supervisor = store.create_user(&force.id, "supervisor@force.example", "Supervisor", &[Role::Supervisor]).await.unwrap();
    let log = disclosure_log(store, &caller(&supervisor)).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].recipient, "GLAA");
    assert_eq!(log[1].records, std::slice::from_ref(&open));
    assert_eq!(log[1].package_sha256, package.written.sha256);
    assert_eq!(count(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'package.create'").await, 2);
    // The GLAA's own log does not hold the force's packages.
    let glaa_supervisor = store.create_user(&glaa.id, "supervisor@glaa.example", "GLAA Supervisor", &[Role::Supervisor]).await.unwrap();
    assert!(disclosure_log(store, &caller(&glaa_supervisor)).await.unwrap().is_empty());
}

aidant_store::backend_tests!(a_package_holds_only_what_the_recipient_may_have);

//! Export packages for partners and court: what goes into the zip
//! (FollowTheMoney JSON lines, CSV, a readable HTML summary and a manifest
//! with the SHA-256 of every file), written from contents the use case
//! (`cases::packages`) has already cut to what the recipient may have, and
//! the disclosure log's rows (migration 0010).

use std::io::Write;

use aidant_core::ids::{OrganisationId, UserId};
use aidant_graph::NetworkGraph;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::StoreError;

/// A record as the package carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageRecord {
    /// `report` or `intelligence`.
    pub kind: &'static str,
    pub reference: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub title: String,
    /// The 3x5x2 code (`2 B C`), or empty for a public report.
    pub grading: String,
    /// The handling conditions the recipient must keep, if any.
    pub conditions: Option<String>,
    /// The text, with a withheld victim's identity taken out.
    pub text: String,
}

/// Something the package leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withheld {
    pub what: String,
    pub why: String,
}

/// What a package holds, already cut to what the recipient may have.
#[derive(Debug, Clone)]
pub struct PackageContents {
    pub id: String,
    pub created_at: String,
    pub sender: String,
    pub recipient: String,
    pub created_by: String,
    pub records: Vec<PackageRecord>,
    /// Entities and one relation per record naming two of them.
    pub network: NetworkGraph,
    pub withheld: Vec<Withheld>,
}

/// One file of a package, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageFile {
    pub name: String,
    pub bytes: usize,
    pub sha256: String,
}

/// The manifest: who, to whom, when, what, what was left out and why, and
/// every file's hash.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub package: String,
    pub created_at: String,
    pub sender: String,
    pub recipient: String,
    pub created_by: String,
    pub records: Vec<String>,
    pub entities: usize,
    pub relations: usize,
    pub withheld: Vec<Withheld>,
    pub handling: String,
    pub files: Vec<PackageFile>,
}

/// A package written: the zip's bytes, its SHA-256 and its manifest.
#[derive(Debug, Clone)]
pub struct WrittenPackage {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub manifest: Manifest,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// What the recipient is told about handling, first in the summary and the manifest.
const HANDLING: &str = "Disclosed by the sender under the handling conditions given for each record. Do not pass any part of this \
package on without the sender's agreement. Check each file against the SHA-256 in manifest.json.";

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, StoreError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| StoreError::Corrupt(format!("a package's CSV cannot be written: {error}"));
    writer.write_record(header).map_err(failed)?;
    for row in rows {
        writer.write_record(&row).map_err(failed)?;
    }
    writer.into_inner().map_err(|error| StoreError::Corrupt(format!("a package's CSV cannot be written: {error}")))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The readable summary: the handling note, every record with its text, the
/// entities and relations, and what was left out.
fn summary_html(contents: &PackageContents) -> String {
    let mut html = String::new();
    let entities = contents.network.entities();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Disclosure package ");
    html.push_str(&escape(&contents.id));
    html.push_str("</title></head>\n<body>\n");
    html.push_str(&format!(
        "<h1>Disclosure package</h1>\n<p><strong>{}</strong></p>\n<dl><dt>From</dt><dd>{}</dd><dt>To</dt><dd>{}</dd><dt>Made by</dt><dd>{}</dd><dt>Made at</dt><dd>{}</dd><dt>Package</dt><dd>{}</dd></dl>\n",
        escape(HANDLING),
        escape(&contents.sender),
        escape(&contents.recipient),
        escape(&contents.created_by),
        escape(&contents.created_at),
        escape(&contents.id)
    ));
    html.push_str(&format!("<h2>Records ({})</h2>\n", contents.records.len()));
    for record in &contents.records {
        html.push_str(&format!(
            "<section><h3>{} {}: {}</h3>\n<p>{}{}</p>\n",
            if record.kind == "report" { "Report" } else { "Intelligence" },
            escape(&record.reference),
            escape(&record.title),
            escape(&record.date),
            if record.grading.is_empty() { String::new() } else { format!(", graded {}", escape(&record.grading)) }
        ));
        if let Some(conditions) = &record.conditions {
            html.push_str(&format!("<p><strong>Handling conditions:</strong> {}</p>\n", escape(conditions)));
        }
        html.push_str(&format!("<p>{}</p></section>\n", escape(&record.text).replace('\n', "<br>")));
    }
    html.push_str(&format!(
        "<h2>Entities ({})</h2>\n<table><caption>People, phones, vehicles, addresses and businesses the records name</caption><thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Entity</th></tr></thead><tbody>\n",
        entities.len()
    ));
    for entity in entities {
        html.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>\n", escape(entity.kind.as_str()), escape(&entity.label)));
    }
    html.push_str("</tbody></table>\n");
    html.push_str(&format!(
        "<h2>Relations ({})</h2>\n<table><caption>Two entities named in one record</caption><thead><tr><th scope=\"col\">From</th><th scope=\"col\">Relation</th><th scope=\"col\">To</th><th scope=\"col\">Record</th></tr></thead><tbody>\n",
        contents.network.relations().len()
    ));
    for relation in contents.network.relations() {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&entities[relation.source].label),
            escape(&relation.kind.as_str().replace('_', " ")),
            escape(&entities[relation.target].label),
            escape(&relation.source_reference)
        ));
    }
    html.push_str("</tbody></table>\n");
    if !contents.withheld.is_empty() {
        html.push_str("<h2>Left out</h2>\n<ul>\n");
        for withheld in &contents.withheld {
            html.push_str(&format!("<li>{}: {}</li>\n", escape(&withheld.what), escape(&withheld.why)));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// Writes the package: each file, then the manifest naming their hashes,
/// into one zip whose own SHA-256 the disclosure log keeps.
pub fn write_package(contents: &PackageContents) -> Result<WrittenPackage, StoreError> {
    let entities = contents.network.entities();
    let mut ftm = Vec::new();
    aidant_graph::export::ftm::write_ftm_json_lines(&contents.network, &aidant_graph::export::ExportOptions::default(), &mut ftm)
        .map_err(|error| StoreError::Corrupt(format!("a package's FollowTheMoney file cannot be written: {error}")))?;
    let records_csv = csv_bytes(
        &["kind", "reference", "date", "title", "grading", "handling_conditions", "text"],
        contents.records.iter().map(|record| {
            vec![
                record.kind.to_owned(),
                record.reference.clone(),
                record.date.clone(),
                record.title.clone(),
                record.grading.clone(),
                record.conditions.clone().unwrap_or_default(),
                record.text.clone(),
            ]
        }),
    )?;
    let entities_csv =
        csv_bytes(&["id", "kind", "label"], entities.iter().map(|entity| vec![entity.id.clone(), entity.kind.as_str().to_owned(), entity.label.clone()]))?;
    let relations_csv = csv_bytes(
        &["source", "relation", "target", "record", "date", "confidence"],
        contents.network.relations().iter().map(|relation| {
            vec![
                entities[relation.source].id.clone(),
                relation.kind.as_str().to_owned(),
                entities[relation.target].id.clone(),
                relation.source_reference.clone(),
                aidant_graph::model::format_optional_date(relation.first_seen),
                relation.confidence.to_string(),
            ]
        }),
    )?;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("summary.html", summary_html(contents).into_bytes()),
        ("records.csv", records_csv),
        ("entities.csv", entities_csv),
        ("relations.csv", relations_csv),
        ("entities.ftm.json", ftm),
    ];
    let manifest = Manifest {
        package: contents.id.clone(),
        created_at: contents.created_at.clone(),
        sender: contents.sender.clone(),
        recipient: contents.recipient.clone(),
        created_by: contents.created_by.clone(),
        records: contents.records.iter().map(|record| record.reference.clone()).collect(),
        entities: entities.len(),
        relations: contents.network.relations().len(),
        withheld: contents.withheld.clone(),
        handling: HANDLING.to_owned(),
        files: files.iter().map(|(name, bytes)| PackageFile { name: (*name).to_owned(), bytes: bytes.len(), sha256: sha256(bytes) }).collect(),
    };
    let manifest_json =
        serde_json::to_vec_pretty(&manifest).map_err(|error| StoreError::Corrupt(format!("a package's manifest cannot be written: {error}")))?;

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // A fixed time on every entry, so the same contents make the same zip.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let failed = |error: zip::result::ZipError| StoreError::Corrupt(format!("a package cannot be zipped: {error}"));
    for (name, bytes) in files.iter().map(|(name, bytes)| (*name, bytes.as_slice())).chain([("manifest.json", manifest_json.as_slice())]) {
        zip.start_file(name, options).map_err(failed)?;
        zip.write_all(bytes).map_err(|error| StoreError::Corrupt(format!("a package cannot be zipped: {error}")))?;
    }
    let bytes = zip.finish().map_err(failed)?.into_inner();
    Ok(WrittenPackage { sha256: sha256(&bytes), bytes, manifest })
}

/// One line of the disclosure log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub id: String,
    pub recipient_organisation_id: OrganisationId,
    pub created_by: UserId,
    pub created_at_ms: i64,
    /// What it held, as the manifest's JSON without the files' bytes.
    pub contents: String,
    pub package_sha256: String,
    /// `package` or `publication` (migration 0023).
    pub kind: String,
}

pub(crate) async fn insert_disclosure(
    transaction: &mut Transaction<'_, Any>,
    organisation_id: &OrganisationId,
    disclosure: &Disclosure,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO disclosures (id, organisation_id, recipient_organisation_id, created_by, created_at, contents, package_sha256, kind)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&disclosure.id)
    .bind(organisation_id.as_str())
    .bind(disclosure.recipient_organisation_id.as_str())
    .bind(disclosure.created_by.as_str())
    .bind(disclosure.created_at_ms)
    .bind(&disclosure.contents)
    .bind(&disclosure.package_sha256)
    .bind(&disclosure.kind)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// The organisation's disclosures, newest first.
pub(crate) async fn load_disclosures(connection: &mut AnyConnection, organisation_id: &OrganisationId, limit: i64) -> Result<Vec<Disclosure>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, recipient_organisation_id, created_by, created_at, contents, package_sha256, kind FROM disclosures
         WHERE organisation_id = $1 ORDER BY created_at DESC, id LIMIT $2",
    )
    .bind(organisation_id.as_str())
    .bind(limit)
    .fetch_all(&mut *connection)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Disclosure {
                id: row.try_get("id")?,
                recipient_organisation_id: crate::named(row, "recipient_organisation_id")?,
                created_by: crate::named(row, "created_by")?,
                created_at_ms: row.try_get("created_at")?,
                contents: row.try_get("contents")?,
                package_sha256: row.try_get("package_sha256")?,
                kind: row.try_get("kind")?,
            })
        })
        .collect()
}

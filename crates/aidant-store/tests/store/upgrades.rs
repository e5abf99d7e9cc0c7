//! Rolling upgrades (`docs/deployment.md`, "Upgrades"): during one, the
//! previous release's processes run, and restart, against the schema the
//! next release's `aidant migrate` has made. That holds while every
//! migration only adds (tables, nullable or defaulted columns, indexes) and
//! every statement names its columns. These tests hold the rules: the
//! migrations so far, checked one by one; this build against a next
//! release's migration that adds a column to every table; and the code's
//! statements.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aidant_core::report::ReportAnswers;
use aidant_store::testing::{TestDatabase, apply_next_release_migration, migrate_up_to, migration_versions, next_release_migration_sql, submit_report};
use aidant_store::{Backend, MasterKey, Store, StoreOptions};
use sqlx::Row;

fn nail_bar() -> ReportAnswers {
    ReportAnswers { sector: Some("nail_bar".into()), town: Some("Bedford".into()), signs: vec!["workers_living_on_site".into()], ..ReportAnswers::default() }
}

/// The store a restarted process of this build opens on the same database.
async fn restarted(database: &TestDatabase) -> Store {
    let key = MasterKey::from_hex(&database.master_key.to_hex()).unwrap();
    Store::connect(&database.url, &StoreOptions::default(), Some(key)).await.unwrap()
}

async fn this_release_runs_and_restarts_on_the_next_releases_schema(database: TestDatabase) {
    let store = &database.store;
    let before = submit_report(store, &nail_bar(), None).await;
    let sql = next_release_migration_sql(store).await;
    let version = apply_next_release_migration(store, &sql).await;
    assert_eq!(store.newer_migrations().await.unwrap(), vec![version], "the running process sees the newer migration");

    // A process of this release restarting mid-upgrade: it opens, applies
    // nothing, and knows it is the older one.
    let process = restarted(&database).await;
    assert_eq!(process.migrate().await.expect("this release opens a database the next one migrated"), 0);
    assert_eq!(process.newer_migrations().await.unwrap(), vec![version]);

    // Its work goes on, on the widened tables: intake, reads, the audit chain.
    let after = submit_report(&process, &nail_bar(), None).await;
    for receipt in [&before, &after] {
        let found = process.find_report_by_reference(&receipt.reference).await.unwrap().expect("the report reads back");
        assert_eq!(found.id, receipt.report_id);
    }
    assert_eq!(process.count_reports().await.unwrap(), 2);
    let untouched: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE next_release_note IS NULL").fetch_one(process.pool()).await.unwrap();
    assert_eq!(untouched, 2, "this release leaves the next release's column to it");
    let verification = process.verify_audit_chain().await.unwrap();
    assert!(verification.is_ok(), "the audit chain verifies across the upgrade: {verification:?}");
    process.close().await;
}

async fn a_migration_changed_after_it_was_applied_is_still_refused(database: TestDatabase) {
    let store = &database.store;
    let sql = next_release_migration_sql(store).await;
    apply_next_release_migration(store, &sql).await;
    let first = migration_versions(store.backend())[0];
    sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = $2").bind(vec![0u8; 48]).bind(first).execute(store.pool()).await.unwrap();
    let refused = restarted(&database).await.migrate().await.expect_err("a known migration that differs from what was applied is refused");
    assert!(refused.to_string().contains("modified"), "the refusal says why: {refused}");
}

aidant_store::backend_tests!(this_release_runs_and_restarts_on_the_next_releases_schema, a_migration_changed_after_it_was_applied_is_still_refused);

/// A column as the upgrade rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    kind: String,
    not_null: bool,
    has_default: bool,
}

type Columns = BTreeMap<(String, String), Column>;

async fn columns(store: &Store) -> Columns {
    let rows = match store.backend() {
        Backend::Sqlite => sqlx::query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS kind, p.\"notnull\" AS not_null, \
             CASE WHEN p.dflt_value IS NULL THEN 0 ELSE 1 END AS has_default \
             FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
        ),
        Backend::Postgres => sqlx::query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS kind, \
             CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS not_null, \
             CASE WHEN column_default IS NOT NULL OR is_generated = 'ALWAYS' OR is_identity = 'YES' THEN 1 ELSE 0 END AS has_default \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        ),
    }
    .fetch_all(store.pool())
    .await
    .expect("the catalogue of columns reads");
    rows.into_iter()
        .map(|row| {
            let not_null: i64 = row.try_get("not_null").unwrap();
            let has_default: i64 = row.try_get("has_default").unwrap();
            (
                (row.try_get("table_name").unwrap(), row.try_get("column_name").unwrap()),
                Column { kind: row.try_get::<String, _>("kind").unwrap().to_lowercase(), not_null: not_null != 0, has_default: has_default != 0 },
            )
        })
        .collect()
}

/// The one migration that took something away, before Aidant ran in
/// several processes: 0007 replaced `link_states` (the resolver's state as
/// one sealed value) with rows (`link_resolver` and the tables beside it).
/// Anything else taken away fails the test.
const TAKEN_AWAY_BEFORE_THE_RULE: &[(i64, &str)] = &[(7, "link_states")];

/// What migration `version` took away from or tightened in `before`, by
/// the rules: every table and column kept, with its type; no column made
/// NOT NULL; a column added to an existing table nullable or defaulted.
fn contractions(before: &Columns, after: &Columns) -> Vec<String> {
    let mut found = Vec::new();
    for ((table, column), old) in before {
        match after.get(&(table.clone(), column.clone())) {
            None => found.push(format!("{table}.{column} removed")),
            Some(new) if new.kind != old.kind => found.push(format!("{table}.{column} changed type from {} to {}", old.kind, new.kind)),
            Some(new) if new.not_null && !old.not_null => found.push(format!("{table}.{column} made NOT NULL")),
            Some(_) => {}
        }
    }
    let old_tables: std::collections::BTreeSet<&String> = before.keys().map(|(table, _)| table).collect();
    for ((table, column), new) in after {
        if old_tables.contains(table) && !before.contains_key(&(table.clone(), column.clone())) && new.not_null && !new.has_default {
            found.push(format!("{table}.{column} added NOT NULL without a default"));
        }
    }
    found
}

async fn each_migration_only_adds_to_the_schema_before_it(backend: Backend) {
    let database = TestDatabase::unmigrated(backend).await;
    let store = &database.store;
    let mut before = Columns::new();
    let mut broken = Vec::new();
    for version in migration_versions(backend) {
        migrate_up_to(store, version).await;
        let after = columns(store).await;
        let excused = |found: &String| TAKEN_AWAY_BEFORE_THE_RULE.iter().any(|(at, table)| *at == version && found.starts_with(&format!("{table}.")));
        let found: Vec<String> = contractions(&before, &after).into_iter().filter(|found| !excused(found)).collect();
        if !found.is_empty() {
            broken.push(format!("migration {version}: {}", found.join("; ")));
        }
        before = after;
    }
    assert!(before.len() > 200, "the whole schema was read ({} columns)", before.len());
    assert!(
        broken.is_empty(),
        "a migration takes away what the previous release's processes use; split it into an adding one now and a removing one a release later:\n{}",
        broken.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sqlite_migration_only_adds_to_the_schema_before_it() {
    each_migration_only_adds_to_the_schema_before_it(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_postgres_migration_only_adds_to_the_schema_before_it() {
    each_migration_only_adds_to_the_schema_before_it(Backend::Postgres).await;
}

#[test]
fn the_rules_find_what_a_migration_takes_away() {
    let column = |kind: &str, not_null: bool, has_default: bool| Column { kind: kind.to_owned(), not_null, has_default };
    let key = |table: &str, name: &str| (table.to_owned(), name.to_owned());
    let before: Columns = [(key("reports", "id"), column("text", true, false)), (key("reports", "note"), column("text", false, false))].into();
    let mut after = before.clone();
    assert!(contractions(&before, &after).is_empty());
    after.insert(key("reports", "added"), column("text", false, false));
    after.insert(key("reports", "counted"), column("integer", true, true));
    after.insert(key("new_table", "id"), column("text", true, false));
    assert!(contractions(&before, &after).is_empty(), "adding is allowed");
    let mut dropped = after.clone();
    dropped.remove(&key("reports", "note"));
    assert_eq!(contractions(&before, &dropped), ["reports.note removed"]);
    let mut tightened = after.clone();
    tightened.insert(key("reports", "note"), column("text", true, false));
    assert_eq!(contractions(&before, &tightened), ["reports.note made NOT NULL"]);
    let mut retyped = after.clone();
    retyped.insert(key("reports", "note"), column("bigint", false, false));
    assert_eq!(contractions(&before, &retyped), ["reports.note changed type from text to bigint"]);
    after.insert(key("reports", "required"), column("text", true, false));
    assert_eq!(contractions(&before, &after), ["reports.required added NOT NULL without a default"]);
}

/// SQL that breaks when the next release adds a column: `SELECT *` from a
/// table, `RETURNING *`, `INSERT INTO t VALUES` or `INSERT INTO t SELECT`
/// without a column list. Returns each, with its file and a few words.
fn column_order_statements(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut files = vec![root.to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Unit tests at the foot of a file make tables of their own.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let words: Vec<String> =
            code.split(|c: char| c.is_whitespace() || c == '"' || c == '\\').filter(|word| !word.is_empty()).map(str::to_uppercase).collect();
        for (index, window) in words.windows(4).enumerate() {
            let breaks = match (window[0].as_str(), window[1].as_str(), window[2].as_str(), window[3].as_str()) {
                ("SELECT", "*", "FROM", table) => !table.starts_with('('),
                ("RETURNING", "*", _, _) => true,
                // `INSERT INTO {table_and_columns} VALUES`: the columns are in the placeholder.
                ("INSERT", "INTO", table, next) => !table.contains("COLUMNS") && (next == "VALUES" || next == "SELECT"),
                _ => false,
            };
            if breaks {
                found.push(format!("{}: {}", path.display(), words[index..(index + 4).min(words.len())].join(" ")));
            }
        }
    }
    found
}

#[test]
fn statements_name_their_columns() {
    let crates = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for name in ["aidant-store", "aidant-web", "aidant-cli"] {
        found.extend(column_order_statements(&crates.join(name).join("src")));
    }
    assert!(found.is_empty(), "statements that depend on a table's columns and their order:\n{}", found.join("\n"));
}

#[test]
fn the_statement_check_finds_column_order() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("fine.rs"), "query(\"SELECT * FROM (SELECT id FROM reports) t\"); query(\"INSERT INTO reports (id) VALUES ($1)\");")
        .unwrap();
    assert!(column_order_statements(directory.path()).is_empty());
    std::fs::write(directory.path().join("star.rs"), "query(\"SELECT * FROM reports WHERE id = $1\");").unwrap();
    std::fs::write(directory.path().join("values.rs"), "query(\"INSERT INTO audit_log \\\n VALUES ($1)\");").unwrap();
    assert_eq!(column_order_statements(directory.path()).len(), 2);
}

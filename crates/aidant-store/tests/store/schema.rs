//! The two backends' migrations describe one schema: the same tables with
//! the same columns, apart from each backend's own full-text search.

use std::collections::{BTreeMap, BTreeSet};

use aidant_store::Backend;
use aidant_store::testing::TestDatabase;
use sqlx::Row;

type Schema = BTreeMap<String, BTreeSet<String>>;

/// Tables and columns that exist on one backend by design: SQLite's FTS5
/// indexes `search_text` and `intelligence_search_text` (virtual tables and
/// their shadow tables) and PostgreSQL's generated `tsvector` column
/// `search_documents.document`.
fn backend_specific(backend: Backend, table: &str, column: &str) -> bool {
    match backend {
        Backend::Sqlite => ["search_text", "intelligence_search_text"].iter().any(|index| table == *index || table.starts_with(&format!("{index}_"))),
        Backend::Postgres => table == "search_documents" && column == "document",
    }
}

async fn schema(database: &TestDatabase) -> Schema {
    let pool = database.store.pool();
    let rows = match database.store.backend() {
        Backend::Sqlite => {
            sqlx::query(
                "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
            )
            .fetch_all(pool)
            .await
        }
        Backend::Postgres => {
            sqlx::query(
                "SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(pool)
            .await
        }
    }
    .expect("the catalogue of tables can be read");
    let mut schema = Schema::new();
    for row in rows {
        let table: String = row.try_get("table_name").unwrap();
        let column: String = row.try_get("column_name").unwrap();
        if !backend_specific(database.store.backend(), &table, &column) {
            schema.entry(table).or_default().insert(column);
        }
    }
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_have_the_same_tables_and_columns() {
    let sqlite = schema(&TestDatabase::new(Backend::Sqlite).await).await;
    let postgres = schema(&TestDatabase::new(Backend::Postgres).await).await;
    assert!(sqlite.len() > 15, "the migrated SQLite schema was read ({} tables)", sqlite.len());
    let tables: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    let mut differences = Vec::new();
    for table in tables {
        match (sqlite.get(table), postgres.get(table)) {
            (Some(left), Some(right)) if left == right => {}
            (Some(left), Some(right)) => differences.push(format!(
                "{table}: only on SQLite {:?}, only on PostgreSQL {:?}",
                left.difference(right).collect::<Vec<_>>(),
                right.difference(left).collect::<Vec<_>>()
            )),
            (Some(_), None) => differences.push(format!("{table}: only on SQLite")),
            (None, Some(_)) => differences.push(format!("{table}: only on PostgreSQL")),
            (None, None) => unreachable!("the table came from one of the two"),
        }
    }
    assert!(differences.is_empty(), "the SQLite and PostgreSQL migrations disagree:\n{}", differences.join("\n"));
}

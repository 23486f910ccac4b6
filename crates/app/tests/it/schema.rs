//! The two migration sets, one per backend, are written by hand side by side: they must build
//! the same schema. Types are each backend's own and are not compared; tables, their columns
//! and the indexes the migrations create (not those a key makes by itself) are.

use std::collections::{BTreeMap, BTreeSet};

use oversight_store::Db;

/// Each table with its columns, and each index with its table.
#[derive(Debug, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, BTreeSet<String>>,
    indexes: BTreeSet<(String, String)>,
}

async fn schema(db: &Db) -> Schema {
    let (columns, indexes): (Vec<(String, String)>, Vec<(String, String)>) = match db {
        Db::Sqlite { read, .. } => (
            sqlx::query_as(
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%'",
            )
            .fetch_all(read)
            .await
            .unwrap(),
            sqlx::query_as(
                "SELECT name, tbl_name FROM sqlite_master
                 WHERE type = 'index' AND sql IS NOT NULL AND tbl_name NOT LIKE '_sqlx_%'",
            )
            .fetch_all(read)
            .await
            .unwrap(),
        ),
        Db::Postgres(pool) => (
            sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%'",
            )
            .fetch_all(pool)
            .await
            .unwrap(),
            sqlx::query_as(
                "SELECT i.indexname::text, i.tablename::text FROM pg_indexes i
                 WHERE i.schemaname = current_schema() AND i.tablename NOT LIKE '\\_sqlx\\_%'
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = (quote_ident(i.indexname))::regclass)",
            )
            .fetch_all(pool)
            .await
            .unwrap(),
        ),
    };
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, column) in columns {
        tables.entry(table).or_default().insert(column);
    }
    Schema { tables, indexes: indexes.into_iter().collect() }
}

#[tokio::test]
async fn both_migration_sets_give_the_same_tables_columns_and_indexes() {
    let Some(pg) = oversight_testkit::postgres().await else {
        eprintln!("skipped: set {} to compare with PostgreSQL", oversight_testkit::PG_ENV);
        return;
    };
    let lite = oversight_testkit::sqlite().await;
    let (lite, pg) = (schema(&lite.app.db).await, schema(&pg.app.db).await);
    assert!(lite.tables.len() > 20 && !lite.indexes.is_empty(), "the schema was read: {lite:?}");
    for (table, columns) in &lite.tables {
        assert_eq!(Some(columns), pg.tables.get(table), "table {table}: SQLite, then PostgreSQL");
    }
    assert_eq!(lite.tables.keys().collect::<Vec<_>>(), pg.tables.keys().collect::<Vec<_>>(), "the same tables");
    assert_eq!(lite.indexes, pg.indexes, "the same indexes (name, table): SQLite, then PostgreSQL");
}

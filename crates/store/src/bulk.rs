//! Bulk writes: many rows of one shape, written as fast as each backend allows.
//!
//! On SQLite a statement is prepared once and run row by row on the transaction's own
//! connection (`rusqlite` on sqlx's handle, decision 0016): no thread switch per statement, no
//! SQL text of thousands of parameters to parse, nothing copied into an argument buffer. On
//! PostgreSQL, where each statement is a network round trip, rows go in multi-row statements.
//! A row is given as its [`Cell`]s, in column order, so each table lists its columns once for
//! both backends.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use sqlx::AssertSqlSafe;

use crate::{Result, Tx};

/// One value of a row, typed (PostgreSQL needs the type even of a NULL).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Text(Option<&'a str>),
    Int(Option<i32>),
    Big(Option<i64>),
    Date(Option<NaiveDate>),
    Time(Option<DateTime<Utc>>),
}

/// A time as sqlx writes it to SQLite, so that rows written here and rows written through sqlx
/// read, sort and compare alike.
pub(crate) fn sqlite_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A date as sqlx writes it to SQLite.
pub(crate) fn sqlite_date(d: &NaiveDate) -> String {
    // `Display` writes `%F` without parsing a format string on every call.
    d.to_string()
}

impl rusqlite::ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Cell::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Cell::Int(Some(i)) => ToSqlOutput::Owned(Value::Integer(i.into())),
            Cell::Big(Some(i)) => ToSqlOutput::Owned(Value::Integer(i)),
            Cell::Date(Some(d)) => ToSqlOutput::Owned(Value::Text(sqlite_date(&d))),
            Cell::Time(Some(t)) => ToSqlOutput::Owned(Value::Text(sqlite_time(&t))),
            Cell::Text(None) | Cell::Int(None) | Cell::Big(None) | Cell::Date(None) | Cell::Time(None) => {
                ToSqlOutput::Owned(Value::Null)
            }
        })
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

pub(crate) fn bind_pg<'q>(q: PgQuery<'q>, cell: Cell<'_>) -> PgQuery<'q> {
    match cell {
        Cell::Text(v) => q.bind(v.map(str::to_string)),
        Cell::Int(v) => q.bind(v),
        Cell::Big(v) => q.bind(v),
        Cell::Date(v) => q.bind(v),
        Cell::Time(v) => q.bind(v),
    }
}

/// Runs `f` on the SQLite transaction's connection directly; `None` on PostgreSQL.
pub(crate) async fn on_sqlite<R>(
    tx: &mut Tx,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
) -> Result<Option<R>> {
    match tx {
        Tx::Sqlite(t) => Ok(Some(direct(t, f).await?)),
        Tx::Postgres(_) => Ok(None),
    }
}

async fn direct<R>(
    t: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
) -> Result<R> {
    let mut handle = t.lock_handle().await?;
    // SAFETY: the handle is locked for us until `handle` drops, after `conn` has dropped and
    // finalized its statements; `from_handle` never closes the connection. The statements run
    // inside the transaction sqlx began and will commit.
    let conn = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) }?;
    let out = f(&conn);
    drop(conn);
    Ok(out?)
}

/// Lets the SQLite writer keep up to 64 MiB of pages from this transaction on, so that a bulk
/// load changes its pages in memory instead of spilling them to the WAL and reading them back;
/// [`end_bulk`] gives the memory back. Nothing on PostgreSQL.
pub async fn begin_bulk(tx: &mut Tx) -> Result<()> {
    on_sqlite(tx, |conn| conn.execute_batch("PRAGMA cache_size = -65536")).await?;
    Ok(())
}

/// Returns the SQLite writer to its default page cache (2 MiB) and frees the rest, so that a
/// server that imported once does not keep the memory.
pub async fn end_bulk(db: &crate::Db) -> Result<()> {
    if let crate::Db::Sqlite { write, .. } = db {
        sqlx::query("PRAGMA cache_size = -2000").execute(write).await?;
        sqlx::query("PRAGMA shrink_memory").execute(write).await?;
    }
    Ok(())
}

/// Writes `rows` into `INSERT INTO {head} VALUES (…) {tail}` with `cols` cells a row; returns
/// the rows changed.
pub(crate) async fn write_rows<R>(
    tx: &mut Tx,
    head: &str,
    tail: &str,
    cols: usize,
    rows: &[R],
    cells: impl Fn(&R) -> Vec<Cell<'_>>,
) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    match tx {
        Tx::Sqlite(t) => {
            let sql = format!("INSERT INTO {head} VALUES ({}) {tail}", vec!["?"; cols].join(", "));
            direct(t, |conn| {
                let mut statement = conn.prepare(&sql)?;
                let mut changed = 0;
                for r in rows {
                    changed += statement.execute(rusqlite::params_from_iter(cells(r)))? as u64;
                }
                Ok(changed)
            })
            .await
        }
        Tx::Postgres(t) => {
            let mut changed = 0;
            for part in rows.chunks((crate::cases::PARAMS_PER_STATEMENT / cols).max(1)) {
                let sql = format!("INSERT INTO {head} VALUES {} {tail}", numbered_rows(part.len(), cols));
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for r in part {
                    for cell in cells(r) {
                        q = bind_pg(q, cell);
                    }
                }
                changed += q.execute(&mut **t).await?.rows_affected();
            }
            Ok(changed)
        }
    }
}

/// `($1, …, $cols), ($cols+1, …)`: the placeholders of `rows` rows.
pub(crate) fn numbered_rows(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::Db;
    use crate::cases::{EventRow, insert_new_events};

    /// Rows written here must read, sort and compare like rows written through sqlx, and an id
    /// stored already must come back with its stored content.
    #[tokio::test]
    async fn direct_writes_match_sqlx_and_report_stored_ids() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        db.migrate().await.unwrap();
        let at = Utc.with_ymd_and_hms(2011, 3, 2, 1, 15, 7).unwrap() + chrono::Duration::milliseconds(250);
        let event = |id: &str, content: &str| EventRow {
            event_id: id.to_string(),
            case_no: "C1".to_string(),
            r#type: "received".to_string(),
            at,
            local_date: NaiveDate::from_ymd_opt(2011, 3, 2).unwrap(),
            arrival: 1,
            reported_at: at,
            content: content.to_string(),
            source: "cli".to_string(),
        };
        let mut tx = db.begin().await.unwrap();
        let first = insert_new_events(&mut tx, &[event("e1", "{\"a\":1}"), event("e2", "{}")]).await.unwrap();
        assert!(first.is_empty());
        let again = insert_new_events(&mut tx, &[event("e3", "{}"), event("e1", "{\"a\":2}")]).await.unwrap();
        assert_eq!(again, vec![(1, "{\"a\":1}".to_string())]);
        let Tx::Sqlite(t) = &mut tx else { panic!("SQLite") };
        let (stored_at, stored_date): (String, String) =
            sqlx::query_as("SELECT at, local_date FROM case_event WHERE event_id = 'e1'")
                .fetch_one(&mut **t)
                .await
                .unwrap();
        let (sqlx_at, sqlx_date): (String, String) = sqlx::query_as("SELECT CAST($1 AS TEXT), CAST($2 AS TEXT)")
            .bind(at)
            .bind(NaiveDate::from_ymd_opt(2011, 3, 2).unwrap())
            .fetch_one(&mut **t)
            .await
            .unwrap();
        assert_eq!((stored_at, stored_date), (sqlx_at, sqlx_date));
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_event").fetch_one(&mut **t).await.unwrap();
        assert_eq!(count, 3);
        tx.commit().await.unwrap();
    }
}

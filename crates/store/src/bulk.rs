//! Bulk writes: many rows of one shape, written as fast as each backend allows.
//!
//! On SQLite a statement is prepared once and run row by row on the transaction's own
//! connection (`rusqlite` on sqlx's handle, decision 0016): no thread switch per statement, no
//! SQL text of thousands of parameters to parse, nothing copied into an argument buffer. On
//! PostgreSQL, where each statement is a network round trip, a few rows go in one multi-row
//! statement and more by `COPY` (decision 0033): straight into the table, or, when the write
//! upserts or must say which rows were new, into a temporary stage the statement then reads.
//! A row is given as its [`Cell`]s, in column order, so each table lists its columns once for
//! both backends.

use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
use rusqlite::ffi;
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
    Bool(Option<bool>),
    Float(Option<f64>),
}

/// Declares a table's columns once, each beside the cell it takes from a row: gives the column
/// names (`$names`, in order) and `$cells`, the row's cells in the same order, for
/// [`write_rows`] and [`update`]. A row type's fields and its columns then cannot drift apart
/// by a miscounted bind.
macro_rules! columns {
    ($(#[$meta:meta])* $vis:vis fn $cells:ident($row:ident: &$ty:ty) -> $names:ident { $($column:literal => $cell:expr),+ $(,)? }) => {
        $vis const $names: &[&str] = &[$($column),+];

        $(#[$meta])*
        $vis fn $cells($row: &$ty) -> [$crate::bulk::Cell<'_>; [$($column),+].len()] {
            [$($cell),+]
        }
    };
}
pub(crate) use columns;

/// A time as sqlx writes it to SQLite (RFC 3339, `+00:00`, the fraction in 3, 6 or 9 digits
/// when there is one), so that rows written here and rows written through sqlx read, sort and
/// compare alike. Written by hand: a bulk load writes millions of them.
fn push_time(out: &mut String, t: &DateTime<Utc>) {
    let nanos = t.timestamp_subsec_nanos();
    if !(0..=9999).contains(&t.year()) || nanos >= 1_000_000_000 {
        out.push_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, false));
        return;
    }
    push_date(out, &t.date_naive());
    out.push('T');
    push_digits(out, t.hour(), 2);
    out.push(':');
    push_digits(out, t.minute(), 2);
    out.push(':');
    push_digits(out, t.second(), 2);
    if nanos != 0 {
        out.push('.');
        if nanos.is_multiple_of(1_000_000) {
            push_digits(out, nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            push_digits(out, nanos / 1_000, 6);
        } else {
            push_digits(out, nanos, 9);
        }
    }
    out.push_str("+00:00");
}

/// A date as sqlx writes it to SQLite (`YYYY-MM-DD`).
fn push_date(out: &mut String, d: &NaiveDate) {
    if !(0..=9999).contains(&d.year()) {
        out.push_str(&d.to_string());
        return;
    }
    push_digits(out, d.year() as u32, 4);
    out.push('-');
    push_digits(out, d.month(), 2);
    out.push('-');
    push_digits(out, d.day(), 2);
}

/// `n` in exactly `width` decimal digits (zeros in front).
fn push_digits(out: &mut String, n: u32, width: u32) {
    for p in (0..width).rev() {
        out.push(char::from(b'0' + (n / 10u32.pow(p) % 10) as u8));
    }
}

/// A statement prepared once and run for many rows, its values bound where they lie.
///
/// rusqlite gives SQLite a copy of every text it binds (a heap allocation and a copy per value,
/// an eighth of the writer's time in an import); here texts are bound in place
/// (`SQLITE_STATIC`), which is sound because a row's values outlive the one step that reads
/// them: the statement is reset and its bindings cleared before [`Prepared::run`] returns.
struct Prepared<'c> {
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    /// The texts of a row's dates and times, written before anything is bound, and where
    /// each cell's text lies in it.
    scratch: String,
    spans: Vec<(usize, usize)>,
    _conn: std::marker::PhantomData<&'c rusqlite::Connection>,
}

#[expect(unsafe_code, reason = "SQLite's C interface, to bind texts in place (decision 0016)")]
impl<'c> Prepared<'c> {
    fn new(conn: &'c rusqlite::Connection, sql: &str) -> rusqlite::Result<Prepared<'c>> {
        // SAFETY: the connection is open for 'c, which the statement cannot outlive; it is
        // finalized on drop. `sql` is passed with its length, so it needs no terminating NUL.
        unsafe {
            let db = conn.handle();
            let mut stmt = std::ptr::null_mut();
            let len = c_int::try_from(sql.len()).map_err(|_| rusqlite::Error::InvalidQuery)?;
            let rc = ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                std::ptr::null_mut(),
            );
            check(db, rc)?;
            Ok(Prepared { db, stmt, scratch: String::new(), spans: Vec::new(), _conn: std::marker::PhantomData })
        }
    }

    /// Runs the statement once with `cells` bound in order; returns the rows it changed.
    fn run(&mut self, cells: &[Cell<'_>]) -> rusqlite::Result<usize> {
        // Dates and times are written first, all of them, so that the scratch text no longer
        // moves when its parts are bound.
        self.scratch.clear();
        self.spans.clear();
        for cell in cells {
            let start = self.scratch.len();
            match cell {
                Cell::Date(Some(d)) => push_date(&mut self.scratch, d),
                Cell::Time(Some(t)) => push_time(&mut self.scratch, t),
                _ => {}
            }
            self.spans.push((start, self.scratch.len()));
        }
        // SAFETY: every pointer bound stays valid until the statement is reset and its
        // bindings cleared below: `cells` is borrowed and `self.scratch` is not touched again
        // before then. Indexes are 1-based and below the statement's parameter count.
        unsafe {
            let outcome = (|| {
                for (i, cell) in cells.iter().enumerate() {
                    let at = (i + 1) as c_int;
                    let rc = match *cell {
                        Cell::Text(Some(s)) => bind_text(self.stmt, at, s.as_bytes()),
                        Cell::Date(Some(_)) | Cell::Time(Some(_)) => {
                            let (from, to) = self.spans[i];
                            bind_text(self.stmt, at, &self.scratch.as_bytes()[from..to])
                        }
                        Cell::Int(Some(v)) => ffi::sqlite3_bind_int64(self.stmt, at, v.into()),
                        Cell::Big(Some(v)) => ffi::sqlite3_bind_int64(self.stmt, at, v),
                        Cell::Bool(Some(v)) => ffi::sqlite3_bind_int64(self.stmt, at, v.into()),
                        Cell::Float(Some(v)) => ffi::sqlite3_bind_double(self.stmt, at, v),
                        Cell::Text(None)
                        | Cell::Int(None)
                        | Cell::Big(None)
                        | Cell::Date(None)
                        | Cell::Time(None)
                        | Cell::Bool(None)
                        | Cell::Float(None) => ffi::sqlite3_bind_null(self.stmt, at),
                    };
                    check(self.db, rc)?;
                }
                match ffi::sqlite3_step(self.stmt) {
                    ffi::SQLITE_DONE => Ok(ffi::sqlite3_changes(self.db) as usize),
                    rc => Err(failure(self.db, rc)),
                }
            })();
            ffi::sqlite3_reset(self.stmt);
            ffi::sqlite3_clear_bindings(self.stmt);
            outcome
        }
    }
}

#[expect(unsafe_code, reason = "SQLite's C interface, to bind texts in place (decision 0016)")]
impl Drop for Prepared<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on this connection and is finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt);
        }
    }
}

/// # Safety
/// `stmt` is a live statement and `text` stays valid until it is reset (bound in place).
#[expect(unsafe_code, reason = "SQLite's C interface, to bind texts in place (decision 0016)")]
unsafe fn bind_text(stmt: *mut ffi::sqlite3_stmt, at: c_int, text: &[u8]) -> c_int {
    // SAFETY: as the caller promises; SQLITE_STATIC tells SQLite not to copy nor free it.
    unsafe {
        ffi::sqlite3_bind_text64(
            stmt,
            at,
            text.as_ptr().cast(),
            text.len() as u64,
            ffi::SQLITE_STATIC(),
            ffi::SQLITE_UTF8 as u8,
        )
    }
}

fn check(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Result<()> {
    if rc == ffi::SQLITE_OK { Ok(()) } else { Err(failure(db, rc)) }
}

#[expect(unsafe_code, reason = "SQLite's C interface, to bind texts in place (decision 0016)")]
#[cold]
fn failure(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
    // SAFETY: `db` is an open connection; its message is copied before anything else runs on it.
    let (code, message) = unsafe {
        (
            ffi::sqlite3_extended_errcode(db),
            std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(db)).to_string_lossy().into_owned(),
        )
    };
    let code = if code & 0xff == rc & 0xff { code } else { rc };
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some(message))
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

pub(crate) fn bind_pg<'q>(q: PgQuery<'q>, cell: Cell<'_>) -> PgQuery<'q> {
    match cell {
        Cell::Text(v) => q.bind(v.map(str::to_string)),
        Cell::Int(v) => q.bind(v),
        Cell::Big(v) => q.bind(v),
        Cell::Date(v) => q.bind(v),
        Cell::Time(v) => q.bind(v),
        Cell::Bool(v) => q.bind(v),
        Cell::Float(v) => q.bind(v),
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

#[expect(unsafe_code, reason = "SQLite's C interface, to bind texts in place (decision 0016)")]
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
/// load changes its pages in memory instead of spilling them to the WAL and reading them back,
/// and stops it copying the WAL into the database file after its commits: that copy waits for
/// the disk, so [`checkpoint`] makes it on another connection. [`end_bulk`] undoes both.
/// Nothing on PostgreSQL.
pub async fn begin_bulk(tx: &mut Tx) -> Result<()> {
    on_sqlite(tx, |conn| conn.execute_batch("PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 0")).await?;
    Ok(())
}

/// Copies what the SQLite WAL holds into the database file on a connection of its own, so that
/// a bulk load's commits do not wait for the disk: a passive checkpoint never waits for the
/// writer nor makes it wait, and the writer starts the WAL afresh once it has all been copied.
#[derive(Debug)]
pub struct Checkpointer {
    pool: sqlx::SqlitePool,
    running: AtomicBool,
    /// Pages in the WAL when last looked at.
    wal_pages: AtomicI64,
}

/// A bulk load waits for the copy when the WAL holds more than this many pages (4 KiB each):
/// the WAL is not restarted while copies lag behind the writer, and it is read beside the
/// database file by every reader.
const MAX_WAL_PAGES: i64 = 256 * 1024;

impl Checkpointer {
    pub(crate) fn new(options: &sqlx::sqlite::SqliteConnectOptions) -> Checkpointer {
        Checkpointer {
            pool: sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_lazy_with(options.clone()),
            running: AtomicBool::new(false),
            wal_pages: AtomicI64::new(0),
        }
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    async fn run(&self) -> Result<()> {
        let (_busy, pages, _copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&self.pool).await?;
        self.wal_pages.store(pages, Ordering::Relaxed);
        Ok(())
    }
}

/// After a bulk commit: copies the WAL into the database file, in the background (`spawn`
/// runs the future it is given), unless the WAL has grown past [`MAX_WAL_PAGES`]: then the
/// copy is awaited, so that the writer's next transaction starts the WAL afresh. A copy
/// already running is not doubled. Nothing on PostgreSQL.
pub async fn checkpoint<S>(db: &crate::Db, spawn: S) -> Result<()>
where
    S: FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>),
{
    let crate::Db::Sqlite { checkpointer, .. } = db else { return Ok(()) };
    if checkpointer.wal_pages.load(Ordering::Relaxed) > MAX_WAL_PAGES {
        // The pool's one connection makes this wait for a copy in the background, if any.
        checkpointer.run().await?;
        // All copied: the writer's next transaction starts the WAL afresh.
        checkpointer.wal_pages.store(0, Ordering::Relaxed);
        return Ok(());
    }
    if checkpointer.running.swap(true, Ordering::AcqRel) {
        return Ok(());
    }
    let checkpointer = checkpointer.clone();
    spawn(Box::pin(async move {
        // Cleared however the copy ends, even if the task is dropped half-way.
        let _running = Running(&checkpointer.running);
        if let Err(e) = checkpointer.run().await {
            tracing::warn!("copying the WAL into the database file: {e}");
        }
    }));
    Ok(())
}

/// Marks a checkpoint as running while it lives.
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Ends bulk mode however a bulk load ends: [`BulkMode::end`] when it runs to its end, and on
/// drop when it is cut short (a client gone, a request timed out), so that the writer never
/// stays with checkpoints off and the WAL growing.
#[must_use = "bulk mode ends when this is ended or dropped"]
pub struct BulkMode(Option<crate::Db>);

impl BulkMode {
    /// Taken before a bulk load begins.
    pub fn new(db: &crate::Db) -> BulkMode {
        BulkMode(Some(db.clone()))
    }

    /// Ends bulk mode now, with its error if any.
    pub async fn end(mut self) -> Result<()> {
        match self.0.take() {
            Some(db) => end_bulk(&db).await,
            None => Ok(()),
        }
    }
}

impl Drop for BulkMode {
    fn drop(&mut self) {
        let Some(db) = self.0.take() else { return };
        // Dropped by a cancelled future: end it on a task of its own, once the writer's
        // connection is back in its pool (the cut transaction rolls back first).
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = end_bulk(&db).await {
                    tracing::warn!(error = ?e, "ending bulk mode after a cancelled load");
                }
            });
        }
    }
}

/// Returns the SQLite writer to its default page cache (2 MiB) and frees the rest, so that a
/// server that imported once does not keep the memory, and lets it checkpoint again.
pub async fn end_bulk(db: &crate::Db) -> Result<()> {
    if let crate::Db::Sqlite { write, .. } = db {
        sqlx::query("PRAGMA cache_size = -2000").execute(write).await?;
        sqlx::query("PRAGMA wal_autocheckpoint = 1000").execute(write).await?;
        sqlx::query("PRAGMA shrink_memory").execute(write).await?;
    }
    Ok(())
}

/// Writes `rows` into `INSERT INTO {head} VALUES (…) {tail}`, each row given as its `N`
/// cells; returns the rows changed.
pub(crate) async fn write_rows<R, const N: usize>(
    tx: &mut Tx,
    head: &str,
    tail: &str,
    rows: &[R],
    cells: impl Fn(&R) -> [Cell<'_>; N],
) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    match tx {
        Tx::Sqlite(t) => {
            let sql = format!("INSERT INTO {head} VALUES ({}) {tail}", ["?"; N].join(", "));
            direct(t, |conn| {
                let mut statement = Prepared::new(conn, &sql)?;
                let mut changed = 0;
                for r in rows {
                    changed += statement.run(&cells(r))? as u64;
                }
                Ok(changed)
            })
            .await
        }
        Tx::Postgres(t) if rows.len() >= COPY_FROM => {
            let conn: &mut sqlx::PgConnection = t;
            if tail.is_empty() {
                return copy_in(conn, head, rows, &cells).await;
            }
            let stage = stage(conn, head, rows, &cells).await?;
            let (table, columns) = split_head(head);
            let sql = format!("INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} {tail}");
            let changed = sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?.rows_affected();
            sqlx::query(AssertSqlSafe(format!("TRUNCATE {stage}"))).execute(&mut *conn).await?;
            Ok(changed)
        }
        Tx::Postgres(t) => {
            let mut changed = 0;
            for part in rows.chunks((crate::cases::PARAMS_PER_STATEMENT / N).max(1)) {
                let sql = format!("INSERT INTO {head} VALUES {} {tail}", numbered_rows(part.len(), N));
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

/// `UPDATE {table} SET column = …, … {also} WHERE key = … AND …`, each column of `set` and
/// `key` beside its cell, the parameters numbered here; returns the rows changed.
pub(crate) async fn update(
    tx: &mut Tx,
    table: &str,
    set: (&[&str], &[Cell<'_>]),
    also: &str,
    key: (&[&str], &[Cell<'_>]),
) -> Result<u64> {
    debug_assert_eq!(set.0.len(), set.1.len(), "a cell for each column set");
    debug_assert_eq!(key.0.len(), key.1.len(), "a cell for each key column");
    let mark = |n: usize| if tx.is_sqlite() { format!("?{n}") } else { format!("${n}") };
    let assignments: Vec<String> = set.0.iter().enumerate().map(|(i, c)| format!("{c} = {}", mark(i + 1))).collect();
    let conditions: Vec<String> =
        key.0.iter().enumerate().map(|(i, c)| format!("{c} = {}", mark(set.0.len() + i + 1))).collect();
    let sql = format!("UPDATE {table} SET {}{also} WHERE {}", assignments.join(", "), conditions.join(" AND "));
    let cells: Vec<Cell<'_>> = set.1.iter().chain(key.1).copied().collect();
    match tx {
        Tx::Sqlite(t) => direct(t, |conn| Ok(Prepared::new(conn, &sql)?.run(&cells)? as u64)).await,
        Tx::Postgres(t) => {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for cell in cells {
                q = bind_pg(q, cell);
            }
            Ok(q.execute(&mut **t).await?.rows_affected())
        }
    }
}

/// Inserts `rows` into `INSERT INTO {head} VALUES (…) {tail}` on SQLite, one statement a row;
/// for each row that changed nothing, calls `unchanged(index, conn)`.
pub(crate) fn insert_each<'a, R, T, const N: usize>(
    conn: &rusqlite::Connection,
    head: &str,
    tail: &str,
    rows: &'a [R],
    cells: impl Fn(&'a R) -> [Cell<'a>; N],
    mut unchanged: impl FnMut(usize, &'a R) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut statement = Prepared::new(conn, &format!("INSERT INTO {head} VALUES ({}) {tail}", ["?"; N].join(", ")))?;
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if statement.run(&cells(r))? == 0 {
            out.push(unchanged(i, r)?);
        }
    }
    Ok(out)
}

/// Stores the events (rows of `table`, keyed by `event_id`, with their text in `content`)
/// whose id is new. Returns the events whose id was stored already (by their index in
/// `events`) with the stored content, to tell a duplicate from a conflict. The ids within
/// `events` must differ.
pub(crate) async fn insert_new_events<'a, R, const N: usize>(
    tx: &mut Tx,
    table: &str,
    columns: &str,
    events: &'a [R],
    cells: impl Fn(&'a R) -> [Cell<'a>; N],
    id: impl Fn(&R) -> &str,
) -> Result<Vec<(usize, String)>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let head = format!("{table} ({columns})");
    let conflict = "ON CONFLICT (event_id) DO NOTHING";
    let direct = on_sqlite(tx, |conn| {
        let mut stored = conn.prepare(&format!("SELECT content FROM {table} WHERE event_id = ?"))?;
        insert_each(conn, &head, conflict, events, &cells, |i, e| Ok((i, stored.query_row([id(e)], |r| r.get(0))?)))
    })
    .await?;
    if let Some(clashes) = direct {
        return Ok(clashes);
    }
    let Tx::Postgres(t) = tx else { unreachable!("SQLite returned above") };
    let mut inserted = std::collections::HashSet::new();
    if events.len() >= COPY_FROM {
        let conn: &mut sqlx::PgConnection = t;
        // Most batches are all new: copied straight in under a savepoint. One already stored
        // (or repeated in the batch) fails the copy, which is undone; the batch is then staged.
        sqlx::query("SAVEPOINT new_events").execute(&mut *conn).await?;
        match copy_in(conn, &head, events, &cells).await {
            Ok(_) => {
                sqlx::query("RELEASE SAVEPOINT new_events").execute(&mut *conn).await?;
                return Ok(Vec::new());
            }
            Err(e) if e.is_unique_violation() => {
                sqlx::query("ROLLBACK TO SAVEPOINT new_events").execute(&mut *conn).await?;
                sqlx::query("RELEASE SAVEPOINT new_events").execute(&mut *conn).await?;
            }
            Err(e) => return Err(e),
        }
        let stage = stage(conn, &head, events, &cells).await?;
        let sql = format!("INSERT INTO {head} SELECT {columns} FROM {stage} {conflict} RETURNING event_id");
        for row in sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *conn).await? {
            inserted.insert(sqlx::Row::try_get::<String, _>(&row, 0)?);
        }
        sqlx::query(AssertSqlSafe(format!("TRUNCATE {stage}"))).execute(&mut *conn).await?;
    } else {
        let sql = format!("INSERT INTO {head} VALUES {} {conflict} RETURNING event_id", numbered_rows(events.len(), N));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for e in events {
            for cell in cells(e) {
                q = bind_pg(q, cell);
            }
        }
        for row in q.fetch_all(&mut **t).await? {
            inserted.insert(sqlx::Row::try_get::<String, _>(&row, 0)?);
        }
    }
    let missing: Vec<&str> = events.iter().map(&id).filter(|i| !inserted.contains(*i)).collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let stored: std::collections::HashMap<String, String> = crate::cases::select_in(tx, &missing, |list| {
        format!("SELECT event_id, content FROM {table} WHERE event_id IN {list}")
    })
    .await?
    .into_iter()
    .collect();
    Ok(events.iter().enumerate().filter_map(|(i, e)| stored.get(id(e)).map(|c| (i, c.clone()))).collect())
}

/// From how many rows a write to PostgreSQL goes by `COPY` rather than by one statement with
/// parameters (fewer: the stage's extra round trips cost more than they save).
const COPY_FROM: usize = 16;

/// `COPY` data is sent in pieces of about this many bytes, so a large write is never held
/// whole as text.
const COPY_PIECE: usize = 1 << 20;

/// `"table (a, b)"` → `("table", "a, b")`.
fn split_head(head: &str) -> (&str, &str) {
    let (table, rest) = head.split_once('(').expect("a head names its columns: table (a, b, …)");
    (table.trim(), rest.trim().trim_end_matches(')').trim())
}

/// Writes `rows` into `head` (`table (columns)`) by `COPY … FROM STDIN` in text format;
/// returns the rows written.
async fn copy_in<'a, R, const N: usize>(
    conn: &mut sqlx::PgConnection,
    head: &str,
    rows: &'a [R],
    cells: &impl Fn(&'a R) -> [Cell<'a>; N],
) -> Result<u64> {
    let mut copy = conn.copy_in_raw(&format!("COPY {head} FROM STDIN")).await?;
    let mut rows = rows.iter().peekable();
    while rows.peek().is_some() {
        let mut data = Vec::with_capacity(COPY_PIECE + 4096);
        while data.len() < COPY_PIECE
            && let Some(r) = rows.next()
        {
            copy_line(&mut data, &cells(r));
        }
        if let Err(e) = copy.send(data).await {
            copy.abort("the rows could not be sent").await.ok();
            return Err(e.into());
        }
    }
    Ok(copy.finish().await?)
}

/// Copies `rows` into a temporary table of `head`'s columns (created on first use in the
/// session, emptied at each commit) and returns its name, for a statement that reads it.
/// The caller empties it after use, since a transaction may stage the same table twice.
async fn stage<'a, R, const N: usize>(
    conn: &mut sqlx::PgConnection,
    head: &str,
    rows: &'a [R],
    cells: &impl Fn(&'a R) -> [Cell<'a>; N],
) -> Result<String> {
    let (table, columns) = split_head(head);
    // FNV-1a of the column list: one stage per table and set of columns.
    let hash = columns.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let stage = format!("stage_{table}_{:08x}", hash as u32);
    let create = format!(
        "CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS SELECT {columns} FROM {table} WITH NO DATA"
    );
    sqlx::query(AssertSqlSafe(create)).execute(&mut *conn).await?;
    copy_in(conn, &format!("{stage} ({columns})"), rows, cells).await?;
    Ok(stage)
}

/// Appends one row in `COPY`'s text format: cells separated by tabs, `\N` for NULL, a
/// backslash, tab, newline or carriage return in text escaped, the line ended by a newline.
fn copy_line(out: &mut Vec<u8>, cells: &[Cell<'_>]) {
    use std::io::Write;
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        let written = match *cell {
            Cell::Text(Some(v)) => {
                for b in v.bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        _ => out.push(b),
                    }
                }
                Ok(())
            }
            Cell::Int(Some(v)) => write!(out, "{v}"),
            Cell::Big(Some(v)) => write!(out, "{v}"),
            Cell::Date(Some(v)) => write!(out, "{}", v.format("%Y-%m-%d")),
            // sqlx binds a time as whole microseconds, dropping the rest: the same here.
            Cell::Time(Some(v)) => write!(out, "{}", v.to_rfc3339_opts(SecondsFormat::Micros, true)),
            Cell::Bool(Some(v)) => write!(out, "{}", if v { 't' } else { 'f' }),
            Cell::Float(Some(v)) if v.is_nan() => write!(out, "NaN"),
            Cell::Float(Some(v)) if v.is_infinite() => write!(out, "{}Infinity", if v < 0.0 { "-" } else { "" }),
            Cell::Float(Some(v)) => write!(out, "{v}"),
            Cell::Text(None)
            | Cell::Int(None)
            | Cell::Big(None)
            | Cell::Date(None)
            | Cell::Time(None)
            | Cell::Bool(None)
            | Cell::Float(None) => write!(out, "\\N"),
        };
        written.expect("writing to a Vec cannot fail");
    }
    out.push(b'\n');
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
    use crate::cases::{NewEvent, insert_new_events};

    fn time_text(t: &DateTime<Utc>) -> String {
        let mut text = String::new();
        push_time(&mut text, t);
        text
    }

    /// The hand-written texts are chrono's (which sqlx uses), fraction or none, any year.
    #[test]
    fn times_and_dates_are_written_as_chrono_writes_them() {
        let base = Utc.with_ymd_and_hms(2011, 3, 2, 1, 5, 7).unwrap();
        for nanos in [0, 250_000_000, 1_000_000, 123_456_000, 1_000, 999_999_999, 7] {
            let t = base + chrono::Duration::nanoseconds(nanos);
            assert_eq!(time_text(&t), t.to_rfc3339_opts(SecondsFormat::AutoSi, false));
        }
        for (y, m, d) in [(2011, 3, 2), (1, 1, 1), (9999, 12, 31), (10000, 1, 1), (-5, 6, 7)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut text = String::new();
            push_date(&mut text, &date);
            assert_eq!(text, date.to_string());
            let t = date.and_hms_opt(23, 59, 58).unwrap().and_utc();
            assert_eq!(time_text(&t), t.to_rfc3339_opts(SecondsFormat::AutoSi, false));
        }
    }

    /// Rows written here must read, sort and compare like rows written through sqlx, and an id
    /// stored already must come back with its stored content.
    #[tokio::test]
    async fn direct_writes_match_sqlx_and_report_stored_ids() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        db.migrate().await.unwrap();
        let at = Utc.with_ymd_and_hms(2011, 3, 2, 1, 15, 7).unwrap() + chrono::Duration::milliseconds(250);
        let event = |id: &str, content: &str| NewEvent {
            event_id: id.to_string(),
            case_no: "C1".to_string(),
            r#type: "received",
            at,
            local_date: NaiveDate::from_ymd_opt(2011, 3, 2).unwrap(),
            arrival: 1,
            content: content.to_string(),
        };
        let mut tx = db.begin().await.unwrap();
        let cli = crate::cases::Sender { label: "cli", scope: None };
        let first =
            insert_new_events(&mut tx, &[event("e1", "{\"a\":1}"), event("e2", "{}")], Some(at), cli).await.unwrap();
        assert!(first.is_empty());
        let again =
            insert_new_events(&mut tx, &[event("e3", "{}"), event("e1", "{\"a\":2}")], Some(at), cli).await.unwrap();
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

    /// Acknowledged means stored: the writer syncs every commit to the disk (FULL), also once a
    /// bulk load has ended; NORMAL could lose the last commits on a power cut.
    #[tokio::test]
    async fn every_commit_of_the_writer_reaches_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        let Db::Sqlite { write, .. } = &db else { unreachable!() };
        let full = 2;
        assert_eq!(sqlx::query_scalar::<_, i64>("PRAGMA synchronous").fetch_one(write).await.unwrap(), full);
        let mut tx = db.begin().await.unwrap();
        begin_bulk(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        BulkMode::new(&db).end().await.unwrap();
        assert_eq!(sqlx::query_scalar::<_, i64>("PRAGMA synchronous").fetch_one(write).await.unwrap(), full);
        // An installation may trade the last commits before a power cut for speed, by name only.
        let url = format!("sqlite://{}?synchronous=normal", dir.path().join("n.db").display());
        let Db::Sqlite { write, .. } = Db::connect(&url).await.unwrap() else { unreachable!() };
        assert_eq!(sqlx::query_scalar::<_, i64>("PRAGMA synchronous").fetch_one(&write).await.unwrap(), 1);
        let bad = format!("sqlite://{}?synchronous=off", dir.path().join("o.db").display());
        assert!(matches!(Db::connect(&bad).await, Err(crate::StoreError::BadUrl(_))));
    }
}

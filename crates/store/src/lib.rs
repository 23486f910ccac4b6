//! All SQL of Oversight, behind one type with two real backends: embedded SQLite (the default)
//! and PostgreSQL. The same SQL text (`$1` parameters, `RETURNING`) runs on both wherever
//! possible; where dialects differ, the two versions sit side by side.
//!
//! Reads take `&Db`; writes take a `&mut Tx`, so that a use case and its audit row commit
//! together.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

pub mod access;
pub mod audit;
pub mod bulk;
pub mod calendar;
pub mod cases;
pub mod evaluations;
pub mod inspections;
pub mod meetings;
pub mod network;
pub mod orders;
pub mod outbox;
pub mod ratings;
mod scope;
pub mod supervision;
pub mod tasks;
pub mod tickets;

pub use scope::ScopeFilter;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL “{0}”: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the error is a unique-constraint violation (a duplicate key).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to the one database of an installation.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite in WAL mode: one connection writes (so transactions never fight over the write
    /// lock), several read.
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        /// Copies the WAL into the database file while the writer goes on ([`bulk::checkpoint`]).
        checkpointer: std::sync::Arc<bulk::Checkpointer>,
    },
    Postgres(PgPool),
}

/// An open transaction on either backend.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the transaction's connection, on whichever backend it is.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the read pool, on whichever backend it is.
macro_rules! on_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite { read, .. } => {
                let $c = read;
                $body
            }
            $crate::Db::Postgres(pool) => {
                let $c = pool;
                $body
            }
        }
    };
}
pub(crate) use {on_db, on_tx};

/// Takes our own `synchronous` parameter out of a SQLite URL. Acknowledged means stored: by
/// default every commit reaches the disk before it returns (`full`); `synchronous=normal` trades
/// the last commits before a power cut (not a crash of the process) for speed
/// (docs/performance.md).
fn sqlite_synchronous(url: &str) -> Result<(String, SqliteSynchronous)> {
    let Some((base, query)) = url.split_once('?') else { return Ok((url.to_string(), SqliteSynchronous::Full)) };
    let mut synchronous = SqliteSynchronous::Full;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("synchronous", "full")) => synchronous = SqliteSynchronous::Full,
            Some(("synchronous", "normal")) => synchronous = SqliteSynchronous::Normal,
            Some(("synchronous", _)) => {
                return Err(StoreError::BadUrl(format!("{url}: synchronous 只能是 full 或 normal")));
            }
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() { base.to_string() } else { format!("{base}?{}", rest.join("&")) };
    Ok((url, synchronous))
}

impl Db {
    /// Connects to `sqlite://PATH` (the file is created when missing; `?synchronous=normal` for
    /// commits that may be lost on a power cut) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("sqlite:") {
            let (url, synchronous) = sqlite_synchronous(url)?;
            let options = SqliteConnectOptions::from_str(&url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // A WAL grown by a bulk load is cut back to this once it has been copied.
                .pragma("journal_size_limit", "67108864");
            let write = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
            let checkpointer = std::sync::Arc::new(bulk::Checkpointer::new(&options));
            let read = SqlitePoolOptions::new().max_connections(4).connect_with(options.read_only(true)).await?;
            Ok(Db::Sqlite { write, read, checkpointer })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::BadUrl(url.to_string()))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations of this backend that are not applied yet.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => sqlx::migrate!("../../migrations/sqlite").run(write).await?,
            Db::Postgres(pool) => sqlx::migrate!("../../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            // IMMEDIATE takes the write lock up front: a transaction that reads before it writes
            // cannot then fail to upgrade because another process (a second instance) wrote in
            // between; it waits for the lock (busy_timeout) instead.
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { write, read, checkpointer } => {
                checkpointer.close().await;
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, |c| sqlx::query("SELECT 1").execute(c).await?.rows_affected());
        Ok(())
    }
}

/// Runs one statement outside any use case: bulk loads (the benchmark's data) and repairs
/// (recounting the tallies).
pub async fn execute_raw(db: &Db, sql: &str) -> Result<u64> {
    Ok(match db {
        Db::Sqlite { write, .. } => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(write).await?.rows_affected()
        }
        Db::Postgres(pool) => sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(pool).await?.rows_affected(),
    })
}

impl Tx {
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Tx::Sqlite(_))
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Serialises a stored word (a status, a kind) as the word itself, as it is stored and
/// exchanged, for the rows the JSON API gives.
pub fn as_word<S: serde::Serializer>(
    value: &impl oversight_domain::words::Word,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&value.word())
}

/// What the metrics read from the database when scraped: messages waiting in the outbox and
/// alerts nobody has acted on.
pub async fn metrics_gauges(db: &Db) -> Result<(i64, i64)> {
    let backlog = "SELECT COUNT(*) FROM outbox WHERE status = 'pending'";
    let open = "SELECT COUNT(*) FROM alert WHERE status = 'open'";
    Ok(on_db!(db, |c| (
        sqlx::query_scalar::<_, i64>(backlog).fetch_one(c).await?,
        sqlx::query_scalar::<_, i64>(open).fetch_one(c).await?
    )))
}

impl Db {
    /// Each connection pool's name, its open connections and how many of them are idle.
    pub fn pool_use(&self) -> Vec<(&'static str, u32, u32)> {
        match self {
            Db::Sqlite { write, read, .. } => vec![
                ("sqlite_write", write.size(), write.num_idle() as u32),
                ("sqlite_read", read.size(), read.num_idle() as u32),
            ],
            Db::Postgres(pool) => vec![("postgres", pool.size(), pool.num_idle() as u32)],
        }
    }
}

/// How a backup went.
pub enum Backup {
    /// The copy was written.
    Written,
    /// PostgreSQL: its own tools take consistent copies.
    UsePgDump,
}

/// Writes a consistent copy of the SQLite database to `to` while the server goes on (SQLite's
/// `VACUUM INTO`: one read transaction, so the copy is the database as of one instant, and
/// compacted). The file must not exist yet.
pub async fn backup(db: &Db, to: &std::path::Path) -> Result<Backup> {
    match db {
        Db::Sqlite { read, .. } => {
            let target = to.to_string_lossy().to_string();
            sqlx::query("VACUUM INTO $1").bind(target).execute(read).await?;
            Ok(Backup::Written)
        }
        Db::Postgres(_) => Ok(Backup::UsePgDump),
    }
}

//! The hash-chained audit log. Every write appends its row in the same transaction.

use chrono::{DateTime, SecondsFormat, Utc};
use oversight_domain::access::Scope;
use oversight_domain::audit::{AuditEntry, ChainBreak, ChainedEntry, GENESIS, verify_chain};
use sqlx::AssertSqlSafe;

use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// What a use case records of itself.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    /// Where the target sits in the network ("/" for city-wide things like the calendar).
    pub path: &'a str,
    pub detail: serde_json::Value,
}

/// Appends a row to the chain. The head row is updated first, which locks it until the
/// transaction ends: concurrent writers take their turn and the chain never forks.
pub async fn append(tx: &mut Tx, row: NewAudit<'_>, now: DateTime<Utc>) -> Result<i64> {
    let (seq, prev_hash): (i64, String) =
        on_tx!(tx, |c| sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(c)
            .await?);
    let entry = AuditEntry {
        seq,
        at: now.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor: row.actor.to_string(),
        action: row.action.to_string(),
        target: row.target.to_string(),
        detail: row.detail.to_string(),
        path: Some(row.path.to_string()),
    };
    let hash = entry.hash(&prev_hash);
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, target, path, detail, prev_hash, hash, path_hashed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE)",
        )
        .bind(seq)
        .bind(&entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(row.path)
        .bind(&entry.detail)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *c)
        .await?;
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut *c).await?;
    });
    Ok(seq)
}

/// Appends many rows to the chain in three statements, in order: one move of the head for all,
/// one multi-row insert, one update of the head's hash.
pub async fn append_many(tx: &mut Tx, rows: &[NewAudit<'_>], now: DateTime<Utc>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let (last, mut prev_hash): (i64, String) =
        on_tx!(tx, |c| sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
            .bind(rows.len() as i64)
            .fetch_one(c)
            .await?);
    let first = last - rows.len() as i64 + 1;
    let at = now.to_rfc3339_opts(SecondsFormat::Micros, true);
    let mut chained = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let entry = AuditEntry {
            seq: first + i as i64,
            at: at.clone(),
            actor: row.actor.to_string(),
            action: row.action.to_string(),
            target: row.target.to_string(),
            detail: row.detail.to_string(),
            path: Some(row.path.to_string()),
        };
        let hash = entry.hash(&prev_hash);
        chained.push((entry, row.path, std::mem::replace(&mut prev_hash, hash.clone()), hash));
    }
    for part in chained.chunks(crate::cases::PARAMS_PER_STATEMENT / 10) {
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor, action, target, path, detail, prev_hash, hash, path_hashed) VALUES {}",
            crate::cases::placeholders(tx, part.len(), 10)
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (e, path, prev, hash) in part {
                q = q
                    .bind(e.seq)
                    .bind(&e.at)
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.target)
                    .bind(*path)
                    .bind(&e.detail)
                    .bind(prev)
                    .bind(hash)
                    .bind(true);
            }
            q.execute(c).await?.rows_affected()
        });
    }
    on_tx!(tx, |c| sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub path: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
    /// Whether the row's hash covers its path (rows written since migration 0018).
    pub path_hashed: bool,
}

impl AuditRow {
    fn chained(self) -> ChainedEntry {
        ChainedEntry {
            entry: AuditEntry {
                seq: self.seq,
                at: self.at,
                actor: self.actor,
                action: self.action,
                target: self.target,
                detail: self.detail,
                path: self.path_hashed.then_some(self.path),
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

/// The newest rows within the scope (city-wide rows, path "/", only for a city-wide scope).
pub async fn recent(db: &Db, scope: &Scope, before_seq: Option<i64>, limit: i64) -> Result<Vec<AuditRow>> {
    let filter = ScopeFilter::new(scope, "path", 3);
    let sql = format!(
        "SELECT seq, at, actor, action, target, path, detail, prev_hash, hash, path_hashed FROM audit_log
         WHERE seq < $1 AND {} ORDER BY seq DESC LIMIT $2",
        filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(before_seq.unwrap_or(i64::MAX)).bind(limit);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// The outcome of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub rows: i64,
    pub first_break: Option<ChainBreak>,
}

/// Walks the whole chain in pages, and checks that the head agrees with the last row; all of
/// it in one read transaction, so rows appended meanwhile neither appear half-way nor move the
/// head past the rows read (which read as a gap).
pub async fn verify(db: &Db) -> Result<ChainReport> {
    const PAGE: i64 = 5000;
    macro_rules! walk {
        ($c:expr) => {{
            let mut seq = 0i64;
            let mut hash = GENESIS.to_string();
            let mut first_break = None;
            loop {
                let page: Vec<AuditRow> = sqlx::query_as(
                    "SELECT seq, at, actor, action, target, path, detail, prev_hash, hash, path_hashed FROM audit_log
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(seq)
                .bind(PAGE)
                .fetch_all(&mut *$c)
                .await?;
                let n = page.len() as i64;
                let rows: Vec<ChainedEntry> = page.into_iter().map(AuditRow::chained).collect();
                match verify_chain(seq, &hash, &rows) {
                    Ok((s, h)) => {
                        seq = s;
                        hash = h;
                    }
                    Err(b) => {
                        first_break = Some(b);
                        break;
                    }
                }
                if n < PAGE {
                    break;
                }
            }
            if first_break.is_none() {
                let (head_seq, head_hash): (i64, String) =
                    sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *$c).await?;
                first_break = if head_seq != seq {
                    Some(ChainBreak::Gap { expected: seq + 1, found: head_seq })
                } else if head_hash != hash {
                    Some(ChainBreak::Unlinked { seq: head_seq })
                } else {
                    None
                };
            }
            ChainReport { rows: seq, first_break }
        }};
    }
    let report = match db {
        // A read transaction on SQLite reads one snapshot of the WAL from its first read on.
        Db::Sqlite { read, .. } => {
            let mut tx = read.begin().await?;
            let report = walk!(tx);
            tx.rollback().await?;
            report
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
            let report = walk!(tx);
            tx.rollback().await?;
            report
        }
    };
    Ok(report)
}

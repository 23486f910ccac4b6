//! The outbox of notifications and the log of every delivery attempt.

use chrono::{DateTime, Utc};
use oversight_domain::message::{MessageChannel, MessageStatus};
use sqlx::AssertSqlSafe;

use crate::cases::{PARAMS_PER_STATEMENT, placeholders};
use crate::{Db, Result, Tx, on_db, on_tx};

/// A message to deliver.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub dedup_key: String,
    pub kind: String,
    #[sqlx(try_from = "String")]
    pub channel: MessageChannel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub ticket_no: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: MessageStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, dedup_key, kind, channel, recipient, subject, body, ticket_no, status, attempts,
    next_attempt_at, claimed_by, claimed_until, last_error, created_at, sent_at";

/// Queues messages; one whose `dedup_key` is queued already is left out. Returns how many
/// were queued.
pub async fn enqueue(tx: &mut Tx, messages: &[MessageRow]) -> Result<u64> {
    let mut queued = 0;
    for part in messages.chunks(PARAMS_PER_STATEMENT / 11) {
        let sql = format!(
            "INSERT INTO outbox (id, dedup_key, kind, channel, recipient, subject, body, ticket_no, status, attempts,
               next_attempt_at, created_at) VALUES {} ON CONFLICT (dedup_key) DO NOTHING",
            placeholders(tx, part.len(), 12)
        );
        queued += on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for m in part {
                q = q
                    .bind(&m.id)
                    .bind(&m.dedup_key)
                    .bind(&m.kind)
                    .bind(m.channel.as_str())
                    .bind(&m.recipient)
                    .bind(&m.subject)
                    .bind(&m.body)
                    .bind(&m.ticket_no)
                    .bind(m.status.as_str())
                    .bind(m.attempts)
                    .bind(m.next_attempt_at)
                    .bind(m.created_at);
            }
            q.execute(c).await?.rows_affected()
        });
    }
    Ok(queued)
}

/// Claims up to `limit` due messages for `owner` until `until`: a message claimed by a delivery
/// that never finished is due again once its claim lapses.
pub async fn claim(
    tx: &mut Tx,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<MessageRow>> {
    let due = "status = 'pending' AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)";
    let update = format!(
        "UPDATE outbox SET claimed_by = $1, claimed_until = $3
         WHERE {due} AND id IN (SELECT id FROM outbox WHERE {due} ORDER BY next_attempt_at LIMIT {limit})"
    );
    let select =
        format!("SELECT {COLUMNS} FROM outbox WHERE claimed_by = $1 AND claimed_until = $2 AND status = 'pending'");
    Ok(on_tx!(tx, |c| {
        sqlx::query(AssertSqlSafe(update)).bind(owner).bind(now).bind(until).execute(&mut *c).await?;
        sqlx::query_as(AssertSqlSafe(select)).bind(owner).bind(until).fetch_all(&mut *c).await?
    }))
}

/// Extends `owner`'s claim on a message to `until` when it still holds it (its claim has not
/// lapsed and nobody else took the message): only then may it be sent. A batch takes longer
/// than one claim when the channels are slow, so each message is held again just before it goes.
pub async fn hold_claim(
    tx: &mut Tx,
    message_id: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool> {
    let sql = "UPDATE outbox SET claimed_until = $4
               WHERE id = $1 AND claimed_by = $2 AND status = 'pending' AND claimed_until >= $3";
    let held = on_tx!(tx, |c| sqlx::query(sql)
        .bind(message_id)
        .bind(owner)
        .bind(now)
        .bind(until)
        .execute(c)
        .await?
        .rows_affected());
    Ok(held == 1)
}

/// Records an attempt by `owner` and its outcome: sent, due again at `retry_at`, or failed for
/// good. The attempt is always logged; the message changes only while `owner` holds its claim
/// (a delivery that outlived its claim does not overwrite what the one that took over did).
/// Returns whether it held.
pub async fn record_attempt(
    tx: &mut Tx,
    message_id: &str,
    owner: &str,
    attempt_id: &str,
    at: DateTime<Utc>,
    outcome: Result<(), (&str, Option<DateTime<Utc>>)>,
) -> Result<bool> {
    let (ok, detail) = match &outcome {
        Ok(()) => (true, "delivered".to_string()),
        Err((e, _)) => (false, e.to_string()),
    };
    let log = "INSERT INTO outbox_attempt (id, message_id, at, ok, detail) VALUES ($1, $2, $3, $4, $5)";
    on_tx!(tx, |c| sqlx::query(log)
        .bind(attempt_id)
        .bind(message_id)
        .bind(at)
        .bind(ok)
        .bind(&detail)
        .execute(c)
        .await?
        .rows_affected());
    let sql = match outcome {
        Ok(()) => {
            "UPDATE outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, claimed_until = NULL,
                     last_error = NULL WHERE id = $1 AND claimed_by = $5"
        }
        Err((_, Some(_))) => {
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $4, claimed_until = NULL,
                                last_error = $3 WHERE id = $1 AND claimed_by = $5"
        }
        Err((_, None)) => {
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, claimed_until = NULL,
                             last_error = $3 WHERE id = $1 AND claimed_by = $5"
        }
    };
    let retry_at = match outcome {
        Err((_, Some(t))) => t,
        _ => at,
    };
    let held = on_tx!(tx, |c| sqlx::query(sql)
        .bind(message_id)
        .bind(at)
        .bind(&detail)
        .bind(retry_at)
        .bind(owner)
        .execute(c)
        .await?
        .rows_affected());
    Ok(held == 1)
}

/// The latest messages, newest first; of one order when given.
pub async fn messages(db: &Db, ticket_no: Option<&str>, limit: i64) -> Result<Vec<MessageRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE ($1 = '' OR ticket_no = $1) ORDER BY created_at DESC, id LIMIT {}",
        limit.clamp(1, 1000)
    );
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(ticket_no.unwrap_or("")).fetch_all(c).await?))
}

/// One delivery attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub message_id: String,
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub detail: String,
}

pub async fn attempts(db: &Db, message_id: &str) -> Result<Vec<AttemptRow>> {
    let sql = "SELECT message_id, at, ok, detail FROM outbox_attempt WHERE message_id = $1 ORDER BY at, id";
    Ok(on_db!(db, |c| sqlx::query_as(sql).bind(message_id).fetch_all(c).await?))
}

/// Pending messages due by `at`: what the delivery loop sleeps until.
pub async fn next_due(db: &Db) -> Result<Option<DateTime<Utc>>> {
    let sql = "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'";
    Ok(on_db!(db, |c| sqlx::query_scalar(sql).fetch_one(c).await?))
}

/// The notification contacts of a unit.
pub async fn contacts(db: &Db, code: &str) -> Result<Option<(Option<String>, Option<String>)>> {
    let sql = "SELECT notify_email, notify_phone FROM org_unit WHERE code = $1";
    Ok(on_db!(db, |c| sqlx::query_as(sql).bind(code).fetch_optional(c).await?))
}

pub async fn set_contacts(tx: &mut Tx, code: &str, email: Option<&str>, phone: Option<&str>) -> Result<u64> {
    let sql = "UPDATE org_unit SET notify_email = $2, notify_phone = $3 WHERE code = $1";
    Ok(on_tx!(tx, |c| sqlx::query(sql).bind(code).bind(email).bind(phone).execute(c).await?.rows_affected()))
}

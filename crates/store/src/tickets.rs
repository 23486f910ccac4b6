//! Work orders of the hotline, and the counts behind `report tickets`.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use sqlx::AssertSqlSafe;

use crate::cases::{PARAMS_PER_STATEMENT, placeholders, select_in};
use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// A stored work order.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub ticket_no: String,
    pub channel: String,
    pub r#type: String,
    pub received_at: DateTime<Utc>,
    pub received_on: NaiveDate,
    pub subject_department_code: Option<String>,
    pub subject_venue_code: Option<String>,
    pub department_path: String,
    pub venue_path: String,
    pub summary: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_on: Option<NaiveDate>,
    pub satisfaction: Option<String>,
    pub source: String,
    pub created_at: DateTime<Utc>,
    /// `closed`, or `received` for an order still open when it was exported.
    pub status: String,
}

const COLUMNS: &str = "ticket_no, channel, type, received_at, received_on, subject_department_code, subject_venue_code,
    department_path, venue_path, summary, closed_at, closed_on, satisfaction, source, created_at, status";

/// The ticket numbers among `nos` already stored.
pub async fn known(tx: &mut Tx, nos: &[&str]) -> Result<Vec<String>> {
    let rows: Vec<(String,)> =
        select_in(tx, nos, |list| format!("SELECT ticket_no FROM work_order WHERE ticket_no IN {list}")).await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

pub async fn insert(tx: &mut Tx, rows: &[TicketRow]) -> Result<()> {
    for part in rows.chunks(PARAMS_PER_STATEMENT / 16) {
        let sql = format!("INSERT INTO work_order ({COLUMNS}) VALUES {}", placeholders(tx, part.len(), 16));
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for t in part {
                q = q
                    .bind(&t.ticket_no)
                    .bind(&t.channel)
                    .bind(&t.r#type)
                    .bind(t.received_at)
                    .bind(t.received_on)
                    .bind(&t.subject_department_code)
                    .bind(&t.subject_venue_code)
                    .bind(&t.department_path)
                    .bind(&t.venue_path)
                    .bind(&t.summary)
                    .bind(t.closed_at)
                    .bind(t.closed_on)
                    .bind(&t.satisfaction)
                    .bind(&t.source)
                    .bind(t.created_at)
                    .bind(&t.status);
            }
            q.execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

/// What `report tickets` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketGroup {
    Type,
    Channel,
    Department,
}

/// The counts of one group (or of all, with no key) of the orders received in a period.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct TicketCounts {
    pub key: Option<String>,
    pub received: i64,
    pub closed: i64,
    pub venue_complaints: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub unsatisfied: i64,
    pub unreachable: i64,
    /// Live orders whose sign-in is settled: signed, or past its time unsigned.
    pub sign_settled: i64,
    pub signed_on_time: i64,
    /// Live orders whose reply is settled: replied, or past its deadline unreplied.
    pub reply_settled: i64,
    pub replied_on_time: i64,
    /// Orders that reached a reply (or a visit), and those visited.
    pub replied: i64,
    pub visited: i64,
    /// Visited orders handled again at least once.
    pub redone: i64,
}

/// Counts over the orders received from `from` to `to` (local dates, both included) within the
/// scope; `closed` are those closed no later than `to`.
/// `until` is the instant up to which lateness counts (now); `before` the first day whose
/// deadline has not passed by then (today).
#[allow(clippy::too_many_arguments)]
pub async fn counts(
    db: &Db,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    until: DateTime<Utc>,
    before: NaiveDate,
    group: Option<TicketGroup>,
) -> Result<Vec<TicketCounts>> {
    let key = match group {
        None => "CAST(NULL AS TEXT)",
        Some(TicketGroup::Type) => "type",
        Some(TicketGroup::Channel) => "channel",
        Some(TicketGroup::Department) => "subject_department_code",
    };
    let filter = ScopeFilter::any(scope, &["department_path", "venue_path", "office_path"], 5);
    let count = |cond: &str| format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT)");
    let sql = format!(
        "SELECT {key} AS key, CAST(COUNT(*) AS BIGINT) AS received, {closed} AS closed,
           {venue} AS venue_complaints, {s} AS satisfied, {b} AS basically_satisfied, {u} AS unsatisfied,
           {n} AS unreachable, {ss} AS sign_settled, {st} AS signed_on_time, {rs} AS reply_settled,
           {rt} AS replied_on_time, {rp} AS replied, {vi} AS visited, {rd} AS redone
         FROM work_order WHERE received_on >= $1 AND received_on <= $2 AND {scope}
         GROUP BY {key}",
        closed = count("closed_on IS NOT NULL AND closed_on <= $2"),
        venue = count("type = 'complaint' AND subject_venue_code IS NOT NULL"),
        s = count("satisfaction = 'satisfied'"),
        b = count("satisfaction = 'basically_satisfied'"),
        u = count("satisfaction = 'unsatisfied'"),
        n = count("satisfaction = 'unreachable'"),
        ss = count("sign_due IS NOT NULL AND (signed_at IS NOT NULL OR sign_due < $3)"),
        st = count("signed_at IS NOT NULL AND signed_at <= sign_due"),
        rs = count("reply_due IS NOT NULL AND (replied_on IS NOT NULL OR reply_due < $4)"),
        rt = count("reply_due IS NOT NULL AND replied_on IS NOT NULL AND replied_on <= reply_due"),
        rp = count("replied_on IS NOT NULL OR satisfaction IS NOT NULL"),
        vi = count("satisfaction IS NOT NULL"),
        rd = count("satisfaction IS NOT NULL AND redo_count > 0"),
        scope = filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(from).bind(to).bind(until).bind(before);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

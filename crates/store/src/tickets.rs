//! Work orders of the hotline, and the counts behind `report tickets`.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use oversight_domain::ticket::{Channel, TicketType};
use oversight_domain::workorder::OrderStatus;
use sqlx::AssertSqlSafe;

use crate::cases::{PARAMS_PER_STATEMENT, placeholders, select_in};
use crate::orders::OrderRow;
use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// A work order as received: what it is, how it came in, about whom, and whether it is closed
/// (all a legacy export carries). A live order adds its flow ([`OrderRow`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub ticket_no: String,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    #[sqlx(try_from = "String")]
    pub r#type: TicketType,
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
    /// Closed, or received for an order still open when it was exported.
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
}

/// The ticket numbers among `nos` already stored.
pub async fn known(tx: &mut Tx, nos: &[&str]) -> Result<Vec<String>> {
    let rows: Vec<(String,)> =
        select_in(tx, nos, |list| format!("SELECT ticket_no FROM work_order WHERE ticket_no IN {list}")).await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

pub async fn insert(tx: &mut Tx, rows: &[TicketRow]) -> Result<()> {
    let rows: Vec<OrderRow> = rows.iter().map(OrderRow::from_ticket).collect();
    crate::orders::insert_many(tx, &rows).await
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

impl TicketCounts {
    /// Adds another group's counts to these (the key stays).
    pub fn add(&mut self, r: &TicketCounts) {
        self.received += r.received;
        self.closed += r.closed;
        self.venue_complaints += r.venue_complaints;
        self.satisfied += r.satisfied;
        self.basically_satisfied += r.basically_satisfied;
        self.unsatisfied += r.unsatisfied;
        self.unreachable += r.unreachable;
        self.sign_settled += r.sign_settled;
        self.signed_on_time += r.signed_on_time;
        self.reply_settled += r.reply_settled;
        self.replied_on_time += r.replied_on_time;
        self.replied += r.replied;
        self.visited += r.visited;
        self.redone += r.redone;
    }
}

/// The measures of one tally row: the table's columns, named as the figures.
const MEASURES: [&str; 13] = oversight_domain::ticket::CLOSED_COUNTS;

/// A closed order as the tally counts it.
#[derive(Debug, Clone)]
pub struct ClosedOrder {
    pub received_on: NaiveDate,
    pub closed_on: NaiveDate,
    pub r#type: TicketType,
    pub channel: Channel,
    pub department_code: String,
    pub department_path: String,
    pub venue_path: String,
    pub office_path: String,
    pub venue_named: bool,
    /// 1 or 0 for each of `domain::ticket::CLOSED_COUNTS`.
    pub flags: [i64; 13],
}

impl ClosedOrder {
    /// A closed order with its counts (`domain::ticket::closed_counts`); `None` while open.
    pub fn of(o: &crate::orders::OrderRow) -> Option<ClosedOrder> {
        let closed_on = o.closed_on.filter(|_| o.status == OrderStatus::Closed)?;
        let flags = oversight_domain::ticket::closed_counts(&oversight_domain::ticket::ClosedFacts {
            kind: o.r#type,
            venue_named: o.subject_venue_code.is_some(),
            satisfaction: o.satisfaction.as_deref(),
            sign_due: o.sign_due,
            signed_at: o.signed_at,
            reply_due: o.reply_due,
            replied_on: o.replied_on,
            redone: o.redo_count > 0,
        });
        Some(ClosedOrder {
            received_on: o.received_on,
            closed_on,
            r#type: o.r#type,
            channel: o.channel,
            department_code: o.subject_department_code.clone().unwrap_or_default(),
            department_path: o.department_path.clone(),
            venue_path: o.venue_path.clone(),
            office_path: o.office_path.clone(),
            venue_named: o.subject_venue_code.is_some(),
            flags,
        })
    }
}

type TallyKey = (String, String, String, String, String, String, String, String, i32);

/// Adds closed orders to the tallies: each in four rows (received by month and by day, each
/// closed by month and by day), summed in memory, then upserted in multi-row statements.
pub async fn tally_closed(tx: &mut Tx, orders: &[ClosedOrder]) -> Result<()> {
    let mut rows: std::collections::BTreeMap<TallyKey, [i64; 13]> = std::collections::BTreeMap::new();
    for o in orders {
        let received = [o.received_on.format("%Y-%m").to_string(), o.received_on.to_string()];
        let closed = [o.closed_on.format("%Y-%m").to_string(), o.closed_on.to_string()];
        for r in &received {
            for c in &closed {
                let key = (
                    r.clone(),
                    c.clone(),
                    o.r#type.as_str().to_string(),
                    o.channel.as_str().to_string(),
                    o.department_code.clone(),
                    o.department_path.clone(),
                    o.venue_path.clone(),
                    o.office_path.clone(),
                    i32::from(o.venue_named),
                );
                let m = rows.entry(key).or_insert([0; 13]);
                for (sum, flag) in m.iter_mut().zip(o.flags) {
                    *sum += flag;
                }
            }
        }
    }
    let rows: Vec<(TallyKey, [i64; 13])> = rows.into_iter().collect();
    let updates: Vec<String> = MEASURES.iter().map(|m| format!("{m} = ticket_tally.{m} + excluded.{m}")).collect();
    for part in rows.chunks(PARAMS_PER_STATEMENT / 22) {
        let sql = format!(
            "INSERT INTO ticket_tally (recv_period, closed_period, type, channel, department_code, department_path,
               venue_path, office_path, venue_named, {}) VALUES {}
             ON CONFLICT (recv_period, closed_period, type, channel, department_code, department_path, venue_path,
               office_path, venue_named) DO UPDATE SET {}",
            MEASURES.join(", "),
            placeholders(tx, part.len(), 22),
            updates.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (k, m) in part {
                q = q.bind(&k.0).bind(&k.1).bind(&k.2).bind(&k.3).bind(&k.4).bind(&k.5).bind(&k.6).bind(&k.7).bind(k.8);
                for x in m {
                    q = q.bind(*x);
                }
            }
            q.execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

/// Rebuilds the tallies from the closed orders (after a bulk load that bypassed them), with
/// the statements that filled them when the table was made.
pub async fn rebuild_tally(db: &Db) -> Result<()> {
    let migration = match db {
        Db::Sqlite { .. } => include_str!("../../../migrations/sqlite/0008_ticket_tally.sql"),
        Db::Postgres(_) => include_str!("../../../migrations/postgres/0008_ticket_tally.sql"),
    };
    crate::execute_raw(db, "DELETE FROM ticket_tally").await?;
    for statement in migration.split(";\n").filter(|s| s.trim_start().starts_with("INSERT INTO ticket_tally")) {
        crate::execute_raw(db, statement).await?;
    }
    Ok(())
}

const OPEN: &str = "status IN ('received', 'dispatched', 'signed', 'replied')";

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
    let mut merged: std::collections::BTreeMap<Option<String>, TicketCounts> = std::collections::BTreeMap::new();
    let open = open_counts(db, scope, from, to, until, before, group).await?;
    let closed = closed_counts(db, scope, from, to, group).await?;
    for r in open.into_iter().chain(closed) {
        let t =
            merged.entry(r.key.clone()).or_insert_with(|| TicketCounts { key: r.key.clone(), ..Default::default() });
        t.add(&r);
    }
    Ok(merged.into_values().collect())
}

/// The closed orders' counts, from the tallies: whole months of receipt and the days at the
/// ends; closed by `to` = closing months before `to`'s month, and closing days of that month up
/// to `to`. Only closing-month rows count the other measures, so nothing counts twice.
async fn closed_counts(
    db: &Db,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    group: Option<TicketGroup>,
) -> Result<Vec<TicketCounts>> {
    let key = match group {
        None => "CAST(NULL AS TEXT)",
        Some(TicketGroup::Type) => "type",
        Some(TicketGroup::Channel) => "channel",
        Some(TicketGroup::Department) => "NULLIF(department_code, '')",
    };
    let (month_from, month_to, span_from, span_to) = match crate::cases::whole_months(from, to) {
        Some((a, b)) => (a.format("%Y-%m").to_string(), b.format("%Y-%m").to_string(), a, b),
        None => ("9999-99".to_string(), "0000-00".to_string(), to.succ_opt().unwrap_or(to), to),
    };
    let first_of_to = to.format("%Y-%m-01").to_string();
    let filter = ScopeFilter::any(scope, &["department_path", "venue_path", "office_path"], 10);
    let sum = |m: &str| {
        format!("CAST(COALESCE(SUM(CASE WHEN length(closed_period) = 7 THEN {m} ELSE 0 END), 0) AS BIGINT) AS {m}")
    };
    let measures: Vec<String> = MEASURES.iter().map(|m| sum(m)).collect();
    let sql = format!(
        "SELECT {key} AS key, {measures},
           CAST(COALESCE(SUM(CASE WHEN length(closed_period) = 10 OR closed_period < $9 THEN received ELSE 0 END), 0)
             AS BIGINT) AS closed
         FROM ticket_tally
         WHERE ((length(recv_period) = 7 AND recv_period >= $1 AND recv_period <= $2)
             OR (length(recv_period) = 10 AND recv_period >= $3 AND recv_period < $4)
             OR (length(recv_period) = 10 AND recv_period > $5 AND recv_period <= $6))
           AND (length(closed_period) = 7 OR (closed_period >= $7 AND closed_period <= $8))
           AND {scope}
         GROUP BY {key}",
        measures = measures.join(", "),
        scope = filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql))
            .bind(month_from)
            .bind(month_to)
            .bind(from.to_string())
            .bind(span_from.to_string())
            .bind(span_to.to_string())
            .bind(to.to_string())
            .bind(first_of_to)
            .bind(to.to_string())
            .bind(to.format("%Y-%m").to_string());
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// The open orders' counts, from the orders themselves (the open ones are few).
#[allow(clippy::too_many_arguments)]
async fn open_counts(
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
         FROM work_order WHERE received_on >= $1 AND received_on <= $2 AND {open} AND {scope}
         GROUP BY {key}",
        open = OPEN,
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

/// The complaints received in a period, by their subject department: (department code, ticket
/// number), as the evaluation's `tickets.complaints` counts them, for the records a published
/// result keeps (read through the index by type and day of receipt).
pub async fn complaint_numbers(db: &Db, from: NaiveDate, to: NaiveDate) -> Result<Vec<(String, String)>> {
    let sql = "SELECT subject_department_code, ticket_no FROM work_order
               WHERE type = 'complaint' AND received_on >= $1 AND received_on <= $2
                 AND subject_department_code IS NOT NULL
               ORDER BY subject_department_code, ticket_no";
    Ok(on_db!(db, |c| sqlx::query_as(sql).bind(from).bind(to).fetch_all(c).await?))
}

/// The orders of the given numbers (those stored).
pub async fn orders_numbered(tx: &mut Tx, nos: &[&str]) -> Result<Vec<TicketRow>> {
    select_in(tx, nos, |list| {
        format!(
            "SELECT ticket_no, channel, type, received_at, received_on, subject_department_code, subject_venue_code,
                    department_path, venue_path, summary, closed_at, closed_on, satisfaction, source, created_at, status
             FROM work_order WHERE ticket_no IN {list}"
        )
    })
    .await
}

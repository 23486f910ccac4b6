//! The live work orders of the hotline: one row per order with its flow, and its timeline.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use sqlx::AssertSqlSafe;

use crate::bulk::{self, Cell, columns};
use crate::cases::{PARAMS_PER_STATEMENT, placeholders};
use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// A work order as stored, legacy or live: its ticket (what it is and how it came in, all a
/// legacy export carries; its fields read through, `order.ticket_no`), then its live flow and
/// its caller. Its status, type and channel are read typed: a stored word that is not one of ours
/// fails the read, where it is found.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    #[sqlx(flatten)]
    pub ticket: crate::tickets::TicketRow,
    pub version: i32,
    pub office_path: String,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub sign_due: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub handle_from: Option<NaiveDate>,
    pub reply_due: Option<NaiveDate>,
    pub return_by: Option<NaiveDate>,
    pub extension_days: i32,
    pub extension_pending: Option<i32>,
    pub returned_count: i32,
    pub replied_at: Option<DateTime<Utc>>,
    pub replied_on: Option<NaiveDate>,
    pub reply: Option<String>,
    pub visit_due: Option<NaiveDate>,
    pub redo_count: i32,
    pub escalated: bool,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub anonymous: bool,
    pub query_hash: Option<String>,
    pub token: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Some deadline counts days of a year not yet entered in the calendar.
    pub deadline_estimated: bool,
}

impl std::ops::Deref for OrderRow {
    type Target = crate::tickets::TicketRow;

    fn deref(&self) -> &Self::Target {
        &self.ticket
    }
}

impl std::ops::DerefMut for OrderRow {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.ticket
    }
}

impl OrderRow {
    /// An order as its ticket gives it (all a legacy export carries), with no live flow yet and
    /// no caller.
    pub fn from_ticket(t: &crate::tickets::TicketRow) -> OrderRow {
        OrderRow {
            ticket: t.clone(),
            version: 0,
            office_path: "/".into(),
            dispatched_at: None,
            sign_due: None,
            signed_at: None,
            handle_from: None,
            reply_due: None,
            return_by: None,
            extension_days: 0,
            extension_pending: None,
            returned_count: 0,
            replied_at: None,
            replied_on: None,
            reply: None,
            visit_due: None,
            redo_count: 0,
            escalated: false,
            caller_name: None,
            caller_phone: None,
            anonymous: false,
            query_hash: None,
            token: None,
            address: None,
            lat: None,
            lon: None,
            updated_at: None,
            deadline_estimated: false,
        }
    }
}

columns! {
    fn cells(o: &OrderRow) -> COLUMNS {
        "ticket_no" => Cell::Text(Some(&o.ticket_no)),
        "channel" => Cell::Text(Some(o.channel.as_str())),
        "type" => Cell::Text(Some(o.r#type.as_str())),
        "received_at" => Cell::Time(Some(o.received_at)),
        "received_on" => Cell::Date(Some(o.received_on)),
        "subject_department_code" => Cell::Text(o.subject_department_code.as_deref()),
        "subject_venue_code" => Cell::Text(o.subject_venue_code.as_deref()),
        "department_path" => Cell::Text(Some(&o.department_path)),
        "venue_path" => Cell::Text(Some(&o.venue_path)),
        "summary" => Cell::Text(Some(&o.summary)),
        "closed_at" => Cell::Time(o.closed_at),
        "closed_on" => Cell::Date(o.closed_on),
        "satisfaction" => Cell::Text(o.satisfaction.as_deref()),
        "source" => Cell::Text(Some(&o.source)),
        "created_at" => Cell::Time(Some(o.created_at)),
        "status" => Cell::Text(Some(o.status.as_str())),
        "version" => Cell::Int(Some(o.version)),
        "office_path" => Cell::Text(Some(&o.office_path)),
        "dispatched_at" => Cell::Time(o.dispatched_at),
        "sign_due" => Cell::Time(o.sign_due),
        "signed_at" => Cell::Time(o.signed_at),
        "handle_from" => Cell::Date(o.handle_from),
        "reply_due" => Cell::Date(o.reply_due),
        "return_by" => Cell::Date(o.return_by),
        "extension_days" => Cell::Int(Some(o.extension_days)),
        "extension_pending" => Cell::Int(o.extension_pending),
        "returned_count" => Cell::Int(Some(o.returned_count)),
        "replied_at" => Cell::Time(o.replied_at),
        "replied_on" => Cell::Date(o.replied_on),
        "reply" => Cell::Text(o.reply.as_deref()),
        "visit_due" => Cell::Date(o.visit_due),
        "redo_count" => Cell::Int(Some(o.redo_count)),
        "escalated" => Cell::Bool(Some(o.escalated)),
        "caller_name" => Cell::Text(o.caller_name.as_deref()),
        "caller_phone" => Cell::Text(o.caller_phone.as_deref()),
        "anonymous" => Cell::Bool(Some(o.anonymous)),
        "query_hash" => Cell::Text(o.query_hash.as_deref()),
        "token" => Cell::Text(o.token.as_deref()),
        "address" => Cell::Text(o.address.as_deref()),
        "lat" => Cell::Float(o.lat),
        "lon" => Cell::Float(o.lon),
        "updated_at" => Cell::Time(o.updated_at),
        "deadline_estimated" => Cell::Bool(Some(o.deadline_estimated)),
    }
}

/// The columns an order's flow changes (the rest is fixed when it is taken).
const FLOW_COLUMNS: &[&str] = &[
    "status",
    "subject_department_code",
    "department_path",
    "dispatched_at",
    "sign_due",
    "signed_at",
    "handle_from",
    "reply_due",
    "return_by",
    "extension_days",
    "extension_pending",
    "returned_count",
    "replied_at",
    "replied_on",
    "reply",
    "visit_due",
    "redo_count",
    "escalated",
    "satisfaction",
    "closed_at",
    "closed_on",
    "updated_at",
    "deadline_estimated",
];

/// The cells of [`FLOW_COLUMNS`], taken from the row's cells.
fn flow_cells(o: &OrderRow) -> Vec<Cell<'_>> {
    let all = cells(o);
    FLOW_COLUMNS
        .iter()
        .map(|c| all[COLUMNS.iter().position(|x| x == c).expect("a flow column is a column of work_order")])
        .collect()
}

/// `SELECT` every column of `work_order` `{rest}`.
fn select(rest: &str) -> String {
    format!("SELECT {} FROM work_order {rest}", COLUMNS.join(", "))
}

/// Takes the next `count` numbers of the day `day` (`YYYYMMDD`); returns the last of them.
pub async fn take_numbers(tx: &mut Tx, day: &str, count: i64) -> Result<i64> {
    let sql = "INSERT INTO order_counter (day, n) VALUES ($1, $2)
               ON CONFLICT (day) DO UPDATE SET n = order_counter.n + $2 RETURNING n";
    Ok(on_tx!(tx, |c| sqlx::query_scalar(sql).bind(day).bind(count).fetch_one(c).await?))
}

/// Stores new live orders.
pub async fn insert_many(tx: &mut Tx, rows: &[OrderRow]) -> Result<()> {
    bulk::write_rows(tx, &format!("work_order ({})", COLUMNS.join(", ")), "", rows, cells).await?;
    Ok(())
}

/// Writes the flow of `o` if nobody changed the order since it was read (its `version`);
/// false when somebody did.
pub async fn update_flow(tx: &mut Tx, o: &OrderRow) -> Result<bool> {
    let key = [Cell::Text(Some(&o.ticket_no)), Cell::Int(Some(o.version))];
    let changed = bulk::update(
        tx,
        "work_order",
        (FLOW_COLUMNS, &flow_cells(o)),
        ", version = version + 1",
        (&["ticket_no", "version"], &key),
    )
    .await?;
    Ok(changed == 1)
}

pub async fn order(db: &Db, ticket_no: &str) -> Result<Option<OrderRow>> {
    let sql = select("WHERE ticket_no = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(ticket_no).fetch_optional(c).await?))
}

pub async fn order_tx(tx: &mut Tx, ticket_no: &str) -> Result<Option<OrderRow>> {
    let sql = select("WHERE ticket_no = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(ticket_no).fetch_optional(c).await?))
}

pub async fn by_token(db: &Db, token: &str) -> Result<Option<OrderRow>> {
    let sql = select("WHERE token = $1");
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(token).fetch_optional(c).await?))
}

/// One step of an order's timeline.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StepRow {
    pub id: String,
    pub ticket_no: String,
    pub step: String,
    pub note: String,
    pub detail: String,
    pub actor: String,
    pub actor_name: String,
    pub at: DateTime<Utc>,
}

pub async fn insert_step(tx: &mut Tx, s: &StepRow) -> Result<()> {
    insert_steps(tx, std::slice::from_ref(s)).await
}

pub async fn insert_steps(tx: &mut Tx, steps: &[StepRow]) -> Result<()> {
    for part in steps.chunks(PARAMS_PER_STATEMENT / 8) {
        let sql = format!(
            "INSERT INTO work_order_step (id, ticket_no, step, note, detail, actor, actor_name, at) VALUES {}",
            placeholders(tx, part.len(), 8)
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for s in part {
                q = q
                    .bind(&s.id)
                    .bind(&s.ticket_no)
                    .bind(&s.step)
                    .bind(&s.note)
                    .bind(&s.detail)
                    .bind(&s.actor)
                    .bind(&s.actor_name)
                    .bind(s.at);
            }
            q.execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

pub async fn steps(db: &Db, ticket_no: &str) -> Result<Vec<StepRow>> {
    let sql = "SELECT id, ticket_no, step, note, detail, actor, actor_name, at FROM work_order_step
               WHERE ticket_no = $1 ORDER BY at, id";
    Ok(on_db!(db, |c| sqlx::query_as(sql).bind(ticket_no).fetch_all(c).await?))
}

/// Which orders a list shows. Every condition is optional; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub statuses: Vec<String>,
    /// Late at `now`: signing, replying or visiting past its due time.
    pub late: bool,
    pub escalated: bool,
    pub extension_pending: bool,
    pub returned: bool,
    pub caller_phone: Option<String>,
    pub types: Vec<String>,
    pub channel: Option<String>,
    pub department_code: Option<String>,
    pub ticket_nos: Vec<String>,
    /// Received from this instant (included) to that one (excluded).
    pub received_from: Option<DateTime<Utc>>,
    pub received_before: Option<DateTime<Utc>>,
    /// Closed by the end of this local date (the completion-rate drill-down).
    pub closed_by: Option<NaiveDate>,
    pub satisfaction: Option<String>,
    /// Replies due on or before this local date.
    pub reply_due_by: Option<NaiveDate>,
    pub venue_named: bool,
    /// Only orders after this one in the list's order (received later first, then by number):
    /// the next page after an order.
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: i64,
}

impl OrderFilter {
    /// The filter of the page after `page`, or `None` when `page` was the last.
    pub fn next_page(&self, page: &[OrderRow]) -> Option<OrderFilter> {
        let last = page.last().filter(|_| page.len() as i64 >= self.limit.clamp(1, MAX_PAGE))?;
        Some(OrderFilter { after: Some((last.received_at, last.ticket_no.clone())), ..self.clone() })
    }
}

/// The most orders one call of [`list`] gives; [`OrderFilter::next_page`] gives the rest.
pub const MAX_PAGE: i64 = 10_000;

/// The orders in `scope` that pass `filter`, newest first.
pub async fn list(
    db: &Db,
    scope: &Scope,
    filter: &OrderFilter,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<Vec<OrderRow>> {
    // $1 now, $2 today, $3 received from, $4 received before, $5 closed by, $6 reply due by,
    // $7 the page's start; then text binds.
    let far_past: DateTime<Utc> = "1900-01-01T00:00:00Z".parse().expect("a valid instant");
    let far_future: DateTime<Utc> = "9999-01-01T00:00:00Z".parse().expect("a valid instant");
    let scope_filter = ScopeFilter::any(scope, &["department_path", "venue_path", "office_path"], 8);
    let mut next = scope_filter.next_param(8);
    let mut texts: Vec<String> = scope_filter.binds.clone();
    let mut conds: Vec<String> = vec![scope_filter.sql.clone()];
    let mut text_in = |column: &str, values: &[String], conds: &mut Vec<String>| {
        if values.is_empty() {
            return;
        }
        let marks: Vec<String> = values
            .iter()
            .map(|v| {
                texts.push(v.clone());
                next += 1;
                format!("${}", next - 1)
            })
            .collect();
        conds.push(format!("{column} IN ({})", marks.join(", ")));
    };
    text_in("status", &filter.statuses, &mut conds);
    text_in("type", &filter.types, &mut conds);
    text_in("ticket_no", &filter.ticket_nos, &mut conds);
    text_in("caller_phone", filter.caller_phone.as_slice(), &mut conds);
    text_in("channel", filter.channel.as_slice(), &mut conds);
    text_in("subject_department_code", filter.department_code.as_slice(), &mut conds);
    text_in("satisfaction", filter.satisfaction.as_slice(), &mut conds);
    if filter.late {
        conds.push(
            "((status = 'dispatched' AND sign_due < $1) OR (status = 'signed' AND reply_due < $2)
              OR (status = 'replied' AND visit_due < $2))"
                .into(),
        );
    }
    if filter.escalated {
        conds.push("escalated AND status <> 'closed'".into());
    }
    if filter.extension_pending {
        conds.push("extension_pending IS NOT NULL".into());
    }
    if filter.returned {
        conds.push("returned_count > 0".into());
    }
    if filter.venue_named {
        conds.push("subject_venue_code IS NOT NULL".into());
    }
    if filter.reply_due_by.is_some() {
        conds.push("reply_due <= $6".into());
    }
    if filter.closed_by.is_some() {
        conds.push("closed_on IS NOT NULL AND closed_on <= $5".into());
    }
    conds.push("received_at >= $3 AND received_at < $4".into());
    if let Some((_, ticket_no)) = &filter.after {
        texts.push(ticket_no.clone());
        conds.push(format!("(received_at < $7 OR (received_at = $7 AND ticket_no < ${next}))"));
    }
    let sql = select(&format!(
        "WHERE {} ORDER BY received_at DESC, ticket_no DESC LIMIT {}",
        conds.join(" AND "),
        filter.limit.clamp(1, MAX_PAGE)
    ));
    let closed_by = filter.closed_by.unwrap_or(today);
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql))
            .bind(now)
            .bind(today)
            .bind(filter.received_from.unwrap_or(far_past))
            .bind(filter.received_before.unwrap_or(far_future))
            .bind(closed_by)
            .bind(filter.reply_due_by.unwrap_or(today))
            .bind(filter.after.as_ref().map_or(far_future, |(at, _)| *at));
        for t in &texts {
            q = q.bind(t.clone());
        }
        q.fetch_all(c).await?
    }))
}

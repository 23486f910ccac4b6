//! The follow-ups of bad ratings (差评整改) and their steps.

use chrono::{DateTime, NaiveDate, Utc};
use oversight_domain::access::Scope;
use sqlx::AssertSqlSafe;

use crate::bulk::{self, Cell, columns};
use crate::cases::select_in;
use crate::{Db, Result, ScopeFilter, Tx, on_db, on_tx};

/// A follow-up as stored: the bad rating, the limits, how far the department got.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowUpRow {
    pub case_no: String,
    pub level: i32,
    pub rated_on: NaiveDate,
    pub contact_due: NaiveDate,
    pub rectify_due: NaiveDate,
    /// A `FollowUpState` word.
    pub state: String,
    pub contacted_on: Option<NaiveDate>,
    pub replied_on: Option<NaiveDate>,
    pub verified_on: Option<NaiveDate>,
    /// An `AppealState` word, when the department appealed.
    pub appeal: Option<String>,
    pub item_code: Option<String>,
    pub department_code: Option<String>,
    pub venue_code: Option<String>,
    /// The case's venue and the item's department: both see the follow-up.
    pub path: String,
    pub department_path: String,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The day what the department owes becomes overdue and raises its alert (none when
    /// nothing is owed, or once its alert is raised).
    pub alert_on: Option<NaiveDate>,
}

columns! {
    fn follow_up_cells(r: &FollowUpRow) -> FOLLOW_UP_COLUMN_NAMES {
        "case_no" => Cell::Text(Some(&r.case_no)),
        "level" => Cell::Int(Some(r.level)),
        "rated_on" => Cell::Date(Some(r.rated_on)),
        "contact_due" => Cell::Date(Some(r.contact_due)),
        "rectify_due" => Cell::Date(Some(r.rectify_due)),
        "state" => Cell::Text(Some(&r.state)),
        "contacted_on" => Cell::Date(r.contacted_on),
        "replied_on" => Cell::Date(r.replied_on),
        "verified_on" => Cell::Date(r.verified_on),
        "appeal" => Cell::Text(r.appeal.as_deref()),
        "item_code" => Cell::Text(r.item_code.as_deref()),
        "department_code" => Cell::Text(r.department_code.as_deref()),
        "venue_code" => Cell::Text(r.venue_code.as_deref()),
        "path" => Cell::Text(Some(&r.path)),
        "department_path" => Cell::Text(Some(&r.department_path)),
        "opened_at" => Cell::Time(Some(r.opened_at)),
        "updated_at" => Cell::Time(Some(r.updated_at)),
        "alert_on" => Cell::Date(r.alert_on),
    }
}

fn columns() -> String {
    FOLLOW_UP_COLUMN_NAMES.join(", ")
}

/// The columns a new bad rating resets when it reopens a follow-up its applicant had closed by
/// changing the rating (every column but the case's).
const REOPENED: &[&str] = &[
    "level",
    "rated_on",
    "contact_due",
    "rectify_due",
    "state",
    "contacted_on",
    "replied_on",
    "verified_on",
    "appeal",
    "opened_at",
    "updated_at",
    "alert_on",
];

/// Opens the follow-ups of these bad ratings: a case with one already keeps it, unless its
/// applicant had closed it by changing the rating (`superseded`), which the new one reopens.
pub async fn open(tx: &mut Tx, rows: &[FollowUpRow]) -> Result<u64> {
    let set: Vec<String> = REOPENED.iter().map(|c| format!("{c} = excluded.{c}")).collect();
    bulk::write_rows(
        tx,
        &format!("rating_followup ({})", columns()),
        &format!("ON CONFLICT (case_no) DO UPDATE SET {} WHERE rating_followup.state = 'superseded'", set.join(", ")),
        rows,
        follow_up_cells,
    )
    .await
}

/// Closes the open follow-ups of these cases, whose rating is no longer bad.
pub async fn supersede(tx: &mut Tx, case_nos: &[&str], now: DateTime<Utc>) -> Result<Vec<String>> {
    let open: Vec<(String,)> = select_in(tx, case_nos, |list| {
        format!(
            "SELECT case_no FROM rating_followup
             WHERE case_no IN {list} AND state IN ('open', 'contacted', 'replied')"
        )
    })
    .await?;
    for (case_no,) in &open {
        bulk::update(
            tx,
            "rating_followup",
            (
                &["state", "updated_at", "alert_on"],
                &[Cell::Text(Some("superseded")), Cell::Time(Some(now)), Cell::Date(None)],
            ),
            "",
            (&["case_no"], &[Cell::Text(Some(case_no))]),
        )
        .await?;
    }
    Ok(open.into_iter().map(|(c,)| c).collect())
}

pub async fn follow_up(db: &Db, case_no: &str) -> Result<Option<FollowUpRow>> {
    let sql = format!("SELECT {} FROM rating_followup WHERE case_no = $1", columns());
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(case_no).fetch_optional(c).await?))
}

/// The follow-up, read inside a transaction that will change it.
pub async fn follow_up_in(tx: &mut Tx, case_no: &str) -> Result<Option<FollowUpRow>> {
    let sql = format!("SELECT {} FROM rating_followup WHERE case_no = $1", columns());
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(case_no).fetch_optional(c).await?))
}

/// Stores a follow-up's new state (every column but the case's).
pub async fn save(tx: &mut Tx, r: &FollowUpRow) -> Result<()> {
    let cells = follow_up_cells(r);
    bulk::update(tx, "rating_followup", (&FOLLOW_UP_COLUMN_NAMES[1..], &cells[1..]), "", (&["case_no"], &cells[..1]))
        .await?;
    Ok(())
}

/// The follow-ups whose alert day has come by `today`, the earliest first, at most `limit`.
pub async fn due_follow_ups(tx: &mut Tx, today: NaiveDate, limit: i64) -> Result<Vec<FollowUpRow>> {
    let sql =
        format!("SELECT {} FROM rating_followup WHERE alert_on <= $1 ORDER BY alert_on, case_no LIMIT $2", columns());
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(today).bind(limit).fetch_all(c).await?))
}

/// Forgets the alert day of these follow-ups: their alerts are raised.
pub async fn alerted(tx: &mut Tx, case_nos: &[&str]) -> Result<()> {
    for case_no in case_nos {
        bulk::update(
            tx,
            "rating_followup",
            (&["alert_on"], &[Cell::Date(None)]),
            "",
            (&["case_no"], &[Cell::Text(Some(case_no))]),
        )
        .await?;
    }
    Ok(())
}

/// Which follow-ups to list.
#[derive(Debug, Clone, Default)]
pub struct FollowUpFilter {
    /// `FollowUpState` words; empty: any.
    pub states: Vec<String>,
    /// Only those with an appeal awaiting the office's decision.
    pub appeal_pending: bool,
    /// Only those whose owed step (contact, rectification) is past its due day on this day.
    pub overdue_on: Option<NaiveDate>,
    pub department_code: Option<String>,
    pub venue_code: Option<String>,
    pub item_code: Option<String>,
}

/// The follow-ups in the scope (the case's venue or the item's department), the oldest rating
/// first, at most `limit`.
pub async fn follow_ups(db: &Db, scope: &Scope, filter: &FollowUpFilter, limit: i64) -> Result<Vec<FollowUpRow>> {
    let mut conditions = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut next = 2;
    if !filter.states.is_empty() {
        let marks: Vec<String> = (0..filter.states.len()).map(|i| format!("${}", next + i)).collect();
        conditions.push(format!("state IN ({})", marks.join(", ")));
        next += filter.states.len();
        texts.extend(filter.states.iter().cloned());
    }
    if filter.appeal_pending {
        conditions.push("appeal = 'pending'".to_string());
    }
    for (column, code) in [
        ("department_code", &filter.department_code),
        ("venue_code", &filter.venue_code),
        ("item_code", &filter.item_code),
    ] {
        if let Some(code) = code {
            conditions.push(format!("{column} = ${next}"));
            next += 1;
            texts.push(code.clone());
        }
    }
    let overdue = filter.overdue_on.is_some();
    if overdue {
        conditions.push(format!(
            "((state = 'open' AND contact_due < ${next}) OR (state = 'contacted' AND rectify_due < ${next}))"
        ));
        next += 1;
    }
    let scope_filter = ScopeFilter::any(scope, &["path", "department_path"], next);
    conditions.push(scope_filter.sql.clone());
    let sql = format!(
        "SELECT {} FROM rating_followup WHERE {} ORDER BY rated_on, case_no LIMIT $1",
        columns(),
        conditions.join(" AND ")
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(limit);
        for t in &texts {
            q = q.bind(t.clone());
        }
        if let Some(day) = filter.overdue_on {
            q = q.bind(day);
        }
        for b in &scope_filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// How many follow-ups in the scope stand in each state (open ones past due counted apart).
pub async fn state_counts(db: &Db, scope: &Scope, today: NaiveDate) -> Result<Vec<(String, bool, i64)>> {
    let filter = ScopeFilter::any(scope, &["path", "department_path"], 2);
    let sql = format!(
        "SELECT state,
           CASE WHEN (state = 'open' AND contact_due < $1) OR (state = 'contacted' AND rectify_due < $1)
                THEN TRUE ELSE FALSE END AS overdue,
           COUNT(*)
         FROM rating_followup WHERE {} GROUP BY 1, 2",
        filter.sql
    );
    Ok(on_db!(db, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(today);
        for b in &filter.binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(c).await?
    }))
}

/// A step taken on a follow-up.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StepRow {
    pub id: String,
    pub case_no: String,
    /// A `FollowUpStep` word.
    pub step: String,
    pub on_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_name: String,
    pub note: String,
    /// The names of the evidence attached, one per line.
    pub evidence: String,
}

columns! {
    fn step_cells(r: &StepRow) -> STEP_COLUMN_NAMES {
        "id" => Cell::Text(Some(&r.id)),
        "case_no" => Cell::Text(Some(&r.case_no)),
        "step" => Cell::Text(Some(&r.step)),
        "on_date" => Cell::Date(Some(r.on_date)),
        "at" => Cell::Time(Some(r.at)),
        "actor" => Cell::Text(Some(&r.actor)),
        "actor_name" => Cell::Text(Some(&r.actor_name)),
        "note" => Cell::Text(Some(&r.note)),
        "evidence" => Cell::Text(Some(&r.evidence)),
    }
}

pub async fn insert_steps(tx: &mut Tx, steps: &[StepRow]) -> Result<()> {
    bulk::write_rows(tx, &format!("rating_followup_step ({})", STEP_COLUMN_NAMES.join(", ")), "", steps, step_cells)
        .await?;
    Ok(())
}

/// The steps of a follow-up, in the order taken.
pub async fn steps(db: &Db, case_no: &str) -> Result<Vec<StepRow>> {
    let sql =
        format!("SELECT {} FROM rating_followup_step WHERE case_no = $1 ORDER BY at, id", STEP_COLUMN_NAMES.join(", "));
    Ok(on_db!(db, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(case_no).fetch_all(c).await?))
}

/// Sets what a case's bad rating counts as (`Standing::as_str`).
pub async fn set_standing(tx: &mut Tx, case_no: &str, standing: &str) -> Result<()> {
    bulk::update(
        tx,
        "case_record",
        (&["rating_standing"], &[Cell::Text(Some(standing))]),
        "",
        (&["case_no"], &[Cell::Text(Some(case_no))]),
    )
    .await?;
    Ok(())
}

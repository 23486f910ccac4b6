//! Performance evaluation (绩效考评): a scheme run over a period, every indicator's value taken
//! from the reports the system already gives (docs/evaluation.md).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use oversight_domain::RowError;
use oversight_domain::access::{Action, Grant, Grants, Role, Scope};
use oversight_domain::evaluation::{
    DepartmentResult, Departments, Entered, Indicator, Movement, OrderCounts, Scheme, SchemeText, Source, evaluate,
    exclude_overdue_case, movements,
};
use oversight_domain::org::{OrgKind, OrgPath};
use oversight_domain::ticket::TicketType;
use oversight_store::audit::{self, NewAudit};
use oversight_store::cases::GroupBy;
use oversight_store::evaluations::{self as store, AppealRow, ManualRow, ResultRow, SchemeRow};
use oversight_store::tickets::TicketGroup;
use oversight_store::{cases as case_store, network as network_store, supervision as supervision_store};
use serde_json::json;

use crate::tasks::TaskGroupBy;
use crate::{Actor, App, AppError};

pub mod self_assessment;

/// Reads a scheme from its TOML text and checks it whole.
pub fn parse_scheme(text: &str) -> Result<Scheme, AppError> {
    let written: SchemeText =
        toml::from_str(text).map_err(|e| AppError::field("scheme", format!("不是有效的考评方案（TOML）：{e}")))?;
    Scheme::parse(written).map_err(AppError::Invalid)
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvaluationResult {
    pub scheme: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub departments: Vec<DepartmentResult>,
}

type Values = BTreeMap<String, BTreeMap<Source, Option<f64>>>;

/// Runs a scheme over the period for the departments it names (in the actor's scope); manual
/// indicators score 0 (no points entered: the command line's and the API's run).
pub async fn run(
    app: &App,
    actor: &Actor,
    scheme: &Scheme,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<EvaluationResult, AppError> {
    run_adjusted(app, actor, scheme, from, to, &Adjust::default()).await
}

/// What a saved scheme's runs over a period take beside the records: the office's entered
/// points for manual indicators, and the records upheld appeals excluded.
#[derive(Debug, Clone, Default)]
pub struct Adjust {
    pub entered: Entered,
    /// (department code, record kind, record id).
    pub excluded: BTreeSet<(String, String, String)>,
}

/// The kind of record a department may contest: an overdue case it says was not its delay.
pub const OVERDUE_CASE: &str = "overdue_case";
/// The kind of a complaint counted in `tickets.complaints` (its ticket number), in the records
/// a result keeps and in appeals ("this complaint was about another department").
pub const COMPLAINT: &str = "complaint";

/// Runs a scheme with the office's entered points and the excluded records.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
async fn run_adjusted(
    app: &App,
    actor: &Actor,
    scheme: &Scheme,
    from: NaiveDate,
    to: NaiveDate,
    adjust: &Adjust,
) -> Result<EvaluationResult, AppError> {
    if to < from {
        return Err(AppError::field("to", "结束日期早于开始日期"));
    }
    let units: Vec<(String, String, OrgPath)> = network_store::all_units(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.kind == OrgKind::Department)
        .map(|u| (u.code.as_str().to_string(), u.name, u.path))
        .collect();
    let chosen: Vec<(String, String, OrgPath)> = match &scheme.departments {
        Departments::All => {
            units.into_iter().filter(|(_, _, p)| actor.may(oversight_domain::access::Action::View, p)).collect()
        }
        Departments::Listed(codes) => {
            let mut out = Vec::new();
            for code in codes {
                let unit = units
                    .iter()
                    .find(|(c, _, p)| c == code && actor.may(oversight_domain::access::Action::View, p))
                    .ok_or_else(|| AppError::field("departments", format!("部门 {code} 不存在或不在您的范围内")))?;
                out.push(unit.clone());
            }
            out
        }
    };
    let mut values: Values = chosen.iter().map(|(c, _, _)| (c.clone(), BTreeMap::new())).collect();
    let mut set = |code: &str, source: Source, value: Option<f64>| {
        if let Some(v) = values.get_mut(code) {
            v.insert(source, value);
        }
    };
    let count = |n: i64| Some(n as f64);

    // Every department starts at zero counts and rates without denominator.
    for (code, _, _) in &chosen {
        for (_, source) in Source::ALL {
            set(code, source, if source.is_rate() || source == Source::Manual { None } else { Some(0.0) });
        }
    }
    // Cases: the overdue report by the item's department.
    let cases = crate::cases::case_report(app, actor, from, to, &[], Some(GroupBy::Department)).await?;
    for g in &cases.groups {
        set(&g.key, Source::CasesSettled, count(g.settled));
        set(&g.key, Source::CasesOverdue, count(g.overdue));
        set(&g.key, Source::CasesOverdueRate, g.overdue_rate);
    }
    for (dept, n) in case_store::settled_with_anomalies(&app.db, from, to, app.today()).await? {
        set(dept.as_deref().unwrap_or_default(), Source::CasesAnomalies, count(n));
    }
    // Work orders whose subject department is the department; a complaint an upheld appeal
    // excluded (it was about another department) is none of its orders.
    let until = app.now();
    let before = app.local_date(until);
    let excluded_complaints = excluded_complaints(app, adjust, from, to).await?;
    for (code, _, path) in &chosen {
        let scope = Scope::Subtrees(vec![path.clone()]);
        let rows =
            oversight_store::tickets::counts(&app.db, &scope, from, to, until, before, Some(TicketGroup::Type)).await?;
        let sum = |f: fn(&oversight_store::tickets::TicketCounts) -> i64| rows.iter().map(f).sum::<i64>();
        let mut counts = OrderCounts {
            received: sum(|r| r.received),
            closed: sum(|r| r.closed),
            complaints: rows
                .iter()
                .filter(|r| r.key.as_deref() == Some(TicketType::Complaint.as_str()))
                .map(|r| r.received)
                .sum(),
            satisfied: sum(|r| r.satisfied),
            basically_satisfied: sum(|r| r.basically_satisfied),
            unsatisfied: sum(|r| r.unsatisfied),
        };
        for t in excluded_complaints.iter().filter(|t| t.subject_department_code.as_deref() == Some(code)) {
            let satisfaction = t.satisfaction.as_deref().and_then(oversight_domain::ticket::Satisfaction::parse);
            counts.exclude_complaint(t.closed_on.is_some_and(|d| d <= to), satisfaction);
        }
        for (source, value) in counts.values() {
            set(code, source, value);
        }
    }
    // Key tasks led by the department.
    let tasks = crate::tasks::task_report(app, actor, from, to, Some(TaskGroupBy::LeadDepartment)).await?;
    for g in &tasks.groups {
        set(&g.key, Source::TasksVerified, count(g.figures.counts.verified));
        set(&g.key, Source::TasksOnTimeRate, g.figures.on_time_rate);
        set(&g.key, Source::TasksRed, count(g.figures.counts.red));
    }
    // Ratings of the cases completed in the period, by the item's department.
    let ratings = crate::ratings::rating_report(app, actor, from, to, Some(GroupBy::Department)).await?;
    for g in &ratings.groups {
        set(&g.key, Source::RatingsRated, count(g.figures.counts.rated));
        set(&g.key, Source::RatingsGoodRate, g.figures.good_rate);
        set(&g.key, Source::RatingsBad, count(g.figures.counts.bad));
        set(&g.key, Source::RatingsBadRectificationRate, g.figures.bad_rectification_rate);
    }
    // Supervision notices and cards in the period (local days from `from` to `to`).
    let (start, end) = (app.start_of(from), app.start_of(to + Days::new(1)));
    for (dept, n) in supervision_store::notices_by_department(&app.db, start, end).await? {
        set(dept.as_deref().unwrap_or_default(), Source::SupervisionNotices, count(n));
    }
    for (dept, step, n) in supervision_store::cards_by_department(&app.db, start, end).await? {
        let source = if step == "red_card" { Source::SupervisionRedCards } else { Source::SupervisionYellowCards };
        set(dept.as_deref().unwrap_or_default(), source, count(n));
    }
    // Findings naming the department, made in the period (the inspections report's).
    let inspections =
        crate::inspection_report::inspection_report(app, actor, from, to, Some(GroupBy::Department)).await?;
    for g in &inspections.groups {
        set(&g.key, Source::InspectionsFindings, count(g.counts.findings as i64));
        set(&g.key, Source::InspectionsMajorFindings, count(g.counts.serious as i64));
        set(&g.key, Source::InspectionsRectifiedOnTimeRate, g.counts.on_time_rate());
    }
    // An overdue case an upheld appeal excluded counts neither as settled nor as overdue.
    if !adjust.excluded.is_empty() {
        let overdue: BTreeSet<(String, String)> = overdue_cases(app, actor, from, to).await?.into_iter().collect();
        for (department, kind, record) in &adjust.excluded {
            if kind == OVERDUE_CASE
                && overdue.contains(&(department.clone(), record.clone()))
                && let Some(v) = values.get_mut(department)
            {
                exclude_overdue_case(v);
            }
        }
    }
    let departments: Vec<(String, String)> = chosen.into_iter().map(|(c, n, _)| (c, n)).collect();
    let departments = evaluate(scheme, &departments, &values, &adjust.entered);
    Ok(EvaluationResult { scheme: scheme.name.clone(), from, to, departments })
}

/// The overdue cases of the period the actor sees, as the cases report counts them: (department
/// code, case number).
async fn overdue_cases(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, String)>, AppError> {
    let rows = case_store::overdue_case_numbers(&app.db, &actor.scope(), from, to, app.today()).await?;
    Ok(rows.into_iter().filter_map(|(d, c)| d.map(|d| (d, c))).collect())
}

/// The complaints upheld appeals excluded that `tickets.*` counted for their department over
/// the period: received in it, of type complaint, still about the department appealed for.
async fn excluded_complaints(
    app: &App,
    adjust: &Adjust,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<oversight_store::tickets::TicketRow>, AppError> {
    let wanted: Vec<(&str, &str)> = adjust
        .excluded
        .iter()
        .filter(|(_, kind, _)| kind == COMPLAINT)
        .map(|(d, _, no)| (d.as_str(), no.as_str()))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let nos: Vec<&str> = wanted.iter().map(|(_, no)| *no).collect();
    let mut tx = app.db.begin().await?;
    let rows = oversight_store::tickets::orders_numbered(&mut tx, &nos).await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .filter(|t| {
            t.r#type == TicketType::Complaint
                && (from..=to).contains(&t.received_on)
                && wanted.iter().any(|(d, no)| *no == t.ticket_no && t.subject_department_code.as_deref() == Some(*d))
        })
        .collect())
}

/// The largest scheme accepted, in bytes (a real one is a few kilobytes).
pub const MAX_SCHEME_BYTES: usize = 100_000;

/// The office saves a scheme: a new family, or the next version of `family`. Refused whole,
/// with each indicator's fault, when it is not a valid scheme; the earlier versions stay.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn save_scheme(app: &App, actor: &Actor, family: Option<&str>, body: &str) -> Result<SchemeRow, AppError> {
    let (family, path) = match family {
        Some(id) => {
            let first = store::scheme(&app.db, id).await?.ok_or_else(|| AppError::NotFound("考评方案".into()))?;
            actor.require(Action::Supervise, &OrgPath::from_stored(first.path.clone()), "考评方案")?;
            (Some(first.family), first.path)
        }
        None => (
            None,
            crate::meetings::office_of(actor)
                .ok_or_else(|| AppError::Forbidden("只有效能办可以编写考评方案".into()))?,
        ),
    };
    if body.len() > MAX_SCHEME_BYTES {
        return Err(AppError::field("scheme", format!("方案不能超过 {} KB", MAX_SCHEME_BYTES / 1000)));
    }
    let scheme = parse_scheme(body)?;
    let now = app.now();
    let id = crate::new_id();
    let mut tx = app.db.begin().await?;
    let family = family.unwrap_or_else(|| id.clone());
    let version = store::latest_version(&mut tx, &family).await?.unwrap_or(0) + 1;
    let row = SchemeRow {
        id,
        family,
        version,
        name: scheme.name.clone(),
        body: body.to_string(),
        path,
        created_by: actor.label.clone(),
        created_at: now,
    };
    if !store::insert_scheme(&mut tx, &row).await? {
        return Err(AppError::Conflict("方案刚被他人修改，请刷新后再保存".into()));
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "evaluation.scheme",
            target: &row.id,
            path: &row.path,
            detail: json!({ "family": row.family, "version": row.version, "name": row.name }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The latest version of each scheme the actor sees.
pub async fn schemes(app: &App, actor: &Actor) -> Result<Vec<SchemeRow>, AppError> {
    Ok(store::schemes(&app.db, &actor.scope()).await?)
}

/// A scheme version as its page shows it.
#[derive(Debug, Clone)]
pub struct SchemeView {
    pub row: SchemeRow,
    pub scheme: Scheme,
    /// Every version of its family, the latest first.
    pub versions: Vec<SchemeRow>,
    /// The results published from any version of it, the latest first.
    pub results: Vec<ResultRow>,
    /// The office may save a new version and publish results.
    pub may_edit: bool,
}

async fn visible_scheme(app: &App, actor: &Actor, id: &str) -> Result<SchemeRow, AppError> {
    let row = store::scheme(&app.db, id).await?.ok_or_else(|| AppError::NotFound("考评方案".into()))?;
    actor.require(Action::View, &OrgPath::from_stored(row.path.clone()), "考评方案")?;
    Ok(row)
}

pub async fn scheme_view(app: &App, actor: &Actor, id: &str) -> Result<SchemeView, AppError> {
    let row = visible_scheme(app, actor, id).await?;
    let scheme = parse_scheme(&row.body)?;
    let versions = store::versions(&app.db, &row.family).await?;
    let results = store::results(&app.db, &actor.scope(), 500)
        .await?
        .into_iter()
        .filter(|r| versions.iter().any(|v| v.id == r.scheme_id))
        .collect();
    Ok(SchemeView {
        may_edit: actor.may(Action::Supervise, &OrgPath::from_stored(row.path.clone())),
        row,
        scheme,
        versions,
        results,
    })
}

/// Who a scheme's runs are made as: its office, whoever asks, so that everyone who may see the
/// scheme sees the same figures.
fn office_actor(path: &str) -> Actor {
    if path == "/" {
        return Actor::cli();
    }
    Actor {
        user_id: None,
        label: "evaluation".into(),
        display_name: "效能办".into(),
        grants: Grants(vec![Grant { role: Role::Supervisor, path: OrgPath::from_stored(path.to_string()) }]),
        everything: false,
        key_purposes: None,
    }
}

/// A run of a saved scheme over a period, as its office sees the records (a draft: nothing kept).
pub async fn run_saved(
    app: &App,
    actor: &Actor,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<EvaluationResult, AppError> {
    let row = visible_scheme(app, actor, id).await?;
    run_saved_row(app, &row, from, to).await
}

/// A saved scheme's run as its office, with the points entered for its family over the period.
async fn run_saved_row(
    app: &App,
    row: &SchemeRow,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<EvaluationResult, AppError> {
    let adjust = adjust_of(app, &row.family, from, to).await?;
    run_adjusted(app, &office_actor(&row.path), &parse_scheme(&row.body)?, from, to, &adjust).await
}

/// The entered points and the records upheld appeals excluded, of a family over a period.
async fn adjust_of(app: &App, family: &str, from: NaiveDate, to: NaiveDate) -> Result<Adjust, AppError> {
    let entered = store::manual(&app.db, family, from, to)
        .await?
        .into_iter()
        .map(|m| ((m.department_code, m.indicator_code), m.points))
        .collect();
    let excluded = store::appeals(&app.db, family, from, to)
        .await?
        .into_iter()
        .filter(|a| a.state == "upheld")
        .map(|a| (a.department_code, a.kind, a.record_id))
        .collect();
    Ok(Adjust { entered, excluded })
}

/// The records each department's values counted: department code → kind → ids.
type Records = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// The records a run counted, as they stand: each department's overdue cases and complaints
/// (less those excluded), which it may contest.
async fn records_of(app: &App, path: &str, result: &EvaluationResult, adjust: &Adjust) -> Result<Records, AppError> {
    let mut out: Records = result
        .departments
        .iter()
        .map(|d| (d.code.clone(), [(OVERDUE_CASE.to_string(), Vec::new()), (COMPLAINT.to_string(), Vec::new())].into()))
        .collect();
    let overdue = overdue_cases(app, &office_actor(path), result.from, result.to).await?;
    let complaints = oversight_store::tickets::complaint_numbers(&app.db, result.from, result.to).await?;
    let counted = overdue.into_iter().map(|r| (OVERDUE_CASE, r)).chain(complaints.into_iter().map(|r| (COMPLAINT, r)));
    for (kind, (department, record)) in counted {
        if adjust.excluded.contains(&(department.clone(), kind.to_string(), record.clone())) {
            continue;
        }
        if let Some(kinds) = out.get_mut(&department) {
            kinds.entry(kind.to_string()).or_default().push(record);
        }
    }
    Ok(out)
}

/// The office publishes the result of a scheme version over a period: the run's JSON is kept
/// byte for byte with the version and period, and goes to the audit log by its SHA-256.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn publish(app: &App, actor: &Actor, id: &str, from: NaiveDate, to: NaiveDate) -> Result<String, AppError> {
    let scheme = visible_scheme(app, actor, id).await?;
    actor.require(Action::Supervise, &OrgPath::from_stored(scheme.path.clone()), "考评方案")?;
    let result = run_saved_row(app, &scheme, from, to).await?;
    let text = serde_json::to_string(&result).map_err(|e| AppError::internal("the result as JSON", e))?;
    let adjust = adjust_of(app, &scheme.family, from, to).await?;
    let records = records_of(app, &scheme.path, &result, &adjust).await?;
    let now = app.now();
    let row = ResultRow {
        id: crate::new_id(),
        scheme_id: scheme.id.clone(),
        from_day: from,
        to_day: to,
        path: scheme.path.clone(),
        result: text,
        records: serde_json::to_string(&records).map_err(|e| AppError::internal("the records as JSON", e))?,
        supersedes: None,
        superseded: false,
        published_by: actor.label.clone(),
        published_at: now,
    };
    let mut tx = app.db.begin().await?;
    store::insert_result(&mut tx, &row).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "evaluation.publish",
            target: &row.id,
            path: &row.path,
            detail: json!({
                "scheme": scheme.id, "version": scheme.version, "from": from, "to": to,
                "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(row.result.as_bytes())),
            }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(row.id)
}

/// What a re-run today would change in a published result.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub department: String,
    pub name: String,
    /// The indicator's code; empty for the department's score and rank.
    pub indicator: String,
    pub was: Option<f64>,
    pub now: Option<f64>,
    pub points_was: f64,
    pub points_now: f64,
}

/// A published result as its page shows it.
#[derive(Debug, Clone)]
pub struct ResultView {
    pub row: ResultRow,
    pub scheme: SchemeRow,
    pub indicators: Vec<Indicator>,
    pub result: EvaluationResult,
    /// What re-running the same scheme over the same period on today's records gives that
    /// differs, value by value; empty when it gives the same bytes.
    pub changes: Vec<Change>,
    /// Re-running gave exactly the published bytes.
    pub same_bytes: bool,
    /// The result published again in its place (after an upheld appeal), if any.
    pub successor: Option<String>,
}

fn stored_result(row: &ResultRow) -> Result<EvaluationResult, AppError> {
    serde_json::from_str(&row.result).map_err(|e| AppError::internal(format!("考评结果 {} 无法读取", row.id), e))
}

/// A published result with what has changed in the records since (for the office and those who
/// see its area), or for anyone when `actor` is `None` (the public page).
pub async fn result_view(app: &App, actor: Option<&Actor>, id: &str) -> Result<ResultView, AppError> {
    let what = "考评结果";
    let row = store::result(&app.db, id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    if let Some(actor) = actor {
        actor.require(Action::View, &OrgPath::from_stored(row.path.clone()), what)?;
    }
    let scheme =
        store::scheme(&app.db, &row.scheme_id).await?.ok_or_else(|| AppError::fault("考评结果的方案不存在"))?;
    let parsed = parse_scheme(&scheme.body)?;
    let result = stored_result(&row)?;
    let (same_bytes, changes) = match actor {
        Some(_) => {
            let again = run_saved_row(app, &scheme, row.from_day, row.to_day).await?;
            let text = serde_json::to_string(&again).map_err(|e| AppError::internal("the result as JSON", e))?;
            (text == row.result, changes(&result, &again))
        }
        None => (true, Vec::new()),
    };
    let successor = store::successor(&app.db, &row.id).await?;
    Ok(ResultView { indicators: parsed.indicators, row, scheme, result, changes, same_bytes, successor })
}

/// The values and points that differ between two runs, department by department.
fn changes(was: &EvaluationResult, now: &EvaluationResult) -> Vec<Change> {
    let mut out = Vec::new();
    for d in &was.departments {
        let Some(n) = now.departments.iter().find(|n| n.code == d.code) else { continue };
        for (i, j) in d.indicators.iter().zip(&n.indicators) {
            let differs =
                i.value.map(f64::to_bits) != j.value.map(f64::to_bits) || i.points.to_bits() != j.points.to_bits();
            if differs {
                out.push(Change {
                    department: d.code.clone(),
                    name: d.name.clone(),
                    indicator: i.code.clone(),
                    was: i.value,
                    now: j.value,
                    points_was: i.points,
                    points_now: j.points,
                });
            }
        }
        if d.rank != n.rank || d.score.to_bits() != n.score.to_bits() {
            out.push(Change {
                department: d.code.clone(),
                name: d.name.clone(),
                indicator: String::new(),
                was: Some(d.rank as f64),
                now: Some(n.rank as f64),
                points_was: d.score,
                points_now: n.score,
            });
        }
    }
    out
}

/// The results in force the actor sees, the latest first.
pub async fn results(app: &App, actor: &Actor) -> Result<Vec<ResultRow>, AppError> {
    Ok(store::results(&app.db, &actor.scope(), 200).await?)
}

/// The results in force that evaluated departments the actor sees but whose office's area it
/// does not see (a department's own results, a district's departments in the city's): one line
/// per such department, (result, department code, department name).
pub async fn own_results(app: &App, actor: &Actor) -> Result<Vec<(ResultRow, String, String)>, AppError> {
    let units: BTreeMap<String, OrgPath> =
        network_store::all_units(&app.db).await?.into_iter().map(|u| (u.code.as_str().to_string(), u.path)).collect();
    let mut out = Vec::new();
    for row in store::results(&app.db, &Scope::All, 200).await? {
        if actor.may(Action::View, &OrgPath::from_stored(row.path.clone())) {
            continue;
        }
        let result = stored_result(&row)?;
        for d in &result.departments {
            if units.get(&d.code).is_some_and(|p| actor.may(Action::View, p)) {
                out.push((row.clone(), d.code.clone(), d.name.clone()));
            }
        }
    }
    Ok(out)
}

/// The results in force of every office, for the public page.
pub async fn published(app: &App) -> Result<Vec<ResultRow>, AppError> {
    Ok(store::results(&app.db, &Scope::All, 200).await?)
}

/// A result as open data (CSV, UTF-8 with a byte-order mark so that Excel reads it): one line per
/// department with its rank, score, tier and each indicator's value and points.
pub fn result_csv(v: &ResultView) -> String {
    let mut out = String::from("\u{feff}");
    // A scheme with groups ranks within each: its group comes first.
    let grouped = v.result.departments.iter().any(|d| d.group.is_some());
    let mut header = vec!["rank".to_string(), "code".into(), "name".into(), "score".into(), "tier".into()];
    if grouped {
        header.insert(0, "group".into());
    }
    for i in &v.indicators {
        header.push(format!("{}.value", i.code));
        header.push(format!("{}.points", i.code));
    }
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
    };
    out.push_str(&header.join(","));
    out.push('\n');
    for d in &v.result.departments {
        let mut line = vec![d.rank.to_string(), quote(&d.code), quote(&d.name), d.score.to_string()];
        line.push(quote(d.tier.as_deref().unwrap_or("")));
        if grouped {
            line.insert(0, quote(d.group.as_deref().unwrap_or("")));
        }
        for i in &d.indicators {
            line.push(i.value.map(|x| x.to_string()).unwrap_or_default());
            line.push(i.points.to_string());
        }
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// A scheme to start from: every kind of score, a tier with a quota.
pub const EXAMPLE_SCHEME: &str = r#"name = "年度机关效能考评"
departments = "all"

[[indicator]]
code = "A1"
name = "办件超期率"
source = "cases.overdue_rate"
weight = 40
score = { kind = "linear", best = 0.0, worst = 0.2 }

[[indicator]]
code = "A2"
name = "效能投诉"
source = "tickets.complaints"
weight = 20
score = { kind = "deduct", per = 2, cap = 20 }

[[indicator]]
code = "A3"
name = "好评率"
source = "ratings.good_rate"
weight = 20
score = { kind = "linear", best = 1.0, worst = 0.8 }

[[indicator]]
code = "A4"
name = "明察暗访问题"
source = "inspections.findings"
weight = 20
score = { kind = "deduct", per = 2 }

[[indicator]]
code = "B1"
name = "督办任务按期销号"
source = "tasks.verified"
weight = 0
score = { kind = "bonus", per = 0.5, cap = 3 }

[[tier]]
name = "优秀"
min_score = 90
max_share = 0.2

[[tier]]
name = "良好"
min_score = 80
"#;

/// What if: a saved scheme run as a draft over a published result's period, each department
/// beside its rank, score and tier in that result, with the indicators that explain the move.
pub async fn what_if(
    app: &App,
    actor: &Actor,
    scheme_id: &str,
    against: &str,
) -> Result<(EvaluationResult, Vec<Movement>), AppError> {
    let what = "考评结果";
    let row = store::result(&app.db, against).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    actor.require(Action::View, &OrgPath::from_stored(row.path.clone()), what)?;
    let published_scheme = store::scheme(&app.db, &row.scheme_id)
        .await?
        .ok_or_else(|| AppError::fault("考评结果的方案不存在"))
        .and_then(|s| parse_scheme(&s.body))?;
    let published = stored_result(&row)?;
    let draft_row = visible_scheme(app, actor, scheme_id).await?;
    let draft_scheme = parse_scheme(&draft_row.body)?;
    let draft = run_saved_row(app, &draft_row, row.from_day, row.to_day).await?;
    let moves = movements((&draft_scheme, &draft.departments), (&published_scheme, &published.departments));
    Ok((draft, moves))
}

/// The office's entry of a manual indicator's points, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ManualEntry {
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub indicator: String,
    #[serde(default)]
    pub points: String,
    #[serde(default)]
    pub reason: String,
    /// What the points rest on (a meeting's minutes, a survey's report: names or references).
    #[serde(default)]
    pub evidence: String,
}

/// The entries of a saved scheme's family over a period.
pub async fn manual_entries(
    app: &App,
    actor: &Actor,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ManualRow>, AppError> {
    let row = visible_scheme(app, actor, id).await?;
    Ok(store::manual(&app.db, &row.family, from, to).await?)
}

/// The office enters a department's points for a manual indicator over a period: between 0 and
/// the indicator's weight, with a reason; refused field by field, nothing stored. A new entry
/// replaces the last; each goes to the audit log with the one it replaces.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn enter_points(
    app: &App,
    actor: &Actor,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
    e: &ManualEntry,
) -> Result<(), AppError> {
    let row = visible_scheme(app, actor, id).await?;
    actor.require(Action::Supervise, &OrgPath::from_stored(row.path.clone()), "考评方案")?;
    let scheme = parse_scheme(&row.body)?;
    let mut errors = Vec::new();
    let indicator = scheme.indicators.iter().find(|i| i.code == e.indicator.trim() && i.source == Source::Manual);
    if indicator.is_none() {
        errors.push(RowError::new(0, "indicator", "请选择本方案的人工评分指标"));
    }
    let evaluated = run_saved_row(app, &row, from, to).await?;
    if !evaluated.departments.iter().any(|d| d.code == e.department.trim()) {
        errors.push(RowError::new(0, "department", "请选择本方案考评的部门"));
    } else if indicator.is_some_and(|i| i.self_assessment) {
        // The department assesses itself first; the office reviews its figure.
        let submitted = store::self_assessments(&app.db, &row.family, from, to).await?.into_iter().any(|s| {
            s.department_code == e.department.trim() && s.indicator_code == e.indicator.trim() && s.points.is_some()
        });
        if !submitted {
            errors.push(RowError::new(0, "department", "该指标须先由部门自评：该部门尚未提交本期自评"));
        }
    }
    // The weight in the department's group, where the scheme groups departments.
    let weight = indicator
        .and_then(|i| scheme.for_department(e.department.trim()).indicators.into_iter().find(|x| x.code == i.code))
        .map_or(0.0, |i| i.weight);
    let points = checked_points(&e.points, &e.reason, &e.evidence, weight, "评分", &mut errors);
    let (Some(points), true) = (points, errors.is_empty()) else { return Err(AppError::Invalid(errors)) };
    let reason = e.reason.trim();
    let before = store::manual(&app.db, &row.family, from, to)
        .await?
        .into_iter()
        .find(|m| m.department_code == e.department.trim() && m.indicator_code == e.indicator.trim());
    let now = app.now();
    let entry = ManualRow {
        family: row.family.clone(),
        from_day: from,
        to_day: to,
        department_code: e.department.trim().to_string(),
        indicator_code: e.indicator.trim().to_string(),
        points,
        reason: reason.to_string(),
        evidence: e.evidence.trim().to_string(),
        entered_by: actor.label.clone(),
        entered_at: now,
    };
    let mut tx = app.db.begin().await?;
    store::put_manual(&mut tx, &entry).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "evaluation.manual",
            target: &entry.department_code,
            path: &row.path,
            detail: json!({
                "scheme": row.family, "from": from, "to": to, "indicator": entry.indicator_code,
                "points": points, "reason": entry.reason, "evidence": entry.evidence,
                "replaces": before.map(|b| json!({"points": b.points, "reason": b.reason, "by": b.entered_by})),
            }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Points typed for a manual indicator (the office's, or a department's own: `what` names them
/// in the messages): between 0 and `weight`, a reason, evidence of at most 1,000 characters;
/// each fault pushed with its field. The points when they are valid.
fn checked_points(
    points: &str,
    reason: &str,
    evidence: &str,
    weight: f64,
    what: &str,
    errors: &mut Vec<RowError>,
) -> Option<f64> {
    let points = match points.trim().parse::<f64>() {
        Ok(p) if p.is_finite() && (0.0..=weight).contains(&p) => Some(p),
        _ => {
            errors.push(RowError::new(0, "points", format!("应为 0 到 {weight} 之间的分数")));
            None
        }
    };
    let reason = reason.trim();
    if reason.is_empty() {
        errors.push(RowError::new(0, "reason", format!("请写明{what}理由")));
    } else if reason.chars().count() > 1000 {
        errors.push(RowError::new(0, "reason", format!("{what}理由不超过 1000 字")));
    }
    if evidence.trim().chars().count() > 1000 {
        errors.push(RowError::new(0, "evidence", "依据不超过 1000 字"));
    }
    points
}

/// A department's result as its page shows it, to the office and to the department itself.
#[derive(Debug, Clone)]
pub struct DepartmentView {
    pub row: ResultRow,
    pub scheme: SchemeRow,
    pub indicators: Vec<Indicator>,
    pub department: DepartmentResult,
    /// The overdue cases its values counted, as they stood at publication.
    pub overdue_cases: Vec<String>,
    /// The complaints its values counted (ticket numbers), as they stood at publication (none
    /// for a result published before complaints were kept).
    pub complaints: Vec<String>,
    /// The appeals of the scheme over the period about this department, the oldest first.
    pub appeals: Vec<AppealRow>,
    /// The last day an appeal may be filed against this result.
    pub appeal_until: NaiveDate,
    /// The viewer may appeal for the department now (its liaison, within the limit, the result
    /// in force).
    pub may_appeal: bool,
    /// The viewer may decide appeals (the office).
    pub may_decide: bool,
    /// The result that replaced this one, if any.
    pub successor: Option<String>,
}

/// The department whose result `code` is, with its path, if the result evaluated it.
async fn department_path(app: &App, code: &str) -> Result<OrgPath, AppError> {
    Ok(network_store::unit(&app.db, code).await?.ok_or_else(|| AppError::NotFound("部门".into()))?.path)
}

/// The last day to appeal a result published at `published_at`.
async fn appeal_until(app: &App, row: &ResultRow) -> Result<NaiveDate, AppError> {
    let published = app.local_date(row.published_at);
    Ok(app.calendar().await?.deadline_or_estimate(published, app.config.evaluation.appeal_days).0)
}

fn frozen_records(row: &ResultRow) -> Result<Records, AppError> {
    serde_json::from_str(&row.records).map_err(|e| AppError::internal(format!("考评结果 {} 的记录无法读取", row.id), e))
}

pub async fn department_view(app: &App, actor: &Actor, id: &str, code: &str) -> Result<DepartmentView, AppError> {
    let what = "该部门的考评结果";
    let row = store::result(&app.db, id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    let office = OrgPath::from_stored(row.path.clone());
    let result = stored_result(&row)?;
    let department =
        result.departments.iter().find(|d| d.code == code).cloned().ok_or_else(|| AppError::NotFound(what.into()))?;
    let own = department_path(app, code).await?;
    actor.require_any(Action::View, &[&office, &own], what)?;
    let scheme =
        store::scheme(&app.db, &row.scheme_id).await?.ok_or_else(|| AppError::fault("考评结果的方案不存在"))?;
    // The indicators as they apply to the department: its group's weights.
    let indicators = parse_scheme(&scheme.body)?.for_department(code).indicators;
    let mut records = frozen_records(&row)?.remove(code).unwrap_or_default();
    let overdue_cases = records.remove(OVERDUE_CASE).unwrap_or_default();
    let complaints = records.remove(COMPLAINT).unwrap_or_default();
    let appeals = store::appeals(&app.db, &scheme.family, row.from_day, row.to_day)
        .await?
        .into_iter()
        .filter(|a| a.department_code == code)
        .collect();
    let until = appeal_until(app, &row).await?;
    Ok(DepartmentView {
        may_appeal: !row.superseded && actor.may(Action::Respond, &own) && app.today() <= until,
        may_decide: actor.may(Action::Supervise, &office),
        successor: store::successor(&app.db, &row.id).await?,
        appeal_until: until,
        row,
        scheme,
        indicators,
        department,
        overdue_cases,
        complaints,
        appeals,
    })
}

/// An appeal as the department files it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewAppeal {
    /// `overdue_case` or `complaint`; empty: whichever list holds the record.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub record: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub evidence: String,
}

/// The department's liaison contests one record the result counted (an overdue case, a
/// complaint): within the limit after publication, with a reason and the evidence; one appeal
/// per record.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn file_appeal(app: &App, actor: &Actor, id: &str, code: &str, a: &NewAppeal) -> Result<String, AppError> {
    let v = department_view(app, actor, id, code).await?;
    actor.require(Action::Respond, &department_path(app, code).await?, "考评申诉")?;
    if v.row.superseded {
        return Err(AppError::Conflict("该结果已更正重新发布，请对最新结果申诉".into()));
    }
    if app.today() > v.appeal_until {
        return Err(AppError::Conflict(format!("申诉期限已过（截至 {}）", v.appeal_until)));
    }
    let mut errors = Vec::new();
    let record = a.record.trim();
    let counted =
        |kind: &str, list: &[String]| (a.kind.is_empty() || a.kind == kind) && list.iter().any(|c| c == record);
    let kind = if counted(OVERDUE_CASE, &v.overdue_cases) {
        Some(OVERDUE_CASE)
    } else if counted(COMPLAINT, &v.complaints) {
        Some(COMPLAINT)
    } else {
        None
    };
    match kind {
        None => errors.push(RowError::new(0, "record", "只能对本次考评计入本部门的超期办件或效能投诉申诉")),
        Some(kind) if v.appeals.iter().any(|x| x.kind == kind && x.record_id == record && x.state != "rejected") => {
            errors.push(RowError::new(0, "record", if kind == COMPLAINT { "该投诉已申诉" } else { "该办件已申诉" }))
        }
        Some(_) => {}
    }
    let reason = a.reason.trim();
    if reason.is_empty() {
        errors.push(RowError::new(0, "reason", "请写明申诉理由"));
    } else if reason.chars().count() > 1000 {
        errors.push(RowError::new(0, "reason", "申诉理由不超过 1000 字"));
    }
    if a.evidence.trim().is_empty() {
        errors.push(RowError::new(0, "evidence", "请写明证据（如申请人补正材料的记录、文件名称）"));
    } else if a.evidence.trim().chars().count() > 1000 {
        errors.push(RowError::new(0, "evidence", "证据说明不超过 1000 字"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let appeal = AppealRow {
        id: crate::new_id(),
        result_id: v.row.id.clone(),
        family: v.scheme.family.clone(),
        from_day: v.row.from_day,
        to_day: v.row.to_day,
        department_code: code.to_string(),
        kind: kind.unwrap_or(OVERDUE_CASE).into(),
        record_id: record.to_string(),
        reason: reason.to_string(),
        evidence: a.evidence.trim().to_string(),
        filed_by: actor.label.clone(),
        filed_at: now,
        state: "filed".into(),
        decision: None,
        decided_by: None,
        decided_at: None,
        republished: None,
    };
    let mut tx = app.db.begin().await?;
    store::insert_appeal(&mut tx, &appeal).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "evaluation.appeal",
            target: &appeal.record_id,
            path: &v.row.path,
            detail: json!({ "result": v.row.id, "department": code, "kind": appeal.kind, "reason": appeal.reason }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(appeal.id)
}

/// The office decides an appeal with a reason. Upheld, the record is excluded and the result in
/// force for the scheme and period is published again, superseding it, the difference in the
/// audit log; returns the new result's id.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn decide_appeal(
    app: &App,
    actor: &Actor,
    appeal_id: &str,
    uphold: bool,
    reason: &str,
) -> Result<Option<String>, AppError> {
    let mut appeal = store::appeal(&app.db, appeal_id).await?.ok_or_else(|| AppError::NotFound("申诉".into()))?;
    let first =
        store::result(&app.db, &appeal.result_id).await?.ok_or_else(|| AppError::fault("申诉的考评结果不存在"))?;
    actor.require(Action::Supervise, &OrgPath::from_stored(first.path.clone()), "申诉")?;
    if appeal.state != "filed" {
        return Err(AppError::Conflict("该申诉已处理".into()));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::field("decision", "请写明处理理由"));
    }
    // The result in force of the chain the appeal was filed against.
    let mut current = first.id.clone();
    while let Some(next) = store::successor(&app.db, &current).await? {
        current = next;
    }
    let current = store::result(&app.db, &current).await?.ok_or_else(|| AppError::fault("考评结果不存在"))?;
    let now = app.now();
    appeal.state = if uphold { "upheld" } else { "rejected" }.into();
    appeal.decision = Some(reason.to_string());
    appeal.decided_by = Some(actor.label.clone());
    appeal.decided_at = Some(now);
    let mut republished = None;
    let mut difference = serde_json::Value::Null;
    if uphold {
        let scheme =
            store::scheme(&app.db, &current.scheme_id).await?.ok_or_else(|| AppError::fault("考评结果的方案不存在"))?;
        let mut adjust = adjust_of(app, &scheme.family, current.from_day, current.to_day).await?;
        adjust.excluded.insert((appeal.department_code.clone(), appeal.kind.clone(), appeal.record_id.clone()));
        let parsed = parse_scheme(&scheme.body)?;
        let result =
            run_adjusted(app, &office_actor(&current.path), &parsed, current.from_day, current.to_day, &adjust).await?;
        let before = stored_result(&current)?;
        let score = |r: &EvaluationResult| {
            r.departments.iter().find(|d| d.code == appeal.department_code).map(|d| (d.score, d.rank))
        };
        difference = json!({ "department": appeal.department_code, "before": score(&before), "after": score(&result) });
        let records = records_of(app, &current.path, &result, &adjust).await?;
        let row = ResultRow {
            id: crate::new_id(),
            scheme_id: current.scheme_id.clone(),
            from_day: current.from_day,
            to_day: current.to_day,
            path: current.path.clone(),
            result: serde_json::to_string(&result).map_err(|e| AppError::internal("the result as JSON", e))?,
            records: serde_json::to_string(&records).map_err(|e| AppError::internal("the records as JSON", e))?,
            supersedes: Some(current.id.clone()),
            superseded: false,
            published_by: actor.label.clone(),
            published_at: now,
        };
        appeal.republished = Some(row.id.clone());
        republished = Some(row);
    }
    let mut tx = app.db.begin().await?;
    // Decided, or its result replaced, by someone else meanwhile: nothing is changed.
    let again = store::appeal_in(&mut tx, appeal_id).await?.map(|a| a.state);
    let in_force = store::result_in(&mut tx, &current.id).await?.is_some_and(|r| !r.superseded);
    if again.as_deref() != Some("filed") || !in_force {
        return Err(AppError::Conflict("该申诉或考评结果刚被他人处理，请刷新后再办理".into()));
    }
    store::save_appeal(&mut tx, &appeal).await?;
    if let Some(row) = &republished {
        store::supersede(&mut tx, &current.id).await?;
        store::insert_result(&mut tx, row).await?;
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: if uphold { "evaluation.appeal.upheld" } else { "evaluation.appeal.rejected" },
            target: &appeal.record_id,
            path: &current.path,
            detail: json!({
                "appeal": appeal.id, "reason": reason, "superseded": republished.as_ref().map(|_| &current.id),
                "republished": republished.as_ref().map(|r| &r.id), "difference": difference,
            }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(republished.map(|r| r.id))
}

//! Self-assessment (部门自评): a manual indicator whose scheme says `self_assessment = true` is
//! assessed by each department first; the office asks for it over a period, the department's
//! liaison enters its points with a reason and evidence, and the office's own points (its
//! review) come after, the department's figure kept beside them.

use chrono::NaiveDate;
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::org::{OrgKind, OrgPath};
use oversight_store::audit::{self, NewAudit};
use oversight_store::evaluations::{self as store, SelfRow};
use oversight_store::network as network_store;
use serde_json::json;

use super::{checked_points, department_path, parse_scheme, run_saved_row, visible_scheme};
use crate::{Actor, App, AppError};

/// The office asks every department a saved scheme evaluates over a period to assess itself on
/// each indicator that says so; returns how many requests are new (asking again adds none).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn request(app: &App, actor: &Actor, id: &str, from: NaiveDate, to: NaiveDate) -> Result<u64, AppError> {
    let row = visible_scheme(app, actor, id).await?;
    actor.require(Action::Supervise, &OrgPath::from_stored(row.path.clone()), "考评方案")?;
    let scheme = parse_scheme(&row.body)?;
    let indicators: Vec<&str> =
        scheme.indicators.iter().filter(|i| i.self_assessment).map(|i| i.code.as_str()).collect();
    if indicators.is_empty() {
        return Err(AppError::Conflict("本方案没有需部门自评的指标（人工评分指标写 self_assessment = true）".into()));
    }
    if from > to {
        return Err(AppError::Invalid(vec![RowError::new(0, "to", "结束日期不能早于开始日期")]));
    }
    let evaluated = run_saved_row(app, &row, from, to).await?;
    let now = app.now();
    let rows: Vec<SelfRow> = evaluated
        .departments
        .iter()
        .flat_map(|d| {
            indicators.iter().map(|i| SelfRow {
                id: crate::new_id(),
                family: row.family.clone(),
                from_day: from,
                to_day: to,
                department_code: d.code.clone(),
                indicator_code: (*i).to_string(),
                path: row.path.clone(),
                requested_by: actor.label.clone(),
                requested_at: now,
                points: None,
                reason: None,
                evidence: None,
                entered_by: None,
                entered_at: None,
            })
        })
        .collect();
    let mut tx = app.db.begin().await?;
    let new = store::request_self(&mut tx, &rows).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "evaluation.self_request",
            target: &row.family,
            path: &row.path,
            detail: json!({ "scheme": row.family, "from": from, "to": to, "indicators": indicators, "new": new }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(new)
}

/// The self-assessments of a saved scheme's family over a period, for the office's review.
pub async fn of_scheme(
    app: &App,
    actor: &Actor,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<SelfRow>, AppError> {
    let row = visible_scheme(app, actor, id).await?;
    Ok(store::self_assessments(&app.db, &row.family, from, to).await?)
}

/// A request as the department's page shows it.
#[derive(Debug, Clone)]
pub struct Asked {
    pub row: SelfRow,
    pub department_name: String,
    pub scheme_name: String,
    pub indicator_name: String,
    /// The indicator's weight: the most the department may give itself.
    pub weight: f64,
    /// The office's points, once it has reviewed (then the figure can no longer change).
    pub reviewed: Option<f64>,
}

/// The self-assessments asked of the departments the actor answers for (its liaison), newest
/// first.
pub async fn asked_of(app: &App, actor: &Actor) -> Result<Vec<Asked>, AppError> {
    let mut out = Vec::new();
    for unit in network_store::all_units(&app.db).await? {
        if unit.kind != OrgKind::Department || !actor.may(Action::Respond, &unit.path) {
            continue;
        }
        for row in store::self_assessments_of(&app.db, unit.code.as_str()).await? {
            let (scheme_name, indicator_name, weight) = indicator_of(app, &row).await?;
            let reviewed = reviewed(app, &row).await?;
            out.push(Asked { row, department_name: unit.name.clone(), scheme_name, indicator_name, weight, reviewed });
        }
    }
    Ok(out)
}

/// The scheme's name, the indicator's name and its weight, from the family's latest version.
async fn indicator_of(app: &App, row: &SelfRow) -> Result<(String, String, f64), AppError> {
    let latest = store::versions(&app.db, &row.family)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::NotFound("考评方案".into()))?;
    let scheme = parse_scheme(&latest.body)?.for_department(&row.department_code);
    let indicator = scheme.indicators.iter().find(|i| i.code == row.indicator_code);
    Ok((
        scheme.name.clone(),
        indicator.map_or_else(|| row.indicator_code.clone(), |i| i.name.clone()),
        indicator.map_or(0.0, |i| i.weight),
    ))
}

/// The office's points for the same department, indicator and period, if entered.
async fn reviewed(app: &App, row: &SelfRow) -> Result<Option<f64>, AppError> {
    Ok(store::manual(&app.db, &row.family, row.from_day, row.to_day)
        .await?
        .into_iter()
        .find(|m| m.department_code == row.department_code && m.indicator_code == row.indicator_code)
        .map(|m| m.points))
}

/// The department's figure as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SelfEntry {
    #[serde(default)]
    pub points: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub evidence: String,
}

/// The department's liaison enters (or corrects) its own points: between 0 and the indicator's
/// weight, with a reason; refused field by field, nothing stored; no longer once the office
/// has entered its points. Each entry goes to the audit log with the one it replaces.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn enter(app: &App, actor: &Actor, id: &str, e: &SelfEntry) -> Result<(), AppError> {
    let row = store::self_assessment(&app.db, id).await?.ok_or_else(|| AppError::NotFound("部门自评".into()))?;
    let path = department_path(app, &row.department_code).await?;
    actor.require(Action::View, &path, "部门自评")?;
    actor.require(Action::Respond, &path, "部门自评")?;
    if reviewed(app, &row).await?.is_some() {
        return Err(AppError::Conflict("效能办已审核该项评分，自评不能再修改".into()));
    }
    let (_, _, weight) = indicator_of(app, &row).await?;
    let mut errors = Vec::new();
    let points = checked_points(&e.points, &e.reason, &e.evidence, weight, "自评", &mut errors);
    let (Some(points), true) = (points, errors.is_empty()) else { return Err(AppError::Invalid(errors)) };
    let reason = e.reason.trim();
    let now = app.now();
    let entered = SelfRow {
        points: Some(points),
        reason: Some(reason.to_string()),
        evidence: Some(e.evidence.trim().to_string()),
        entered_by: Some(actor.label.clone()),
        entered_at: Some(now),
        ..row.clone()
    };
    let mut tx = app.db.begin().await?;
    store::enter_self(&mut tx, &entered).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "evaluation.self",
            target: &row.department_code,
            path: path.as_str(),
            detail: json!({
                "scheme": row.family, "from": row.from_day, "to": row.to_day, "indicator": row.indicator_code,
                "points": points, "reason": reason,
                "replaces": row.points.map(|p| json!({"points": p, "reason": row.reason})),
            }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

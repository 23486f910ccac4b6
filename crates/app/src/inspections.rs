//! Inspections (明察暗访): rounds planned by the office, their venues drawn by lot in a way
//! anyone can check afterwards (docs/decisions/0029), open or covert; and the checklists.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use oversight_domain::RowError;
use oversight_domain::access::{Action, Scope};
use oversight_domain::inspection::{self, Candidate, Checklist, RectState, RectStep, RoundKind, VerifyMethod};
use oversight_domain::org::{Level, OrgPath};
use oversight_store::audit::{self, NewAudit};
use oversight_store::inspections::{
    self as store, ChecklistRow, FindingRow, PhotoMeta, RectFilter, RoundRow, StepRow, TargetRow, VisitRow,
};
use oversight_store::network as network_store;
use serde_json::json;

use crate::{Actor, App, AppError};

/// A round as the office's form gives it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewRound {
    /// `YYYY-MM`.
    #[serde(default)]
    pub month: String,
    #[serde(default)]
    pub kind: String,
    /// The inspectors' user names.
    #[serde(default)]
    pub inspectors: Vec<String>,
    /// How many venues of each level (`city`, `district`, `town`, `village`), as typed.
    #[serde(default)]
    pub quotas: BTreeMap<String, String>,
}

/// The most venues of one level a round may draw.
const MAX_QUOTA: u32 = 200;

/// The inspectors a round may name: (user name, display name).
pub async fn inspectors(app: &App) -> Result<Vec<(String, String)>, AppError> {
    let mut out: Vec<(String, String)> =
        store::inspectors(&app.db).await?.into_iter().map(|(u, name, _)| (u, name)).collect();
    out.dedup();
    Ok(out)
}

/// The office plans a round: the month, open or covert, its inspectors and how many venues of
/// each level. The server makes the seed, publishes its commitment, and draws at once from the
/// venues in the office's area (the published candidates); the plan and the commitment go to
/// the audit log, so a round cannot be drawn again unseen. Returns the round's id.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn plan_round(app: &App, actor: &Actor, input: &NewRound) -> Result<String, AppError> {
    let path = office_path(actor)?;
    let today = app.today();
    let mut errors = Vec::new();
    let month = match NaiveDate::parse_from_str(&format!("{}-01", input.month.trim()), "%Y-%m-%d") {
        Ok(first) if (first.year(), first.month()) < (today.year(), today.month()) => {
            errors.push(RowError::new(0, "month", "不能安排已过去的月份"));
            None
        }
        Ok(first) => Some(first),
        Err(_) => {
            errors.push(RowError::new(0, "month", "请选择月份"));
            None
        }
    };
    let kind = RoundKind::parse(input.kind.trim());
    if kind.is_none() {
        errors.push(RowError::new(0, "kind", "请选择明察或暗访"));
    }
    let known = inspectors(app).await?;
    let mut chosen: Vec<String> =
        input.inspectors.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    chosen.sort();
    chosen.dedup();
    if chosen.is_empty() {
        errors.push(RowError::new(0, "inspectors", "请至少选择一名检查人员"));
    } else if let Some(unknown) = chosen.iter().find(|u| !known.iter().any(|(k, _)| k == *u)) {
        errors.push(RowError::new(0, "inspectors", format!("“{unknown}”不是在用的监督专员账号")));
    }
    let mut quotas: BTreeMap<Level, u32> = BTreeMap::new();
    for level in Level::ALL {
        let typed = input.quotas.get(level.as_str()).map(|s| s.trim()).unwrap_or("");
        if typed.is_empty() {
            continue;
        }
        match typed.parse::<u32>() {
            Ok(n) if n <= MAX_QUOTA => {
                if n > 0 {
                    quotas.insert(level, n);
                }
            }
            _ => errors.push(RowError::new(
                0,
                &format!("quota_{}", level.as_str()),
                format!("应为 0 到 {MAX_QUOTA} 之间的整数"),
            )),
        }
    }
    if quotas.is_empty() && errors.iter().all(|e| !e.field.starts_with("quota_")) {
        errors.push(RowError::new(0, "quota_district", "至少要抽取 1 个场所"));
    }
    let candidates = candidates_in(app, &path, &quotas).await?;
    let seed = {
        let mut buf = [0u8; 32];
        rand::fill(&mut buf[..]);
        hex::encode(buf)
    };
    let drawn = if errors.is_empty() {
        match inspection::draw(&seed, &candidates, &quotas) {
            Ok(d) => d,
            Err(e) => {
                let level = quotas.keys().next().copied().unwrap_or(Level::District);
                errors.push(RowError::new(0, &format!("quota_{}", level.as_str()), e.to_string()));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let (Some(month), Some(kind)) = (month, kind) else { return Err(AppError::Invalid(errors)) };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let id = crate::new_id();
    let quota_json: BTreeMap<&str, u32> = quotas.iter().map(|(l, n)| (l.as_str(), *n)).collect();
    let candidate_json: Vec<serde_json::Value> =
        candidates.iter().map(|c| json!({"code": c.code, "level": c.level.as_str()})).collect();
    let round = RoundRow {
        id: id.clone(),
        title: format!("{}年{}月{}", month.year(), month.month(), kind.label()),
        month: month.format("%Y-%m").to_string(),
        kind: kind.as_str().to_string(),
        inspectors: chosen.join(" "),
        quotas: serde_json::to_string(&quota_json).map_err(|e| AppError::internal("quotas as JSON", e))?,
        candidates: serde_json::to_string(&candidate_json).map_err(|e| AppError::internal("candidates as JSON", e))?,
        commitment: inspection::commitment(&seed),
        seed,
        path: path.as_str().to_string(),
        created_by: actor.label.clone(),
        created_at: now,
        ended_at: None,
    };
    let paths = venue_paths(app).await?;
    let targets: Vec<TargetRow> = drawn
        .iter()
        .enumerate()
        .map(|(i, code)| TargetRow {
            round_id: id.clone(),
            seq: i as i64,
            venue_code: code.clone(),
            path: paths.get(code).cloned().unwrap_or_default(),
        })
        .collect();
    let mut tx = app.db.begin().await?;
    store::insert_round(&mut tx, &round, &targets).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "inspection.plan",
            target: &round.title,
            path: &round.path,
            detail: json!({
                "round": id, "month": round.month, "kind": round.kind, "inspectors": chosen,
                "quotas": quota_json, "candidates": candidates.len(), "commitment": round.commitment,
            }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The subtree an office plans for: the first where the actor supervises.
pub(crate) fn office_path(actor: &Actor) -> Result<OrgPath, AppError> {
    if actor.everything {
        return Err(AppError::Forbidden("检查轮次由效能办督查员安排".into()));
    }
    match actor.scope_for(Action::Supervise) {
        Scope::Subtrees(roots) if !roots.is_empty() => Ok(roots[0].clone()),
        _ => Err(AppError::Forbidden("您没有安排明察暗访的权限".into())),
    }
}

/// The venues under `path` at the levels with a quota, by code: the published candidates.
async fn candidates_in(app: &App, path: &OrgPath, quotas: &BTreeMap<Level, u32>) -> Result<Vec<Candidate>, AppError> {
    let mut out: Vec<Candidate> = network_store::all_units(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.kind.is_venue() && u.path.as_str().starts_with(path.as_str()))
        .filter_map(|u| {
            let level = u.level?;
            quotas.contains_key(&level).then(|| Candidate { code: u.code.as_str().to_string(), level })
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

async fn venue_paths(app: &App) -> Result<BTreeMap<String, String>, AppError> {
    Ok(network_store::all_units(&app.db)
        .await?
        .into_iter()
        .filter(|u| u.kind.is_venue())
        .map(|u| (u.code.as_str().to_string(), u.path.as_str().to_string()))
        .collect())
}

/// A round as its page shows it.
#[derive(Debug, Clone)]
pub struct RoundView {
    pub row: RoundRow,
    pub kind: RoundKind,
    /// The round's month is over, or the office ended it: the seed is shown.
    pub ended: bool,
    /// The venues drawn, with their names and levels; `None` while a covert round's targets
    /// are hidden from this viewer.
    pub targets: Option<Vec<(String, String, Option<Level>)>>,
    pub candidates: Vec<(Candidate, String)>,
    pub quotas: Vec<(Level, u32)>,
    /// (user name, display name).
    pub inspectors: Vec<(String, String)>,
    /// The seed, once the round has ended; and whether re-running the draw from it and the
    /// published candidates gives the venues stored (checked here, as anyone can).
    pub seed: Option<String>,
    pub verified: Option<bool>,
    pub may_end: bool,
    /// The viewer is one of the round's inspectors and the round is under way.
    pub may_visit: bool,
}

fn is_inspector(actor: &Actor, row: &RoundRow) -> bool {
    actor.label.strip_prefix("user:").is_some_and(|me| row.inspectors.split(' ').any(|u| u == me))
}

/// Whether the round's month is over (the day after its last day has come).
fn month_over(row: &RoundRow, today: NaiveDate) -> bool {
    let Ok(first) = NaiveDate::parse_from_str(&format!("{}-01", row.month), "%Y-%m-%d") else { return false };
    first.checked_add_months(chrono::Months::new(1)).is_some_and(|next| today >= next)
}

/// The candidates and quotas as published with the round.
pub fn published(row: &RoundRow) -> Result<(Vec<Candidate>, BTreeMap<Level, u32>), AppError> {
    let bad = |what: &str| AppError::fault(format!("检查轮次 {} 的{what}无法读取", row.id));
    let list: Vec<serde_json::Value> = serde_json::from_str(&row.candidates).map_err(|_| bad("候选名单"))?;
    let candidates = list
        .iter()
        .map(|v| {
            let code = v["code"].as_str().ok_or_else(|| bad("候选名单"))?.to_string();
            let level = v["level"].as_str().and_then(Level::parse).ok_or_else(|| bad("候选名单"))?;
            Ok(Candidate { code, level })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let quotas: BTreeMap<String, u32> = serde_json::from_str(&row.quotas).map_err(|_| bad("抽取数量"))?;
    let quotas = quotas.into_iter().filter_map(|(l, n)| Level::parse(&l).map(|l| (l, n))).collect();
    Ok((candidates, quotas))
}

pub async fn round_view(app: &App, actor: &Actor, id: &str) -> Result<RoundView, AppError> {
    let what = "检查轮次";
    let row = store::round(&app.db, id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    let inspector = is_inspector(actor, &row);
    if !inspector {
        actor.require(Action::View, &OrgPath::from_stored(row.path.clone()), what)?;
    }
    let kind = RoundKind::parse(&row.kind).ok_or_else(|| AppError::fault(format!("检查轮次 {id} 的方式无法识别")))?;
    let ended = row.ended_at.is_some() || month_over(&row, app.today());
    let units = network_store::all_units(&app.db).await?;
    let name_of = |code: &str| units.iter().find(|u| u.code.as_str() == code).map(|u| (u.name.clone(), u.level));
    let (candidates, quotas) = published(&row)?;
    let stored: Vec<String> = store::targets(&app.db, id).await?.into_iter().map(|t| t.venue_code).collect();
    let targets = (kind == RoundKind::Open || inspector || ended).then(|| {
        stored
            .iter()
            .map(|c| {
                let (name, level) = name_of(c).unwrap_or_else(|| (c.clone(), None));
                (c.clone(), name, level)
            })
            .collect()
    });
    let seed = ended.then(|| row.seed.clone());
    let verified = seed.as_ref().map(|s| {
        inspection::commitment(s) == row.commitment
            && inspection::draw(s, &candidates, &quotas).ok() == Some(stored.clone())
    });
    let names = inspectors(app).await?;
    let inspectors = row
        .inspectors
        .split(' ')
        .filter(|u| !u.is_empty())
        .map(|u| (u.to_string(), names.iter().find(|(k, _)| k == u).map_or_else(|| u.to_string(), |(_, n)| n.clone())))
        .collect();
    let may_end = !ended && actor.may(Action::Supervise, &OrgPath::from_stored(row.path.clone()));
    let candidates = candidates
        .into_iter()
        .map(|c| {
            let name = name_of(&c.code).map_or_else(|| c.code.clone(), |(n, _)| n);
            (c, name)
        })
        .collect();
    Ok(RoundView {
        kind,
        ended,
        targets,
        candidates,
        quotas: quotas.into_iter().collect(),
        inspectors,
        seed,
        verified,
        may_end,
        may_visit: inspector && !ended,
        row,
    })
}

/// The rounds the actor may see (those planned in its area, and those it inspects), the latest
/// first, each with whether it has ended.
pub async fn rounds(app: &App, actor: &Actor) -> Result<Vec<(RoundRow, bool)>, AppError> {
    let mut rows = store::rounds(&app.db, &actor.scope(), 200).await?;
    if !actor.everything {
        for r in store::rounds(&app.db, &Scope::All, 200).await? {
            if is_inspector(actor, &r) && !rows.iter().any(|x| x.id == r.id) {
                rows.push(r);
            }
        }
        rows.sort_by(|a, b| b.month.cmp(&a.month).then(b.created_at.cmp(&a.created_at)));
    }
    let today = app.today();
    Ok(rows
        .into_iter()
        .map(|r| {
            let ended = r.ended_at.is_some() || month_over(&r, today);
            (r, ended)
        })
        .collect())
}

/// The office ends a round before its month is over: its seed is shown from then on.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn end_round(app: &App, actor: &Actor, id: &str) -> Result<(), AppError> {
    let row = store::round(&app.db, id).await?.ok_or_else(|| AppError::NotFound("检查轮次".into()))?;
    actor.require(Action::Supervise, &OrgPath::from_stored(row.path.clone()), "结束检查轮次")?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::end_round(&mut tx, id, now).await? {
        return Err(AppError::Conflict("本轮检查已结束".into()));
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "inspection.end",
            target: &row.title,
            path: &row.path,
            detail: json!({ "round": id, "seed": row.seed, "commitment": row.commitment }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The checklist in use for a venue type: the latest version the office wrote, or the shipped
/// one for service halls (version 0).
pub async fn checklist(app: &App, venue_type: &str) -> Result<(i64, Checklist), AppError> {
    match store::current_checklist(&app.db, venue_type).await? {
        Some(row) => {
            let list = Checklist::parse(&row.body).map_err(|e| {
                AppError::fault(format!("检查表 {} 第 {} 版无法读取：{e}", row.venue_type, row.version))
            })?;
            Ok((row.version, list))
        }
        None => Ok((0, Checklist::service_hall())),
    }
}

/// The office saves a new version of a venue type's checklist from its TOML text; visits made
/// before keep the version they were made with. Returns the new version.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn save_checklist(app: &App, actor: &Actor, venue_type: &str, body: &str) -> Result<i64, AppError> {
    // One checklist serves the whole city, as its calendar does.
    if !actor.may_city_wide(Action::Supervise) {
        return Err(AppError::Forbidden("检查表由市效能办修改".into()));
    }
    let list = Checklist::parse(body).map_err(|e| AppError::field("body", e.0))?;
    let now = app.now();
    let mut row = ChecklistRow {
        id: crate::new_id(),
        venue_type: venue_type.to_string(),
        version: 0,
        name: list.name.clone(),
        body: body.to_string(),
        created_by: actor.label.clone(),
        created_at: now,
    };
    let mut tx = app.db.begin().await?;
    row.version = store::insert_checklist(&mut tx, &row).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "checklist.save",
            target: &format!("{} 第 {} 版", list.name, row.version),
            path: "/",
            detail: json!({ "venue_type": venue_type, "version": row.version, "items": list.items.len() }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(row.version)
}

/// A visit as its page shows it.
#[derive(Debug, Clone)]
pub struct VisitView {
    pub visit: VisitRow,
    pub round: RoundRow,
    pub venue_name: String,
    /// The checklist as it stood when the visit began.
    pub checklist: Checklist,
    pub findings: Vec<FindingRow>,
    /// The departments a finding may name: those stationed in the venue's area, (code, name).
    pub departments: Vec<(String, String)>,
    /// The viewer is the visit's inspector and the visit is open: findings may be recorded.
    pub may_record: bool,
    /// The photos of its findings.
    pub photos: Vec<PhotoMeta>,
}

/// The inspector starts the visit of a venue drawn for the round (or comes back to it): the
/// checklist in use is kept with the visit. Returns the visit's id.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn start_visit(app: &App, actor: &Actor, round_id: &str, venue_code: &str) -> Result<String, AppError> {
    let row = store::round(&app.db, round_id).await?.ok_or_else(|| AppError::NotFound("检查轮次".into()))?;
    if !is_inspector(actor, &row) {
        actor.require(Action::View, &OrgPath::from_stored(row.path.clone()), "检查轮次")?;
        return Err(AppError::Forbidden("只有本轮的检查人员可以开始检查".into()));
    }
    if row.ended_at.is_some() || month_over(&row, app.today()) {
        return Err(AppError::Conflict("本轮检查已结束，不能再开始检查".into()));
    }
    let target = store::targets(&app.db, round_id)
        .await?
        .into_iter()
        .find(|t| t.venue_code == venue_code.trim())
        .ok_or_else(|| AppError::field("venue_code", format!("“{}”不在本轮检查对象中", venue_code.trim())))?;
    let (version, _) = checklist(app, HALL).await?;
    let body = match store::current_checklist(&app.db, HALL).await? {
        Some(r) => r.body,
        None => inspection::SERVICE_HALL.to_string(),
    };
    let now = app.now();
    let visit = VisitRow {
        id: crate::new_id(),
        round_id: round_id.to_string(),
        venue_code: target.venue_code.clone(),
        path: target.path.clone(),
        inspector: actor.label.clone(),
        inspector_name: actor.display_name.clone(),
        checklist_version: version,
        checklist: body,
        started_at: now,
        closed_at: None,
    };
    let mut tx = app.db.begin().await?;
    let stored = store::start_visit(&mut tx, &visit).await?;
    if stored.id == visit.id {
        audit::append(
            &mut tx,
            NewAudit {
                actor: &actor.label,
                action: "inspection.visit",
                target: &target.venue_code,
                path: &row.path,
                detail: json!({ "round": round_id, "visit": stored.id, "checklist_version": version }),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(stored.id)
}

/// The venue type visits use: service halls (政务服务中心、便民服务中心).
pub const HALL: &str = "service_hall";

/// Who may see a visit: its inspector, and those who see its round once its venues show to
/// them (an open round, or a covert one that has ended).
async fn visible_visit(app: &App, actor: &Actor, id: &str) -> Result<(VisitRow, RoundRow), AppError> {
    let what = "检查记录";
    let visit = store::visit(&app.db, id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    let round = store::round(&app.db, &visit.round_id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    if visit.inspector == actor.label || is_inspector(actor, &round) {
        return Ok((visit, round));
    }
    actor.require(Action::View, &OrgPath::from_stored(round.path.clone()), what)?;
    let shown = round.kind == RoundKind::Open.as_str() || round.ended_at.is_some() || month_over(&round, app.today());
    if !shown {
        return Err(AppError::NotFound(what.into()));
    }
    Ok((visit, round))
}

pub async fn visit_view(app: &App, actor: &Actor, id: &str) -> Result<VisitView, AppError> {
    let (visit, round) = visible_visit(app, actor, id).await?;
    let checklist = Checklist::parse(&visit.checklist)
        .map_err(|e| AppError::fault(format!("检查记录 {id} 的检查表无法读取：{e}")))?;
    let findings = store::findings_of_visit(&app.db, id).await?;
    let units = network_store::all_units(&app.db).await?;
    let venue = units.iter().find(|u| u.code.as_str() == visit.venue_code);
    let venue_name = venue.map_or_else(|| visit.venue_code.clone(), |u| u.name.clone());
    // The departments of the jurisdictions the venue lies in (its own, the district's, the
    // city's), the nearest first: a town centre's windows belong to the district's departments.
    let under = |d: &oversight_domain::org::OrgUnit| {
        let path = d.path.as_str().trim_end_matches('/');
        let parent = &path[..path.rfind('/').unwrap_or(0) + 1];
        visit.path.starts_with(parent).then_some(parent.len())
    };
    let mut departments: Vec<(usize, String, String)> = units
        .iter()
        .filter(|u| u.kind == oversight_domain::org::OrgKind::Department)
        .filter_map(|u| under(u).map(|depth| (usize::MAX - depth, u.code.as_str().to_string(), u.name.clone())))
        .collect();
    departments.sort();
    let departments = departments.into_iter().map(|(_, code, name)| (code, name)).collect();
    let may_record = visit.closed_at.is_none() && visit.inspector == actor.label;
    let ids: Vec<String> = findings.iter().map(|f| f.id.clone()).collect();
    let photos = store::photos_of(&app.db, &ids).await?;
    Ok(VisitView { visit, round, venue_name, checklist, findings, departments, may_record, photos })
}

/// A finding as the visit's page gives it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewFinding {
    #[serde(default)]
    pub item_code: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub department_code: String,
    #[serde(default)]
    pub window_name: String,
    #[serde(default)]
    pub staff_name: String,
    #[serde(default)]
    pub note: String,
}

/// The inspector records one finding (saved at once, so that nothing typed before is lost if
/// the connection drops): an item of the visit's checklist, its severity, the department and
/// window or staff if known, and what was seen. A finding of the same item at the same venue
/// within the repeat window says it repeats the earlier one.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn record_finding(app: &App, actor: &Actor, visit_id: &str, f: &NewFinding) -> Result<FindingRow, AppError> {
    let (visit, round) = visible_visit(app, actor, visit_id).await?;
    if visit.inspector != actor.label {
        return Err(AppError::Forbidden("只有本次检查的检查人员可以记录问题".into()));
    }
    if visit.closed_at.is_some() {
        return Err(AppError::Conflict("本次检查已结束，不能再记录问题".into()));
    }
    let checklist = Checklist::parse(&visit.checklist)
        .map_err(|e| AppError::fault(format!("检查记录 {visit_id} 的检查表无法读取：{e}")))?;
    let mut errors = Vec::new();
    let item = checklist.items.iter().find(|i| i.code == f.item_code.trim());
    if item.is_none() {
        errors.push(RowError::new(0, "item_code", "请选择检查表中的检查项"));
    }
    let severity = inspection::Severity::parse(f.severity.trim());
    if severity.is_none() {
        errors.push(RowError::new(0, "severity", "请选择一般问题或严重问题"));
    }
    let note = f.note.trim();
    if note.is_empty() {
        errors.push(RowError::new(0, "note", "请写明发现的问题"));
    } else if note.chars().count() > 1000 {
        errors.push(RowError::new(0, "note", "不超过 1000 字"));
    }
    for (field, text) in [("window_name", &f.window_name), ("staff_name", &f.staff_name)] {
        if text.trim().chars().count() > 50 {
            errors.push(RowError::new(0, field, "不超过 50 字"));
        }
    }
    let units = network_store::all_units(&app.db).await?;
    let department = match f.department_code.trim() {
        "" => {
            errors.push(RowError::new(0, "department_code", "请选择责任部门：整改通知发给该部门"));
            None
        }
        code => {
            match units.iter().find(|u| u.code.as_str() == code && u.kind == oversight_domain::org::OrgKind::Department)
            {
                Some(u) => Some(u),
                None => {
                    errors.push(RowError::new(0, "department_code", format!("“{code}”不是部门编码")));
                    None
                }
            }
        }
    };
    let (Some(item), Some(severity)) = (item, severity) else { return Err(AppError::Invalid(errors)) };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = app.now();
    let today = app.local_date(now);
    let since = today - chrono::Days::new(u64::from(app.config.inspections.repeat_days));
    let mut tx = app.db.begin().await?;
    let repeat_of = store::earlier_finding(&mut tx, &visit.venue_code, &item.code, since).await?;
    let finding = FindingRow {
        id: crate::new_id(),
        visit_id: visit.id.clone(),
        venue_code: visit.venue_code.clone(),
        path: visit.path.clone(),
        item_code: item.code.clone(),
        item_name: item.name.clone(),
        severity: severity.as_str().to_string(),
        department_code: department.map(|d| d.code.as_str().to_string()),
        department_path: department.map_or_else(|| visit.path.clone(), |d| d.path.as_str().to_string()),
        window_name: f.window_name.trim().to_string(),
        staff_name: f.staff_name.trim().to_string(),
        note: note.to_string(),
        found_on: today,
        repeat_of,
        created_by: actor.label.clone(),
        created_at: now,
        rect_state: RectState::Draft.as_str().to_string(),
        rect_due: None,
        replied_on: None,
        verified_on: None,
        verify_method: None,
        alert_on: None,
    };
    store::insert_finding(&mut tx, &finding).await?;
    // The log names no staff: the finding itself is where that is kept.
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "inspection.finding",
            target: &visit.venue_code,
            path: &round.path,
            detail: json!({ "visit": visit.id, "finding": finding.id, "item": item.code, "severity": finding.severity,
                "repeat": finding.repeat_of.is_some() }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(finding)
}

/// The kind of the message telling a department of its rectification notices.
pub const RECTIFICATION_NOTICE: &str = "rectification_notice";

/// The inspector ends the visit: no finding may be added after.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn close_visit(app: &App, actor: &Actor, visit_id: &str) -> Result<(), AppError> {
    let (visit, round) = visible_visit(app, actor, visit_id).await?;
    if visit.inspector != actor.label {
        return Err(AppError::Forbidden("只有本次检查的检查人员可以结束检查".into()));
    }
    let now = app.now();
    let today = app.local_date(now);
    let calendar = app.calendar().await?;
    let mut findings = store::findings_of_visit(&app.db, visit_id).await?;
    // The visit over, each finding becomes a rectification notice to its department, due in
    // working days by its severity; each department is told once, by e-mail and SMS where it
    // has them, what it is to rectify by when.
    for f in &mut findings {
        let severity = inspection::Severity::parse(&f.severity).unwrap_or(inspection::Severity::Serious);
        f.rect_state = RectState::Open.as_str().to_string();
        f.rect_due = Some(calendar.deadline_or_estimate(today, app.config.inspections.days(severity)).0);
        f.alert_on = inspection::rectification_alert_on(RectState::Open, f.rect_due);
    }
    let venue =
        network_store::unit(&app.db, &visit.venue_code).await?.map_or_else(|| visit.venue_code.clone(), |u| u.name);
    let mut messages = Vec::new();
    let mut departments: Vec<&str> = findings.iter().filter_map(|f| f.department_code.as_deref()).collect();
    departments.sort_unstable();
    departments.dedup();
    for department in departments {
        let items: Vec<String> = findings
            .iter()
            .filter(|f| f.department_code.as_deref() == Some(department))
            .map(|f| {
                format!(
                    "{}（{}，{} 前整改反馈）",
                    f.item_name,
                    f.note,
                    f.rect_due.map(|d| d.to_string()).unwrap_or_default()
                )
            })
            .collect();
        let subject = format!("【明察暗访】{venue}检查发现 {} 个问题，请按期整改", items.len());
        let body = format!("{venue}检查发现以下问题，请按期整改并在平台提交整改反馈：{}。", items.join("；"));
        let key = format!("rectification|{visit_id}|{department}");
        messages.extend(
            crate::notify::to_contacts(app, department, None, RECTIFICATION_NOTICE, &key, subject, body).await?,
        );
    }
    let mut tx = app.db.begin().await?;
    if !store::close_visit(&mut tx, visit_id, now).await? {
        return Err(AppError::Conflict("本次检查已结束".into()));
    }
    for f in &findings {
        store::save_rectification(&mut tx, f).await?;
    }
    if crate::notify::enqueue(&mut tx, messages, now).await? > 0 {
        app.notify_wake.notify_one();
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "inspection.close_visit",
            target: &visit.venue_code,
            path: &round.path,
            detail: json!({ "visit": visit.id }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The visits of a round the actor may see.
pub async fn visits_of_round(app: &App, actor: &Actor, round_id: &str) -> Result<Vec<VisitRow>, AppError> {
    let view = round_view(app, actor, round_id).await?;
    if view.targets.is_none() {
        return Ok(Vec::new());
    }
    Ok(store::visits_of_round(&app.db, round_id).await?)
}

/// A finding with its rectification, as its page shows it.
#[derive(Debug, Clone)]
pub struct FindingView {
    pub finding: FindingRow,
    pub state: RectState,
    pub venue_name: String,
    pub department_name: String,
    pub steps: Vec<StepRow>,
    /// The steps this viewer may take now.
    pub may: Vec<RectStep>,
    pub today: NaiveDate,
    pub photos: Vec<PhotoMeta>,
}

fn finding_owners(f: &FindingRow) -> [OrgPath; 2] {
    [OrgPath::from_stored(f.department_path.clone()), OrgPath::from_stored(f.path.clone())]
}

/// Whether the actor may take `step` on the rectification by role and place: the reply is the
/// department's liaison's, the others a supervisor's over the department or the venue.
fn may_rectify(actor: &Actor, f: &FindingRow, step: RectStep) -> bool {
    let [department, venue] = finding_owners(f);
    if step.by_office() {
        actor.may(Action::Supervise, &department) || actor.may(Action::Supervise, &venue)
    } else {
        actor.may(Action::Respond, &department)
    }
}

/// A finding sent for rectification (never one of a visit still going on), to those who see
/// its department or venue.
pub async fn finding_view(app: &App, actor: &Actor, id: &str) -> Result<FindingView, AppError> {
    let what = "整改通知";
    let finding = store::finding(&app.db, id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    let state = RectState::parse(&finding.rect_state).unwrap_or(RectState::Draft);
    let [department, venue] = finding_owners(&finding);
    actor.require_any(Action::View, &[&department, &venue], what)?;
    if state == RectState::Draft {
        return Err(AppError::NotFound(what.into()));
    }
    let units = network_store::all_units(&app.db).await?;
    let name = |code: &str| {
        units.iter().find(|u| u.code.as_str() == code).map_or_else(|| code.to_string(), |u| u.name.clone())
    };
    let may = [RectStep::Reply, RectStep::Verify, RectStep::Return]
        .into_iter()
        .filter(|s| may_rectify(actor, &finding, *s) && s.after(state).is_ok())
        .collect();
    Ok(FindingView {
        venue_name: name(&finding.venue_code),
        department_name: finding.department_code.as_deref().map_or_else(|| "—".to_string(), name),
        steps: store::steps(&app.db, id).await?,
        photos: store::photos_of(&app.db, &[id.to_string()]).await?,
        state,
        may,
        today: app.today(),
        finding,
    })
}

/// The rectifications in the actor's scope matching `filter`, the earliest due first.
pub async fn rectifications(app: &App, actor: &Actor, filter: &RectFilter) -> Result<Vec<FindingRow>, AppError> {
    Ok(store::rectifications(&app.db, &actor.scope(), filter, 500).await?)
}

/// A step on a finding's rectification: the department reports what it did (with the names of
/// its evidence); the office verifies it (saying how: re-inspection, a call, the records) or
/// returns it. Every step but a verification needs a note.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn rectification_step(
    app: &App,
    actor: &Actor,
    id: &str,
    step: &str,
    note: &str,
    evidence: &str,
    method: &str,
) -> Result<RectState, AppError> {
    let step = RectStep::parse(step.trim()).ok_or_else(|| AppError::field("step", "不是可办理的步骤"))?;
    let note = note.trim();
    let mut errors = Vec::new();
    if note.is_empty() && step != RectStep::Verify {
        let label = if step == RectStep::Reply { "整改情况" } else { "退回原因" };
        errors.push(RowError::new(0, "note", format!("请填写{label}")));
    } else if note.chars().count() > 2000 {
        errors.push(RowError::new(0, "note", "不超过 2000 字"));
    }
    let method = if step == RectStep::Verify {
        let m = VerifyMethod::parse(method.trim());
        if m.is_none() {
            errors.push(RowError::new(0, "method", "请选择核实方式：复查、电话核实或查阅记录"));
        }
        m
    } else {
        None
    };
    let evidence: Vec<&str> = evidence.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if evidence.len() > 20 || evidence.iter().any(|e| e.chars().count() > 200) {
        errors.push(RowError::new(0, "evidence", "至多 20 个附件名，每个不超过 200 字"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let what = "整改通知";
    let now = app.now();
    let today = app.local_date(now);
    let mut tx = app.db.begin().await?;
    let mut f = store::finding_in(&mut tx, id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    let [department, venue] = finding_owners(&f);
    actor.require_any(Action::View, &[&department, &venue], what)?;
    let state = RectState::parse(&f.rect_state).unwrap_or(RectState::Draft);
    if state == RectState::Draft {
        return Err(AppError::NotFound(what.into()));
    }
    if !may_rectify(actor, &f, step) {
        return Err(AppError::Forbidden(format!("您没有{}的权限", step.label())));
    }
    let next = step.after(state).map_err(AppError::Conflict)?;
    f.rect_state = next.as_str().to_string();
    match step {
        RectStep::Reply => f.replied_on = Some(today),
        RectStep::Return => f.replied_on = None,
        RectStep::Verify => {
            f.verified_on = Some(today);
            f.verify_method = method.map(|m| m.as_str().to_string());
        }
    }
    f.alert_on = inspection::rectification_alert_on(next, f.rect_due);
    store::save_rectification(&mut tx, &f).await?;
    let shown = match method {
        Some(m) if note.is_empty() => m.label().to_string(),
        Some(m) => format!("{}：{note}", m.label()),
        None => note.to_string(),
    };
    store::insert_step(
        &mut tx,
        &StepRow {
            id: crate::new_id(),
            finding_id: id.to_string(),
            step: step.as_str().to_string(),
            at: now,
            actor: actor.label.clone(),
            actor_name: actor.display_name.clone(),
            note: shown,
            evidence: evidence.join("\n"),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: &format!("inspection.rectification.{}", step.as_str()),
            target: id,
            path: &f.department_path,
            detail: json!({ "state": f.rect_state, "method": f.verify_method, "evidence": evidence }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// The largest photo accepted, before shrinking (a phone camera's is 3–12 MB).
pub const MAX_PHOTO_BYTES: usize = 15 << 20;

/// The inspector adds a photo to a finding of an open visit: refused if it is not a photo, too
/// big, or a decompression bomb (before it is decoded); otherwise turned upright, shrunk, written
/// again without EXIF (so without location) and stored under the SHA-256 of what is stored.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn add_photo(app: &App, actor: &Actor, finding_id: &str, bytes: Vec<u8>) -> Result<PhotoMeta, AppError> {
    let finding = store::finding(&app.db, finding_id).await?.ok_or_else(|| AppError::NotFound("问题记录".into()))?;
    let (visit, round) = visible_visit(app, actor, &finding.visit_id).await?;
    if visit.inspector != actor.label {
        return Err(AppError::Forbidden("只有本次检查的检查人员可以添加照片".into()));
    }
    if visit.closed_at.is_some() {
        return Err(AppError::Conflict("本次检查已结束，不能再添加照片".into()));
    }
    if bytes.is_empty() {
        return Err(AppError::field("photo", "请选择或拍摄照片"));
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(AppError::field("photo", format!("照片不能超过 {} MB", MAX_PHOTO_BYTES >> 20)));
    }
    let shrunk = crate::photos::shrink(bytes).await?.map_err(|e| AppError::field("photo", e.0))?;
    let now = app.now();
    let meta = PhotoMeta {
        id: crate::new_id(),
        finding_id: finding_id.to_string(),
        sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&shrunk.jpeg)),
        width: i64::from(shrunk.width),
        height: i64::from(shrunk.height),
        created_at: now,
    };
    let mut tx = app.db.begin().await?;
    store::insert_photo(&mut tx, &meta, &shrunk.jpeg, &actor.label).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "inspection.photo",
            target: &visit.venue_code,
            path: &round.path,
            detail: json!({ "finding": finding_id, "photo": meta.id, "sha256": meta.sha256 }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(meta)
}

/// A photo's JPEG, to whoever may see its finding: through the visit (its inspector, the office
/// once a covert round ends), or through the rectification (the department, the venue).
pub async fn photo(app: &App, actor: &Actor, id: &str) -> Result<Vec<u8>, AppError> {
    let (finding_id, content) = store::photo(&app.db, id).await?.ok_or_else(|| AppError::NotFound("照片".into()))?;
    let finding = store::finding(&app.db, &finding_id).await?.ok_or_else(|| AppError::NotFound("照片".into()))?;
    if visible_visit(app, actor, &finding.visit_id).await.is_err() {
        finding_view(app, actor, &finding_id).await.map_err(|_| AppError::NotFound("照片".into()))?;
    }
    Ok(content)
}

/// The alert kind of a rectification whose department did not reply by its due day.
pub const RECTIFICATION_LATE: &str = "rectification_late";

/// The monitor's look at the rectifications whose alert day has come: each still owed raises
/// its alert (once per due day: a returned one past its day raises none again), and its alert
/// day is forgotten. Its cost is the rectifications due, not the open ones. Returns the alerts.
pub(crate) async fn monitor_rectifications(app: &App, now: chrono::DateTime<chrono::Utc>) -> Result<usize, AppError> {
    use oversight_domain::supervision::{Subject, SubjectKind};
    let today = app.local_date(now);
    let mut raised = 0;
    loop {
        let mut tx = app.db.begin().await?;
        let due = store::due_rectifications(&mut tx, today, 500).await?;
        let alerts: Vec<_> = due
            .iter()
            .filter(|f| {
                let state = RectState::parse(&f.rect_state).unwrap_or(RectState::Draft);
                inspection::rectification_overdue(state, f.rect_due, today)
            })
            .map(|f| {
                let owner = crate::supervision::AlertOwner {
                    subject: Subject::new(SubjectKind::Finding, &f.id),
                    venue_code: Some(&f.venue_code),
                    venue_path: &f.path,
                    department_code: f.department_code.as_deref(),
                    department_path: &f.department_path,
                };
                let due = f.rect_due.map(|d| d.to_string()).unwrap_or_default();
                let message = format!("整改通知逾期未反馈：{}（{}），整改期限 {due}", f.item_name, f.note);
                owner.alert(RECTIFICATION_LATE, &due, &message, now)
            })
            .collect();
        raised += oversight_store::supervision::insert_alerts(&mut tx, &alerts).await? as usize;
        let ids: Vec<&str> = due.iter().map(|f| f.id.as_str()).collect();
        store::alerted_rectifications(&mut tx, &ids).await?;
        tx.commit().await?;
        if due.len() < 500 {
            return Ok(raised);
        }
    }
}

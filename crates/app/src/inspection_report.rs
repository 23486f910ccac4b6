//! The inspections report (明察暗访统计): visits ended, findings by severity and repeat, and how
//! their rectifications went, for a period beside its comparison, by venue, department or
//! checklist item. Each figure is a rule on one finding (`FindingFigure`), so the list behind a
//! figure holds exactly the findings it counts.

use chrono::NaiveDate;
use oversight_domain::inspection::{FindingFacts, FindingFigure, InspectionCounts, RectState, Severity};
use oversight_store::cases::GroupBy;
use oversight_store::inspections::{self as store, FindingRow, RectFilter};
use serde_json::json;

use crate::tickets::Figure;
use crate::{Actor, App, AppError};

/// The most findings a report reads; a city's year of inspections is a few thousand.
const MAX_FINDINGS: i64 = 100_000;

/// One group of the report: its key (a code), its name and its counts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectionGroup {
    pub key: String,
    pub name: String,
    pub counts: InspectionCounts,
}

/// The report of one period: findings made in it, visits ended in it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectionReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: InspectionCounts,
    pub groups: Vec<InspectionGroup>,
}

/// The report of a period beside its comparison.
#[derive(Debug, Clone)]
pub struct ComparedInspections {
    pub current: InspectionReport,
    pub previous: Option<InspectionReport>,
    /// (key, name, current, previous) for every group of either period.
    pub rows: Vec<(String, String, Option<InspectionGroup>, Option<InspectionGroup>)>,
    pub group_by: Option<GroupBy>,
}

/// What the report counts of a stored finding.
pub fn facts(f: &FindingRow) -> FindingFacts {
    FindingFacts {
        severity: Severity::parse(&f.severity).unwrap_or(Severity::Serious),
        repeat: f.repeat_of.is_some(),
        state: RectState::parse(&f.rect_state).unwrap_or(RectState::Draft),
        due: f.rect_due,
        replied_on: f.replied_on,
    }
}

/// How the inspections report may be split: by venue, department or checklist item.
pub fn parse_group_by(s: &str) -> Result<Option<GroupBy>, AppError> {
    match s.trim() {
        "window" => Err(AppError::field("group_by", "明察暗访统计不按窗口分组，应为 venue、department 或 item")),
        other => crate::ratings::parse_group_by(other),
    }
}

/// The key of a finding's group (a venue, department or checklist item code).
fn group_key(f: &FindingRow, group: GroupBy) -> &str {
    match group {
        GroupBy::Venue => &f.venue_code,
        GroupBy::Item => &f.item_code,
        _ => f.department_code.as_deref().unwrap_or(""),
    }
}

/// The findings sent for rectification in the actor's scope made between `from` and `to`.
async fn findings(app: &App, actor: &Actor, from: NaiveDate, to: NaiveDate) -> Result<Vec<FindingRow>, AppError> {
    let filter = RectFilter { found: Some((from, to)), ..RectFilter::default() };
    Ok(store::rectifications(&app.db, &actor.scope(), &filter, MAX_FINDINGS).await?)
}

pub async fn inspection_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    group_by: Option<GroupBy>,
) -> Result<InspectionReport, AppError> {
    if to < from {
        return Err(AppError::field("to", "结束日期不能早于开始日期"));
    }
    let today = app.today();
    let rows = findings(app, actor, from, to).await?;
    let until = to.succ_opt().unwrap_or(to);
    let visits = store::visits_ended(&app.db, &actor.scope(), app.start_of(from), app.start_of(until)).await?;
    let names = crate::network::unit_and_item_names(app).await?;
    let mut total = InspectionCounts { visits: visits.len() as u64, ..InspectionCounts::default() };
    let mut groups: std::collections::BTreeMap<String, InspectionGroup> = Default::default();
    for f in &rows {
        let facts = facts(f);
        total.add(&facts, today);
        if let Some(g) = group_by {
            let key = group_key(f, g);
            let name = match g {
                GroupBy::Item => f.item_name.clone(),
                _ => names
                    .get(key)
                    .cloned()
                    .unwrap_or_else(|| if key.is_empty() { "未指明部门".into() } else { key.into() }),
            };
            groups
                .entry(key.to_string())
                .or_insert_with(|| InspectionGroup { key: key.to_string(), name, counts: InspectionCounts::default() })
                .counts
                .add(&facts, today);
        }
    }
    // A venue's group counts its visits too, with or without findings.
    if group_by == Some(GroupBy::Venue) {
        for venue in &visits {
            groups
                .entry(venue.clone())
                .or_insert_with(|| InspectionGroup {
                    key: venue.clone(),
                    name: names.get(venue).cloned().unwrap_or_else(|| venue.clone()),
                    counts: InspectionCounts::default(),
                })
                .counts
                .visits += 1;
        }
    }
    Ok(InspectionReport { from, to, total, groups: groups.into_values().collect() })
}

pub async fn compared_inspection_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    group_by: Option<GroupBy>,
    compare: crate::cases::Compare,
) -> Result<ComparedInspections, AppError> {
    let current = inspection_report(app, actor, from, to, group_by).await?;
    let previous = match compare.period(from, to) {
        Some((a, b)) => Some(inspection_report(app, actor, a, b, group_by).await?),
        None => None,
    };
    let rows =
        crate::cases::side_by_side(&current.groups, previous.as_ref().map(|p| &p.groups[..]), |g| (&g.key, &g.name));
    Ok(ComparedInspections { current, previous, rows, group_by })
}

/// The figures of a report line in the order pages and exports show them, each with the
/// finding rule its link lists (none for visits and rates).
pub fn inspection_figures(c: &InspectionCounts) -> [(&'static str, Figure, Option<FindingFigure>); 9] {
    let n = |x: u64| Figure::Count(x as i64);
    [
        ("检查场所次数", n(c.visits), None),
        ("发现问题", n(c.findings), Some(FindingFigure::Findings)),
        ("严重问题", n(c.serious), Some(FindingFigure::Serious)),
        ("重复发现", n(c.repeats), Some(FindingFigure::Repeats)),
        ("重复发现率", Figure::Rate(c.repeat_rate()), None),
        ("已核实销号", n(c.verified), Some(FindingFigure::Verified)),
        ("按期整改", n(c.on_time), Some(FindingFigure::OnTime)),
        ("按期整改率", Figure::Rate(c.on_time_rate()), None),
        ("逾期未反馈", n(c.overdue), Some(FindingFigure::Overdue)),
    ]
}

/// The findings behind one figure of the report: those of the period (and of the group's key,
/// when grouped) that the figure counts, today.
pub async fn figure_findings(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    group: Option<(GroupBy, &str)>,
    figure: FindingFigure,
) -> Result<Vec<FindingRow>, AppError> {
    let today = app.today();
    let mut rows = findings(app, actor, from, to).await?;
    rows.retain(|f| figure.holds(&facts(f), today) && group.is_none_or(|(g, key)| group_key(f, g) == key));
    Ok(rows)
}

/// The report as an XLSX workbook; every export is audited.
pub async fn export_inspections_xlsx(app: &App, actor: &Actor, r: &ComparedInspections) -> Result<Vec<u8>, AppError> {
    use crate::export::Line;
    let period = |t: &InspectionReport| format!("{} 至 {}", t.from, t.to);
    let figures = |c: &InspectionCounts| inspection_figures(c).into_iter().map(|(_, x, _)| x).collect::<Vec<_>>();
    let header: Vec<&str> = inspection_figures(&r.current.total).iter().map(|(label, _, _)| *label).collect();
    let zero = InspectionCounts::default();
    let mut lines = vec![Line {
        key: String::new(),
        name: "合计".into(),
        current: figures(&r.current.total),
        previous: r.previous.as_ref().map(|p| figures(&p.total)),
    }];
    lines.extend(r.rows.iter().map(|(key, name, c, p)| Line {
        key: key.clone(),
        name: name.clone(),
        current: figures(c.as_ref().map_or(&zero, |g| &g.counts)),
        previous: r.previous.as_ref().map(|_| figures(p.as_ref().map_or(&zero, |g| &g.counts))),
    }));
    let bytes = crate::export::compared_xlsx(
        "明察暗访",
        "明察暗访统计",
        &format!("{}（按发现日期；逾期未反馈截至今日）", period(&r.current)),
        r.previous.as_ref().map(period).as_deref(),
        &header,
        &lines,
    )?;
    let detail = json!({ "from": r.current.from, "to": r.current.to, "format": "xlsx" });
    crate::cases::audit_export(app, actor, "inspections", detail).await?;
    Ok(bytes)
}

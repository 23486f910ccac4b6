//! The overdue-rate report (spec/metrics.md), compared with another period, and its XLSX.

use chrono::NaiveDate;
use oversight_domain::access::Scope;
use oversight_domain::org::{Level, OrgKind};
use oversight_store::audit::{self, NewAudit};
use oversight_store::cases::{self as store, GroupBy};
use oversight_store::network as network_store;
use serde_json::json;

use crate::{Actor, App, AppError};
use foldhash::HashMap;

/// A group of the case report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaseGroup {
    pub key: String,
    pub name: String,
    pub settled: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub overdue_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaseTotals {
    pub settled: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub overdue_rate: Option<f64>,
}

/// The JSON of `report cases` (spec/metrics.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaseReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: CaseTotals,
    pub groups: Vec<CaseGroup>,
}

fn rate(overdue: i64, settled: i64) -> Option<f64> {
    (settled > 0).then(|| overdue as f64 / settled as f64)
}

/// Parses the `--group-by` / `group_by` value.
pub fn parse_group_by(s: &str) -> Result<Option<GroupBy>, AppError> {
    Ok(match s.trim() {
        "" => None,
        "level" => Some(GroupBy::Level),
        "venue" => Some(GroupBy::Venue),
        "department" => Some(GroupBy::Department),
        "item" => Some(GroupBy::Item),
        other => {
            return Err(AppError::field("group_by", format!("“{other}”无效，应为 level、venue、department 或 item")));
        }
    })
}

/// Parses `--level city,district`.
pub fn parse_levels(s: &str) -> Result<Vec<Level>, AppError> {
    s.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            Level::parse(l)
                .ok_or_else(|| AppError::field("level", format!("“{l}”无效，应为 city、district、town 或 village")))
        })
        .collect()
}

/// Parses a `YYYY-MM-DD` date of a report period.
pub fn parse_date(s: &str, field: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::field(field, format!("“{s}”不是 YYYY-MM-DD 格式的日期")))
}

/// The overdue-rate report over the cases the actor may see.
pub async fn case_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    levels: &[Level],
    group_by: Option<GroupBy>,
) -> Result<CaseReport, AppError> {
    if to < from {
        return Err(AppError::field("to", "结束日期早于开始日期"));
    }
    let today = app.today();
    let levels: Vec<i32> = levels.iter().map(|l| *l as i32).collect();
    let scope = actor.scope();
    let total = store::settled_counts(&app.db, &scope, from, to, today, &levels, None).await?;
    let (on_time, overdue) = total.first().map_or((0, 0), |r| (r.on_time, r.overdue));
    let mut groups = Vec::new();
    if let Some(g) = group_by {
        let rows = store::settled_counts(&app.db, &scope, from, to, today, &levels, Some(g)).await?;
        let names = group_names(app, g).await?;
        for r in rows {
            let raw = r.key.unwrap_or_default();
            let key = match g {
                GroupBy::Level => {
                    raw.parse::<i64>().ok().and_then(Level::from_number).map_or(raw.clone(), |l| l.as_str().to_string())
                }
                _ => raw.clone(),
            };
            let settled = r.on_time + r.overdue;
            // A tally row can net to zero (a case forwarded after it settled): no group.
            if settled == 0 {
                continue;
            }
            groups.push(CaseGroup {
                name: names.get(&key).cloned().unwrap_or_default(),
                key,
                settled,
                on_time: r.on_time,
                overdue: r.overdue,
                overdue_rate: rate(r.overdue, settled),
            });
        }
        groups.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(CaseReport {
        from,
        to,
        total: CaseTotals {
            settled: on_time + overdue,
            on_time,
            overdue,
            overdue_rate: rate(overdue, on_time + overdue),
        },
        groups,
    })
}

/// What a report is set beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    None,
    /// The period of the same length just before.
    PreviousPeriod,
    /// The same dates a year earlier (e.g. Q1 this year beside Q1 last year).
    LastYear,
}

impl Compare {
    pub fn parse(s: &str) -> Result<Compare, AppError> {
        Ok(match s.trim() {
            "" | "none" => Compare::None,
            "previous" => Compare::PreviousPeriod,
            "last_year" => Compare::LastYear,
            other => {
                return Err(AppError::field("compare", format!("“{other}”无效，应为 none、previous 或 last_year")));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compare::None => "none",
            Compare::PreviousPeriod => "previous",
            Compare::LastYear => "last_year",
        }
    }

    /// The period to compare `from..=to` with.
    pub fn period(self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Compare::None => None,
            Compare::PreviousPeriod => {
                let days = (to - from).num_days() + 1;
                let end = from.pred_opt()?;
                Some((end - chrono::Duration::days(days - 1), end))
            }
            Compare::LastYear => {
                let back = |d: NaiveDate| d.checked_sub_months(chrono::Months::new(12));
                Some((back(from)?, back(to)?))
            }
        }
    }
}

/// A report beside the one it is compared with, group by group.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ComparedReport {
    pub current: CaseReport,
    pub previous: Option<CaseReport>,
    /// Every group of either period, by key: (key, name, current, previous).
    pub rows: Vec<(String, String, Option<CaseGroup>, Option<CaseGroup>)>,
    pub group_by: Option<GroupBy>,
    pub levels: Vec<Level>,
}

pub async fn compared_report(
    app: &App,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
    levels: &[Level],
    group_by: Option<GroupBy>,
    compare: Compare,
) -> Result<ComparedReport, AppError> {
    let current = case_report(app, actor, from, to, levels, group_by).await?;
    let previous = match compare.period(from, to) {
        Some((a, b)) => Some(case_report(app, actor, a, b, levels, group_by).await?),
        None => None,
    };
    let rows = side_by_side(&current.groups, previous.as_ref().map(|p| &p.groups[..]), |g| (&g.key, &g.name));
    Ok(ComparedReport { current, previous, rows, group_by, levels: levels.to_vec() })
}

/// The groups of a period beside those of its comparison: `(key, name, current, previous)` for
/// every group of either period, by key.
pub fn side_by_side<G: Clone>(
    current: &[G],
    previous: Option<&[G]>,
    key: impl Fn(&G) -> (&String, &String),
) -> Vec<(String, String, Option<G>, Option<G>)> {
    let mut rows: std::collections::BTreeMap<String, (String, Option<G>, Option<G>)> = Default::default();
    for g in current {
        let (k, name) = key(g);
        rows.entry(k.clone()).or_insert_with(|| (name.clone(), None, None)).1 = Some(g.clone());
    }
    for g in previous.unwrap_or_default() {
        let (k, name) = key(g);
        rows.entry(k.clone()).or_insert_with(|| (name.clone(), None, None)).2 = Some(g.clone());
    }
    rows.into_iter().map(|(k, (n, c, p))| (k, n, c, p)).collect()
}

/// The report as an XLSX workbook; every export is audited.
pub async fn export_report_xlsx(app: &App, actor: &Actor, r: &ComparedReport) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::internal("building the XLSX file failed", e);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("超期率").map_err(fail)?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let period = |c: &CaseReport| format!("{} 至 {}", c.from, c.to);
    sheet.write_string_with_format(0, 0, "办件超期率统计", &bold).map_err(fail)?;
    sheet.write_string(1, 0, format!("统计期：{}", period(&r.current))).map_err(fail)?;
    if let Some(p) = &r.previous {
        sheet.write_string(2, 0, format!("对比期：{}", period(p))).map_err(fail)?;
    }
    let head = ["编码", "名称", "已定案", "按时", "超期", "超期率", "对比期已定案", "对比期超期", "对比期超期率"];
    for (i, h) in head.iter().enumerate() {
        sheet.write_string_with_format(4, i as u16, *h, &bold).map_err(fail)?;
    }
    let mut row = 5u32;
    let mut put = |key: &str,
                   name: &str,
                   c: Option<(i64, i64, i64, Option<f64>)>,
                   p: Option<(i64, i64, Option<f64>)>|
     -> Result<(), AppError> {
        sheet.write_string(row, 0, key).map_err(fail)?;
        sheet.write_string(row, 1, name).map_err(fail)?;
        if let Some((settled, on_time, overdue, rate)) = c {
            sheet.write_number(row, 2, settled as f64).map_err(fail)?;
            sheet.write_number(row, 3, on_time as f64).map_err(fail)?;
            sheet.write_number(row, 4, overdue as f64).map_err(fail)?;
            if let Some(x) = rate {
                sheet.write_number_with_format(row, 5, x, &percent).map_err(fail)?;
            }
        }
        if let Some((settled, overdue, rate)) = p {
            sheet.write_number(row, 6, settled as f64).map_err(fail)?;
            sheet.write_number(row, 7, overdue as f64).map_err(fail)?;
            if let Some(x) = rate {
                sheet.write_number_with_format(row, 8, x, &percent).map_err(fail)?;
            }
        }
        row += 1;
        Ok(())
    };
    let t = &r.current.total;
    put(
        "",
        "合计",
        Some((t.settled, t.on_time, t.overdue, t.overdue_rate)),
        r.previous.as_ref().map(|p| (p.total.settled, p.total.overdue, p.total.overdue_rate)),
    )?;
    for (key, name, c, p) in &r.rows {
        put(
            key,
            name,
            c.as_ref().map(|g| (g.settled, g.on_time, g.overdue, g.overdue_rate)),
            p.as_ref().map(|g| (g.settled, g.overdue, g.overdue_rate)),
        )?;
    }
    sheet.set_column_width(1, 28).map_err(fail)?;
    let bytes = book.save_to_buffer().map_err(fail)?;
    let detail = json!({ "from": r.current.from, "to": r.current.to, "groups": r.rows.len(), "format": "xlsx" });
    audit_export(app, actor, &format!("办件超期率 {}", period(&r.current)), detail).await?;
    Ok(bytes)
}

/// Writes the audit line of a report exported: who took which figures out of the system.
pub async fn audit_export(app: &App, actor: &Actor, target: &str, detail: serde_json::Value) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    audit::append(
        &mut tx,
        NewAudit { actor: &actor.label, action: "report.export", target, path: &actor.audit_path(), detail },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The names a window grouping needs: each department's windows at each venue by
/// `VENUE/DEPARTMENT` (their names joined), and every unit by code (see [`window_name`]).
async fn window_names(app: &App) -> Result<HashMap<String, String>, AppError> {
    let mut out: HashMap<String, String> =
        network_store::all_units(&app.db).await?.into_iter().map(|u| (u.code.as_str().to_string(), u.name)).collect();
    for (venue, department, name) in network_store::all_windows(&app.db).await? {
        out.entry(oversight_store::cases::window_key(&venue, &department))
            .and_modify(|names: &mut String| {
                names.push('、');
                names.push_str(&name);
            })
            .or_insert(name);
    }
    Ok(out)
}

/// A window group's name from [`window_names`]: `海口市政务服务中心 · 投资项目窗口`, or the
/// department's name where it has no window entered at that venue.
pub fn window_name(names: &HashMap<String, String>, key: &str) -> String {
    let Some((venue, department)) = key.split_once('/') else { return key.to_string() };
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let windows = names.get(key).cloned().unwrap_or_else(|| format!("{}窗口", name(department)));
    format!("{} · {windows}", name(venue))
}

pub(crate) async fn group_names(app: &App, g: GroupBy) -> Result<HashMap<String, String>, AppError> {
    Ok(match g {
        GroupBy::Level => Level::ALL.iter().map(|l| (l.as_str().to_string(), l.label().to_string())).collect(),
        GroupBy::Venue | GroupBy::Department => network_store::all_units(&app.db)
            .await?
            .into_iter()
            .filter(|u| if g == GroupBy::Venue { u.kind.is_venue() } else { u.kind == OrgKind::Department })
            .map(|u| (u.code.as_str().to_string(), u.name))
            .collect(),
        GroupBy::Item => network_store::catalogue(&app.db, &Scope::All, None, None)
            .await?
            .into_iter()
            .map(|e| (e.item.code.as_str().to_string(), e.item.name))
            .collect(),
        GroupBy::Window => window_names(app).await?,
    })
}

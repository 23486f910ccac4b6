//! The overdue-rate report: a period beside its comparison, grouped, charted, every figure a
//! link to its cases; exported to XLSX and printable.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{Datelike, NaiveDate};
use oversight_app::cases::{self, CaseGroup, Compare, ComparedReport};
use oversight_app::{App, AppError};
use oversight_domain::org::Level;
use oversight_store::cases::GroupBy;

use crate::chart::{self, Bar};
use crate::error::PageError;
use crate::session::{CurrentUser, SessionInfo};
use crate::view::Layout;

#[derive(serde::Deserialize, Default, Clone)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    compare: Option<String>,
    group_by: Option<String>,
    level: Option<String>,
}

/// The query with its defaults: this year up to today, beside the same dates last year, by level.
struct Params {
    from: NaiveDate,
    to: NaiveDate,
    compare: Compare,
    group_by: Option<GroupBy>,
    group_word: String,
    levels: Vec<Level>,
    level_word: String,
}

fn params(app: &App, q: &ReportQuery) -> Result<Params, AppError> {
    let today = app.today();
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let from = match text(&q.from).as_str() {
        "" => NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
        s => cases::parse_date(s, "from")?,
    };
    let to = match text(&q.to).as_str() {
        "" => today,
        s => cases::parse_date(s, "to")?,
    };
    let compare = match q.compare.as_deref() {
        None => Compare::LastYear,
        Some(s) => Compare::parse(s)?,
    };
    let group_word = q.group_by.clone().unwrap_or_else(|| "level".into());
    let group_by = cases::parse_group_by(&group_word)?;
    let level_word = text(&q.level);
    let levels = cases::parse_levels(&level_word)?;
    Ok(Params { from, to, compare, group_by, group_word, levels, level_word })
}

async fn report(app: &App, s: &SessionInfo, p: &Params) -> Result<ComparedReport, AppError> {
    cases::compared_report(app, &s.actor, p.from, p.to, &p.levels, p.group_by, p.compare).await
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/cases.html")]
struct ReportPage {
    l: Layout,
    r: ComparedReport,
    chart: String,
    from: NaiveDate,
    to: NaiveDate,
    compare: &'static str,
    group_word: String,
    level_word: String,
    query: String,
}

impl ReportPage {
    fn rate(&self, r: &Option<f64>) -> String {
        r.map_or("—".into(), |x| format!("{:.1}%", x * 100.0))
    }
    fn change(&self, c: &Option<CaseGroup>, p: &Option<CaseGroup>) -> String {
        change(c.as_ref().and_then(|g| g.overdue_rate), p.as_ref().and_then(|g| g.overdue_rate))
    }
    fn total_change(&self) -> String {
        change(self.r.current.total.overdue_rate, self.r.previous.as_ref().and_then(|p| p.total.overdue_rate))
    }
    /// The cases behind a figure: settled in the period (current or compared), of one group.
    fn cases(&self, previous: bool, key: &str, outcome: &str) -> String {
        let (from, to) = match (&self.r.previous, previous) {
            (Some(p), true) => (p.from, p.to),
            _ => (self.from, self.to),
        };
        cases_href(from, to, self.r.group_by, key, outcome, &self.level_word)
    }
}

fn change(current: Option<f64>, previous: Option<f64>) -> String {
    match (current, previous) {
        (Some(c), Some(p)) => {
            let d = (c - p) * 100.0;
            if d.abs() < 0.05 {
                "持平".into()
            } else {
                format!("{}{:.1} 个百分点", if d > 0.0 { "+" } else { "" }, d)
            }
        }
        _ => "—".into(),
    }
}

fn cases_href(from: NaiveDate, to: NaiveDate, group: Option<GroupBy>, key: &str, outcome: &str, level: &str) -> String {
    let mut pairs: Vec<(&str, String)> = vec![("from", from.to_string()), ("to", to.to_string())];
    if !outcome.is_empty() {
        pairs.push(("outcome", outcome.to_string()));
    }
    match group {
        Some(GroupBy::Level) if !key.is_empty() => pairs.push(("level", key.to_string())),
        Some(GroupBy::Venue) if !key.is_empty() => pairs.push(("venue", key.to_string())),
        Some(GroupBy::Department) if !key.is_empty() => pairs.push(("department", key.to_string())),
        Some(GroupBy::Item) if !key.is_empty() => pairs.push(("item", key.to_string())),
        _ if !level.is_empty() => pairs.push(("level", level.to_string())),
        _ => {}
    }
    format!("/cases?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
}

pub async fn cases_report(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<ReportQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = params(&app, &q)?;
    let r = report(&app, &s, &p).await?;
    let period = |c: &cases::CaseReport| format!("{} 至 {}", c.from, c.to);
    let mut bars = vec![Bar {
        label: "合计".into(),
        value: r.current.total.overdue_rate,
        href: cases_href(p.from, p.to, None, "", "overdue", &p.level_word),
        compare: r.previous.as_ref().and_then(|x| x.total.overdue_rate),
        compare_href: r.previous.as_ref().map(|x| cases_href(x.from, x.to, None, "", "overdue", &p.level_word)),
    }];
    for (key, name, c, prev) in r.rows.iter().take(40) {
        bars.push(Bar {
            label: if name.is_empty() { key.clone() } else { name.clone() },
            value: c.as_ref().and_then(|g| g.overdue_rate),
            href: cases_href(p.from, p.to, p.group_by, key, "overdue", &p.level_word),
            compare: prev.as_ref().and_then(|g| g.overdue_rate),
            compare_href: r
                .previous
                .as_ref()
                .map(|x| cases_href(x.from, x.to, p.group_by, key, "overdue", &p.level_word)),
        });
    }
    let chart = chart::rate_bars("超期率", &period(&r.current), r.previous.as_ref().map(period).as_deref(), &bars);
    let query = serde_urlencoded::to_string([
        ("from", p.from.to_string()),
        ("to", p.to.to_string()),
        ("compare", p.compare.as_str().to_string()),
        ("group_by", p.group_word.clone()),
        ("level", p.level_word.clone()),
    ])
    .unwrap_or_default();
    Ok(ReportPage {
        l: Layout::new(&s, "/reports", "办件超期率统计"),
        chart,
        from: p.from,
        to: p.to,
        compare: p.compare.as_str(),
        group_word: p.group_word,
        level_word: p.level_word,
        query,
        r,
    })
}

pub async fn cases_xlsx(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<ReportQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = params(&app, &q)?;
    let r = report(&app, &s, &p).await?;
    let bytes = cases::export_report_xlsx(&app, &s.actor, &r).await?;
    let name = format!("attachment; filename=\"overdue-{}-{}.xlsx\"", p.from, p.to);
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    ))
}

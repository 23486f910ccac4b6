//! The overdue-rate report: a period beside its comparison, grouped, charted, every figure a
//! link to its cases; exported to XLSX and printable.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{Datelike, NaiveDate};
use oversight_app::cases::{self, CaseGroup, Compare, ComparedReport};
use oversight_app::inspection_report::{self, ComparedInspections, InspectionGroup, inspection_figures};
use oversight_app::ratings::{self, ComparedRatings, RatingGroup};
use oversight_app::tasks::{self, ComparedTasks, TaskGroup, TaskGroupBy};
use oversight_app::tickets::{self, ComparedTickets, Figure};
use oversight_app::{App, AppError};
use oversight_domain::inspection::FindingFigure;
use oversight_domain::org::Level;
use oversight_domain::rating::RatingCounts;
use oversight_domain::task::TaskCounts;
use oversight_store::cases::GroupBy;
use oversight_store::tickets::TicketGroup;

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

/// A report's period and comparison from the query, with the defaults: this year up to today,
/// beside the same dates last year.
fn period(
    app: &App,
    from: &Option<String>,
    to: &Option<String>,
    compare: &Option<String>,
) -> Result<(NaiveDate, NaiveDate, Compare), AppError> {
    let today = app.today();
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let from = match text(from).as_str() {
        "" => NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
        s => cases::parse_date(s, "from")?,
    };
    let to = match text(to).as_str() {
        "" => today,
        s => cases::parse_date(s, "to")?,
    };
    let compare = match compare.as_deref() {
        None => Compare::LastYear,
        Some(s) => Compare::parse(s)?,
    };
    Ok((from, to, compare))
}

fn params(app: &App, q: &ReportQuery) -> Result<Params, AppError> {
    let (from, to, compare) = period(app, &q.from, &q.to, &q.compare)?;
    let group_word = q.group_by.clone().unwrap_or_else(|| "level".into());
    let group_by = cases::parse_group_by(&group_word)?;
    let level_word = q.level.as_deref().map(str::trim).unwrap_or("").to_string();
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
    let chart = chart::rate_bars(
        "超期率",
        "无已定案办件",
        &period(&r.current),
        r.previous.as_ref().map(period).as_deref(),
        &bars,
    );
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
    Ok(xlsx(format!("overdue-{}-{}.xlsx", p.from, p.to), bytes))
}

/// The query of a report split by one kind of group (the hotline's, the key tasks').
#[derive(serde::Deserialize, Default, Clone)]
pub struct GroupedQuery {
    from: Option<String>,
    to: Option<String>,
    compare: Option<String>,
    group_by: Option<String>,
}

/// A grouped report's period, comparison and group, with the defaults.
struct GroupedParams<G> {
    from: NaiveDate,
    to: NaiveDate,
    compare: Compare,
    group: Option<G>,
    group_word: String,
}

fn grouped_params<G>(
    app: &App,
    q: &GroupedQuery,
    default_group: &str,
    parse: impl Fn(&str) -> Result<Option<G>, AppError>,
) -> Result<GroupedParams<G>, AppError> {
    let (from, to, compare) = period(app, &q.from, &q.to, &q.compare)?;
    let group_word = q.group_by.clone().unwrap_or_else(|| default_group.into());
    let group = parse(&group_word)?;
    Ok(GroupedParams { from, to, compare, group, group_word })
}

impl<G> GroupedParams<G> {
    /// The period, comparison and group as a query string (an export asks for the same).
    fn query(&self) -> String {
        serde_urlencoded::to_string([
            ("from", self.from.to_string()),
            ("to", self.to.to_string()),
            ("compare", self.compare.as_str().to_string()),
            ("group_by", self.group_word.clone()),
        ])
        .unwrap_or_default()
    }
}

/// A report's headline: each figure's label, its value this period and in the comparison
/// (empty without one).
fn beside<const N: usize>(
    current: [(&'static str, Figure); N],
    previous: Option<[(&'static str, Figure); N]>,
) -> Vec<(&'static str, String, String)> {
    let previous: Vec<String> = match previous {
        Some(p) => p.iter().map(|(_, f)| figure(f)).collect(),
        None => vec![String::new(); N],
    };
    current.into_iter().zip(previous).map(|((name, f), prev)| (name, figure(&f), prev)).collect()
}

/// A rate chart's bars: the total, then up to 40 groups, each beside its comparison and linked.
fn group_bars<G>(
    total: (Option<f64>, Option<f64>, String),
    rows: &[(String, String, Option<G>, Option<G>)],
    rate: impl Fn(&G) -> Option<f64>,
    href: impl Fn(&str) -> String,
) -> Vec<Bar> {
    let mut bars =
        vec![Bar { label: "合计".into(), value: total.0, href: total.2, compare: total.1, compare_href: None }];
    for (key, name, c, prev) in rows.iter().take(40) {
        bars.push(Bar {
            label: if name.is_empty() { key.clone() } else { name.clone() },
            value: c.as_ref().and_then(&rate),
            href: href(key),
            compare: prev.as_ref().and_then(&rate),
            compare_href: None,
        });
    }
    bars
}

/// The hotline's KPIs: a period beside its comparison, by type, channel or department.
fn ticket_params(app: &App, q: &GroupedQuery) -> Result<GroupedParams<TicketGroup>, AppError> {
    grouped_params(app, q, "type", tickets::parse_group_by)
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/tickets.html")]
struct TicketPage {
    l: Layout,
    r: ComparedTickets,
    chart: String,
    from: NaiveDate,
    to: NaiveDate,
    compare: &'static str,
    group_word: String,
    group: Option<TicketGroup>,
    query: String,
}

fn figure(f: &Figure) -> String {
    match f {
        Figure::Count(n) => n.to_string(),
        Figure::Rate(r) => r.map_or("—".into(), |x| format!("{:.1}%", x * 100.0)),
    }
}

fn orders_href(from: NaiveDate, to: NaiveDate, group: Option<TicketGroup>, key: &str, extra: &str) -> String {
    let mut pairs: Vec<(&str, String)> = vec![("from", from.to_string()), ("to", to.to_string())];
    match group {
        Some(TicketGroup::Type) if !key.is_empty() => pairs.push(("type", key.to_string())),
        Some(TicketGroup::Channel) if !key.is_empty() => pairs.push(("channel", key.to_string())),
        Some(TicketGroup::Department) if !key.is_empty() => pairs.push(("department", key.to_string())),
        _ => {}
    }
    let mut href = format!("/hotline/list?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default());
    if !extra.is_empty() {
        href.push('&');
        href.push_str(extra);
    }
    href
}

impl TicketPage {
    fn rate(&self, r: &Option<f64>) -> String {
        r.map_or("—".into(), |x| format!("{:.1}%", x * 100.0))
    }
    fn orders(&self, previous: bool, key: &str, extra: &str) -> String {
        let (from, to) = match (&self.r.previous, previous) {
            (Some(p), true) => (p.from, p.to),
            _ => (self.from, self.to),
        };
        orders_href(from, to, self.group, key, extra)
    }
    /// (label, current, compared, link to the orders behind the current figure).
    fn headline(&self) -> Vec<(&'static str, String, String, Option<String>)> {
        let previous: Vec<String> = match &self.r.previous {
            Some(p) => tickets::headline(p).iter().map(|(_, f)| figure(f)).collect(),
            None => vec![String::new(); 11],
        };
        tickets::headline(&self.r.current)
            .into_iter()
            .zip(previous)
            .map(|((name, f), prev)| {
                let link = match name {
                    "受理" => Some(orders_href(self.from, self.to, None, "", "")),
                    "办结" => Some(orders_href(self.from, self.to, None, "", "closed=1")),
                    "窗口服务投诉" => {
                        Some(orders_href(self.from, self.to, None, "", "type=complaint&venue_named=1"))
                    }
                    "回访不满意" => Some(orders_href(self.from, self.to, None, "", "satisfaction=unsatisfied")),
                    _ => None,
                };
                (name, figure(&f), prev, link)
            })
            .collect()
    }
}

pub async fn tickets_report(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<GroupedQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = ticket_params(&app, &q)?;
    let r = tickets::compared_ticket_report(&app, &s.actor, p.from, p.to, p.group, p.compare).await?;
    let period = |t: &tickets::TicketReport| format!("{} 至 {}", t.from, t.to);
    let mut bars = vec![Bar {
        label: "合计".into(),
        value: r.current.completion_rate,
        href: orders_href(p.from, p.to, None, "", "closed=1"),
        compare: r.previous.as_ref().and_then(|x| x.completion_rate),
        compare_href: r.previous.as_ref().map(|x| orders_href(x.from, x.to, None, "", "closed=1")),
    }];
    for (key, name, c, prev) in r.rows.iter().take(40) {
        bars.push(Bar {
            label: if name.is_empty() { key.clone() } else { name.clone() },
            value: c.as_ref().and_then(|g| g.completion_rate),
            href: orders_href(p.from, p.to, p.group, key, "closed=1"),
            compare: prev.as_ref().and_then(|g| g.completion_rate),
            compare_href: r.previous.as_ref().map(|x| orders_href(x.from, x.to, p.group, key, "closed=1")),
        });
    }
    let chart = chart::rate_bars(
        "办结率",
        "无受理工单",
        &period(&r.current),
        r.previous.as_ref().map(period).as_deref(),
        &bars,
    );
    let query = p.query();
    Ok(TicketPage {
        l: Layout::new(&s, "/reports", "效能投诉热线统计"),
        chart,
        from: p.from,
        to: p.to,
        compare: p.compare.as_str(),
        group_word: p.group_word,
        group: p.group,
        query,
        r,
    })
}

pub async fn tickets_xlsx(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<GroupedQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = ticket_params(&app, &q)?;
    let r = tickets::compared_ticket_report(&app, &s.actor, p.from, p.to, p.group, p.compare).await?;
    let bytes = tickets::export_tickets_xlsx(&app, &s.actor, &r).await?;
    Ok(xlsx(format!("hotline-{}-{}.xlsx", p.from, p.to), bytes))
}

/// The key tasks' figures: a period beside its comparison, by lead department or origin.
fn task_params(app: &App, q: &GroupedQuery) -> Result<GroupedParams<TaskGroupBy>, AppError> {
    grouped_params(app, q, "lead_department", tasks::parse_group_by)
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/tasks.html")]
struct TaskReportPage {
    l: Layout,
    r: ComparedTasks,
    chart: String,
    from: NaiveDate,
    to: NaiveDate,
    compare: &'static str,
    group_word: String,
    query: String,
}

impl TaskReportPage {
    /// (label, current, compared) of the totals.
    fn headline(&self) -> Vec<(&'static str, String, String)> {
        beside(
            tasks::task_figures(&self.r.current.total),
            self.r.previous.as_ref().map(|p| tasks::task_figures(&p.total)),
        )
    }
    /// A line's figures, or zeros for a group absent from that period.
    fn line(&self, g: &Option<TaskGroup>) -> Vec<String> {
        let figures = g.as_ref().map(|g| g.figures.clone()).unwrap_or_else(|| TaskCounts::default().into());
        tasks::task_figures(&figures).iter().map(|(_, f)| figure(f)).collect()
    }
    fn board(&self, key: &str) -> String {
        board_href(self.r.group_by, key)
    }
}

/// The board of a group's tasks (as they stand today).
fn board_href(group: Option<TaskGroupBy>, key: &str) -> String {
    let pair = match group {
        Some(TaskGroupBy::LeadDepartment) => ("department", key),
        Some(TaskGroupBy::Origin) => ("origin", key),
        None => return "/tasks".into(),
    };
    format!("/tasks?{}", serde_urlencoded::to_string([pair]).unwrap_or_default())
}

pub async fn tasks_report(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<GroupedQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = task_params(&app, &q)?;
    let r = tasks::compared_task_report(&app, &s.actor, p.from, p.to, p.group, p.compare).await?;
    let period = |t: &tasks::TaskReport| format!("{} 至 {}", t.from, t.to);
    let bars = group_bars(
        (r.current.total.on_time_rate, r.previous.as_ref().and_then(|x| x.total.on_time_rate), "/tasks".into()),
        &r.rows,
        |g: &TaskGroup| g.figures.on_time_rate,
        |key| board_href(p.group, key),
    );
    let chart = chart::rate_bars(
        "按期办结率",
        "无核实办结的任务",
        &period(&r.current),
        r.previous.as_ref().map(period).as_deref(),
        &bars,
    );
    let query = p.query();
    Ok(TaskReportPage {
        l: Layout::new(&s, "/reports", "重点工作督办统计"),
        chart,
        from: p.from,
        to: p.to,
        compare: p.compare.as_str(),
        group_word: p.group_word,
        query,
        r,
    })
}

pub async fn tasks_xlsx(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<GroupedQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = task_params(&app, &q)?;
    let r = tasks::compared_task_report(&app, &s.actor, p.from, p.to, p.group, p.compare).await?;
    let bytes = tasks::export_tasks_xlsx(&app, &s.actor, &r).await?;
    Ok(xlsx(format!("tasks-{}-{}.xlsx", p.from, p.to), bytes))
}

/// An XLSX file to download.
fn xlsx(file_name: String, bytes: Vec<u8>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
        ],
        bytes,
    )
}

/// 好差评: a period beside its comparison, by venue, department or item.
fn rating_params(app: &App, q: &GroupedQuery) -> Result<GroupedParams<GroupBy>, AppError> {
    grouped_params(app, q, "department", ratings::parse_group_by)
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/ratings.html")]
struct RatingReportPage {
    l: Layout,
    r: ComparedRatings,
    chart: String,
    from: NaiveDate,
    to: NaiveDate,
    compare: &'static str,
    group_word: String,
    query: String,
    /// The groups with the lowest good rates this period (末位), by key.
    bottom: Vec<String>,
    /// The rows are a ranking (windows, by good rate).
    ranked: bool,
}

impl RatingReportPage {
    /// (label, current, compared) of the totals.
    fn headline(&self) -> Vec<(&'static str, String, String)> {
        beside(
            ratings::rating_figures(&self.r.current.total),
            self.r.previous.as_ref().map(|p| ratings::rating_figures(&p.total)),
        )
    }
    /// A line's figures, or zeros for a group absent from that period.
    fn line(&self, g: &Option<RatingGroup>) -> Vec<String> {
        let figures = g.as_ref().map(|g| g.figures.clone()).unwrap_or_else(|| RatingCounts::default().into());
        ratings::rating_figures(&figures).iter().map(|(_, f)| figure(f)).collect()
    }
    /// The bad ratings' follow-ups of a group.
    fn follow_ups(&self, key: &str) -> String {
        follow_ups_href(self.r.group_by, key)
    }
    fn is_bottom(&self, key: &str) -> bool {
        self.bottom.iter().any(|k| k == key)
    }
}

/// The follow-ups of a group's bad ratings (as they stand today).
fn follow_ups_href(group: Option<GroupBy>, key: &str) -> String {
    let name = match group {
        Some(GroupBy::Venue) => "venue",
        Some(GroupBy::Department) => "department",
        Some(GroupBy::Item) => "item",
        Some(GroupBy::Window) => {
            let Some((venue, department)) = key.split_once('/') else { return "/ratings".into() };
            let pairs = [("venue", venue), ("department", department)];
            return format!("/ratings?{}", serde_urlencoded::to_string(pairs).unwrap_or_default());
        }
        _ => return "/ratings".into(),
    };
    format!("/ratings?{}", serde_urlencoded::to_string([(name, key)]).unwrap_or_default())
}

/// How many groups at the bottom of the good rates are marked (末位), among those rated.
const BOTTOM: usize = 3;

pub async fn ratings_report(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<GroupedQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = rating_params(&app, &q)?;
    let mut r = ratings::compared_rating_report(&app, &s.actor, p.from, p.to, p.group, p.compare).await?;
    // Windows are ranked (窗口排名): the best good rate first, the unrated last.
    let ranked = p.group == Some(GroupBy::Window);
    if ranked {
        let rate = |c: &Option<RatingGroup>| c.as_ref().and_then(|g| g.figures.good_rate);
        r.rows.sort_by(|a, b| {
            rate(&b.2).unwrap_or(-1.0).total_cmp(&rate(&a.2).unwrap_or(-1.0)).then_with(|| a.0.cmp(&b.0))
        });
    }
    let period = |t: &ratings::RatingReport| format!("{} 至 {}", t.from, t.to);
    let bars = group_bars(
        (r.current.total.good_rate, r.previous.as_ref().and_then(|x| x.total.good_rate), "/ratings".into()),
        &r.rows,
        |g: &RatingGroup| g.figures.good_rate,
        |key| follow_ups_href(p.group, key),
    );
    let chart =
        chart::rate_bars("好评率", "无评价", &period(&r.current), r.previous.as_ref().map(period).as_deref(), &bars);
    let mut rated: Vec<(f64, &String)> = r
        .rows
        .iter()
        .filter_map(|(key, _, c, _)| c.as_ref().and_then(|g| g.figures.good_rate).map(|x| (x, key)))
        .collect();
    rated.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    // Only a ranking of several groups has a bottom.
    let bottom =
        if rated.len() > BOTTOM { rated.iter().take(BOTTOM).map(|(_, k)| (*k).clone()).collect() } else { Vec::new() };
    let query = p.query();
    Ok(RatingReportPage {
        l: Layout::new(&s, "/reports", "好差评统计"),
        chart,
        from: p.from,
        to: p.to,
        compare: p.compare.as_str(),
        group_word: p.group_word,
        query,
        bottom,
        ranked,
        r,
    })
}

pub async fn ratings_xlsx(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<GroupedQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = rating_params(&app, &q)?;
    let r = ratings::compared_rating_report(&app, &s.actor, p.from, p.to, p.group, p.compare).await?;
    let bytes = ratings::export_ratings_xlsx(&app, &s.actor, &r).await?;
    Ok(xlsx(format!("ratings-{}-{}.xlsx", p.from, p.to), bytes))
}

/// 明察暗访: a period beside its comparison, by department, venue or checklist item.
fn inspection_params(app: &App, q: &GroupedQuery) -> Result<GroupedParams<GroupBy>, AppError> {
    grouped_params(app, q, "department", inspection_report::parse_group_by)
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/inspections.html")]
struct InspectionReportPage {
    l: Layout,
    r: ComparedInspections,
    chart: String,
    from: NaiveDate,
    to: NaiveDate,
    compare: &'static str,
    group_word: String,
    query: String,
}

/// A figure of the inspections report as shown, with the link to the findings it counts.
pub struct Cell {
    pub value: String,
    pub href: Option<String>,
}

impl InspectionReportPage {
    /// (label, current, compared) of the totals.
    fn headline(&self) -> Vec<(&'static str, Cell, String)> {
        let previous = self.r.previous.as_ref().map(|p| inspection_figures(&p.total));
        inspection_figures(&self.r.current.total)
            .into_iter()
            .enumerate()
            .map(|(i, (label, f, rule))| {
                let prev = previous.as_ref().map(|p| figure(&p[i].1)).unwrap_or_default();
                (label, self.cell(&f, rule, None), prev)
            })
            .collect()
    }
    /// A line's figures this period (linked) or in the comparison, zeros for a group absent.
    fn line(&self, g: &Option<InspectionGroup>, key: &str, current: bool) -> Vec<Cell> {
        let counts = g.as_ref().map(|g| g.counts).unwrap_or_default();
        inspection_figures(&counts)
            .into_iter()
            .map(
                |(_, f, rule)| {
                    if current { self.cell(&f, rule, Some(key)) } else { Cell { value: figure(&f), href: None } }
                },
            )
            .collect()
    }
    fn cell(&self, f: &Figure, rule: Option<FindingFigure>, key: Option<&str>) -> Cell {
        let href = rule.filter(|_| matches!(f, Figure::Count(n) if *n > 0)).map(|rule| {
            let mut pairs = vec![
                ("from", self.from.to_string()),
                ("to", self.to.to_string()),
                ("figure", rule.as_str().to_string()),
            ];
            if let Some(key) = key {
                pairs.push(("group_by", self.group_word.clone()));
                pairs.push(("key", key.to_string()));
            }
            format!("/inspections/rectifications?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
        });
        Cell { value: figure(f), href }
    }
}

pub async fn inspections_report(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<GroupedQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = inspection_params(&app, &q)?;
    let r = inspection_report::compared_inspection_report(&app, &s.actor, p.from, p.to, p.group, p.compare).await?;
    let period = |t: &inspection_report::InspectionReport| format!("{} 至 {}", t.from, t.to);
    let to_list = |key: Option<&str>| {
        let mut pairs = vec![("from", p.from.to_string()), ("to", p.to.to_string()), ("figure", "on_time".into())];
        if let Some(key) = key {
            pairs.push(("group_by", p.group_word.clone()));
            pairs.push(("key", key.to_string()));
        }
        format!("/inspections/rectifications?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    };
    let bars = group_bars(
        (r.current.total.on_time_rate(), r.previous.as_ref().and_then(|x| x.total.on_time_rate()), to_list(None)),
        &r.rows,
        |g: &InspectionGroup| g.counts.on_time_rate(),
        |key| to_list(Some(key)),
    );
    let chart = chart::rate_bars(
        "按期整改率",
        "无发现问题",
        &period(&r.current),
        r.previous.as_ref().map(period).as_deref(),
        &bars,
    );
    let query = p.query();
    Ok(InspectionReportPage {
        l: Layout::new(&s, "/reports", "明察暗访统计"),
        chart,
        from: p.from,
        to: p.to,
        compare: p.compare.as_str(),
        group_word: p.group_word,
        query,
        r,
    })
}

pub async fn inspections_xlsx(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<GroupedQuery>,
) -> Result<impl IntoResponse, PageError> {
    let p = inspection_params(&app, &q)?;
    let r = inspection_report::compared_inspection_report(&app, &s.actor, p.from, p.to, p.group, p.compare).await?;
    let bytes = inspection_report::export_inspections_xlsx(&app, &s.actor, &r).await?;
    Ok(xlsx(format!("inspections-{}-{}.xlsx", p.from, p.to), bytes))
}

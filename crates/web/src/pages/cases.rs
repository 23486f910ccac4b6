use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use chrono::Datelike;
use oversight_app::cases::{self, CaseReport, CaseView};
use oversight_app::{App, AppError};
use oversight_domain::case::Outcome;
use oversight_domain::supervision::{Signal, alert_label};
use oversight_store::cases::{CaseQuery, CaseRecord, GroupBy};

use crate::error::PageError;
use crate::session::CurrentUser;
use crate::view::Layout;

fn outcome_label(o: &Outcome) -> (&'static str, String) {
    match o {
        Outcome::OnTime(d) => ("green", format!("按时办结（{d}）")),
        Outcome::Overdue(d) => ("red", format!("超期（期限 {d}）")),
        Outcome::Running { deadline } => ("yellow", format!("办理中（期限 {deadline}）")),
        Outcome::Unsettled => ("grey", "未计时 / 不计入".to_string()),
    }
}

fn rate(r: Option<f64>) -> String {
    r.map_or("—".into(), |x| format!("{:.1}%", x * 100.0))
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    venue: Option<String>,
    department: Option<String>,
    item: Option<String>,
    level: Option<String>,
    signal: Option<String>,
    from: Option<String>,
    to: Option<String>,
    outcome: Option<String>,
}

impl ListQuery {
    /// The case query of the list (the dashboard and the report link here), and its
    /// description in words.
    fn to_query(&self) -> Result<(CaseQuery, Vec<String>), AppError> {
        let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let mut q = CaseQuery {
            venue: text(&self.venue),
            department: text(&self.department),
            item: text(&self.item),
            ..CaseQuery::default()
        };
        let mut words = Vec::new();
        if let Some(v) = &q.venue {
            words.push(format!("场所 {v}"));
        }
        if let Some(v) = &q.department {
            words.push(format!("部门 {v}"));
        }
        if let Some(v) = &q.item {
            words.push(format!("事项 {v}"));
        }
        if let Some(l) = text(&self.level) {
            let level = cases::parse_levels(&l)?;
            if let [one] = level.as_slice() {
                q.level = Some(*one as i32);
                words.push(one.label().to_string());
            }
        }
        if let Some(sig) = text(&self.signal) {
            let signal = Signal::parse(&sig)
                .ok_or_else(|| AppError::field("signal", format!("“{sig}”应为 green、yellow 或 red")))?;
            words.push(format!("在办{}", signal.label()));
            q.signal = Some(sig);
        }
        match (text(&self.from), text(&self.to)) {
            (Some(a), Some(b)) => {
                let (from, to) = (cases::parse_date(&a, "from")?, cases::parse_date(&b, "to")?);
                q.settled = Some((from, to));
                q.outcome = match text(&self.outcome).as_deref() {
                    None => None,
                    Some(o @ ("on_time" | "overdue")) => Some(o.to_string()),
                    Some(o) => return Err(AppError::field("outcome", format!("“{o}”应为 on_time 或 overdue"))),
                };
                words.push(format!(
                    "{from} 至 {to} 定案{}",
                    match q.outcome.as_deref() {
                        Some("on_time") => "（按时）",
                        Some(_) => "（超期）",
                        None => "",
                    }
                ));
            }
            (None, None) => {}
            _ => return Err(AppError::field("to", "定案期间须同时给出 from 和 to")),
        }
        Ok((q, words))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/list.html")]
struct ListPage {
    l: Layout,
    rows: Vec<(CaseRecord, Outcome)>,
    this_year: CaseReport,
    last_year: CaseReport,
    filter: String,
}

impl ListPage {
    fn outcome(&self, o: &Outcome) -> (&'static str, String) {
        outcome_label(o)
    }
    fn rate(&self, r: &Option<f64>) -> String {
        rate(*r)
    }
}

pub async fn list(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<axum::response::Response, PageError> {
    if let Some(no) = q.q.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        return Ok(axum::response::Redirect::to(&format!("/cases/{}", urlencode(no))).into_response());
    }
    let (query, words) = q.to_query()?;
    let rows = cases::list(&app, &s.actor, &query).await?;
    let today = app.today();
    let year = |y: i32| -> Result<(chrono::NaiveDate, chrono::NaiveDate), AppError> {
        Ok((cases::parse_date(&format!("{y}-01-01"), "from")?, cases::parse_date(&format!("{y}-12-31"), "to")?))
    };
    let (a, b) = year(today.year())?;
    let this_year = cases::case_report(&app, &s.actor, a, b, &[], Some(GroupBy::Level)).await?;
    let (a, b) = year(today.year() - 1)?;
    let last_year = cases::case_report(&app, &s.actor, a, b, &[], Some(GroupBy::Level)).await?;
    Ok(ListPage { l: Layout::new(&s, "/cases", "电子监察"), rows, this_year, last_year, filter: words.join("，") }
        .into_response())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/case.html")]
struct CasePage {
    l: Layout,
    v: CaseView,
}

impl CasePage {
    fn outcome(&self) -> (&'static str, String) {
        outcome_label(&self.v.outcome)
    }
    fn kind(&self, kind: &str) -> String {
        alert_label(kind)
    }
    fn step(&self, word: &str) -> String {
        oversight_app::supervision::step_label(word)
    }
    fn signal(&self) -> Option<Signal> {
        let time = self.v.record.time_signal.as_deref().and_then(Signal::parse)?;
        Some(oversight_domain::supervision::displayed(time, self.v.state.anomalies.len()))
    }
    /// An event's type in Chinese.
    fn event<'a>(&self, word: &'a str) -> &'a str {
        oversight_domain::case::event_label(word)
    }
    /// Who reported an event: the command line, or a department system's key (by its prefix).
    fn source(&self, label: &str) -> String {
        match label.strip_prefix("api-key:") {
            Some(prefix) => format!("部门系统（密钥 {prefix}…）"),
            None if label == "cli" => "命令行导入".to_string(),
            None => label.to_string(),
        }
    }
    fn rating_label(&self, level: &u8) -> &'static str {
        oversight_domain::case::Rating::level_label(*level)
    }

    fn promised(&self) -> u32 {
        self.v.state.limit_days - self.v.state.extensions.iter().filter(|e| e.2).map(|e| e.1).sum::<u32>()
    }
}

pub async fn case(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(case_no): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    let v = cases::case_view(&app, &s.actor, &case_no).await?;
    Ok(CasePage { l: Layout::new(&s, "/cases", format!("办件 {case_no}")), v })
}

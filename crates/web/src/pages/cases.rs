use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use chrono::Datelike;
use oversight_app::cases::{self, CaseReport, CaseView};
use oversight_app::{App, AppError};
use oversight_domain::case::Outcome;
use oversight_store::cases::{CaseRecord, GroupBy};

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
    venue: Option<String>,
    q: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/list.html")]
struct ListPage {
    l: Layout,
    rows: Vec<(CaseRecord, Outcome)>,
    this_year: CaseReport,
    last_year: CaseReport,
    venue: String,
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
    let venue = q.venue.unwrap_or_default().trim().to_string();
    let rows = cases::recent(&app, &s.actor, Some(venue.as_str()).filter(|v| !v.is_empty())).await?;
    let today = app.now().with_timezone(&app.config.tz()).date_naive();
    let year = |y: i32| -> Result<(chrono::NaiveDate, chrono::NaiveDate), AppError> {
        Ok((cases::parse_date(&format!("{y}-01-01"), "from")?, cases::parse_date(&format!("{y}-12-31"), "to")?))
    };
    let (a, b) = year(today.year())?;
    let this_year = cases::case_report(&app, &s.actor, a, b, &[], Some(GroupBy::Level)).await?;
    let (a, b) = year(today.year() - 1)?;
    let last_year = cases::case_report(&app, &s.actor, a, b, &[], Some(GroupBy::Level)).await?;
    Ok(ListPage { l: Layout::new(&s, "/cases", "电子监察"), rows, this_year, last_year, venue }.into_response())
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
    tz: chrono_tz::Tz,
}

impl CasePage {
    fn outcome(&self) -> (&'static str, String) {
        outcome_label(&self.v.outcome)
    }
    fn local(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()
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
    Ok(CasePage { l: Layout::new(&s, "/cases", format!("办件 {case_no}")), v, tz: app.config.tz() })
}

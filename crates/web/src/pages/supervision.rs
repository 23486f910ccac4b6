//! The live dashboard, the alert and notice queues, and the supervision notice pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::supervision::{self, Dashboard, NoticeView, Queues};
use oversight_app::{App, AppError};
use oversight_domain::access::Action;
use oversight_domain::supervision::{AlertStatus, alert_label};
use oversight_store::supervision::AlertRow;

use super::Done;
use crate::error::PageError;
use crate::session::CurrentUser;
use crate::view::Layout;

/// Helpers the supervision templates call.
trait Present {
    /// Department names by code, where the page has them.
    fn names(&self) -> Option<&std::collections::HashMap<String, String>> {
        None
    }
    /// A department by its name (its code where the name is unknown).
    fn department(&self, code: &str) -> String {
        self.names().and_then(|n| n.get(code).cloned()).unwrap_or_else(|| code.to_string())
    }
    fn kind(&self, kind: &str) -> String {
        alert_label(kind)
    }
    fn step(&self, word: &str) -> String {
        supervision::step_label(word)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/dashboard.html")]
struct DashboardPage {
    l: Layout,
    d: Dashboard,
    refresh: u32,
}

#[derive(serde::Deserialize, Default)]
pub struct DashboardQuery {
    /// Seconds between refreshes (2–600; default 30), e.g. for a wall screen.
    refresh: Option<u32>,
}

impl Present for DashboardPage {}

pub async fn dashboard(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<DashboardQuery>,
) -> Result<impl IntoResponse, PageError> {
    let d = supervision::dashboard(&app, &s.actor).await?;
    let refresh = q.refresh.unwrap_or(30).clamp(2, 600);
    Ok(DashboardPage { l: Layout::new(&s, "/dashboard", "实时监控"), d, refresh })
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/queues.html")]
struct QueuesPage {
    l: Layout,
    q: Queues,
    office: bool,
    names: std::collections::HashMap<String, String>,
}

impl Present for QueuesPage {
    fn names(&self) -> Option<&std::collections::HashMap<String, String>> {
        Some(&self.names)
    }
}

pub async fn queues(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(done): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    let q = supervision::queues(&app, &s.actor).await?;
    Ok(QueuesPage {
        office: s.actor.may_somewhere(Action::Supervise),
        l: Layout::new(&s, "/supervision", "预警与督办").with_notice(done.done.as_deref()),
        q,
        names: oversight_app::network::department_names(&app).await?,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct AlertQuery {
    status: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/alerts.html")]
struct AlertsPage {
    l: Layout,
    rows: Vec<AlertRow>,
    status: String,
    names: std::collections::HashMap<String, String>,
}

impl Present for AlertsPage {
    fn names(&self) -> Option<&std::collections::HashMap<String, String>> {
        Some(&self.names)
    }
}

pub async fn alerts(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<AlertQuery>,
) -> Result<impl IntoResponse, PageError> {
    let status = q.status.unwrap_or_default();
    let filter = match status.as_str() {
        "" => None,
        other => {
            Some(AlertStatus::parse(other).ok_or_else(|| AppError::field("status", format!("“{other}”不是预警状态")))?)
        }
    };
    let rows = supervision::alerts(&app, &s.actor, filter, None).await?;
    let names = oversight_app::network::department_names(&app).await?;
    Ok(AlertsPage { l: Layout::new(&s, "/supervision", "全部预警"), rows, status, names })
}

#[derive(serde::Deserialize)]
pub struct NoticeForm {
    instruction: String,
    reply_days: Option<String>,
}

pub async fn issue_notice(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<NoticeForm>,
) -> Result<Response, PageError> {
    let days = match f.reply_days.as_deref().map(str::trim).unwrap_or("") {
        "" => 3,
        d => d.parse().map_err(|_| AppError::field("reply_days", "回复期限应为整数（工作日）"))?,
    };
    let notice = supervision::issue_notice(&app, &s.actor, &id, &f.instruction, days).await?;
    Ok(Redirect::to(&format!("/supervision/notices/{}?done=notice", notice.id)).into_response())
}

#[derive(serde::Deserialize)]
pub struct DismissForm {
    reason: String,
}

pub async fn dismiss_alert(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<DismissForm>,
) -> Result<Response, PageError> {
    supervision::dismiss_alert(&app, &s.actor, &id, &f.reason).await?;
    Ok(Redirect::to("/supervision?done=dismissed").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "supervision/notice.html")]
struct NoticePage {
    l: Layout,
    v: NoticeView,
    names: std::collections::HashMap<String, String>,
}

impl Present for NoticePage {
    fn names(&self) -> Option<&std::collections::HashMap<String, String>> {
        Some(&self.names)
    }
}

impl NoticePage {
    fn needs_note(&self, step: &oversight_domain::supervision::NoticeStep) -> bool {
        !step.by_office()
    }
}

pub async fn notice(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    let v = supervision::notice_view(&app, &s.actor, &id).await?;
    Ok(NoticePage {
        l: Layout::new(&s, "/supervision", v.notice.number.clone()).with_notice(done.done.as_deref()),
        v,
        names: oversight_app::network::department_names(&app).await?,
    })
}

#[derive(serde::Deserialize)]
pub struct StepForm {
    step: String,
    note: Option<String>,
}

pub async fn step(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    let step = supervision::parse_step(&f.step)?;
    supervision::notice_step(&app, &s.actor, &id, step, f.note.as_deref().unwrap_or("")).await?;
    Ok(Redirect::to(&format!("/supervision/notices/{id}?done=step")).into_response())
}

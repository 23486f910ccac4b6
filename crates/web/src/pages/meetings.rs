//! The joint meeting's pages: the meetings and the form to schedule one, a meeting's agenda,
//! minutes and decisions, and the agenda and minutes for print (A4).

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::meetings::{self, MeetingEdit, MeetingView, NewDecision};
use oversight_app::{App, AppError};
use oversight_domain::access::Action;
use oversight_store::meetings::MeetingRow;

use super::Done;
use crate::error::PageError;
use crate::session::{CurrentUser, SessionInfo};
use crate::view::{FieldErrors, Layout};

#[derive(Template, WebTemplate)]
#[template(path = "tasks/meetings.html")]
struct ListPage {
    l: Layout,
    rows: Vec<MeetingRow>,
    may_schedule: bool,
    f: ScheduleForm,
    errors: FieldErrors,
    departments: Vec<(String, String)>,
}

/// The form to schedule a meeting.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    title: String,
}

/// Every department, by code and name, sorted by code: the choices of a department field.
pub(super) async fn departments(app: &App) -> Result<Vec<(String, String)>, PageError> {
    let mut out: Vec<(String, String)> = oversight_app::network::department_names(app).await?.into_iter().collect();
    out.sort();
    Ok(out)
}

async fn list_page(app: &App, s: &SessionInfo, f: ScheduleForm, errors: FieldErrors) -> Result<Response, PageError> {
    let rows = meetings::meetings(app, &s.actor).await?;
    let status = errors.status(false);
    let page = ListPage {
        l: Layout::new(s, "/tasks", "联席会议"),
        rows,
        may_schedule: s.actor.may_somewhere(Action::Supervise),
        f,
        errors,
        departments: departments(app).await?,
    };
    Ok((status, page).into_response())
}

pub async fn list(State(app): State<App>, CurrentUser(s): CurrentUser) -> Result<Response, PageError> {
    list_page(&app, &s, ScheduleForm::default(), FieldErrors::default()).await
}

/// Schedules a meeting; the fields come as pairs so that each invited department is one
/// `department` box.
pub async fn schedule(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let f = ScheduleForm { held_on: field("held_on"), title: field("title") };
    let invited: Vec<String> = fields.iter().filter(|(k, _)| k == "department").map(|(_, v)| v.clone()).collect();
    match meetings::schedule(&app, &s.actor, &f.held_on, &f.title, &invited).await {
        Ok(m) => Ok(Redirect::to(&format!("/tasks/meetings/{}?done=meeting", m.id)).into_response()),
        Err(AppError::Invalid(errors)) => list_page(&app, &s, f, FieldErrors(errors)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/meeting.html")]
struct MeetingPage {
    l: Layout,
    v: MeetingView,
    names: HashMap<String, String>,
    departments: Vec<(String, String)>,
    /// A decision that was refused, as typed, with its faults beside its fields.
    d: DecisionForm,
    errors: FieldErrors,
}

impl MeetingPage {
    fn invited(&self) -> Vec<String> {
        invited(&self.v.meeting, &self.names)
    }
}

/// The invited departments of a meeting by name (their code where the name is unknown).
fn invited(m: &MeetingRow, names: &HashMap<String, String>) -> Vec<String> {
    m.departments.split_whitespace().map(|c| names.get(c).cloned().unwrap_or_else(|| c.to_string())).collect()
}

/// A decision as the office types it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    lead_department_code: String,
    #[serde(default)]
    co_department_codes: String,
    #[serde(default)]
    due: String,
}

async fn meeting_page(
    app: &App,
    s: &SessionInfo,
    id: &str,
    d: DecisionForm,
    errors: FieldErrors,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let v = meetings::meeting_view(app, &s.actor, id).await?;
    let names = oversight_app::network::department_names(app).await?;
    let status = errors.status(false);
    let title = format!("第 {} 次{}", v.meeting.number, v.meeting.title);
    let l = Layout::new(s, "/tasks", title).with_notice(done);
    Ok((status, MeetingPage { l, v, names, departments: departments(app).await?, d, errors }).into_response())
}

pub async fn meeting(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    meeting_page(&app, &s, &id, DecisionForm::default(), FieldErrors::default(), done.done.as_deref()).await
}

#[derive(Debug, serde::Deserialize)]
pub struct AgendaForm {
    #[serde(default)]
    agenda: String,
    /// Set by the 重新起草 button: draft again from the records.
    #[serde(default)]
    redraft: Option<String>,
}

pub async fn agenda(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<AgendaForm>,
) -> Result<Response, PageError> {
    let change = if f.redraft.is_some() { MeetingEdit::Redraft } else { MeetingEdit::Agenda(&f.agenda) };
    meetings::edit(&app, &s.actor, &id, change).await?;
    Ok(Redirect::to(&format!("/tasks/meetings/{id}?done=agenda")).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct MinutesForm {
    #[serde(default)]
    minutes: String,
}

pub async fn minutes(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<MinutesForm>,
) -> Result<Response, PageError> {
    meetings::edit(&app, &s.actor, &id, MeetingEdit::Minutes(&f.minutes)).await?;
    Ok(Redirect::to(&format!("/tasks/meetings/{id}?done=minutes")).into_response())
}

pub async fn decide(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
    Form(d): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let new = NewDecision {
        text: d.text.clone(),
        lead_department_code: d.lead_department_code.clone(),
        co_department_codes: d.co_department_codes.split([',', '，', ' ']).map(str::to_string).collect(),
        due: d.due.clone(),
    };
    match meetings::decide(&app, &s.actor, &id, &new).await {
        Ok(_) => Ok(Redirect::to(&format!("/tasks/meetings/{id}?done=decision")).into_response()),
        Err(AppError::Invalid(errors)) => meeting_page(&app, &s, &id, d, FieldErrors(errors), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/meeting_print.html")]
struct PrintPage {
    css: String,
    v: MeetingView,
    invited: Vec<String>,
}

/// The agenda, the minutes and the decisions on A4, for the meeting's file.
pub async fn print(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (v, invited) = for_the_file(&app, &s, &id).await?;
    Ok(PrintPage { css: crate::assets::url("print.css"), v, invited }.into_response())
}

/// A meeting as printed or exported, with its invited departments' names.
async fn for_the_file(app: &App, s: &SessionInfo, id: &str) -> Result<(MeetingView, Vec<String>), AppError> {
    let v = meetings::meeting_view(app, &s.actor, id).await?;
    let names = oversight_app::network::department_names(app).await?;
    let invited = invited(&v.meeting, &names);
    Ok((v, invited))
}

/// The meeting as a Word file, to edit into the office's own document.
pub async fn docx(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (v, invited) = for_the_file(&app, &s, &id).await?;
    let bytes = meetings::meeting_docx(&v, &invited)?;
    let name = format!("attachment; filename=\"meeting-{}-{}.docx\"", v.meeting.number, v.meeting.held_on);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

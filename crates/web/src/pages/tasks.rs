//! Key tasks (督察督办): the office's board of tasks with their lights, and a task's page.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use oversight_app::tasks::{self, NewTask, StepInput, TaskReport, TaskView};
use oversight_app::{App, AppError};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::task::{LightReason, Origin, TaskBody, TaskStep};
use oversight_store::tasks::{TaskEventRow, TaskRecord};

use super::Done;
use crate::error::PageError;
use crate::session::{CurrentUser, SessionInfo};
use crate::view::{FieldErrors, Layout};

/// Department names for the pages: a name, never a bare code, where one is known.
trait Names {
    fn names(&self) -> &HashMap<String, String>;
    fn name_of(&self, code: &str) -> String {
        self.names().get(code).cloned().unwrap_or_else(|| code.to_string())
    }
    fn department(&self, code: &Option<String>) -> String {
        code.as_deref().map_or_else(|| "—".to_string(), |c| self.name_of(c))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/list.html")]
struct ListPage {
    l: Layout,
    rows: Vec<(TaskRecord, Option<LightReason>)>,
    /// This month's figures, as of today.
    month: TaskReport,
    names: HashMap<String, String>,
    /// The office may assign tasks here.
    may_assign: bool,
}

impl Names for ListPage {
    fn names(&self) -> &HashMap<String, String> {
        &self.names
    }
}

impl ListPage {
    fn origin(&self, o: &Option<String>) -> &'static str {
        o.as_deref().and_then(Origin::parse).map_or("—", Origin::label)
    }
}

pub async fn list(State(app): State<App>, CurrentUser(s): CurrentUser) -> Result<impl IntoResponse, PageError> {
    let rows = tasks::task_list(&app, &s.actor).await?;
    let today = app.today();
    let first = today.with_day(1).unwrap_or(today);
    let month = tasks::task_report(&app, &s.actor, first, today, None).await?;
    let names = oversight_app::network::department_names(&app).await?;
    let may_assign = s.actor.may_somewhere(Action::Supervise);
    Ok(ListPage { l: Layout::new(&s, "/tasks", "督察督办"), rows, month, names, may_assign })
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/task.html")]
struct TaskPage {
    l: Layout,
    v: TaskView,
    names: HashMap<String, String>,
    /// What the viewer may do now, each a form.
    steps: Vec<TaskStep>,
    /// The step last tried and its faults, beside its fields; what was typed is kept.
    tried: StepInput,
    errors: FieldErrors,
    /// A step refused as a whole (not by a field).
    refused: Option<String>,
}

impl Names for TaskPage {
    fn names(&self) -> &HashMap<String, String> {
        &self.names
    }
}

impl TaskPage {
    fn kind(&self, kind: &str) -> String {
        oversight_domain::supervision::alert_label(kind)
    }
    fn event_label(&self, kind: &str) -> &'static str {
        TaskBody::label_of(kind)
    }
    /// The events in the order they happened.
    fn events(&self) -> Vec<&TaskEventRow> {
        let mut events: Vec<&TaskEventRow> = self.v.events.iter().collect();
        events.sort_by_key(|e| (e.at, e.arrival));
        events
    }
}

impl TaskPage {
    fn may(&self, step: &str) -> bool {
        self.steps.iter().any(|s| s.as_str() == step)
    }
    /// Whether the form of `step` is the one that was tried (to keep what was typed in it).
    fn tried(&self, step: &str) -> bool {
        self.tried.step == step
    }
}

pub async fn task(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(task_no): Path<String>,
    Query(done): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    task_page(&app, &s, &task_no, StepInput::default(), FieldErrors::default(), None, done.done.as_deref()).await
}

async fn task_page(
    app: &App,
    s: &SessionInfo,
    task_no: &str,
    tried: StepInput,
    errors: FieldErrors,
    refused: Option<String>,
    done: Option<&str>,
) -> Result<Response, PageError> {
    let v = tasks::task_view(app, &s.actor, task_no).await?;
    let steps = tasks::steps_for(app, &s.actor, task_no).await?;
    let names = oversight_app::network::department_names(app).await?;
    let status = if errors.is_empty() && refused.is_none() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let l = Layout::new(s, "/tasks", format!("督办任务 {task_no}")).with_notice(done);
    Ok((status, TaskPage { l, v, names, steps, tried, errors, refused }).into_response())
}

/// A step on a task from its page: done, back to the page with a note; refused, the same page
/// with the reason beside the field (or above the forms) and what was typed kept.
pub async fn step(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(task_no): Path<String>,
    Form(input): Form<StepInput>,
) -> Result<Response, PageError> {
    match tasks::task_step(&app, &s.actor, &task_no, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/tasks/{task_no}?done=step")).into_response()),
        Err(AppError::Invalid(errors)) => task_page(&app, &s, &task_no, input, FieldErrors(errors), None, None).await,
        Err(AppError::Conflict(reason)) => {
            task_page(&app, &s, &task_no, input, FieldErrors::default(), Some(reason), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/new.html")]
struct NewTaskPage {
    l: Layout,
    f: NewTaskForm,
    errors: FieldErrors,
    origins: [Origin; 5],
    departments: Vec<(String, String)>,
}

/// The office's form for a new task.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewTaskForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    lead_department_code: String,
    /// Co-operating departments, codes separated by commas or spaces.
    #[serde(default)]
    co_department_codes: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    milestones: String,
}

async fn new_task_page(app: &App, s: &SessionInfo, f: NewTaskForm, errors: FieldErrors) -> Result<Response, PageError> {
    if !s.actor.may_somewhere(Action::Supervise) {
        return Err(PageError::new(axum::http::StatusCode::FORBIDDEN, "只有效能办可以交办督办任务"));
    }
    let mut departments: Vec<(String, String)> =
        oversight_app::network::department_names(app).await?.into_iter().collect();
    departments.sort();
    let status =
        if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    let l = Layout::new(s, "/tasks", "交办督办任务");
    Ok((status, NewTaskPage { l, f, errors, origins: Origin::ALL, departments }).into_response())
}

pub async fn new_task(State(app): State<App>, CurrentUser(s): CurrentUser) -> Result<Response, PageError> {
    new_task_page(&app, &s, NewTaskForm { origin: "annual_plan".into(), ..Default::default() }, FieldErrors::default())
        .await
}

pub async fn create_task(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Form(f): Form<NewTaskForm>,
) -> Result<Response, PageError> {
    let Some(origin) = Origin::parse(f.origin.trim()) else {
        let errors = vec![RowError::new(0, "origin", "请选择任务来源")];
        return new_task_page(&app, &s, f, FieldErrors(errors)).await;
    };
    let new = NewTask {
        title: f.title.clone(),
        origin,
        lead_department_code: f.lead_department_code.clone(),
        co_department_codes: f.co_department_codes.split([',', '，', ' ']).map(str::to_string).collect(),
        due: f.due.clone(),
        milestones: f.milestones.clone(),
    };
    match tasks::assign_task(&app, &s.actor, &new).await {
        Ok(task_no) => Ok(Redirect::to(&format!("/tasks/{task_no}?done=task")).into_response()),
        Err(AppError::Invalid(errors)) => new_task_page(&app, &s, f, FieldErrors(errors)).await,
        Err(e) => Err(e.into()),
    }
}

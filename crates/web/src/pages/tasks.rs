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
    /// The tasks the filters let through.
    rows: Vec<(TaskRecord, Option<LightReason>)>,
    /// How many the actor sees in all.
    total: usize,
    f: BoardFilter,
    /// What waits for the viewer: tasks its department leads that are open (reds first), and
    /// tasks reported done that its office verifies.
    to_do: Vec<(TaskRecord, Option<LightReason>)>,
    to_verify: Vec<TaskRecord>,
    origins: [Origin; 5],
    departments: Vec<(String, String)>,
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

/// The board's filters, as its form and its count links give them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct BoardFilter {
    #[serde(default)]
    origin: String,
    #[serde(default)]
    department: String,
    /// `green`, `yellow`, `red`, or `reported_done` for the tasks awaiting verification.
    #[serde(default)]
    light: String,
    /// `YYYY-MM`: due that month.
    #[serde(default)]
    due: String,
}

impl BoardFilter {
    fn keeps(&self, r: &TaskRecord, light: Option<&LightReason>) -> bool {
        let given = |v: &str| !v.trim().is_empty();
        (!given(&self.origin) || r.origin.as_deref() == Some(self.origin.trim()))
            && (!given(&self.department) || r.lead_department_code.as_deref() == Some(self.department.trim()))
            && (!given(&self.light)
                || match self.light.trim() {
                    "reported_done" => r.status == oversight_domain::task::TaskStatus::ReportedDone,
                    word => light.is_some_and(|l| l.light.as_str() == word),
                })
            && (!given(&self.due) || r.due.is_some_and(|d| d.format("%Y-%m").to_string() == self.due.trim()))
    }

    fn is_empty(&self) -> bool {
        [&self.origin, &self.department, &self.light, &self.due].iter().all(|v| v.trim().is_empty())
    }
}

pub async fn list(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(f): Query<BoardFilter>,
) -> Result<impl IntoResponse, PageError> {
    let all = tasks::task_list(&app, &s.actor).await?;
    let total = all.len();
    let path = |r: &TaskRecord| oversight_domain::org::OrgPath::from_stored(r.path.clone());
    let mut to_do: Vec<(TaskRecord, Option<LightReason>)> = all
        .iter()
        .filter(|(r, _)| r.status == oversight_domain::task::TaskStatus::Open && s.actor.may(Action::Respond, &path(r)))
        .cloned()
        .collect();
    to_do.sort_by_key(|(r, l)| (l.as_ref().map_or(3, |l| 2 - l.light as u8), r.due));
    let to_verify: Vec<TaskRecord> = all
        .iter()
        .filter(|(r, _)| {
            r.status == oversight_domain::task::TaskStatus::ReportedDone && s.actor.may(Action::Supervise, &path(r))
        })
        .map(|(r, _)| r.clone())
        .collect();
    let names = oversight_app::network::department_names(&app).await?;
    let mut departments: Vec<(String, String)> = all
        .iter()
        .filter_map(|(r, _)| r.lead_department_code.clone())
        .map(|c| (names.get(&c).cloned().unwrap_or_else(|| c.clone()), c))
        .collect();
    departments.sort();
    departments.dedup();
    let departments = departments.into_iter().map(|(name, code)| (code, name)).collect();
    let rows: Vec<(TaskRecord, Option<LightReason>)> =
        all.into_iter().filter(|(r, l)| f.keeps(r, l.as_ref())).collect();
    let today = app.today();
    let first = today.with_day(1).unwrap_or(today);
    let month = tasks::task_report(&app, &s.actor, first, today, None).await?;
    let may_assign = s.actor.may_somewhere(Action::Supervise);
    Ok(ListPage {
        l: Layout::new(&s, "/tasks", "督察督办"),
        rows,
        total,
        f,
        to_do,
        to_verify,
        origins: Origin::ALL,
        departments,
        month,
        names,
        may_assign,
    })
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
    /// Whether the viewer is a leader who may flag it (挂牌督办), and has a standing flag on it.
    may_flag: bool,
    flagged_by_me: bool,
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

/// A mark on the task's time line: where it stands (0–1000 across), its label, and how it
/// stands (`done`, `late`, `due`).
pub struct Mark {
    pub x: i64,
    pub label: String,
    pub date: chrono::NaiveDate,
    pub state: &'static str,
}

/// The task's time line from assignment to its due date: its milestones and today.
pub struct TimeLine {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub marks: Vec<Mark>,
    /// Today's place, if it lies within.
    pub today: Option<i64>,
}

impl TaskPage {
    fn time_line(&self) -> Option<TimeLine> {
        let st = &self.v.state;
        let (from, due) = (st.assigned_on?, st.due?);
        let last = st.milestones.iter().map(|m| m.due).chain([due]).max().unwrap_or(due);
        let span = (last - from).num_days().max(1);
        let x = |d: chrono::NaiveDate| ((d - from).num_days().clamp(0, span) * 1000) / span;
        let today = st.as_of;
        let mut marks: Vec<Mark> = st
            .milestones
            .iter()
            .map(|m| Mark {
                x: x(m.due),
                label: m.name.clone(),
                date: m.due,
                state: match m.done_on {
                    Some(_) => "done",
                    None if m.due < today => "late",
                    None => "due",
                },
            })
            .collect();
        marks.push(Mark {
            x: x(due),
            label: "完成期限".into(),
            date: due,
            state: if st.status == oversight_domain::task::TaskStatus::Verified {
                "done"
            } else if due < today {
                "late"
            } else {
                "due"
            },
        });
        Some(TimeLine { from, to: last, marks, today: (today >= from && today <= last).then(|| x(today)) })
    }

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
    let steps = tasks::steps_of(&s.actor, &v);
    let names = oversight_app::network::department_names(app).await?;
    let status = errors.status(refused.is_some());
    let l = Layout::new(s, "/tasks", format!("督办任务 {task_no}")).with_notice(done);
    let may_flag = s.actor.may(Action::Flag, &oversight_domain::org::OrgPath::from_stored(v.record.path.clone()));
    let flagged_by_me = v.flags.iter().any(|f| f.leader == s.actor.label && f.lifted_at.is_none());
    Ok((status, TaskPage { l, v, names, steps, tried, errors, refused, may_flag, flagged_by_me }).into_response())
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

/// A leader flags the task (挂牌督办) or takes the flag down; refused, the page again with the
/// reason beside the instruction and what was typed kept.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct FlagForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: String,
}

pub async fn flag(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(task_no): Path<String>,
    Form(f): Form<FlagForm>,
) -> Result<Response, PageError> {
    let done = if f.action == "lift" {
        tasks::lift_flag(&app, &s.actor, &task_no).await.map(|()| "lifted")
    } else {
        tasks::flag_task(&app, &s.actor, &task_no, &f.note).await.map(|()| "flagged")
    };
    let tried = StepInput { step: "flag".into(), note: f.note, ..StepInput::default() };
    match done {
        Ok(code) => Ok(Redirect::to(&format!("/tasks/{task_no}?done={code}")).into_response()),
        Err(AppError::Invalid(errors)) => task_page(&app, &s, &task_no, tried, FieldErrors(errors), None, None).await,
        Err(AppError::Conflict(reason)) => {
            task_page(&app, &s, &task_no, tried, FieldErrors::default(), Some(reason), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/flagged.html")]
struct FlaggedPage {
    l: Layout,
    rows: Vec<(TaskRecord, Option<LightReason>, oversight_store::tasks::FlagRow)>,
    names: HashMap<String, String>,
    /// A leader sees their own flags; the office every standing flag in its scope.
    leader: bool,
}

impl Names for FlaggedPage {
    fn names(&self) -> &HashMap<String, String> {
        &self.names
    }
}

/// The leader's board (挂牌督办): the tasks flagged, with their light and its reason, read only.
pub async fn flagged(State(app): State<App>, CurrentUser(s): CurrentUser) -> Result<impl IntoResponse, PageError> {
    let rows = tasks::flagged(&app, &s.actor).await?;
    let names = oversight_app::network::department_names(&app).await?;
    let leader = s.actor.may_somewhere(Action::Flag);
    Ok(FlaggedPage { l: Layout::new(&s, "/tasks", "挂牌督办"), rows, names, leader })
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
    let departments = super::meetings::departments(app).await?;
    let status = errors.status(false);
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

//! Key tasks (督察督办): the office's board of tasks with their lights, and a task's page.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use chrono::Datelike;
use oversight_app::App;
use oversight_app::tasks::{self, TaskReport, TaskView};
use oversight_domain::task::{LightReason, Origin, TaskBody};
use oversight_store::tasks::{TaskEventRow, TaskRecord};

use crate::error::PageError;
use crate::session::CurrentUser;
use crate::view::Layout;

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
    Ok(ListPage { l: Layout::new(&s, "/tasks", "督察督办"), rows, month, names })
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/task.html")]
struct TaskPage {
    l: Layout,
    v: TaskView,
    names: HashMap<String, String>,
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

pub async fn task(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(task_no): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    let v = tasks::task_view(&app, &s.actor, &task_no).await?;
    let names = oversight_app::network::department_names(&app).await?;
    Ok(TaskPage { l: Layout::new(&s, "/tasks", format!("督办任务 {task_no}")), v, names })
}

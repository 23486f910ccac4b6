//! Key tasks worked in the pages: the office assigns a task, the lead department signs, reports
//! progress, milestones and the task done, the office moves due dates, returns, verifies or
//! cancels. Each step is written as the task event of the same meaning, through the same
//! ingestion as the API and imports, so a task's history reads the same whichever way it came.

use chrono::NaiveDate;
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::org::OrgPath;
use oversight_domain::task::{Origin, TaskActor, TaskStep, possible_steps};
use serde_json::{Value, json};

use super::{ingest, task_view};
use crate::{Actor, App, AppError, new_id};

/// A step as a form sends it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct StepInput {
    pub step: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub milestone_code: String,
    /// A new due date (`YYYY-MM-DD`), for a reschedule.
    #[serde(default)]
    pub due: String,
}

/// Who `actor` is for a task led by the department at `lead_path`: its liaison, the office, both
/// or neither.
pub fn task_actors(actor: &Actor, lead_path: &OrgPath) -> Vec<TaskActor> {
    let mut out = Vec::new();
    if actor.may(Action::Respond, lead_path) {
        out.push(TaskActor::Lead);
    }
    if actor.may(Action::Supervise, lead_path) {
        out.push(TaskActor::Office);
    }
    out
}

/// The steps `actor` may take on the task now.
pub async fn steps_for(app: &App, actor: &Actor, task_no: &str) -> Result<Vec<TaskStep>, AppError> {
    Ok(steps_of(actor, &task_view(app, actor, task_no).await?))
}

/// The steps `actor` may take on a task already read.
pub fn steps_of(actor: &Actor, v: &super::TaskView) -> Vec<TaskStep> {
    let lead = OrgPath::from_stored(v.record.path.clone());
    task_actors(actor, &lead).into_iter().flat_map(|by| possible_steps(&v.state, by)).collect()
}

/// Takes a step on a task: checked against who the actor is for it and where the task stands,
/// then written as its task event (its answer's error, if any, names the field).
#[tracing::instrument(skip_all, fields(actor = %actor.label, task_no = %task_no))]
pub async fn task_step(app: &App, actor: &Actor, task_no: &str, input: &StepInput) -> Result<TaskStep, AppError> {
    let step = TaskStep::parse(input.step.trim())
        .ok_or_else(|| AppError::field("step", format!("“{}”不是督办步骤", input.step.trim())))?;
    let v = task_view(app, actor, task_no).await?;
    let lead = OrgPath::from_stored(v.record.path.clone());
    let actors = task_actors(actor, &lead);
    if !actors.iter().any(|by| possible_steps(&v.state, *by).contains(&step)) {
        let who = if actors.is_empty() {
            "您不是牵头单位的联络员，也不是督办此任务的效能办"
        } else {
            "任务当前状态"
        };
        return Err(AppError::Conflict(format!("{who}不能“{}”（任务状态：{}）", step.label(), v.state.status.label())));
    }
    let note = input.note.trim();
    let mut event = json!({
        "event_id": new_id(),
        "task_no": task_no,
        "type": step.event_type(),
        "at": app.now().with_timezone(&app.config.tz()).to_rfc3339(),
    });
    let lead_code = v.state.lead_department_code.clone().unwrap_or_default();
    let needs_note = |field: &str| -> Result<String, AppError> {
        if note.is_empty() { Err(AppError::field(field, "请填写说明")) } else { Ok(note.to_string()) }
    };
    let fields: Value = match step {
        TaskStep::Sign => json!({ "department_code": lead_code }),
        TaskStep::Progress => {
            let mut f = json!({ "department_code": lead_code, "note": needs_note("note")? });
            if !input.milestone_code.trim().is_empty() {
                f["milestone_code"] = json!(input.milestone_code.trim());
            }
            f
        }
        TaskStep::MilestoneDone => {
            let code = input.milestone_code.trim();
            if !v.state.milestones.iter().any(|m| m.code == code && m.done_on.is_none()) {
                return Err(AppError::field("milestone_code", "请选择一个尚未完成的节点"));
            }
            json!({ "milestone_code": code })
        }
        TaskStep::ReportDone => json!({ "note": needs_note("note")? }),
        TaskStep::Reschedule => {
            let due = NaiveDate::parse_from_str(input.due.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::field("due", "请填写新的期限（YYYY-MM-DD）"))?;
            let mut f = json!({ "due": due.to_string(), "approved_by": actor.display_name });
            if !input.milestone_code.trim().is_empty() {
                f["milestone_code"] = json!(input.milestone_code.trim());
            }
            f
        }
        TaskStep::Return | TaskStep::Cancel => json!({ "reason": needs_note("note")? }),
        TaskStep::Verify => json!({}),
    };
    merge(&mut event, fields);
    write_one(app, actor, &event).await?;
    Ok(step)
}

/// A new task as the office's form gives it.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub title: String,
    pub origin: Origin,
    pub lead_department_code: String,
    pub co_department_codes: Vec<String>,
    pub due: String,
    /// One milestone a line: `名称 YYYY-MM-DD`.
    pub milestones: String,
}

/// The office assigns a task (交办): numbered `RW` + date + sequence, written as its `assigned`
/// event. Returns its number.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn assign_task(app: &App, actor: &Actor, new: &NewTask) -> Result<String, AppError> {
    actor.require_somewhere(Action::Supervise, "交办督办任务")?;
    let mut errors = Vec::new();
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(RowError::new(0, "title", "请填写任务名称（不超过 200 字）"));
    }
    if new.lead_department_code.trim().is_empty() {
        errors.push(RowError::new(0, "lead_department_code", "请选择牵头单位"));
    }
    let due = NaiveDate::parse_from_str(new.due.trim(), "%Y-%m-%d").ok();
    if due.is_none() {
        errors.push(RowError::new(0, "due", "请填写完成期限（YYYY-MM-DD）"));
    }
    let mut milestones = Vec::new();
    for (i, line) in new.milestones.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        match line.rsplit_once(char::is_whitespace).map(|(n, d)| (n.trim(), NaiveDate::parse_from_str(d, "%Y-%m-%d"))) {
            Some((name, Ok(d))) if !name.is_empty() => {
                milestones.push(json!({ "code": format!("M{}", i + 1), "name": name, "due": d.to_string() }))
            }
            _ => errors.push(RowError::new(0, "milestones", format!("第 {} 个节点应为“名称 YYYY-MM-DD”", i + 1))),
        }
    }
    // The office assigns to departments it supervises (an unknown code is the ingestion's to
    // refuse, with its field).
    let lead = new.lead_department_code.trim();
    if !lead.is_empty()
        && let Some(unit) = oversight_store::network::unit(&app.db, lead).await?
        && !actor.may(Action::Supervise, &unit.path)
    {
        errors.push(RowError::new(0, "lead_department_code", format!("牵头单位 {lead} 不在您的范围内")));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let today = app.today();
    let day = today.format("%Y%m%d").to_string();
    let n = {
        let mut tx = app.db.begin().await?;
        let n = oversight_store::orders::take_numbers(&mut tx, &format!("T{day}"), 1).await?;
        tx.commit().await?;
        n
    };
    let task_no = format!("RW{day}{n:03}");
    let co: Vec<&str> = new.co_department_codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    let event = json!({
        "event_id": new_id(),
        "task_no": task_no,
        "type": "assigned",
        "at": app.now().with_timezone(&app.config.tz()).to_rfc3339(),
        "title": title,
        "origin": new.origin.as_str(),
        "lead_department_code": new.lead_department_code.trim(),
        "co_department_codes": co,
        "due": due.map(|d| d.to_string()),
        "milestones": milestones,
        "assigned_by": actor.display_name,
    });
    write_one(app, actor, &event).await?;
    Ok(task_no)
}

fn merge(into: &mut Value, fields: Value) {
    if let (Value::Object(into), Value::Object(fields)) = (into, fields) {
        into.extend(fields);
    }
}

/// Writes one event through the ingestion; its refusal becomes the field's error.
async fn write_one(app: &App, actor: &Actor, event: &Value) -> Result<(), AppError> {
    let line = event.to_string();
    let report = ingest(app, actor, [(1, line.as_str())]).await?;
    match report.rejected.into_iter().next() {
        Some(e) => Err(AppError::Invalid(vec![RowError::new(0, &e.field, e.reason)])),
        None => Ok(()),
    }
}

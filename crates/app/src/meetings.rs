//! The monthly joint meeting (联席会议, DOMAIN.md §4): the office schedules it, the system drafts
//! its agenda from the records as of its day (the office edits it), the office records minutes
//! and decisions, and each decision becomes a key task whose status opens the next agenda.

use chrono::{Datelike, NaiveDate};
use oversight_domain::RowError;
use oversight_domain::access::{Action, Grant, Grants, Role};
use oversight_domain::meeting::{AgendaInputs, AgendaTask, LONG_YELLOW_DAYS, draft_agenda};
use oversight_domain::org::OrgPath;
use oversight_domain::supervision::{NoticeStatus, Signal};
use oversight_domain::task::{Origin, TaskStatus, project_task};
use oversight_store::audit::{self, NewAudit};
use oversight_store::cases::GroupBy;
use oversight_store::meetings::{self as store, DecisionRow, MeetingRow};
use oversight_store::tickets::TicketGroup;
use serde_json::json;

use crate::tasks::{NewTask, assign_task};
use crate::{Actor, App, AppError, new_id};

/// A meeting as its page shows it, with its decisions and how their tasks stand.
pub struct MeetingView {
    pub meeting: MeetingRow,
    pub decisions: Vec<(DecisionRow, Option<TaskStatus>)>,
    /// The office may edit the agenda, record the minutes and add decisions.
    pub may_run: bool,
}

/// The office that holds the actor's meetings: the widest subtree where it supervises.
pub(crate) fn office_of(actor: &Actor) -> Option<String> {
    if actor.everything {
        return Some("/".into());
    }
    actor
        .grants
        .0
        .iter()
        .filter(|g| g.role.allows(Action::Supervise))
        .map(|g| g.path.as_str().to_string())
        .min_by_key(|p| p.len())
}

/// The meetings the actor may see, the latest first.
pub async fn meetings(app: &App, actor: &Actor) -> Result<Vec<MeetingRow>, AppError> {
    Ok(store::meetings(&app.db, &actor.scope(), 100).await?)
}

/// The office schedules a meeting: numbered within the office, its agenda drafted from the
/// records as of its day (or today, for a day still to come).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn schedule(
    app: &App,
    actor: &Actor,
    held_on: &str,
    title: &str,
    departments: &[String],
) -> Result<MeetingRow, AppError> {
    let path = office_of(actor).ok_or_else(|| AppError::Forbidden("只有效能办可以安排联席会议".into()))?;
    let mut errors = Vec::new();
    let day = NaiveDate::parse_from_str(held_on.trim(), "%Y-%m-%d").ok();
    if day.is_none() {
        errors.push(RowError::new(0, "held_on", "请填写会议日期（YYYY-MM-DD）"));
    }
    let title = title.trim();
    if title.chars().count() > 100 {
        errors.push(RowError::new(0, "title", "会议名称不超过 100 字"));
    }
    let names = crate::network::department_names(app).await?;
    let invited: Vec<&str> = departments.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    if let Some(bad) = invited.iter().find(|c| !names.contains_key(**c)) {
        errors.push(RowError::new(0, "departments", format!("部门编码 {bad} 不存在")));
    }
    let Some(day) = day.filter(|_| errors.is_empty()) else { return Err(AppError::Invalid(errors)) };
    let agenda = draft(app, actor, &path, day).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let number = oversight_store::orders::take_numbers(&mut tx, &format!("M{path}"), 1).await?;
    let meeting = MeetingRow {
        id: new_id(),
        number,
        title: if title.is_empty() { "效能建设联席会议".into() } else { title.to_string() },
        held_on: day,
        departments: invited.join(" "),
        agenda,
        minutes: String::new(),
        status: "scheduled".into(),
        path: path.clone(),
        created_by: actor.display_name.clone(),
        created_at: now,
        updated_at: now,
    };
    store::insert(&mut tx, &meeting).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "meeting.schedule",
            target: &format!("第 {number} 次联席会议"),
            path: &path,
            detail: json!({ "held_on": day, "departments": invited }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(meeting)
}

/// The agenda's draft for the office at `path`, from the records as of `day` (today, if the
/// day is still to come).
async fn draft(app: &App, actor: &Actor, path: &str, day: NaiveDate) -> Result<String, AppError> {
    let as_of = day.min(app.today());
    let names = crate::network::department_names(app).await?;
    let name = |code: &Option<String>| {
        code.as_deref().map_or("—".to_string(), |c| names.get(c).cloned().unwrap_or(c.to_string()))
    };
    let calendar = app.calendar().await?;
    // Everything is read as the meeting's office sees it, whoever drafts: a city supervisor
    // redrafting a district's meeting puts nothing of the city in the district's agenda.
    let office = Actor {
        grants: Grants(vec![Grant { role: Role::Supervisor, path: OrgPath::from_stored(path.to_string()) }]),
        everything: false,
        ..actor.clone()
    };
    let mut inputs = AgendaInputs::default();

    // The last meeting's decisions, as their tasks stand.
    if let Some(last) = store::last_held_before(&app.db, path, day).await? {
        for d in store::decisions(&app.db, &last.id).await? {
            let events = oversight_store::tasks::events_of_task(&app.db, &d.task_no).await?;
            let st = project_task(&crate::tasks::stored_events(&events), as_of);
            let light = if st.status == TaskStatus::Open { st.light(&calendar)?.map(|l| l.light) } else { None };
            let note = match light {
                Some(l) => format!("：{}，{}", st.status.label(), l.label()),
                None => format!("：{}", st.status.label()),
            };
            inputs.last_decisions.push(AgendaTask {
                task_no: d.task_no.clone(),
                title: d.text.clone(),
                lead: name(&st.lead_department_code),
                note,
            });
        }
    }
    // Red and long-yellow tasks of the office's departments.
    for (record, light) in crate::tasks::task_list(app, &office).await? {
        let Some(light) = light else { continue };
        let task = AgendaTask {
            task_no: record.task_no.clone(),
            title: record.title.clone().unwrap_or_default(),
            lead: name(&record.lead_department_code),
            note: format!("：{}", light.reason),
        };
        match light.light {
            Signal::Red => inputs.red_tasks.push(task),
            Signal::Yellow
                if record.light.as_deref() == Some(Signal::Yellow.as_str())
                    && record.light_since.is_some_and(|since| (as_of - since).num_days() >= LONG_YELLOW_DAYS) =>
            {
                inputs.long_yellow_tasks.push(task)
            }
            _ => {}
        }
    }
    // This month's overdue cases and window complaints, by department.
    let first = as_of.with_day(1).unwrap_or(as_of);
    let cases = crate::cases::case_report(app, &office, first, as_of, &[], Some(GroupBy::Department)).await?;
    let mut overdue: Vec<(String, i64)> = cases
        .groups
        .iter()
        .map(|g| (if g.name.is_empty() { g.key.clone() } else { g.name.clone() }, g.overdue))
        .collect();
    overdue.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    inputs.overdue_cases = overdue;
    let until = app.now();
    let rows = oversight_store::tickets::counts(
        &app.db,
        &office.scope(),
        first,
        as_of,
        until,
        app.local_date(until),
        Some(TicketGroup::Department),
    )
    .await?;
    let mut complaints: Vec<(String, i64)> = rows.iter().map(|r| (name(&r.key), r.venue_complaints)).collect();
    complaints.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    inputs.window_complaints = complaints;
    // Notices past their reply date.
    for n in oversight_store::supervision::notices(&app.db, &office.scope(), None, 500).await? {
        if n.status == NoticeStatus::AwaitingReply && n.reply_by < as_of {
            inputs.late_notices.push((n.number.clone(), name(&n.department_code), n.reply_by));
        }
    }
    Ok(draft_agenda(day, &inputs))
}

/// A meeting the actor may see.
pub async fn meeting_view(app: &App, actor: &Actor, id: &str) -> Result<MeetingView, AppError> {
    let what = "联席会议";
    let meeting = store::meeting(&app.db, id).await?.ok_or_else(|| AppError::NotFound(what.into()))?;
    let path = OrgPath::from_stored(meeting.path.clone());
    actor.require_view(&path, what)?;
    let mut decisions = Vec::new();
    for d in store::decisions(&app.db, id).await? {
        let status = oversight_store::tasks::record(&app.db, &d.task_no).await?.map(|r| r.status);
        decisions.push((d, status));
    }
    let may_run = actor.may(Action::Supervise, &path);
    Ok(MeetingView { meeting, decisions, may_run })
}

/// What the office writes on a meeting's page: the agenda as edited, the minutes, whether the
/// meeting was held, or a fresh draft of the agenda.
pub enum MeetingEdit<'a> {
    Agenda(&'a str),
    Redraft,
    Minutes(&'a str),
}

#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn edit(app: &App, actor: &Actor, id: &str, change: MeetingEdit<'_>) -> Result<(), AppError> {
    let v = meeting_view(app, actor, id).await?;
    let path = OrgPath::from_stored(v.meeting.path.clone());
    actor.require(Action::Supervise, &path, "联席会议")?;
    let m = &v.meeting;
    let (agenda, minutes, status, what) = match change {
        MeetingEdit::Agenda(text) => (bounded(text, "agenda", "议程")?, m.minutes.clone(), m.status.clone(), "agenda"),
        MeetingEdit::Redraft => {
            (draft(app, actor, &m.path, m.held_on).await?, m.minutes.clone(), m.status.clone(), "redraft")
        }
        MeetingEdit::Minutes(text) => {
            (m.agenda.clone(), bounded(text, "minutes", "会议纪要")?, "held".to_string(), "minutes")
        }
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::update(&mut tx, id, &agenda, &minutes, &status, now).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: &format!("meeting.{what}"),
            target: &format!("第 {} 次联席会议", m.number),
            path: &m.path,
            detail: json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn bounded(text: &str, field: &str, what: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.chars().count() > 20_000 {
        return Err(AppError::field(field, format!("{what}不超过 20000 字")));
    }
    if oversight_domain::has_control_characters(text) {
        return Err(AppError::field(field, oversight_domain::new_order::CONTROL_CHARACTERS));
    }
    Ok(text.to_string())
}

/// A decision of a meeting as the office's form gives it.
pub struct NewDecision {
    pub text: String,
    pub lead_department_code: String,
    pub co_department_codes: Vec<String>,
    pub due: String,
}

/// Records a decision of a meeting (during or after it): it becomes a key task (origin
/// meeting_decision) led by the department named, and the next meeting's agenda opens with its
/// status. The task is written first; a decision row that then fails to be written leaves a
/// task of origin meeting_decision without its meeting (said, not repaired).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn decide(app: &App, actor: &Actor, id: &str, d: &NewDecision) -> Result<String, AppError> {
    let v = meeting_view(app, actor, id).await?;
    actor.require(Action::Supervise, &OrgPath::from_stored(v.meeting.path.clone()), "联席会议")?;
    let text = d.text.trim();
    if text.is_empty() || text.chars().count() > 200 {
        return Err(AppError::field("text", "请填写议定事项（不超过 200 字）"));
    }
    let task_no = assign_task(
        app,
        actor,
        &NewTask {
            title: text.to_string(),
            origin: Origin::MeetingDecision,
            lead_department_code: d.lead_department_code.clone(),
            co_department_codes: d.co_department_codes.clone(),
            due: d.due.clone(),
            milestones: String::new(),
        },
    )
    .await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let seq = oversight_store::orders::take_numbers(&mut tx, &format!("D{id}"), 1).await?;
    store::insert_decision(
        &mut tx,
        &DecisionRow {
            id: new_id(),
            meeting_id: id.to_string(),
            seq,
            text: text.to_string(),
            task_no: task_no.clone(),
            created_at: now,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "meeting.decide",
            target: &format!("第 {} 次联席会议 议定事项 {seq}", v.meeting.number),
            path: &v.meeting.path,
            detail: json!({ "task_no": task_no }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(task_no)
}

/// A meeting as a Word document (A4, 仿宋 for the text and 黑体 for headings, as official
/// documents are set): the title, the date and the departments invited, the agenda, the
/// minutes, and the decisions with the task each became and its status. `invited` are the
/// departments' names.
pub fn meeting_docx(v: &MeetingView, invited: &[String]) -> Result<Vec<u8>, AppError> {
    use docx_rs::{AlignmentType, Docx, Paragraph, Run, RunFonts, Table, TableCell, TableRow};
    let text =
        |s: &str, size: usize| Run::new().add_text(s).size(size).fonts(RunFonts::new().east_asia("仿宋").ascii("仿宋"));
    let heading = |s: &str, size: usize| {
        Run::new().add_text(s).size(size).bold().fonts(RunFonts::new().east_asia("黑体").ascii("黑体"))
    };
    // Sizes are in half points: 二号 22 pt for the title, 三号 16 pt for the text.
    let m = &v.meeting;
    let mut doc = Docx::new().page_size(11_906, 16_838).add_paragraph(
        Paragraph::new().add_run(heading(&format!("第 {} 次{}", m.number, m.title), 44)).align(AlignmentType::Center),
    );
    let mut meta = m.held_on.format("%Y年%m月%d日").to_string();
    if !invited.is_empty() {
        meta.push_str(&format!("　参会部门：{}", invited.join("、")));
    }
    doc = doc.add_paragraph(Paragraph::new().add_run(text(&meta, 28)).align(AlignmentType::Center));
    let section = |doc: Docx, title: &str, body: &str| {
        let mut doc = doc.add_paragraph(Paragraph::new().add_run(heading(title, 32)));
        for line in body.lines() {
            doc = doc.add_paragraph(Paragraph::new().add_run(text(line, 32)));
        }
        doc
    };
    doc = section(doc, "议程", &m.agenda);
    if !m.minutes.is_empty() {
        doc = section(doc, "会议纪要", &m.minutes);
    }
    if !v.decisions.is_empty() {
        doc = doc.add_paragraph(Paragraph::new().add_run(heading("议定事项", 32)));
        let cell = |s: &str| TableCell::new().add_paragraph(Paragraph::new().add_run(text(s, 24)));
        let mut rows = vec![TableRow::new(["序号", "议定事项", "督办任务", "状态"].into_iter().map(cell).collect())];
        for (d, status) in &v.decisions {
            rows.push(TableRow::new(vec![
                cell(&d.seq.to_string()),
                cell(&d.text),
                cell(&d.task_no),
                cell(status.map_or("", |s| s.label())),
            ]));
        }
        doc = doc.add_table(Table::new(rows));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| AppError::internal("building the DOCX file failed", e))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_meeting_reads_the_same_in_word() {
        let at = chrono::DateTime::<chrono::Utc>::default();
        let meeting = MeetingRow {
            id: "m1".into(),
            number: 3,
            title: "效能建设联席会议".into(),
            held_on: NaiveDate::from_ymd_opt(2011, 3, 28).unwrap(),
            departments: "460100-D01".into(),
            agenda: "一、红灯任务\n二、超期较多的部门".into(),
            minutes: "会议听取了汇报。".into(),
            status: "held".into(),
            path: "/460100".into(),
            created_by: "user:xiaoneng".into(),
            created_at: at,
            updated_at: at,
        };
        let decision = DecisionRow {
            id: "d1".into(),
            meeting_id: "m1".into(),
            seq: 1,
            text: "市发改委月底前完成网上预审".into(),
            task_no: "HY2011001".into(),
            created_at: at,
        };
        let v = MeetingView { meeting, decisions: vec![(decision, Some(TaskStatus::Open))], may_run: false };
        let bytes = meeting_docx(&v, &["市发展和改革委员会".into()]).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
        for text in [
            "第 3 次效能建设联席会议",
            "2011年03月28日",
            "市发展和改革委员会",
            "二、超期较多的部门",
            "会议听取了汇报。",
            "市发改委月底前完成网上预审",
            "HY2011001",
            TaskStatus::Open.label(),
            "仿宋",
        ] {
            assert!(xml.contains(text), "{text} missing from {xml}");
        }
    }
}

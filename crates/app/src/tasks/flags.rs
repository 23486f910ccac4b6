//! 挂牌督办: a leader flags a key task for personal follow-up, with an instruction; everyone who
//! sees the task sees the flag, and the leader's board lists the flagged tasks (read only: the
//! work itself stays with the lead department and the office).

use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::org::OrgPath;
use oversight_domain::task::LightReason;
use oversight_store::audit::{self, NewAudit};
use oversight_store::tasks::{self as store, FlagRow, TaskRecord};
use serde_json::json;

use crate::{Actor, App, AppError};

/// The longest instruction kept with a flag.
const MAX_NOTE: usize = 500;

/// The leader flags a task they see, with an instruction (批示).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn flag_task(app: &App, actor: &Actor, task_no: &str, note: &str) -> Result<(), AppError> {
    let view = super::task_view(app, actor, task_no).await?;
    actor.require(Action::Flag, &OrgPath::from_stored(view.record.path.clone()), "挂牌督办")?;
    let note = note.trim();
    if note.is_empty() || note.chars().count() > MAX_NOTE {
        return Err(AppError::Invalid(vec![RowError::new(
            0,
            "note",
            format!("请填写批示意见（不超过 {MAX_NOTE} 字）"),
        )]));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if store::has_flag(&mut tx, task_no, &actor.label).await? {
        return Err(AppError::Invalid(vec![RowError::new(0, "note", "您已对该任务挂牌督办")]));
    }
    let flag = FlagRow {
        id: crate::new_id(),
        task_no: task_no.to_string(),
        leader: actor.label.clone(),
        leader_name: actor.display_name.clone(),
        note: note.to_string(),
        flagged_at: now,
        lifted_at: None,
    };
    store::insert_flag(&mut tx, &flag).await?;
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "task.flag",
            target: task_no,
            path: &view.record.path,
            detail: json!({ "note": note }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The leader takes down their own flag (摘牌).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn lift_flag(app: &App, actor: &Actor, task_no: &str) -> Result<(), AppError> {
    let view = super::task_view(app, actor, task_no).await?;
    actor.require(Action::Flag, &OrgPath::from_stored(view.record.path.clone()), "摘牌")?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !store::lift_flag(&mut tx, task_no, &actor.label, now).await? {
        return Err(AppError::Conflict("您没有对该任务挂牌督办".into()));
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: &actor.label,
            action: "task.lift_flag",
            target: task_no,
            path: &view.record.path,
            detail: json!({}),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The flagged tasks the actor sees, with today's light and the flag: a leader's own flags;
/// for anyone else (the office), every standing flag on a task in their scope.
pub async fn flagged(app: &App, actor: &Actor) -> Result<Vec<(TaskRecord, Option<LightReason>, FlagRow)>, AppError> {
    let leader = actor.may_somewhere(Action::Flag).then_some(actor.label.as_str());
    let flags = store::standing_flags(&app.db, leader).await?;
    if flags.is_empty() {
        return Ok(Vec::new());
    }
    let tasks: std::collections::HashMap<String, (TaskRecord, Option<LightReason>)> =
        super::task_list(app, actor).await?.into_iter().map(|(r, l)| (r.task_no.clone(), (r, l))).collect();
    Ok(flags
        .into_iter()
        .filter_map(|f| {
            let (r, l) = tasks.get(&f.task_no).cloned()?;
            Some((r, l, f))
        })
        .collect())
}

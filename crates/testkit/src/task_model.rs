//! An independent recomputation of the key-task figures (docs/figures.md, "Key tasks") from a
//! task's events. It shares nothing with the engine but the calendar's working-day count:
//! where the engine walks the events once keeping a state, this asks each question of the list
//! of events that count, one filter at a time.

use chrono::{Days, NaiveDate};
use oversight_domain::calendar::WorkCalendar;

/// What a generated event does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Assigned { lead: String, origin: &'static str, due: NaiveDate, milestones: Vec<(String, NaiveDate)> },
    Signed(String),
    Progress(String),
    MilestoneDone(String),
    Rescheduled { due: NaiveDate, milestone: Option<String> },
    ReportedDone,
    Returned,
    Verified,
    Cancelled,
}

/// A generated event: `seq` orders events of one date (it becomes the minute of `at`).
#[derive(Debug, Clone)]
pub struct Ev {
    pub id: String,
    pub task: String,
    pub date: NaiveDate,
    pub seq: u32,
    pub kind: Kind,
}

/// The figures of one task for a period `from..=to`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub open: i64,
    pub green: i64,
    pub yellow: i64,
    pub red: i64,
    pub awaiting_verification: i64,
    pub verified: i64,
    pub verified_on_time: i64,
}

impl std::ops::AddAssign for Figures {
    fn add_assign(&mut self, o: Figures) {
        self.open += o.open;
        self.green += o.green;
        self.yellow += o.yellow;
        self.red += o.red;
        self.awaiting_verification += o.awaiting_verification;
        self.verified += o.verified;
        self.verified_on_time += o.verified_on_time;
    }
}

/// The events of a task that count as of `d`, in time order: dated on or before `d`, from its
/// first assignment on, up to and including its first closing event, without a second
/// assignment or a milestone the task does not have.
pub fn counting(events: &[Ev], d: NaiveDate) -> Vec<Ev> {
    let mut list: Vec<&Ev> = events.iter().filter(|e| e.date <= d).collect();
    list.sort_by_key(|e| (e.date, e.seq));
    let Some(start) = list.iter().position(|e| matches!(e.kind, Kind::Assigned { .. })) else { return Vec::new() };
    let list = &list[start..];
    let Kind::Assigned { milestones, .. } = &list[0].kind else { unreachable!() };
    let has = |m: &str| milestones.iter().any(|(c, _)| c == m);
    let mut out = vec![list[0].clone()];
    for e in &list[1..] {
        let keep = match &e.kind {
            Kind::Assigned { .. } => false,
            Kind::MilestoneDone(m) => has(m),
            Kind::Rescheduled { milestone: Some(m), .. } => has(m),
            _ => true,
        };
        if keep {
            out.push((*e).clone());
            if matches!(e.kind, Kind::Verified | Kind::Cancelled) {
                break;
            }
        }
    }
    out
}

/// The due date of the task (`None`) or of a milestone among `events`, as assigned and moved.
fn due_of(events: &[Ev], milestone: Option<&str>) -> Option<NaiveDate> {
    let Kind::Assigned { due, milestones, .. } = &events.first()?.kind else { return None };
    let assigned = match milestone {
        None => Some(*due),
        Some(m) => milestones.iter().find(|(c, _)| c == m).map(|(_, d)| *d),
    };
    events
        .iter()
        .filter_map(|e| match &e.kind {
            Kind::Rescheduled { due, milestone: m } if m.as_deref() == milestone => Some(*due),
            _ => None,
        })
        .next_back()
        .or(assigned)
}

/// A task's figures for the period `from..=to`, as of `to`.
pub fn figures(events: &[Ev], from: NaiveDate, to: NaiveDate, cal: &WorkCalendar) -> Figures {
    let ev = counting(events, to);
    let mut f = Figures::default();
    let Some(first) = ev.first() else { return f };
    let Kind::Assigned { lead, due: _, milestones, .. } = &first.kind else { return f };
    if ev.iter().any(|e| matches!(e.kind, Kind::Cancelled)) {
        return f;
    }
    if let Some(v) = ev.iter().position(|e| matches!(e.kind, Kind::Verified)) {
        if ev[v].date >= from {
            f.verified = 1;
            let before = &ev[..v];
            let last_done = before.iter().filter(|e| matches!(e.kind, Kind::ReportedDone)).map(|e| e.date).next_back();
            let due = due_of(before, None).unwrap();
            if last_done.is_some_and(|d| d <= due) {
                f.verified_on_time = 1;
            }
        }
        return f;
    }
    f.open = 1;
    let last_turn = ev.iter().rfind(|e| matches!(e.kind, Kind::ReportedDone | Kind::Returned));
    if last_turn.is_some_and(|e| e.kind == Kind::ReportedDone) {
        f.awaiting_verification = 1;
        return f;
    }
    let d = to;
    let assigned_on = first.date;
    let open_milestones: Vec<(&String, NaiveDate)> = milestones
        .iter()
        .filter(|(c, _)| !ev.iter().any(|e| e.kind == Kind::MilestoneDone(c.clone())))
        .map(|(c, _)| (c, due_of(&ev, Some(c)).unwrap()))
        .collect();
    let task_due = due_of(&ev, None).unwrap();
    // The 2nd working day after assignment, counted day by day.
    let nth_working_day_after = |start: NaiveDate, n: u32| {
        let mut day = start;
        let mut seen = 0;
        while seen < n {
            day = day + Days::new(1);
            if cal.is_working_day(day).unwrap() {
                seen += 1;
            }
        }
        day
    };
    let signed = ev.iter().any(|e| e.kind == Kind::Signed(lead.clone()));
    let red = open_milestones.iter().any(|(_, due)| *due < d)
        || task_due < d
        || (d > nth_working_day_after(assigned_on, 2) && !signed);
    if red {
        f.red = 1;
        return f;
    }
    let horizon = nth_working_day_after(d, 3);
    let window_start = d - Days::new(29);
    let active = ev.iter().any(|e| {
        e.date >= window_start
            && match &e.kind {
                Kind::Progress(dept) => dept == lead,
                Kind::MilestoneDone(_) | Kind::ReportedDone => true,
                _ => false,
            }
    });
    let yellow = open_milestones.iter().any(|(_, due)| *due <= horizon)
        || task_due <= horizon
        || ((d - assigned_on).num_days() > 30 && !active);
    if yellow {
        f.yellow = 1;
    } else {
        f.green = 1;
    }
    f
}

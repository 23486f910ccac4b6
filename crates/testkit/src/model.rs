//! An independent, day-by-day model of spec/metrics.md for approval cases, and generated case
//! lives to check the engine against. It shares nothing with the engine but the calendar's
//! yes/no per day.

use chrono::{Days, NaiveDate};
use oversight_domain::calendar::WorkCalendar;
use oversight_domain::case::Outcome;

/// What a case does after its acceptance (day offsets from the previous step).
#[derive(Debug, Clone)]
pub enum Step {
    Stop { after: u64, length: u64, supplement: bool },
    Extend { after: u64, days: u32 },
}

/// A case's life: accepted on a date with a promised limit, then steps, then maybe an end.
#[derive(Debug, Clone)]
pub struct Life {
    pub accepted: NaiveDate,
    pub promised: u32,
    pub steps: Vec<Step>,
    /// Completed (true) or withdrawn (false) this many days after acceptance (never before the
    /// last step); `None`: still open.
    pub end: Option<(u64, bool)>,
}

/// A dated action of a life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Stop { supplement: bool },
    Resume { supplement: bool },
    Extend(u32),
    Complete,
    Withdraw,
}

impl Life {
    /// The life's actions with their dates, in time order.
    pub fn actions(&self) -> Vec<(NaiveDate, Action)> {
        let mut out = Vec::new();
        let mut cursor = 0u64;
        for s in &self.steps {
            match *s {
                Step::Stop { after, length, supplement } => {
                    let start = cursor + after;
                    out.push((self.accepted + Days::new(start), Action::Stop { supplement }));
                    out.push((self.accepted + Days::new(start + length), Action::Resume { supplement }));
                    cursor = start + length;
                }
                Step::Extend { after, days } => {
                    cursor += after;
                    out.push((self.accepted + Days::new(cursor), Action::Extend(days)));
                }
            }
        }
        if let Some((after, completed)) = self.end {
            let action = if completed { Action::Complete } else { Action::Withdraw };
            out.push((self.accepted + Days::new(after.max(cursor)), action));
        }
        out
    }
}

/// The outcome of a life, walking the calendar day by day from the day after acceptance: each
/// working day on which the clock runs uses one day of the limit; the deadline is the day the
/// limit is used up; stops and extensions dated after the deadline do not count.
pub fn outcome(life: &Life, cal: &WorkCalendar) -> Outcome {
    let actions = life.actions();
    let mut limit = life.promised;
    let mut used = 0;
    let mut deadline: Option<NaiveDate> = None;
    let mut stopped: Option<NaiveDate> = None;
    let mut late_stop = false;
    let mut end: Option<(NaiveDate, bool)> = None;
    let mut day = life.accepted;
    let horizon = life.accepted + Days::new(2000);
    while day <= horizon {
        for (_, action) in actions.iter().filter(|(d, _)| *d == day) {
            let passed = deadline.is_some_and(|dl| dl < day);
            match *action {
                Action::Extend(days) if !passed => limit += days,
                Action::Extend(_) => {}
                Action::Stop { .. } if passed => late_stop = true,
                Action::Stop { .. } => stopped = Some(day),
                Action::Resume { .. } if late_stop => late_stop = false,
                // A stopped day is simply not counted; the acceptance date never is, so a
                // stop on it costs nothing for that day (spec/metrics.md).
                Action::Resume { .. } => stopped = None,
                Action::Complete => end = Some((day, true)),
                Action::Withdraw => end = Some((day, false)),
            }
        }
        // An extension raised the limit past what was used: the deadline moves on.
        if deadline.is_some() && used < limit {
            deadline = None;
        }
        if end.is_some() {
            break;
        }
        if day > life.accepted && stopped.is_none() && deadline.is_none() && cal.is_working_day(day).unwrap() {
            used += 1;
            if used == limit {
                deadline = Some(day);
            }
        }
        if life.end.is_none() && deadline.is_some_and(|dl| dl < day) && stopped.is_none() && !late_stop {
            // Open and past its deadline: nothing later changes it.
            if !actions.iter().any(|(d, _)| *d > day) {
                break;
            }
        }
        day = day + Days::new(1);
    }
    match (end, deadline, stopped) {
        (Some((done, true)), Some(dl), None) if done > dl => Outcome::Overdue(dl),
        (Some((done, true)), _, _) => Outcome::OnTime(done),
        (Some((gone, false)), Some(dl), None) if gone > dl => Outcome::Overdue(dl),
        (Some((_, false)), _, _) => Outcome::Unsettled,
        (None, Some(dl), None) => Outcome::Running { deadline: dl },
        (None, _, _) => Outcome::Unsettled,
    }
}

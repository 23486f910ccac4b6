//! The figures of citizens' ratings (好差评) of completed cases (docs/figures.md, "Ratings").

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::calendar::WorkCalendar;

/// Counts over the cases completed in a period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RatingCounts {
    pub completed: i64,
    /// Completed cases with a rating (their last `rated` event in `at` order).
    pub rated: i64,
    /// Rated, and the rating is not a default recorded by the platform.
    pub active: i64,
    /// Ratings per level, keys "1" to "5", zeros included.
    pub by_level: BTreeMap<String, i64>,
    /// Levels 4–5.
    pub good: i64,
    /// Level 3.
    pub fair: i64,
    /// Levels 1–2 (差评), not set aside.
    pub bad: i64,
    /// Bad ratings set aside after an upheld appeal: they count here and nowhere else.
    pub set_aside: i64,
    /// Bad ratings whose rectification was verified within its limit.
    pub bad_rectified_on_time: i64,
}

impl Default for RatingCounts {
    fn default() -> Self {
        RatingCounts {
            completed: 0,
            rated: 0,
            active: 0,
            by_level: (1..=5).map(|l| (l.to_string(), 0)).collect(),
            good: 0,
            fair: 0,
            bad: 0,
            set_aside: 0,
            bad_rectified_on_time: 0,
        }
    }
}

impl RatingCounts {
    /// Adds one completed case with its rating (level, whether a default), if any, and what a
    /// bad rating's follow-up made of it: a bad rating set aside counts in `set_aside` alone (the
    /// case still counts as completed).
    pub fn add(&mut self, rating: Option<(u8, bool)>, standing: Standing) {
        self.completed += 1;
        let Some((level, default)) = rating else { return };
        if is_bad(level) && standing == Standing::SetAside {
            self.set_aside += 1;
            return;
        }
        self.rated += 1;
        if !default {
            self.active += 1;
        }
        *self.by_level.entry(level.to_string()).or_default() += 1;
        match level {
            4..=5 => self.good += 1,
            3 => self.fair += 1,
            _ => {
                self.bad += 1;
                if standing == Standing::RectifiedOnTime {
                    self.bad_rectified_on_time += 1;
                }
            }
        }
    }

    /// Adds another count to this one, field by field.
    pub fn merge(&mut self, other: &RatingCounts) {
        self.completed += other.completed;
        self.rated += other.rated;
        self.active += other.active;
        for (level, n) in &other.by_level {
            *self.by_level.entry(level.clone()).or_default() += n;
        }
        self.good += other.good;
        self.fair += other.fair;
        self.bad += other.bad;
        self.set_aside += other.set_aside;
        self.bad_rectified_on_time += other.bad_rectified_on_time;
    }

    pub fn good_rate(&self) -> Option<f64> {
        ratio(self.good, self.rated)
    }

    pub fn active_rate(&self) -> Option<f64> {
        ratio(self.active, self.completed)
    }

    pub fn bad_rectification_rate(&self) -> Option<f64> {
        ratio(self.bad_rectified_on_time, self.bad)
    }
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

crate::words! {
    /// Where the follow-up of a bad rating (差评整改) stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FollowUpState as "差评整改状态" {
        /// Opened: the department is to contact the applicant.
        Open = "open" / "待回访",
        /// The applicant was contacted; the rectification is awaited.
        Contacted = "contacted" / "待整改",
        /// The department reported what it did; the office verifies.
        Replied = "replied" / "待核实",
        /// The office verified the rectification: closed.
        Verified = "verified" / "已核实办结",
        /// An appeal was upheld: the rating is set aside, closed.
        SetAside = "set_aside" / "申诉成立已撤销",
        /// The applicant's rating is no longer bad (a later rating replaced it): closed.
        Superseded = "superseded" / "评价已更改",
    }
}

crate::words! {
    /// A department's appeal against a bad rating it holds malicious or mistaken.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AppealState as "差评申诉" {
        Pending = "pending" / "申诉待裁定",
        Upheld = "upheld" / "申诉成立",
        Rejected = "rejected" / "申诉驳回",
    }
}

crate::words! {
    /// A step of a follow-up: the department's (contact, reply, appeal), the office's (verify,
    /// return, uphold, reject) and the platform's own (supersede).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FollowUpStep as "差评整改步骤" {
        Open = "open" / "差评生成整改",
        Contact = "contact" / "回访申请人",
        Reply = "reply" / "整改反馈",
        Verify = "verify" / "核实办结",
        Return = "return" / "退回重新整改",
        Appeal = "appeal" / "提出申诉",
        Uphold = "uphold" / "申诉成立",
        Reject = "reject" / "驳回申诉",
        Supersede = "supersede" / "评价已更改",
    }
}

impl FollowUpStep {
    /// Steps the office takes (the others are the department's, or the platform's).
    pub fn by_office(self) -> bool {
        matches!(self, FollowUpStep::Verify | FollowUpStep::Return | FollowUpStep::Uphold | FollowUpStep::Reject)
    }
}

/// How many working days a department has, from the day of the bad rating, to contact the
/// applicant and to report the rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowUpLimits {
    pub contact_days: u32,
    pub rectify_days: u32,
}

impl Default for FollowUpLimits {
    fn default() -> Self {
        FollowUpLimits { contact_days: 2, rectify_days: 5 }
    }
}

/// What a bad rating counts as in the ratings report once its follow-up is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Standing {
    /// Counted as it is (open, late or superseded).
    #[default]
    AsRated,
    /// Set aside after an upheld appeal: counts in `set_aside` and nothing else.
    SetAside,
    /// Rectified, reported within the limit and verified.
    RectifiedOnTime,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::AsRated => "",
            Standing::SetAside => "set_aside",
            Standing::RectifiedOnTime => "rectified_on_time",
        }
    }

    pub fn parse(s: &str) -> Standing {
        match s {
            "set_aside" => Standing::SetAside,
            "rectified_on_time" => Standing::RectifiedOnTime,
            _ => Standing::AsRated,
        }
    }
}

/// The follow-up of one bad rating: what the department must do by when, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FollowUp {
    pub state: FollowUpState,
    /// The day of the bad rating: the limits count working days after it.
    pub rated_on: NaiveDate,
    pub contact_due: NaiveDate,
    pub rectify_due: NaiveDate,
    pub contacted_on: Option<NaiveDate>,
    /// The day of the department's last rectification report.
    pub replied_on: Option<NaiveDate>,
    pub verified_on: Option<NaiveDate>,
    pub appeal: Option<AppealState>,
}

/// Why a step cannot be taken now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StepRefused(pub String);

impl FollowUp {
    /// Opens the follow-up of a bad rating given on `rated_on`.
    pub fn open(rated_on: NaiveDate, limits: FollowUpLimits, calendar: &WorkCalendar) -> FollowUp {
        FollowUp {
            state: FollowUpState::Open,
            rated_on,
            contact_due: calendar.deadline_or_estimate(rated_on, limits.contact_days).0,
            rectify_due: calendar.deadline_or_estimate(rated_on, limits.rectify_days).0,
            contacted_on: None,
            replied_on: None,
            verified_on: None,
            appeal: None,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, FollowUpState::Verified | FollowUpState::SetAside | FollowUpState::Superseded)
    }

    /// Takes `step` on `on`, or says why it cannot be taken in this state.
    pub fn apply(&mut self, step: FollowUpStep, on: NaiveDate) -> Result<(), StepRefused> {
        use FollowUpState as S;
        let refuse = |why: &str| Err(StepRefused(format!("“{}”不可办理：{why}", step.label())));
        if self.is_closed() {
            return refuse(&format!("本件已{}", self.state.label()));
        }
        let appeal_pending = self.appeal == Some(AppealState::Pending);
        match step {
            FollowUpStep::Open => return refuse("整改已生成"),
            FollowUpStep::Contact => {
                if self.state != S::Open {
                    return refuse("已回访过申请人");
                }
                self.contacted_on = Some(on);
                self.state = S::Contacted;
            }
            FollowUpStep::Reply => match self.state {
                S::Contacted => {
                    self.replied_on = Some(on);
                    self.state = S::Replied;
                }
                S::Open => return refuse("请先回访申请人"),
                _ => return refuse("整改反馈已提交，等待核实"),
            },
            FollowUpStep::Verify | FollowUpStep::Return => {
                if self.state != S::Replied {
                    return refuse("部门尚未提交整改反馈");
                }
                if appeal_pending {
                    return refuse("申诉待裁定，请先裁定申诉");
                }
                if step == FollowUpStep::Verify {
                    self.verified_on = Some(on);
                    self.state = S::Verified;
                } else {
                    self.replied_on = None;
                    self.state = S::Contacted;
                }
            }
            FollowUpStep::Appeal => {
                if let Some(a) = self.appeal {
                    return refuse(&format!("本件已申诉（{}），每件差评只可申诉一次", a.label()));
                }
                self.appeal = Some(AppealState::Pending);
            }
            FollowUpStep::Uphold | FollowUpStep::Reject => {
                if !appeal_pending {
                    return refuse("没有待裁定的申诉");
                }
                if step == FollowUpStep::Uphold {
                    self.appeal = Some(AppealState::Upheld);
                    self.state = S::SetAside;
                } else {
                    self.appeal = Some(AppealState::Rejected);
                }
            }
            FollowUpStep::Supersede => self.state = S::Superseded,
        }
        Ok(())
    }

    /// What the rating counts as in the report: set aside after an upheld appeal; rectified on
    /// time when the office verified a rectification the department reported by its due day
    /// (the office's own delay in verifying does not cost the department).
    pub fn standing(&self) -> Standing {
        match self.state {
            FollowUpState::SetAside => Standing::SetAside,
            FollowUpState::Verified if self.replied_on.is_some_and(|d| d <= self.rectify_due) => {
                Standing::RectifiedOnTime
            }
            _ => Standing::AsRated,
        }
    }

    /// The step the department owes and its due day, while one is owed.
    pub fn owed(&self) -> Option<(FollowUpStep, NaiveDate)> {
        match self.state {
            FollowUpState::Open => Some((FollowUpStep::Contact, self.contact_due)),
            FollowUpState::Contacted => Some((FollowUpStep::Reply, self.rectify_due)),
            _ => None,
        }
    }

    /// Whether what the department owes is past its due day on `today`.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.owed().is_some_and(|(_, due)| due < today)
    }

    /// The day what the department owes becomes overdue and raises its alert: the day after
    /// its due day; none when nothing is owed.
    pub fn alert_on(&self) -> Option<NaiveDate> {
        self.owed().and_then(|(_, due)| due.succ_opt())
    }
}

/// Whether a rating's level is a bad one (差评).
pub fn is_bad(level: u8) -> bool {
    level <= 2
}

#[cfg(test)]
mod follow_up_tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn limits_count_working_days_after_the_rating() {
        // Friday 2011-04-01: contact by Tuesday 04-06 (Qingming, 04-03 to 04-05, is off; Saturday
        // 04-02 is a make-up working day), rectify by Monday 04-11.
        let f = FollowUp::open(d("2011-04-01"), FollowUpLimits::default(), &WorkCalendar::official());
        assert_eq!((f.contact_due, f.rectify_due), (d("2011-04-06"), d("2011-04-11")));
    }

    #[test]
    fn a_follow_up_goes_contact_reply_verify_and_counts_on_time_only_when_replied_in_time() {
        let cal = WorkCalendar::official();
        let mut f = FollowUp::open(d("2011-03-01"), FollowUpLimits::default(), &cal);
        assert!(f.apply(FollowUpStep::Reply, d("2011-03-02")).is_err(), "reply before contact");
        assert_eq!(f.alert_on(), Some(d("2011-03-04")), "contact due 03-03");
        assert!(f.apply(FollowUpStep::Verify, d("2011-03-02")).is_err(), "nothing to verify");
        f.apply(FollowUpStep::Contact, d("2011-03-02")).unwrap();
        f.apply(FollowUpStep::Reply, d("2011-03-04")).unwrap();
        f.apply(FollowUpStep::Return, d("2011-03-07")).unwrap();
        assert_eq!((f.state, f.replied_on), (FollowUpState::Contacted, None));
        assert!(f.is_overdue(d("2011-03-09")), "rectify due 03-08, not reported again");
        assert_eq!(f.alert_on(), Some(d("2011-03-09")), "the alert the day after the rectification's due day");
        f.apply(FollowUpStep::Reply, d("2011-03-10")).unwrap();
        f.apply(FollowUpStep::Verify, d("2011-03-11")).unwrap();
        assert_eq!(f.standing(), Standing::AsRated, "reported after 03-08: not on time");
        assert_eq!(f.alert_on(), None, "nothing owed once verified");
        assert!(f.apply(FollowUpStep::Appeal, d("2011-03-12")).is_err(), "closed");

        let mut g = FollowUp::open(d("2011-03-01"), FollowUpLimits::default(), &cal);
        g.apply(FollowUpStep::Contact, d("2011-03-01")).unwrap();
        g.apply(FollowUpStep::Reply, d("2011-03-08")).unwrap();
        g.apply(FollowUpStep::Verify, d("2011-03-20")).unwrap();
        assert_eq!(g.standing(), Standing::RectifiedOnTime, "the office's late verification costs nothing");
    }

    #[test]
    fn one_appeal_which_the_office_decides_before_verifying() {
        let cal = WorkCalendar::official();
        let mut f = FollowUp::open(d("2011-03-01"), FollowUpLimits::default(), &cal);
        f.apply(FollowUpStep::Contact, d("2011-03-01")).unwrap();
        f.apply(FollowUpStep::Appeal, d("2011-03-01")).unwrap();
        f.apply(FollowUpStep::Reply, d("2011-03-02")).unwrap();
        assert!(f.apply(FollowUpStep::Verify, d("2011-03-02")).is_err(), "appeal pending");
        f.apply(FollowUpStep::Reject, d("2011-03-03")).unwrap();
        assert!(f.apply(FollowUpStep::Appeal, d("2011-03-03")).is_err(), "one appeal only");
        f.apply(FollowUpStep::Verify, d("2011-03-03")).unwrap();
        assert_eq!(f.standing(), Standing::RectifiedOnTime);

        let mut g = FollowUp::open(d("2011-03-01"), FollowUpLimits::default(), &cal);
        g.apply(FollowUpStep::Appeal, d("2011-03-01")).unwrap();
        g.apply(FollowUpStep::Uphold, d("2011-03-02")).unwrap();
        assert_eq!((g.state, g.standing()), (FollowUpState::SetAside, Standing::SetAside));
        assert!(!g.is_overdue(d("2011-12-31")));
    }
}

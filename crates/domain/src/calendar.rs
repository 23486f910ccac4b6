//! The official working-day calendar and the deadline arithmetic of spec/metrics.md.
//!
//! A day is a working day when it is Monday–Friday and not an official holiday, or a weekend day
//! that the State Council's yearly notice made a working day (调休). The schedule is data: each
//! year's notice is a small text block (see [`YearSchedule::parse`]) shipped with the project and
//! stored in the database, where an administrator can add or correct a year.
//!
//! A date in a year without a notice is an error, never a weekend-only guess: the office
//! disciplines people with these deadlines.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The schedules shipped with this release: every year from 2004 to the newest published notice.
pub const OFFICIAL_SCHEDULES: &str = include_str!("../../../data/calendar/cn-official.txt");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0} 年的节假日安排尚未录入日历，无法计算工作日（请管理员在“工作日历”中补录该年通知）")]
    UnknownYear(i32),
    #[error("第 {line} 行：{reason}")]
    Syntax { line: usize, reason: String },
}

/// One kind of entry of a year's notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum DayKind {
    /// An official day off (法定节假日及其连休).
    Holiday,
    /// A weekend day made a working day (调休上班).
    Workday,
}

/// One line of a year's notice: a day or an inclusive range of days, and the festival it is for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScheduleEntry {
    pub kind: DayKind,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub name: String,
}

/// The schedule announced for one year.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct YearSchedule {
    pub year: i32,
    /// The notice this schedule comes from (e.g. 国办发明电〔2010〕40号); free text.
    pub source: String,
    pub entries: Vec<ScheduleEntry>,
}

impl YearSchedule {
    /// Parses the text of several years, as in `data/calendar/cn-official.txt`:
    ///
    /// ```text
    /// year 2011  # 国办发明电〔2010〕40号
    /// holiday 2011-02-02..2011-02-08  春节
    /// workday 2011-01-30  春节调休
    /// ```
    pub fn parse_many(text: &str) -> Result<Vec<YearSchedule>, CalendarError> {
        let mut years: Vec<YearSchedule> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let syntax = |reason: String| CalendarError::Syntax { line, reason };
            let (content, comment) = match raw.split_once('#') {
                Some((c, rest)) => (c.trim(), rest.trim()),
                None => (raw.trim(), ""),
            };
            if content.is_empty() {
                continue;
            }
            let (word, rest) = content.split_once(char::is_whitespace).unwrap_or((content, ""));
            let rest = rest.trim();
            match word {
                "year" => {
                    let year: i32 = rest
                        .parse()
                        .ok()
                        .filter(|y| (1949..=2200).contains(y))
                        .ok_or_else(|| syntax(format!("“{rest}”不是有效的年份")))?;
                    if years.iter().any(|y| y.year == year) {
                        return Err(syntax(format!("{year} 年重复出现")));
                    }
                    years.push(YearSchedule { year, source: comment.to_string(), entries: Vec::new() });
                }
                "holiday" | "workday" => {
                    let current = years.last_mut().ok_or_else(|| syntax("日期必须写在“year 年份”之后".to_string()))?;
                    let (dates, name) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                    let (first, last) = match dates.split_once("..") {
                        Some((a, b)) => (parse_date(a).map_err(&syntax)?, parse_date(b).map_err(&syntax)?),
                        None => {
                            let d = parse_date(dates).map_err(&syntax)?;
                            (d, d)
                        }
                    };
                    if last < first {
                        return Err(syntax(format!("日期范围 {dates} 的结束早于开始")));
                    }
                    if (last - first).num_days() > 31 {
                        return Err(syntax(format!("日期范围 {dates} 超过一个月，请检查")));
                    }
                    let near = |d: NaiveDate| (current.year - 1..=current.year + 1).contains(&d.year());
                    if !near(first) || !near(last) {
                        return Err(syntax(format!("日期 {dates} 不在 {} 年通知的范围内", current.year)));
                    }
                    let kind = if word == "holiday" { DayKind::Holiday } else { DayKind::Workday };
                    if kind == DayKind::Workday {
                        if first != last {
                            return Err(syntax("调休上班日须逐日填写".to_string()));
                        }
                        if !is_weekend(first) {
                            return Err(syntax(format!("{first} 不是周六或周日，无需调休上班")));
                        }
                    }
                    current.entries.push(ScheduleEntry { kind, first, last, name: name.trim().to_string() });
                }
                other => {
                    return Err(syntax(format!("无法识别“{other}”：每行应以 year、holiday 或 workday 开头")));
                }
            }
        }
        Ok(years)
    }

    /// Parses the text of exactly one year (as an administrator edits it).
    pub fn parse_one(year: i32, text: &str) -> Result<YearSchedule, CalendarError> {
        let has_header = text.lines().any(|l| l.trim_start().starts_with("year"));
        let full = if has_header { text.to_string() } else { format!("year {year}\n{text}") };
        let mut years = Self::parse_many(&full)?;
        match years.len() {
            1 if years[0].year == year => Ok(years.remove(0)),
            _ => Err(CalendarError::Syntax { line: 1, reason: format!("只能包含 {year} 年的安排") }),
        }
    }

    /// The text form that [`YearSchedule::parse_one`] reads back.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.source.is_empty() {
            out.push_str(&format!("year {}\n", self.year));
        } else {
            out.push_str(&format!("year {}  # {}\n", self.year, self.source));
        }
        for e in &self.entries {
            let word = match e.kind {
                DayKind::Holiday => "holiday",
                DayKind::Workday => "workday",
            };
            let dates = if e.first == e.last { e.first.to_string() } else { format!("{}..{}", e.first, e.last) };
            if e.name.is_empty() {
                out.push_str(&format!("{word} {dates}\n"));
            } else {
                out.push_str(&format!("{word} {dates}  {}\n", e.name));
            }
        }
        out
    }
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| format!("“{s}”不是 YYYY-MM-DD 格式的日期"))
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Why a day is or is not a working day; shown on day-by-day explanations.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum DayStatus {
    Workday,
    Weekend,
    Holiday(String),
    MadeWorkday(String),
}

impl DayStatus {
    pub fn is_working(&self) -> bool {
        matches!(self, DayStatus::Workday | DayStatus::MadeWorkday(_))
    }
}

/// The working-day calendar made of the known years' schedules.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    known_years: BTreeSet<i32>,
    special: BTreeMap<NaiveDate, (DayKind, String)>,
    /// Whether each day of each known year (by its day of the year, from 0) is a working day:
    /// counting a deadline asks this of every day it passes, millions of times in an import,
    /// so the answer is a lookup, with no search of the schedule and no copy of a name.
    working: BTreeMap<i32, Box<[bool; 366]>>,
}

impl WorkCalendar {
    pub fn new(schedules: &[YearSchedule]) -> Self {
        let mut cal = WorkCalendar::default();
        for s in schedules {
            cal.known_years.insert(s.year);
            for e in &s.entries {
                let mut d = e.first;
                while d <= e.last {
                    cal.special.insert(d, (e.kind, e.name.clone()));
                    d = d + Days::new(1);
                }
            }
        }
        for &year in &cal.known_years {
            let mut days = Box::new([false; 366]);
            let mut d = NaiveDate::from_ymd_opt(year, 1, 1);
            while let Some(day) = d.filter(|day| day.year() == year) {
                days[day.ordinal0() as usize] = cal.status(day).is_ok_and(|s| s.is_working());
                d = day.succ_opt();
            }
            cal.working.insert(year, days);
        }
        cal
    }

    /// The calendar of the schedules shipped with this release.
    pub fn official() -> Self {
        Self::new(&YearSchedule::parse_many(OFFICIAL_SCHEDULES).expect("the shipped calendar data parses"))
    }

    pub fn known_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.known_years.iter().copied()
    }

    pub fn status(&self, date: NaiveDate) -> Result<DayStatus, CalendarError> {
        if !self.known_years.contains(&date.year()) {
            return Err(CalendarError::UnknownYear(date.year()));
        }
        Ok(match self.special.get(&date) {
            Some((DayKind::Holiday, name)) => DayStatus::Holiday(name.clone()),
            Some((DayKind::Workday, name)) if is_weekend(date) => DayStatus::MadeWorkday(name.clone()),
            _ if is_weekend(date) => DayStatus::Weekend,
            _ => DayStatus::Workday,
        })
    }

    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        let days = self.working.get(&date.year()).ok_or(CalendarError::UnknownYear(date.year()))?;
        Ok(days[date.ordinal0() as usize])
    }

    /// Whether `date` is a working day, and whether that is an estimate: in a year whose
    /// official schedule is not entered yet, Monday to Friday count (the weekend-only
    /// fallback that spec/metrics.md allows when it is clearly reported).
    pub fn is_working_day_or_estimate(&self, date: NaiveDate) -> (bool, bool) {
        match self.is_working_day(date) {
            Ok(working) => (working, false),
            Err(_) => (!is_weekend(date), true),
        }
    }

    /// [`WorkCalendar::deadline`], counting the days of unknown years by the weekend-only
    /// fallback; the flag says whether any such day was counted (the date is then an estimate
    /// to be reported as one, and recomputed when the year's schedule is entered).
    pub fn deadline_or_estimate(&self, start: NaiveDate, days: u32) -> (NaiveDate, bool) {
        let mut date = start;
        let mut counted = 0;
        let mut estimated = false;
        while counted < days {
            date = date + Days::new(1);
            let (working, guess) = self.is_working_day_or_estimate(date);
            estimated |= guess;
            if working {
                counted += 1;
            }
        }
        (date, estimated)
    }

    /// The deadline date of a period of `days` working days that starts on `start`: the
    /// `days`-th working day after `start` (the start day itself is never counted).
    /// A period of 0 days ends on its start date.
    pub fn deadline(&self, start: NaiveDate, days: u32) -> Result<NaiveDate, CalendarError> {
        let mut date = start;
        let mut counted = 0;
        while counted < days {
            date = date + Days::new(1);
            if self.is_working_day(date)? {
                counted += 1;
            }
        }
        Ok(date)
    }

    /// The number of working days after `from` up to and including `to` (0 when `to <= from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Result<u32, CalendarError> {
        let mut count = 0;
        let mut date = from;
        while date < to {
            date = date + Days::new(1);
            if self.is_working_day(date)? {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The number of working days from `from` (included) until `until` (excluded): the days a
    /// clock stopped on `from` and restarted on `until` stood still. Same day: 0.
    pub fn working_days_from_until(&self, from: NaiveDate, until: NaiveDate) -> Result<u32, CalendarError> {
        let mut count = 0;
        let mut date = from;
        while date < until {
            if self.is_working_day(date)? {
                count += 1;
            }
            date = date + Days::new(1);
        }
        Ok(count)
    }

    /// Every day from `start` (excluded) to the deadline, with its status and running count:
    /// the arithmetic laid out so that anyone can check it.
    pub fn explain_deadline(
        &self,
        start: NaiveDate,
        days: u32,
    ) -> Result<Vec<(NaiveDate, DayStatus, u32)>, CalendarError> {
        let end = self.deadline(start, days)?;
        let mut out = Vec::new();
        let mut date = start;
        let mut counted = 0;
        while date < end {
            date = date + Days::new(1);
            let status = self.status(date)?;
            if status.is_working() {
                counted += 1;
            }
            out.push((date, status, counted));
        }
        Ok(out)
    }
}

impl fmt::Display for DayStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DayStatus::Workday => f.write_str("工作日"),
            DayStatus::Weekend => f.write_str("周末"),
            DayStatus::Holiday(n) if n.is_empty() => f.write_str("节假日"),
            DayStatus::Holiday(n) => write!(f, "节假日（{n}）"),
            DayStatus::MadeWorkday(n) if n.is_empty() => f.write_str("调休上班"),
            DayStatus::MadeWorkday(n) => write!(f, "调休上班（{n}）"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn shipped_data_covers_2004_to_2026() {
        let cal = WorkCalendar::official();
        let years: Vec<i32> = cal.known_years().collect();
        for y in 2004..=2026 {
            assert!(years.contains(&y), "missing {y}");
        }
    }

    #[test]
    fn the_working_day_table_agrees_with_the_schedule() {
        // The table behind is_working_day is built from the schedules; every day of every
        // shipped year, 调休 Saturdays and holidays across a year's end included, must agree.
        let cal = WorkCalendar::official();
        let mut made_workdays = 0;
        for year in cal.known_years().collect::<Vec<_>>() {
            let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            while day.year() == year {
                let status = cal.status(day).unwrap();
                assert_eq!(cal.is_working_day(day).unwrap(), status.is_working(), "{day}: {status}");
                made_workdays += usize::from(matches!(status, DayStatus::MadeWorkday(_)));
                day = day.succ_opt().unwrap();
            }
        }
        assert!(made_workdays > 50, "the shipped years have many 调休 working days, found {made_workdays}");
        assert_eq!(cal.is_working_day(d("2003-06-02")), Err(CalendarError::UnknownYear(2003)));
    }

    #[test]
    fn qingming_2011() {
        let cal = WorkCalendar::official();
        assert!(cal.is_working_day(d("2011-04-02")).unwrap(), "Saturday 2011-04-02 was a working day");
        assert!(!cal.is_working_day(d("2011-04-04")).unwrap());
        assert!(!cal.is_working_day(d("2011-04-05")).unwrap());
        assert!(cal.is_working_day(d("2011-04-06")).unwrap());
        // Friday 2011-04-01 + 1 working day is the Saturday make-up day.
        assert_eq!(cal.deadline(d("2011-04-01"), 1).unwrap(), d("2011-04-02"));
        assert_eq!(cal.deadline(d("2011-04-01"), 2).unwrap(), d("2011-04-06"));
    }

    #[test]
    fn spring_festival_2011_and_national_day() {
        let cal = WorkCalendar::official();
        // Receipt on 2011-01-28 (Fri); 01-30 (Sun) and 02-12 (Sat) were working days; 02-02..08 off.
        assert_eq!(cal.deadline(d("2011-01-28"), 1).unwrap(), d("2011-01-30"));
        assert_eq!(cal.deadline(d("2011-01-28"), 4).unwrap(), d("2011-02-09"));
        assert_eq!(cal.deadline(d("2011-01-28"), 5).unwrap(), d("2011-02-10"));
        assert_eq!(cal.deadline(d("2011-09-30"), 1).unwrap(), d("2011-10-08"));
    }

    #[test]
    fn spot_checks_across_the_years() {
        let cal = WorkCalendar::official();
        let cases = [
            // 2004: the May Day golden week, 05-08 and 05-09 (a weekend) worked.
            ("2004-04-30", 1, "2004-05-08"),
            // 2007: 04-28 and 04-29 worked for the golden week.
            ("2007-04-27", 1, "2007-04-28"),
            ("2007-04-29", 1, "2007-04-30"),
            ("2007-04-30", 1, "2007-05-08"),
            // 2008: the first 清明 holiday, Friday 04-04.
            ("2008-04-03", 1, "2008-04-07"),
            // 2015: the 9-3 commemoration, Sunday 09-06 worked.
            ("2015-09-02", 1, "2015-09-06"),
            // 2020: the Spring Festival extended to 02-02.
            ("2020-01-23", 1, "2020-02-03"),
            // 2026: Spring Festival 02-15..02-23, Saturdays 02-14 and 02-28 worked.
            ("2026-02-13", 1, "2026-02-14"),
            ("2026-02-14", 1, "2026-02-24"),
            ("2026-02-27", 1, "2026-02-28"),
        ];
        for (start, n, want) in cases {
            assert_eq!(cal.deadline(d(start), n).unwrap(), d(want), "{start} + {n}");
        }
    }

    #[test]
    fn start_day_is_not_counted_even_on_holidays() {
        let cal = WorkCalendar::official();
        assert_eq!(cal.deadline(d("2011-10-01"), 1).unwrap(), d("2011-10-08"));
        assert_eq!(cal.deadline(d("2011-03-07"), 0).unwrap(), d("2011-03-07"));
        assert_eq!(cal.deadline(d("2011-03-07"), 5).unwrap(), d("2011-03-14"));
    }

    #[test]
    fn unknown_year_is_an_error_not_a_guess() {
        let cal = WorkCalendar::official();
        assert_eq!(cal.is_working_day(d("2003-06-02")), Err(CalendarError::UnknownYear(2003)));
        assert_eq!(cal.deadline(d("2099-12-20"), 3), Err(CalendarError::UnknownYear(2099)));
        let last = cal.known_years().max().unwrap();
        let end = NaiveDate::from_ymd_opt(last, 12, 31).unwrap();
        assert_eq!(cal.deadline(end, 1), Err(CalendarError::UnknownYear(last + 1)));
    }

    #[test]
    fn parse_rejects_bad_lines_with_line_numbers() {
        let err = YearSchedule::parse_many("year 2011\nworkday 2011-04-04  not a weekend\n").unwrap_err();
        assert!(matches!(err, CalendarError::Syntax { line: 2, .. }), "{err:?}");
        let err = YearSchedule::parse_many("holiday 2011-01-01\n").unwrap_err();
        assert!(matches!(err, CalendarError::Syntax { line: 1, .. }));
        let err = YearSchedule::parse_many("year 2011\nholiday 2011-13-01\n").unwrap_err();
        assert!(matches!(err, CalendarError::Syntax { line: 2, .. }));
        let err = YearSchedule::parse_many("year 2011\nholiday 2011-05-03..2011-05-01\n").unwrap_err();
        assert!(matches!(err, CalendarError::Syntax { line: 2, .. }));
        let err = YearSchedule::parse_many("year 2011\nvacation 2011-05-03\n").unwrap_err();
        assert!(matches!(err, CalendarError::Syntax { line: 2, .. }));
    }

    #[test]
    fn text_round_trips() {
        for schedule in YearSchedule::parse_many(OFFICIAL_SCHEDULES).unwrap() {
            let again = YearSchedule::parse_one(schedule.year, &schedule.to_text()).unwrap();
            assert_eq!(again, schedule);
        }
    }

    #[test]
    fn every_make_up_day_is_a_weekend_day() {
        for s in YearSchedule::parse_many(OFFICIAL_SCHEDULES).unwrap() {
            for e in s.entries.iter().filter(|e| e.kind == DayKind::Workday) {
                assert!(is_weekend(e.first), "{}", e.first);
            }
        }
    }

    fn any_start() -> impl Strategy<Value = NaiveDate> {
        // Starts from 2004-01-01 to 2026-08-03, leaving room for 61 working days in 2026.
        (0i64..8250).prop_map(|offset| d("2004-01-01") + chrono::Duration::days(offset))
    }

    proptest! {
        #[test]
        fn deadline_then_count_gives_back_n(start in any_start(), n in 0u32..60) {
            let cal = WorkCalendar::official();
            let end = cal.deadline(start, n).unwrap();
            prop_assert_eq!(cal.working_days_between(start, end).unwrap(), n);
            if n > 0 {
                prop_assert!(cal.is_working_day(end).unwrap());
                prop_assert!(end > start);
            }
        }

        #[test]
        fn deadline_grows_with_n(start in any_start(), n in 0u32..59) {
            let cal = WorkCalendar::official();
            prop_assert!(cal.deadline(start, n + 1).unwrap() > cal.deadline(start, n).unwrap());
        }

        #[test]
        fn a_period_is_at_least_as_long_as_its_working_days(start in any_start(), n in 1u32..60) {
            let cal = WorkCalendar::official();
            let end = cal.deadline(start, n).unwrap();
            prop_assert!((end - start).num_days() >= i64::from(n));
            // ...and a working day that follows is the deadline of n + 1.
            let next = cal.deadline(end, 1).unwrap();
            prop_assert_eq!(cal.deadline(start, n + 1).unwrap(), next);
        }
    }
}

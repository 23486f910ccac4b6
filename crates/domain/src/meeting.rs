//! The monthly joint meeting (联席会议): its agenda is drafted from the records as of its day,
//! then edited by the office; its decisions become key tasks, and the next meeting's agenda opens
//! with how they stand.

use chrono::NaiveDate;

/// A task shown on an agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaTask {
    pub task_no: String,
    pub title: String,
    pub lead: String,
    /// Why it is there ("红灯：节点 M2 于 03-11 到期未完成"), or how it stands.
    pub note: String,
}

/// What an agenda is drafted from, as of the meeting's day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgendaInputs {
    /// The last meeting's decisions and how their tasks stand.
    pub last_decisions: Vec<AgendaTask>,
    pub red_tasks: Vec<AgendaTask>,
    /// Tasks yellow for [`LONG_YELLOW_DAYS`] days or more.
    pub long_yellow_tasks: Vec<AgendaTask>,
    /// Departments by cases settled overdue this month, most first: (name, count).
    pub overdue_cases: Vec<(String, i64)>,
    /// Departments by complaints about their windows this month, most first.
    pub window_complaints: Vec<(String, i64)>,
    /// Supervision notices past their reply date: (number, department, reply date).
    pub late_notices: Vec<(String, String, NaiveDate)>,
}

/// A task yellow this many days is brought to the meeting.
pub const LONG_YELLOW_DAYS: i64 = 10;
/// How many departments each ranking names.
pub const TOP_DEPARTMENTS: usize = 5;

/// The agenda's draft: numbered sections in the order the meeting takes them, each with its
/// items, or 无 when there is nothing.
pub fn draft_agenda(day: NaiveDate, i: &AgendaInputs) -> String {
    let mut out = format!("{day} 联席会议议程（据截至当日的记录起草）\n");
    let task_lines = |tasks: &[AgendaTask]| -> Vec<String> {
        tasks.iter().map(|t| format!("{}（{}，牵头：{}）{}", t.title, t.task_no, t.lead, t.note)).collect()
    };
    let ranking = |rows: &[(String, i64)], unit: &str| -> Vec<String> {
        rows.iter().filter(|(_, n)| *n > 0).take(TOP_DEPARTMENTS).map(|(d, n)| format!("{d}：{n} {unit}")).collect()
    };
    let sections: [(&str, Vec<String>); 7] = [
        ("上次会议议定事项落实情况", task_lines(&i.last_decisions)),
        ("红灯任务", task_lines(&i.red_tasks)),
        (&format!("持续黄灯的任务（{LONG_YELLOW_DAYS} 天以上）"), task_lines(&i.long_yellow_tasks)),
        ("本月超期办件较多的部门", ranking(&i.overdue_cases, "件超期")),
        ("本月窗口投诉较多的部门", ranking(&i.window_complaints, "件投诉")),
        (
            "逾期未回复的督办通知",
            i.late_notices.iter().map(|(n, d, by)| format!("{n}（{d}，应于 {by} 前回复）")).collect(),
        ),
        ("其他事项", Vec::new()),
    ];
    const NUMBERS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "七"];
    for (k, (title, items)) in sections.iter().enumerate() {
        out.push_str(&format!("\n{}、{title}\n", NUMBERS[k]));
        if items.is_empty() {
            out.push_str("  无\n");
        }
        for (n, item) in items.iter().enumerate() {
            out.push_str(&format!("  {}. {item}\n", n + 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draft_opens_with_the_last_decisions_and_names_only_what_is_there() {
        let day = NaiveDate::from_ymd_opt(2011, 4, 28).unwrap();
        let task = |no: &str, note: &str| AgendaTask {
            task_no: no.into(),
            title: format!("任务{no}"),
            lead: "市发展和改革委员会".into(),
            note: note.into(),
        };
        let inputs = AgendaInputs {
            last_decisions: vec![task("RW1", "：办理中，红灯")],
            red_tasks: vec![task("RW2", "：已逾期")],
            overdue_cases: vec![("市公安局".into(), 7), ("市民政局".into(), 0)],
            late_notices: vec![("海效督〔2011〕3号".into(), "市公安局".into(), day)],
            ..Default::default()
        };
        let text = draft_agenda(day, &inputs);
        let first = text.find("一、上次会议议定事项落实情况").unwrap();
        assert!(first < text.find("二、红灯任务").unwrap());
        assert!(text.contains("  1. 任务RW1（RW1，牵头：市发展和改革委员会）：办理中，红灯"), "{text}");
        assert!(text.contains("三、持续黄灯的任务（10 天以上）\n  无\n"), "{text}");
        assert!(
            text.contains("市公安局：7 件超期") && !text.contains("市民政局"),
            "a department with none is not named"
        );
        assert!(text.contains("海效督〔2011〕3号（市公安局，应于 2011-04-28 前回复）"));
    }
}

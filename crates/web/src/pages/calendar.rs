use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Days, NaiveDate};
use oversight_app::{App, AppError, calendar};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::calendar::{DayStatus, YearSchedule};

use super::Done;
use crate::error::PageError;
use crate::session::CurrentUser;
use crate::view::Layout;

pub struct Day {
    pub day: u32,
    /// CSS class: workday, weekend, holiday, made-workday, blank.
    pub class: &'static str,
    pub title: String,
}

pub struct Month {
    pub number: u32,
    pub weeks: Vec<Vec<Day>>,
}

pub struct Step {
    pub date: String,
    pub status: String,
    pub counted: bool,
    pub running: u32,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar/year.html")]
struct YearPage {
    l: Layout,
    year: i32,
    known: bool,
    years: Vec<i32>,
    months: Vec<Month>,
    schedule: Option<YearSchedule>,
    source_note: String,
    may_edit: bool,
    // the deadline calculator
    start: String,
    days: String,
    deadline: Option<String>,
    steps: Vec<Step>,
    calc_error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct YearQuery {
    year: Option<i32>,
    start: Option<String>,
    days: Option<String>,
    done: Option<String>,
}

fn city_admin(s: &crate::session::SessionInfo) -> bool {
    s.actor.may_city_wide(Action::EditCalendar)
}

pub async fn year(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(q): Query<YearQuery>,
) -> Result<impl IntoResponse, PageError> {
    let today = app.today();
    let year = q.year.filter(|y| (2000..=2100).contains(y)).unwrap_or(today.year());
    let cal = app.calendar().await?;
    let years: Vec<i32> = cal.known_years().collect();
    let known = years.contains(&year);
    let mut months = Vec::new();
    if known {
        for m in 1..=12 {
            let first = NaiveDate::from_ymd_opt(year, m, 1).expect("valid month");
            let mut weeks = vec![];
            let mut week: Vec<Day> = (0..first.weekday().num_days_from_monday())
                .map(|_| Day { day: 0, class: "blank", title: String::new() })
                .collect();
            let mut d = first;
            while d.month() == m {
                let status = cal.status(d).map_err(AppError::from)?;
                let class = match status {
                    DayStatus::Workday => "workday",
                    DayStatus::Weekend => "weekend",
                    DayStatus::Holiday(_) => "holiday",
                    DayStatus::MadeWorkday(_) => "made-workday",
                };
                week.push(Day { day: d.day(), class, title: format!("{d} {status}") });
                if week.len() == 7 {
                    weeks.push(std::mem::take(&mut week));
                }
                d = d + Days::new(1);
            }
            if !week.is_empty() {
                while week.len() < 7 {
                    week.push(Day { day: 0, class: "blank", title: String::new() });
                }
                weeks.push(week);
            }
            months.push(Month { number: m, weeks });
        }
    }
    let stored = calendar::stored_year(&app, year).await?;
    let schedule = match &stored {
        Some(y) => YearSchedule::parse_one(y.year, &y.body).ok(),
        None => None,
    };
    let source_note = match &stored {
        Some(y) if y.shipped => "随软件发布的国务院办公厅通知数据".to_string(),
        Some(y) => {
            format!("由 {} 于 {} 修订", y.updated_by, crate::view::LocalTime(app.config.tz()).local(&y.updated_at))
        }
        None => String::new(),
    };
    // The deadline calculator: the arithmetic laid out day by day.
    let start = q.start.clone().unwrap_or_default();
    let days = q.days.clone().unwrap_or_default();
    let (mut deadline, mut steps, mut calc_error) = (None, vec![], None);
    if !start.is_empty() || !days.is_empty() {
        match (NaiveDate::parse_from_str(start.trim(), "%Y-%m-%d"), days.trim().parse::<u32>()) {
            (Ok(st), Ok(n)) if n <= 500 => match cal.explain_deadline(st, n) {
                Ok(explained) => {
                    deadline = explained.last().map(|(d, _, _)| d.to_string()).or(Some(st.to_string()));
                    steps = explained
                        .into_iter()
                        .map(|(d, status, running)| Step {
                            date: d.format("%Y-%m-%d").to_string(),
                            counted: status.is_working(),
                            status: status.to_string(),
                            running,
                        })
                        .collect();
                }
                Err(e) => calc_error = Some(e.to_string()),
            },
            (Err(_), _) => calc_error = Some("起算日期须为 YYYY-MM-DD".into()),
            _ => calc_error = Some("工作日数须为 0–500 的整数".into()),
        }
    }
    Ok(YearPage {
        l: Layout::new(&s, "/calendar", format!("{year} 年工作日历")).with_notice(q.done.as_deref()),
        may_edit: city_admin(&s),
        year,
        known,
        years,
        months,
        schedule,
        source_note,
        start,
        days,
        deadline,
        steps,
        calc_error,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar/edit.html")]
struct EditPage {
    l: Layout,
    year: i32,
    body: String,
    errors: Vec<RowError>,
}

pub async fn edit_form(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(year): Path<i32>,
    Query(_d): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    if !city_admin(&s) {
        return Err(PageError::new(axum::http::StatusCode::FORBIDDEN, "只有市级系统管理员可以修改工作日历"));
    }
    let body = match calendar::stored_year(&app, year).await? {
        Some(y) => y.body,
        None => format!("year {year}  # 国办发明电〔{}〕号\nholiday {year}-01-01  元旦\n", year - 1),
    };
    Ok(EditPage {
        l: Layout::new(&s, "/calendar", format!("修订 {year} 年节假日安排")), year, body, errors: vec![]
    })
}

#[derive(serde::Deserialize)]
pub struct EditForm {
    body: String,
}

pub async fn save(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(year): Path<i32>,
    Form(f): Form<EditForm>,
) -> Response {
    match calendar::set_year(&app, &s.actor, year, &f.body).await {
        Ok(_) => Redirect::to(&format!("/calendar?year={year}&done=calendar")).into_response(),
        Err(AppError::Invalid(errors)) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            EditPage {
                l: Layout::new(&s, "/calendar", format!("修订 {year} 年节假日安排")),
                year,
                body: f.body,
                errors,
            },
        )
            .into_response(),
        Err(e) => PageError::from(e).into_response(),
    }
}

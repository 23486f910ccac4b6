//! The server-rendered pages, one module per feature; this file is the site map.

mod admin;
mod auth;
mod bulletins;
mod calendar;
mod cases;
mod evaluation;
mod hotline;
mod inspections;
mod meetings;
mod network;
pub mod public;
mod ratings;
mod reports;
mod supervision;
mod tasks;

use axum::routing::{get, post};

use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        // signing in and out, the home page
        .route("/", get(auth::home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        // the four-level network and the catalogue
        .route("/network", get(network::overview))
        .route("/network/import", get(network::import_form).post(network::import))
        .route("/network/{code}", get(network::unit))
        .route("/network/{code}/rename", post(network::rename))
        .route("/network/{code}/windows", post(network::add_window))
        .route("/network/{code}/contacts", post(network::contacts))
        .route("/network/{code}/staff", post(network::add_staff))
        .route("/catalogue", get(network::catalogue))
        // the official calendar
        .route("/calendar", get(calendar::year))
        .route("/calendar/{year}/edit", get(calendar::edit_form))
        .route("/calendar/{year}", post(calendar::save))
        // administration
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/new", get(admin::new_user))
        .route("/admin/users/{id}", get(admin::user))
        .route("/admin/users/{id}/grants", post(admin::grant))
        .route("/admin/users/{id}/grants/{grant}/delete", post(admin::revoke))
        .route("/admin/users/{id}/password", post(admin::password))
        .route("/admin/users/{id}/active", post(admin::active))
        .route("/admin/api-keys", get(admin::api_keys).post(admin::create_api_key))
        .route("/admin/api-keys/{id}/revoke", post(admin::revoke_api_key))
        .route("/audit", get(admin::audit))
        // electronic supervision of approval cases
        .route("/cases", get(cases::list))
        .route("/cases/{case_no}", get(cases::case))
        .route("/dashboard", get(supervision::dashboard))
        .route("/supervision", get(supervision::queues))
        .route("/supervision/alerts", get(supervision::alerts))
        .route("/supervision/alerts/{id}/notice", post(supervision::issue_notice))
        .route("/supervision/alerts/{id}/dismiss", post(supervision::dismiss_alert))
        .route("/supervision/notices/{id}", get(supervision::notice))
        .route("/supervision/notices/{id}/steps", post(supervision::step))
        // reports
        .route("/reports", get(reports::cases_report))
        .route("/reports/cases.xlsx", post(reports::cases_xlsx))
        .route("/reports/tickets", get(reports::tickets_report))
        .route("/reports/tickets.xlsx", post(reports::tickets_xlsx))
        .route("/reports/tasks", get(reports::tasks_report))
        .route("/reports/tasks.xlsx", post(reports::tasks_xlsx))
        .route("/reports/ratings", get(reports::ratings_report))
        .route("/reports/ratings.xlsx", post(reports::ratings_xlsx))
        .route("/reports/inspections", get(reports::inspections_report))
        .route("/reports/inspections.xlsx", post(reports::inspections_xlsx))
        // the efficiency hotline: staff, and the citizen's pages (no account)
        .route("/hotline", get(hotline::queues))
        .route("/hotline/new", get(hotline::intake_form).post(hotline::caller_lookup))
        .route("/hotline/list", get(hotline::list))
        .route("/hotline/orders", post(hotline::create))
        .route("/hotline/orders/{no}", get(hotline::order))
        .route("/hotline/orders/{no}/steps", post(hotline::step))
        .route("/hotline/orders/{no}/caller", post(hotline::reveal_caller))
        .route("/public/hotline", get(public::form).post(public::create))
        .route("/public/hotline/filed", get(public::filed))
        .route("/public/hotline/query", get(public::query_form).post(public::query))
        .route("/public/bulletins", get(bulletins::public_list))
        .route("/public/bulletins/{id}", get(bulletins::public_bulletin))
        .route("/public/bulletins/{id}/photos/{photo}", get(bulletins::public_photo))
        // key tasks
        .route("/tasks", get(tasks::list).post(tasks::create_task))
        .route("/tasks/new", get(tasks::new_task))
        .route("/tasks/flagged", get(tasks::flagged))
        .route("/tasks/meetings", get(meetings::list).post(meetings::schedule))
        .route("/tasks/meetings/{id}", get(meetings::meeting))
        .route("/tasks/meetings/{id}/agenda", post(meetings::agenda))
        .route("/tasks/meetings/{id}/minutes", post(meetings::minutes))
        .route("/tasks/meetings/{id}/decisions", post(meetings::decide))
        .route("/tasks/meetings/{id}/print", get(meetings::print))
        .route("/tasks/meetings/{id}/docx", get(meetings::docx))
        .route("/tasks/{task_no}", get(tasks::task))
        .route("/tasks/{task_no}/steps", post(tasks::step))
        .route("/tasks/{task_no}/flag", post(tasks::flag))
        // 好差评: the follow-ups of bad ratings
        .route("/ratings", get(ratings::list))
        .route("/ratings/{case_no}", get(ratings::follow_up))
        .route("/ratings/{case_no}/steps", post(ratings::step))
        // inspections (明察暗访)
        .route("/inspections", get(inspections::list))
        .route("/inspections/rounds", post(inspections::plan))
        .route("/inspections/rounds/new", get(inspections::new_round))
        .route("/inspections/rounds/{id}", get(inspections::round))
        .route("/inspections/rounds/{id}/end", post(inspections::end))
        .route("/inspections/rounds/{id}/draw.json", get(inspections::draw_json))
        .route("/inspections/rounds/{id}/visits", post(inspections::start_visit))
        .route("/inspections/visits/{id}", get(inspections::visit))
        .route("/inspections/visits/{id}/findings", post(inspections::finding))
        .route("/inspections/visits/{id}/close", post(inspections::close_visit))
        .route(
            "/inspections/findings/{id}/photos",
            post(inspections::add_photo)
                .layer(axum::extract::DefaultBodyLimit::max(oversight_app::inspections::MAX_PHOTO_BYTES + (1 << 20))),
        )
        .route("/inspections/photos/{id}", get(inspections::photo))
        .route("/inspections/rectifications", get(inspections::rectifications))
        .route("/inspections/findings/{id}", get(inspections::finding_page_get))
        .route("/inspections/findings/{id}/steps", post(inspections::rectification_step))
        .route("/inspections/checklist", get(inspections::checklist).post(inspections::save_checklist))
        .route("/inspections/bulletins", get(bulletins::list).post(bulletins::draft))
        .route("/inspections/bulletins/{id}", get(bulletins::bulletin).post(bulletins::save))
        .route("/inspections/bulletins/{id}/steps", post(bulletins::step))
        .route("/inspections/bulletins/{id}/print", get(bulletins::print))
        .route("/inspections/bulletins/{id}/docx", get(bulletins::docx))
        // performance evaluation (绩效考评)
        .route("/evaluation", get(evaluation::list))
        .route("/evaluation/schemes", post(evaluation::create))
        .route("/evaluation/schemes/{id}", get(evaluation::scheme).post(evaluation::save))
        .route("/evaluation/schemes/{id}/publish", post(evaluation::publish))
        .route("/evaluation/schemes/{id}/manual", post(evaluation::enter_points))
        .route("/evaluation/schemes/{id}/self-request", post(evaluation::request_self))
        .route("/evaluation/self/{id}", post(evaluation::enter_self))
        .route("/evaluation/results/{id}", get(evaluation::result))
        .route("/evaluation/results/{id}/departments/{code}", get(evaluation::department))
        .route("/evaluation/results/{id}/departments/{code}/appeals", post(evaluation::appeal))
        .route("/evaluation/appeals/{id}", post(evaluation::decide))
        .route("/public", get(evaluation::public_home))
        .route("/public/figures.json", get(evaluation::public_figures_json))
        .route("/public/figures.csv", get(evaluation::public_figures_csv))
        .route("/public/evaluation", get(evaluation::public_list))
        .route("/public/evaluation/{id}", get(evaluation::public_result))
        .route("/public/evaluation/{id}/result.json", get(evaluation::public_json))
        .route("/public/evaluation/{id}/result.csv", get(evaluation::public_csv))
}

/// `?done=CODE` after a redirect.
#[derive(serde::Deserialize, Default)]
pub struct Done {
    pub done: Option<String>,
}

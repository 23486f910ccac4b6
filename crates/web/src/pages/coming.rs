//! The capabilities still being built, shown in the navigation so that users see where the
//! system is going; each page says what will be there, and claims nothing more.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::IntoResponse;

use crate::session::CurrentUser;
use crate::view::Layout;

#[derive(Template, WebTemplate)]
#[template(path = "coming.html")]
struct ComingPage {
    l: Layout,
    heading: &'static str,
    points: &'static [&'static str],
}

fn page(
    s: &crate::session::SessionInfo,
    section: &'static str,
    heading: &'static str,
    points: &'static [&'static str],
) -> ComingPage {
    ComingPage { l: Layout::new(s, section, heading), heading, points }
}

pub async fn evaluation(CurrentUser(s): CurrentUser) -> impl IntoResponse {
    page(
        &s,
        "/evaluation",
        "绩效考评",
        &["按部门分组的年度考评方案与权重", "由监察、投诉、督办、暗访数据自动计分", "排名、公示与申诉"],
    )
}

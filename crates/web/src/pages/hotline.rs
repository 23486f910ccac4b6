//! The hotline's pages for staff: the queues of each role, the operator's intake with caller
//! lookup, and an order's page with its timeline and the steps the viewer may take.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use oversight_app::hotline::{self, Intake, NewOrder, OrderLine, OrderView, Queue, StepInput};
use oversight_app::{App, AppError};
use oversight_domain::RowError;
use oversight_domain::access::Action;
use oversight_domain::ticket::{Channel, Satisfaction, TicketType};
use oversight_domain::workorder::OrderStep;

use super::Done;
use crate::error::PageError;
use crate::session::{CurrentUser, SessionInfo};
use crate::view::Layout;

/// Helpers the hotline templates call.
pub trait Present {
    fn step_label<'a>(&self, word: &'a str) -> &'a str {
        OrderStep::label_of(word)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "hotline/queues.html")]
struct QueuesPage {
    l: Layout,
    queues: Vec<Queue>,
    intake: bool,
}

impl Present for QueuesPage {}

pub async fn queues(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(done): Query<Done>,
) -> Result<impl IntoResponse, PageError> {
    let queues = hotline::queues(&app, &s.actor).await?;
    Ok(QueuesPage {
        intake: s.actor.may_somewhere(Action::Hotline),
        l: Layout::new(&s, "/hotline", "效能投诉").with_notice(done.done.as_deref()),
        queues,
    })
}

/// The phone an operator looks up (sent in the body: a phone number has no place in a URL).
#[derive(serde::Deserialize, Default)]
pub struct Lookup {
    #[serde(default)]
    phone: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "hotline/new.html")]
struct IntakePage {
    l: Layout,
    f: OrderForm,
    errors: Vec<RowError>,
    /// The caller's earlier orders, when the operator looked the phone up.
    history: Option<Vec<OrderLine>>,
    types: [TicketType; 6],
    channels: [Channel; 3],
}

impl Present for IntakePage {}

const OPERATOR_CHANNELS: [Channel; 3] = [Channel::Phone, Channel::Letter, Channel::Visit];

/// The order form, as posted (by an operator or a citizen).
#[derive(serde::Deserialize, Default, Clone)]
pub struct OrderForm {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub caller_name: String,
    #[serde(default)]
    pub caller_phone: String,
    #[serde(default)]
    pub anonymous: Option<String>,
    #[serde(default)]
    pub venue_code: String,
    #[serde(default)]
    pub department_code: String,
    #[serde(default)]
    pub address: String,
}

impl OrderForm {
    pub fn new_order(&self) -> NewOrder {
        NewOrder {
            kind: self.kind.clone(),
            summary: self.summary.clone(),
            caller_name: self.caller_name.clone(),
            caller_phone: self.caller_phone.clone(),
            anonymous: self.anonymous.is_some(),
            venue_code: self.venue_code.clone(),
            department_code: self.department_code.clone(),
            address: self.address.clone(),
            lat: None,
            lon: None,
        }
    }
}

fn split_invalid(e: AppError) -> Result<Vec<RowError>, PageError> {
    match e {
        AppError::Invalid(errors) => Ok(errors),
        other => Err(other.into()),
    }
}

pub async fn intake_form(State(app): State<App>, CurrentUser(s): CurrentUser) -> Result<Response, PageError> {
    intake_page(&app, &s, String::new()).await
}

/// The intake form with the caller's earlier orders (the lookup is audited, so it is a POST).
pub async fn caller_lookup(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Form(q): Form<Lookup>,
) -> Result<Response, PageError> {
    intake_page(&app, &s, q.phone).await
}

async fn intake_page(app: &App, s: &SessionInfo, phone: String) -> Result<Response, PageError> {
    if !s.actor.may_somewhere(Action::Hotline) {
        return Err(AppError::Forbidden("只有热线话务员或效能办可以受理工单".into()).into());
    }
    let (history, errors) = if phone.trim().is_empty() {
        (None, vec![])
    } else {
        match hotline::caller_history(app, &s.actor, &phone).await {
            Ok(h) => (Some(h), vec![]),
            Err(e) => (None, split_invalid(e)?),
        }
    };
    let f = OrderForm { caller_phone: phone, channel: "phone".into(), ..Default::default() };
    Ok(IntakePage {
        l: Layout::new(s, "/hotline", "受理工单"),
        f,
        errors,
        history,
        types: TicketType::ALL,
        channels: OPERATOR_CHANNELS,
    }
    .into_response())
}

pub async fn create(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Form(f): Form<OrderForm>,
) -> Result<Response, PageError> {
    let channel = Channel::parse(&f.channel).filter(|c| OPERATOR_CHANNELS.contains(c)).unwrap_or(Channel::Phone);
    // Parsed here, where the form enters; the use case takes only a parsed order.
    let created = async {
        let order = hotline::parse_order(&f.new_order())?;
        hotline::create_order(&app, Intake::Operator(&s.actor, channel), &order).await
    };
    match created.await {
        Ok(created) => Ok(Redirect::to(&format!("/hotline/orders/{}?done=order", created.ticket_no)).into_response()),
        Err(e) => {
            let errors = split_invalid(e)?;
            Ok(IntakePage {
                l: Layout::new(&s, "/hotline", "受理工单"),
                f,
                errors,
                history: None,
                types: TicketType::ALL,
                channels: OPERATOR_CHANNELS,
            }
            .into_response())
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct OrderQuery {
    done: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "hotline/order.html")]
struct OrderPage {
    l: Layout,
    v: OrderView,
    satisfactions: [Satisfaction; 4],
}

impl Present for OrderPage {}

impl OrderPage {
    fn kind(&self) -> &'static str {
        self.v.order.r#type.label()
    }
    fn channel(&self) -> &'static str {
        self.v.order.channel.label()
    }
    fn status(&self) -> &'static str {
        self.v.order.status.label()
    }
    fn satisfaction(&self) -> &'static str {
        self.v.order.satisfaction.as_deref().and_then(Satisfaction::parse).map_or("—", |s| s.label())
    }
    fn has(&self, word: &str) -> bool {
        self.v.next_steps.iter().any(|s| s.as_str() == word)
    }
    fn buttons(&self) -> Vec<&OrderStep> {
        // Steps with their own forms are drawn apart.
        self.v
            .next_steps
            .iter()
            .filter(|s| !matches!(s, OrderStep::Dispatch | OrderStep::RequestExtension(_) | OrderStep::Visit(_)))
            .collect()
    }
}

pub async fn order(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(no): Path<String>,
    Query(q): Query<OrderQuery>,
) -> Result<impl IntoResponse, PageError> {
    order_page(&app, &s, &no, false, q.done.as_deref()).await
}

/// The order with its caller in full, for the office: the view is audited, so it is asked for
/// with the form token (a link could be followed by a prefetcher or from another site).
pub async fn reveal_caller(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(no): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    order_page(&app, &s, &no, true, None).await
}

async fn order_page(
    app: &App,
    s: &SessionInfo,
    no: &str,
    reveal: bool,
    done: Option<&str>,
) -> Result<OrderPage, PageError> {
    let v = hotline::order_view(app, &s.actor, no, reveal).await?;
    Ok(OrderPage {
        l: Layout::new(s, "/hotline", format!("工单 {no}")).with_notice(done),
        v,
        satisfactions: Satisfaction::ALL,
    })
}

#[derive(serde::Deserialize)]
pub struct StepForm {
    step: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    department_code: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    satisfaction: String,
}

pub async fn step(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Path(no): Path<String>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    let days = match f.days.trim() {
        "" => None,
        d => Some(d.parse().map_err(|_| AppError::field("days", "延期天数应为整数（工作日）"))?),
    };
    let input = StepInput {
        step: f.step,
        note: f.note,
        department_code: f.department_code,
        days,
        satisfaction: f.satisfaction,
    };
    hotline::order_step(&app, &s.actor, &no, &input).await?;
    Ok(Redirect::to(&format!("/hotline/orders/{no}?done=order-step")).into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct ListParams {
    from: Option<String>,
    to: Option<String>,
    r#type: Option<String>,
    channel: Option<String>,
    department: Option<String>,
    closed: Option<String>,
    satisfaction: Option<String>,
    venue_named: Option<String>,
    late: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "hotline/list.html")]
struct ListPage {
    l: Layout,
    orders: Vec<OrderLine>,
    filter: String,
    show_phone: bool,
}

impl Present for ListPage {}

/// The orders behind a figure of the hotline report.
pub async fn list(
    State(app): State<App>,
    CurrentUser(s): CurrentUser,
    Query(p): Query<ListParams>,
) -> Result<impl IntoResponse, PageError> {
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(str::to_string);
    let date = |v: &Option<String>, field: &str| -> Result<Option<chrono::NaiveDate>, AppError> {
        text(v).map(|d| oversight_app::cases::parse_date(&d, field)).transpose()
    };
    let q = hotline::ListQuery {
        from: date(&p.from, "from")?,
        to: date(&p.to, "to")?,
        kind: text(&p.r#type),
        channel: text(&p.channel),
        department: text(&p.department),
        closed: p.closed.as_deref() == Some("1"),
        satisfaction: text(&p.satisfaction),
        venue_named: p.venue_named.as_deref() == Some("1"),
        late: p.late.as_deref() == Some("1"),
    };
    let mut parts = Vec::new();
    if let (Some(f), Some(t)) = (q.from, q.to) {
        parts.push(format!("受理于 {f} 至 {t}"));
    }
    if let Some(t) = q.kind.as_deref().and_then(TicketType::parse) {
        parts.push(format!("类型：{}", t.label()));
    }
    if let Some(c) = q.channel.as_deref().and_then(Channel::parse) {
        parts.push(format!("渠道：{}", c.label()));
    }
    if let Some(d) = &q.department {
        let names = oversight_app::network::department_names(&app).await?;
        parts.push(format!("部门：{}", names.get(d).unwrap_or(d)));
    }
    if q.closed {
        parts.push("已办结".into());
    }
    if let Some(x) = q.satisfaction.as_deref().and_then(Satisfaction::parse) {
        parts.push(format!("回访：{}", x.label()));
    }
    if q.venue_named {
        parts.push("窗口服务投诉".into());
    }
    if q.late {
        parts.push("已超时".into());
    }
    let orders = hotline::list_orders(&app, &s.actor, &q).await?;
    Ok(ListPage {
        l: Layout::new(&s, "/hotline", "工单清单"),
        orders,
        filter: if parts.is_empty() { "全部工单".into() } else { parts.join("；") },
        show_phone: s.actor.may_somewhere(Action::ViewCaller),
    })
}

//! The JSON API (`/api/v1`), for department systems (API keys) and signed-in pages (reads).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use futures_util::StreamExt;
use oversight_app::hotline::{self, Intake, NewOrder};
use oversight_app::{App, AppError, calendar, cases, network};
use oversight_domain::calendar::YearSchedule;
use oversight_domain::ticket::Channel;
use serde_json::{Value, json};

use crate::body_lines;
use crate::error::ApiError;
use crate::routes::Routes;
use crate::session::{ApiCaller, KeyUse};
use oversight_domain::access::KeyPurpose;

pub fn routes() -> Routes {
    use KeyPurpose::{CaseEvents, Orders, Reports, TaskEvents};
    use KeyUse::{Any, For};
    // Each route says which keys it takes (`KeyUse`); a route that says nothing takes none.
    Routes::new()
        .route("/openapi.yaml", get(openapi))
        .route("/me", get(me).layer(Any))
        .route("/orgs", get(orgs).layer(Any))
        .route("/orgs/{code}", get(org).layer(Any))
        .route("/items", get(items).layer(Any))
        .route("/calendar/deadline", get(deadline).layer(Any))
        .route("/calendar/years/{year}", get(calendar_year).layer(Any))
        .route("/case-events", post(case_events).layer(For(CaseEvents)))
        .route("/reports/cases", get(case_report).layer(For(Reports)))
        .route("/task-events", post(task_events).layer(For(TaskEvents)))
        .route("/reports/tasks", get(task_report).layer(For(Reports)))
        .route("/reports/ratings", get(rating_report).layer(For(Reports)))
        .route("/evaluation/run", post(evaluation_run).layer(For(Reports)))
        .route("/dashboard", get(dashboard).layer(For(Reports)))
        .route("/reports/tickets", get(ticket_report).layer(For(Reports)))
        .route("/orders", post(create_order).layer(For(Orders)))
        .map(|r| r.fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "没有这个接口") }))
}

/// A query string read into `T`; a missing or malformed parameter is the API's JSON error (422)
/// naming it, not axum's plain-text answer.
struct ApiQuery<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(ApiQuery)
            .map_err(|e| AppError::field("query", format!("查询参数有误：{e}")).into())
    }
}

/// A small request body (an order, an evaluation scheme) read whole: past 2 MiB, or cut off,
/// it is the API's JSON error, not axum's plain text.
struct ApiBody(Bytes);

/// The most a small body may hold.
const SMALL_BODY: usize = 2 << 20;

impl<S: Send + Sync> axum::extract::FromRequest<S> for ApiBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        match axum::body::to_bytes(req.into_body(), SMALL_BODY).await {
            Ok(bytes) => Ok(ApiBody(bytes)),
            Err(e) if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) => {
                Err(AppError::TooLarge(format!("请求体超过 {} MiB", SMALL_BODY >> 20)).into())
            }
            Err(e) => Err(AppError::field("body", format!("请求体没有收完：{e}")).into()),
        }
    }
}

/// This API described in OpenAPI 3 (for integrators and for the conformance fuzzing in tests).
async fn openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/yaml; charset=utf-8")], include_str!("../openapi.yaml"))
}

async fn me(ApiCaller(actor): ApiCaller) -> Json<Value> {
    let grants: Vec<Value> =
        actor.grants.0.iter().map(|g| json!({ "role": g.role.as_str(), "path": g.path.as_str() })).collect();
    Json(json!({ "actor": actor.label, "name": actor.display_name, "grants": grants }))
}

#[derive(serde::Deserialize, Default)]
struct OrgsQuery {
    parent: Option<String>,
}

fn unit_json(u: &oversight_domain::org::OrgUnit) -> Value {
    json!({
        "code": u.code.as_str(),
        "parent_code": u.parent.as_ref().map(|p| p.as_str()),
        "kind": u.kind.as_str(),
        "name": u.name,
        "level": u.level.map(|l| l.as_str()),
        "path": u.path.as_str(),
    })
}

async fn orgs(
    State(app): State<App>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(q): ApiQuery<OrgsQuery>,
) -> Result<Json<Value>, ApiError> {
    let units = network::children(&app, &actor, q.parent.as_deref()).await?;
    Ok(Json(json!({ "units": units.iter().map(unit_json).collect::<Vec<_>>() })))
}

async fn org(
    State(app): State<App>,
    ApiCaller(actor): ApiCaller,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let unit = network::visible_unit(&app, &actor, &code).await?;
    Ok(Json(unit_json(&unit)))
}

#[derive(serde::Deserialize, Default)]
struct ItemsQuery {
    department: Option<String>,
    q: Option<String>,
}

async fn items(
    State(app): State<App>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(q): ApiQuery<ItemsQuery>,
) -> Result<Json<Value>, ApiError> {
    let entries = network::catalogue(&app, &actor, q.department.as_deref(), q.q.as_deref()).await?;
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "code": e.item.code.as_str(),
                "name": e.item.name,
                "department_code": e.item.department_code.as_str(),
                "department_name": e.department_name,
                "legal_days": e.item.legal_days,
                "promised_days": e.item.promised_days,
                "fee_cents": e.item.fee_cents,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(serde::Deserialize)]
struct DeadlineQuery {
    start: String,
    days: String,
}

async fn deadline(
    State(app): State<App>,
    ApiCaller(_): ApiCaller,
    ApiQuery(q): ApiQuery<DeadlineQuery>,
) -> Result<Json<Value>, ApiError> {
    let days: u32 = q
        .days
        .trim()
        .parse()
        .ok()
        .filter(|d| *d <= 1000)
        .ok_or_else(|| AppError::field("days", format!("“{}”不是 0–1000 的整数", q.days)))?;
    let date = calendar::deadline(&app, &q.start, days).await?;
    Ok(Json(json!({ "start": q.start, "days": days, "deadline": date.to_string() })))
}

async fn calendar_year(
    State(app): State<App>,
    ApiCaller(_): ApiCaller,
    Path(year): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let year: i32 = year
        .parse()
        .ok()
        .filter(|y| (1900..=9999).contains(y))
        .ok_or_else(|| AppError::field("year", format!("“{year}”不是年份")))?;
    let stored =
        calendar::stored_year(&app, year).await?.ok_or_else(|| AppError::NotFound(format!("{year} 年的节假日安排")))?;
    let schedule = YearSchedule::parse_one(year, &stored.body).map_err(AppError::from)?;
    Ok(Json(json!({
        "year": year,
        "source": schedule.source,
        "shipped": stored.shipped,
        "entries": schedule.entries,
    })))
}

/// The most an NDJSON event request may carry (it is read a line at a time), and a JSON array
/// (parsed whole).
const EVENTS_LIMIT: usize = 256 << 20;
const EVENTS_ARRAY_LIMIT: usize = 32 << 20;

/// Case events from a department system, ingested as the body arrives.
async fn case_events(State(app): State<App>, ApiCaller(actor): ApiCaller, body: Body) -> Result<Json<Value>, ApiError> {
    let _slot = app.ingestion_slot().await;
    let lines = body_lines::event_lines(body, EVENTS_LIMIT, EVENTS_ARRAY_LIMIT).await?;
    let report = cases::ingest_stream(&app, &actor, cases::Reporting::Live, lines, |_| {}).await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}

/// Key-task events from the office's document system or the government's OA.
async fn task_events(State(app): State<App>, ApiCaller(actor): ApiCaller, body: Body) -> Result<Json<Value>, ApiError> {
    let _slot = app.ingestion_slot().await;
    let mut lines = body_lines::event_lines(body, 64 << 20, EVENTS_ARRAY_LIMIT).await?;
    let mut texts = Vec::new();
    while let Some(line) = lines.next().await {
        let (n, text) = line?;
        if !text.trim().is_empty() {
            texts.push((n, text));
        }
    }
    let report = oversight_app::tasks::ingest(&app, &actor, texts).await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}

/// The period and split of a report: `?from=…&to=…&group_by=…`.
#[derive(serde::Deserialize)]
struct PeriodQuery {
    from: String,
    to: String,
    #[serde(default)]
    group_by: String,
}

#[derive(serde::Deserialize)]
struct Period {
    from: String,
    to: String,
}

/// Runs the evaluation scheme in the body (TOML) over `?from=…&to=…`, for the departments in
/// the caller's scope.
async fn evaluation_run(
    State(app): State<App>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(q): ApiQuery<Period>,
    ApiBody(body): ApiBody,
) -> Result<Json<Value>, ApiError> {
    let text = std::str::from_utf8(&body).map_err(|_| AppError::field("body", "请求体不是 UTF-8 文本"))?;
    let scheme = oversight_app::evaluation::parse_scheme(text)?;
    let from = cases::parse_date(&q.from, "from")?;
    let to = cases::parse_date(&q.to, "to")?;
    let result = oversight_app::evaluation::run(&app, &actor, &scheme, from, to).await?;
    Ok(Json(serde_json::to_value(result).unwrap_or_default()))
}

/// Citizens' ratings of the cases completed in the period, in the caller's scope.
async fn rating_report(
    State(app): State<App>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let report = oversight_app::ratings::rating_report(
        &app,
        &actor,
        cases::parse_date(&q.from, "from")?,
        cases::parse_date(&q.to, "to")?,
        oversight_app::ratings::parse_group_by(&q.group_by)?,
    )
    .await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}

/// Key tasks as of the period's last day, over the tasks whose lead is in the caller's scope.
async fn task_report(
    State(app): State<App>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let report = oversight_app::tasks::task_report(
        &app,
        &actor,
        cases::parse_date(&q.from, "from")?,
        cases::parse_date(&q.to, "to")?,
        oversight_app::tasks::parse_group_by(&q.group_by)?,
    )
    .await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}

#[derive(serde::Deserialize)]
struct CaseReportQuery {
    from: String,
    to: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    group_by: String,
}

async fn case_report(
    State(app): State<App>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(q): ApiQuery<CaseReportQuery>,
) -> Result<Json<Value>, ApiError> {
    let report = cases::case_report(
        &app,
        &actor,
        cases::parse_date(&q.from, "from")?,
        cases::parse_date(&q.to, "to")?,
        &cases::parse_levels(&q.level)?,
        cases::parse_group_by(&q.group_by)?,
    )
    .await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}

/// The live lights of the network in the caller's scope (what the dashboard page shows).
async fn dashboard(State(app): State<App>, ApiCaller(actor): ApiCaller) -> Result<Json<Value>, ApiError> {
    let d = oversight_app::supervision::dashboard(&app, &actor).await?;
    Ok(Json(serde_json::to_value(d).unwrap_or_default()))
}

/// The hotline KPIs of docs/figures.md over the orders in the caller's scope.
async fn ticket_report(
    State(app): State<App>,
    ApiCaller(actor): ApiCaller,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let report = oversight_app::tickets::ticket_report(
        &app,
        &actor,
        cases::parse_date(&q.from, "from")?,
        cases::parse_date(&q.to, "to")?,
        oversight_app::tickets::parse_group_by(&q.group_by)?,
    )
    .await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}

/// A work order from another system (a city app, a partner hotline), as JSON.
#[derive(serde::Deserialize)]
struct OrderBody {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    summary: String,
    /// phone|web|mobile|letter|visit (default mobile).
    #[serde(default)]
    channel: String,
    #[serde(default)]
    caller_name: String,
    #[serde(default)]
    caller_phone: String,
    #[serde(default)]
    anonymous: bool,
    #[serde(default)]
    venue_code: String,
    #[serde(default)]
    department_code: String,
    #[serde(default)]
    address: String,
    lat: Option<f64>,
    lon: Option<f64>,
}

/// `POST /api/v1/orders`: takes an order through the same use case as every other intake;
/// answers 201 with its number, the citizen's query code and the handling deadline.
async fn create_order(
    State(app): State<App>,
    ApiCaller(actor): ApiCaller,
    ApiBody(body): ApiBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b: OrderBody =
        serde_json::from_slice(&body).map_err(|e| AppError::field("body", format!("不是有效的工单 JSON：{e}")))?;
    let channel = match b.channel.trim() {
        "" => Channel::Mobile,
        c => Channel::parse(c)
            .filter(|c| *c != Channel::Open311)
            .ok_or_else(|| AppError::field("channel", format!("“{c}”不是受理渠道")))?,
    };
    let new = NewOrder {
        kind: b.kind,
        summary: b.summary,
        caller_name: b.caller_name,
        caller_phone: b.caller_phone,
        anonymous: b.anonymous,
        venue_code: b.venue_code,
        department_code: b.department_code,
        address: b.address,
        lat: b.lat,
        lon: b.lon,
    };
    let c = hotline::create_order(&app, Intake::System(&actor, channel), &hotline::parse_order(&new)?).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "ticket_no": c.ticket_no, "query_code": c.query_code, "token": c.token, "expected": c.expected })),
    ))
}

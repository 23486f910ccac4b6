//! Open311 GeoReport v2 at `/open311/v2/`, with discovery at `/open311/discovery.{json,xml}`:
//! services are the order types, requests are work orders, and an order filed here enters the
//! same workflow as any other. Both formats are written as the specification writes them:
//! responses are arrays (`<service_requests><request>…` in XML), errors are
//! `[{"code","description"}]` or `<errors><error>…`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use oversight_app::hotline::{self, Intake, NewOrder, PublicOrder, PublicQuery};
use oversight_app::{Actor, App, AppError, accounts};
use oversight_domain::access::KeyPurpose;
use oversight_domain::ticket::TicketType;
use oversight_domain::workorder::OrderStatus;
use serde_json::{Value, json};

use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/open311/{file}", get(discovery))
        .route("/open311/v2/{resource}", get(get_resource).post(post_resource))
        .route("/open311/v2/services/{code}", get(service_definition))
        .route("/open311/v2/requests/{id}", get(request))
        .route("/open311/v2/tokens/{token}", get(token))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// `name.json` or `name.xml` → (name, format).
fn split_format(s: &str) -> Option<(&str, Format)> {
    let (name, ext) = s.rsplit_once('.')?;
    match ext {
        "json" => Some((name, Format::Json)),
        "xml" => Some((name, Format::Xml)),
        _ => None,
    }
}

/// A small XML tree: enough for GeoReport documents.
enum Node {
    Text(&'static str, Option<String>),
    List(&'static str, Vec<Node>),
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn write(node: &Node, out: &mut String) {
    match node {
        Node::Text(name, Some(text)) => out.push_str(&format!("<{name}>{}</{name}>", escape(text))),
        Node::Text(name, None) => out.push_str(&format!("<{name}/>")),
        Node::List(name, children) => {
            out.push_str(&format!("<{name}>"));
            for c in children {
                write(c, out);
            }
            out.push_str(&format!("</{name}>"));
        }
    }
}

/// A JSON object as XML elements, in the order of `keys` (JSON objects keep no order).
fn element(name: &'static str, object: &Value, keys: &[&'static str]) -> Node {
    Node::List(
        name,
        keys.iter()
            .map(|k| {
                let text = match object.get(*k) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                };
                Node::Text(k, text)
            })
            .collect(),
    )
}

fn respond(format: Format, status: StatusCode, json: Value, xml: impl FnOnce() -> Node) -> Response {
    match format {
        Format::Json => {
            (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], json.to_string()).into_response()
        }
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            write(&xml(), &mut out);
            (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
        }
    }
}

/// An error as GeoReport writes it.
fn error(format: Format, status: StatusCode, description: impl Into<String>) -> Response {
    let description = description.into();
    let code = status.as_u16();
    respond(format, status, json!([{ "code": code, "description": description }]), || {
        Node::List(
            "errors",
            vec![Node::List(
                "error",
                vec![Node::Text("code", Some(code.to_string())), Node::Text("description", Some(description))],
            )],
        )
    })
}

fn app_error(format: Format, e: AppError) -> Response {
    match e {
        AppError::Invalid(errors) => error(
            format,
            StatusCode::BAD_REQUEST,
            errors.iter().map(|e| format!("{}: {}", open311_field(&e.field), e.reason)).collect::<Vec<_>>().join("; "),
        ),
        AppError::NotFound(what) => error(format, StatusCode::NOT_FOUND, format!("{what} not found")),
        AppError::Forbidden(m) => error(format, StatusCode::FORBIDDEN, m),
        e if e.is_internal() => {
            crate::error::log_fault(&e);
            error(format, StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
        other => error(format, StatusCode::BAD_REQUEST, other.to_string()),
    }
}

/// Our field names as the Open311 parameters that carry them.
fn open311_field(field: &str) -> &str {
    match field {
        "type" => "service_code",
        "summary" => "description",
        "caller_phone" => "phone",
        "caller_name" => "first_name",
        "address" => "address_string",
        "venue_code" => "attribute[venue_code]",
        "department_code" => "attribute[department_code]",
        other => other,
    }
}

fn group(t: TicketType) -> &'static str {
    match t {
        TicketType::Complaint | TicketType::Report => "投诉举报",
        TicketType::Consultation | TicketType::Suggestion | TicketType::Help => "咨询建议求助",
        TicketType::Praise => "表扬",
    }
}

fn description(t: TicketType) -> &'static str {
    match t {
        TicketType::Complaint => "对政务服务中心、窗口或机关部门服务效能的投诉",
        TicketType::Report => "举报工作人员违反效能规定的行为",
        TicketType::Consultation => "咨询办事程序、材料与时限",
        TicketType::Suggestion => "对改进政务服务的建议",
        TicketType::Help => "办事遇到困难，请求协调帮助",
        TicketType::Praise => "表扬服务好的窗口和工作人员",
    }
}

async fn discovery(State(app): State<App>, headers: HeaderMap, Path(file): Path<String>) -> Response {
    let format = match split_format(&file) {
        Some(("discovery", f)) => f,
        _ => return error(Format::Json, StatusCode::NOT_FOUND, format!("{file} not found")),
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or(&app.config.listen).to_string();
    let url = format!("http://{host}/open311/v2");
    let changeset = "2026-11-28T00:00:00+08:00";
    let body = json!({
        "changeset": changeset,
        "contact": "效能投诉热线 963333",
        "key_service": "API 密钥由系统管理员以 oversight api-key create 签发",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": url,
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"]
        }]
    });
    respond(format, StatusCode::OK, body, || {
        Node::List(
            "discovery",
            vec![
                Node::Text("changeset", Some(changeset.into())),
                Node::Text("contact", Some("效能投诉热线 963333".into())),
                Node::Text("key_service", Some("API 密钥由系统管理员以 oversight api-key create 签发".into())),
                Node::List(
                    "endpoints",
                    vec![Node::List(
                        "endpoint",
                        vec![
                            Node::Text("specification", Some("http://wiki.open311.org/GeoReport_v2".into())),
                            Node::Text("url", Some(url.clone())),
                            Node::Text("changeset", Some(changeset.into())),
                            Node::Text("type", Some("production".into())),
                            Node::List(
                                "formats",
                                vec![
                                    Node::Text("format", Some("text/xml".into())),
                                    Node::Text("format", Some("application/json".into())),
                                ],
                            ),
                        ],
                    )],
                ),
            ],
        )
    })
}

const SERVICE_KEYS: [&str; 7] =
    ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"];

fn service(t: TicketType) -> Value {
    json!({
        "service_code": t.as_str(),
        "service_name": t.label(),
        "description": description(t),
        "metadata": true,
        "type": "realtime",
        "keywords": format!("{},效能,963333", t.label()),
        "group": group(t),
    })
}

async fn get_resource(
    State(app): State<App>,
    Path(resource): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let Some((name, format)) = split_format(&resource) else {
        return error(Format::Json, StatusCode::NOT_FOUND, format!("{resource} not found; use .json or .xml"));
    };
    match name {
        "services" => {
            let list: Vec<Value> = TicketType::ALL.into_iter().map(service).collect();
            let xml = list.iter().map(|s| element("service", s, &SERVICE_KEYS)).collect();
            respond(format, StatusCode::OK, Value::Array(list), || Node::List("services", xml))
        }
        "requests" => list_requests(&app, format, &params).await,
        _ => error(format, StatusCode::NOT_FOUND, format!("{name} not found")),
    }
}

async fn service_definition(Path(code): Path<String>) -> Response {
    let Some((code, format)) = split_format(&code) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "use .json or .xml");
    };
    let Some(t) = TicketType::parse(code) else {
        return error(format, StatusCode::NOT_FOUND, format!("service_code {code} not found"));
    };
    let attributes =
        [("venue_code", 1, "涉及的服务场所编码（窗口服务投诉）"), ("department_code", 2, "涉及的部门编码")];
    let json_attributes: Vec<Value> = attributes
        .iter()
        .map(|(code, order, text)| {
            json!({
                "variable": true, "code": code, "datatype": "string", "required": false,
                "datatype_description": "编码，见服务网络", "order": order, "description": text, "values": []
            })
        })
        .collect();
    let body = json!({ "service_code": t.as_str(), "attributes": json_attributes });
    respond(format, StatusCode::OK, body.clone(), || {
        let keys = ["variable", "code", "datatype", "required", "datatype_description", "order", "description"];
        Node::List(
            "service_definition",
            vec![
                Node::Text("service_code", Some(t.as_str().into())),
                Node::List("attributes", json_attributes.iter().map(|a| element("attribute", a, &keys)).collect()),
            ],
        )
    })
}

fn w3c(app: &App, t: DateTime<Utc>) -> String {
    t.with_timezone(&app.config.tz()).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

const REQUEST_KEYS: [&str; 16] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
];

/// A request as GeoReport writes it. The citizen's words go only to a key holder.
fn request_json(app: &App, p: &PublicOrder, with_description: bool) -> Value {
    let o = &p.order;
    let status = o.status;
    let kind = o.r#type;
    let mut notes = status.label().to_string();
    if let Some(d) = &p.department_name {
        notes.push_str(&format!("；承办单位：{d}"));
    }
    if with_description && let Some(r) = &o.reply {
        notes.push_str(&format!("；答复：{r}"));
    }
    let tz = app.config.tz();
    let expected = p.expected.and_then(|d| {
        tz.from_local_datetime(&d.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time")))
            .earliest()
            .map(|t| w3c(app, t.with_timezone(&Utc)))
    });
    json!({
        "service_request_id": o.ticket_no,
        "status": if status == OrderStatus::Closed { "closed" } else { "open" },
        "status_notes": notes,
        "service_name": kind.label(),
        "service_code": kind.as_str(),
        "description": if with_description { Some(o.summary.clone()) } else { None },
        "agency_responsible": p.department_name,
        "service_notice": Value::Null,
        "requested_datetime": w3c(app, o.received_at),
        "updated_datetime": w3c(app, o.closed_at.or(o.updated_at).unwrap_or(o.received_at)),
        "expected_datetime": expected,
        "address": o.address,
        "address_id": Value::Null,
        "zipcode": Value::Null,
        "lat": o.lat,
        "long": o.lon,
    })
}

fn requests_response(app: &App, format: Format, orders: &[PublicOrder], reader: Option<&Actor>) -> Response {
    let list: Vec<Value> =
        orders.iter().map(|p| request_json(app, p, reader.is_some_and(|a| p.readable_by(a)))).collect();
    let xml = list.iter().map(|r| element("request", r, &REQUEST_KEYS)).collect();
    respond(format, StatusCode::OK, Value::Array(list), || Node::List("service_requests", xml))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// Every value of a parameter that may be repeated or comma-separated.
fn many(params: &[(String, String)], name: &str) -> Vec<String> {
    params
        .iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The holder of the request's `api_key`, if any: it reads the descriptions of the orders in
/// its scope (and only those).
async fn key_holder(app: &App, params: &[(String, String)]) -> Result<Option<Actor>, AppError> {
    let Some(key) = param(params, "api_key") else { return Ok(None) };
    let actor = accounts::api_key_actor(app, key).await?;
    if let Some(actor) = &actor {
        actor.require_purpose(KeyPurpose::Open311)?;
    }
    Ok(actor)
}

async fn list_requests(app: &App, format: Format, params: &[(String, String)]) -> Response {
    let ids = many(params, "service_request_id");
    let mut query = PublicQuery { limit: 1000, ..Default::default() };
    if ids.is_empty() {
        let date = |name: &str| -> Result<Option<DateTime<Utc>>, Response> {
            match param(params, name) {
                None => Ok(None),
                Some(v) => DateTime::parse_from_rfc3339(v).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| {
                    error(
                        format,
                        StatusCode::BAD_REQUEST,
                        format!("{name} must be a w3c datetime, e.g. 2026-11-01T00:00:00+08:00"),
                    )
                }),
            }
        };
        let (start, end) = match (date("start_date"), date("end_date")) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let ninety = chrono::Duration::days(90);
        let (from, to) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, s + ninety),
            (None, Some(e)) => (e - ninety, e),
            (None, None) => {
                let now = app.now();
                (now - ninety, now)
            }
        };
        if to < from {
            return error(format, StatusCode::BAD_REQUEST, "end_date is before start_date");
        }
        if to - from > ninety {
            return error(format, StatusCode::BAD_REQUEST, "start_date and end_date may not span more than 90 days");
        }
        let types = many(params, "service_code");
        if let Some(bad) = types.iter().find(|t| TicketType::parse(t).is_none()) {
            return error(format, StatusCode::BAD_REQUEST, format!("service_code {bad} not found"));
        }
        let statuses = many(params, "status");
        if let Some(bad) = statuses.iter().find(|s| *s != "open" && *s != "closed") {
            return error(format, StatusCode::BAD_REQUEST, format!("status {bad} is not open or closed"));
        }
        query.types = types;
        query.statuses = statuses;
        query.from = Some(from);
        // end_date is included.
        query.to = Some(to + chrono::Duration::seconds(1));
    } else {
        query.ticket_nos = ids;
    }
    let reader = match key_holder(app, params).await {
        Ok(k) => k,
        Err(e) => return app_error(format, e),
    };
    match hotline::public_orders(app, &query).await {
        Ok(orders) => requests_response(app, format, &orders, reader.as_ref()),
        Err(e) => app_error(format, e),
    }
}

async fn request(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let Some((id, format)) = split_format(&id) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "use .json or .xml");
    };
    let query = PublicQuery { ticket_nos: vec![id.to_string()], limit: 1, ..Default::default() };
    let reader = match key_holder(&app, &params).await {
        Ok(k) => k,
        Err(e) => return app_error(format, e),
    };
    match hotline::public_orders(&app, &query).await {
        Ok(orders) if orders.is_empty() => {
            error(format, StatusCode::NOT_FOUND, format!("service_request_id {id} not found"))
        }
        Ok(orders) => requests_response(&app, format, &orders, reader.as_ref()),
        Err(e) => app_error(format, e),
    }
}

async fn token(State(app): State<App>, Path(token): Path<String>) -> Response {
    let Some((token, format)) = split_format(&token) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "use .json or .xml");
    };
    match hotline::order_of_token(&app, token).await {
        Ok(Some(id)) => {
            let body = json!([{ "service_request_id": id, "token": token }]);
            respond(format, StatusCode::OK, body.clone(), || {
                Node::List("service_requests", vec![element("request", &body[0], &["service_request_id", "token"])])
            })
        }
        Ok(None) => error(format, StatusCode::NOT_FOUND, format!("token {token} not found")),
        Err(e) => app_error(format, e),
    }
}

/// `POST requests.{format}`: form-encoded, with an `api_key` from `oversight api-key create`.
async fn post_resource(
    State(app): State<App>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some((name, format)) = split_format(&resource) else {
        return error(Format::Json, StatusCode::NOT_FOUND, format!("{resource} not found; use .json or .xml"));
    };
    if name != "requests" {
        return error(format, StatusCode::NOT_FOUND, format!("{name} does not take POST"));
    }
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let params = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body);
    let (true, Ok(params)) = (form_encoded, params) else {
        return error(format, StatusCode::BAD_REQUEST, "the body must be application/x-www-form-urlencoded");
    };
    let actor = match param(&params, "api_key") {
        None => return error(format, StatusCode::FORBIDDEN, "api_key is required"),
        Some(key) => match accounts::api_key_actor(&app, key).await {
            Ok(Some(actor)) if actor.require_purpose(KeyPurpose::Open311).is_err() => {
                return error(format, StatusCode::FORBIDDEN, "api_key is not for Open311");
            }
            Ok(Some(actor)) => actor,
            Ok(None) => return error(format, StatusCode::FORBIDDEN, "api_key is invalid or revoked"),
            Err(e) => return app_error(format, e),
        },
    };
    let Some(code) = param(&params, "service_code") else {
        return error(format, StatusCode::BAD_REQUEST, "service_code is required");
    };
    if TicketType::parse(code).is_none() {
        return error(format, StatusCode::BAD_REQUEST, format!("service_code {code} not found"));
    }
    let number = |name: &str| -> Result<Option<f64>, Response> {
        match param(&params, name) {
            None => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| error(format, StatusCode::BAD_REQUEST, format!("{name} must be a number"))),
        }
    };
    let (lat, lon) = match (number("lat"), number("long")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let name: String =
        [param(&params, "last_name"), param(&params, "first_name")].into_iter().flatten().collect::<Vec<_>>().join("");
    let new = NewOrder {
        kind: code.to_string(),
        summary: param(&params, "description").unwrap_or("").to_string(),
        caller_name: name,
        caller_phone: param(&params, "phone").unwrap_or("").to_string(),
        anonymous: false,
        venue_code: param(&params, "attribute[venue_code]").unwrap_or("").to_string(),
        department_code: param(&params, "attribute[department_code]").unwrap_or("").to_string(),
        address: param(&params, "address_string").unwrap_or("").to_string(),
        lat,
        lon,
    };
    let created = async { hotline::create_order(&app, Intake::Open311(&actor), &hotline::parse_order(&new)?).await };
    match created.await {
        Ok(c) => {
            let notice = match c.expected {
                Some(d) => format!("已受理，承办部门应在 {d} 前后答复；查询码 {}", c.query_code),
                None => format!("已受理；查询码 {}", c.query_code),
            };
            let body = json!([{
                "service_request_id": c.ticket_no, "token": c.token, "service_notice": notice, "account_id": Value::Null
            }]);
            respond(format, StatusCode::OK, body.clone(), || {
                Node::List(
                    "service_requests",
                    vec![element(
                        "request",
                        &body[0],
                        &["service_request_id", "token", "service_notice", "account_id"],
                    )],
                )
            })
        }
        Err(e) => app_error(format, e),
    }
}

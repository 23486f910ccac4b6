//! HTTP: the JSON API under `/api/v1` and the server-rendered pages, over the app's use cases.
//!
//! [`Application::build`] binds the listener; `serve` runs it with every background job, tests
//! and the benchmark start it on port 0.

mod api;
mod assets;
mod body_lines;
mod chart;
mod client;
mod error;
mod open311;
mod pages;
mod routes;
mod session;
mod startup;
mod view;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use oversight_app::App;
use routes::Routes;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use session::SESSION_COOKIE;
pub use startup::{Application, Running, Shutdown};

/// Every route: one router per feature, merged here like a site map.
fn site() -> Routes {
    Routes::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_here))
        .merge(assets::routes())
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .merge(open311::routes())
}

/// Every route the site serves, as (method, path with `{name}` for a parameter), for the tests
/// that must go through all of them. The paths come from the router as it is built; the methods
/// from the router itself: a method a path does not serve is answered 405 with the ones it
/// does, before any handler or layer runs.
pub async fn routes_served(app: App) -> Vec<(String, String)> {
    use tower::ServiceExt;
    let site = site();
    let paths = site.paths().to_vec();
    let router = site.into_router().with_state(app);
    let mut served = Vec::new();
    for path in paths {
        let uri: String =
            path.split('/').map(|part| if part.starts_with('{') { "x" } else { part }).collect::<Vec<_>>().join("/");
        let request = axum::http::Request::builder()
            .method(axum::http::Method::TRACE)
            .uri(uri)
            .body(axum::body::Body::empty())
            .expect("a request to a path of the site");
        let answer = router.clone().oneshot(request).await.expect("the router answers");
        let allow = answer.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or_default();
        for method in allow.split(',').map(str::trim).filter(|m| !m.is_empty() && *m != "HEAD") {
            served.push((method.to_string(), path.clone()));
        }
    }
    served
}

/// The whole site, with its layers.
pub fn router(app: App) -> Router {
    let security_headers = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    ];
    let mut router = site()
        .into_router()
        .layer(axum::middleware::from_fn_with_state(app.clone(), session::session_layer))
        .layer(axum::Extension(pages::public::PublicLimits::new(app.config.public_orders_per_hour)));
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    router
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(60)))
        .layer(axum::middleware::from_fn_with_state(app.clone(), log_request))
        .with_state(app)
}

/// One log line per request, at its end: method, the route it matched (never the raw URI, whose
/// query may carry what a person typed), status and latency. The request's span holds the use
/// cases' own lines, so each says which request it belongs to.
async fn log_request(
    axum::extract::State(app): axum::extract::State<App>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "(no route)".to_string(), |p| p.as_str().to_string());
    let span = tracing::info_span!("request", %method, route = %route);
    let response = next.run(request).instrument(span).await;
    let took = started.elapsed();
    app.metrics.request(method.as_str(), &route, response.status().as_u16(), took);
    let latency_ms = (took.as_secs_f64() * 10_000.0).round() / 10.0;
    tracing::info!(target: "oversight_web::request", %method, %route, status = response.status().as_u16(), latency_ms, "request");
    response
}

/// `GET /metrics` beside the site, unless `metrics_listen` moves it to an address of its own.
async fn metrics_here(axum::extract::State(app): axum::extract::State<App>) -> axum::response::Response {
    if app.config.metrics_listen.is_some() {
        return axum::response::IntoResponse::into_response(axum::http::StatusCode::NOT_FOUND);
    }
    metrics(app).await
}

/// The metrics in Prometheus' text format.
async fn metrics(app: App) -> axum::response::Response {
    use axum::response::IntoResponse;
    match oversight_app::metrics::render(&app).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        Err(e) => error::ApiError::from(e).into_response(),
    }
}

/// The router of `metrics_listen`: `/metrics` alone.
fn metrics_router(app: App) -> Router {
    Router::new()
        .route("/metrics", get(|axum::extract::State(app): axum::extract::State<App>| metrics(app)))
        .with_state(app)
}

async fn healthz(axum::extract::State(app): axum::extract::State<App>) -> (axum::http::StatusCode, &'static str) {
    match app.db.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok"),
        Err(_) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// A bound server, ready to run (without the jobs: [`Application`] runs both).
struct Server {
    listener: TcpListener,
    router: Router,
}

impl Server {
    async fn build(app: App, listen: &str) -> std::io::Result<Server> {
        client::trusted_proxies(&app.config.trusted_proxies)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(listen).await?;
        Ok(Server { listener, router: router(app) })
    }

    fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes.
    async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

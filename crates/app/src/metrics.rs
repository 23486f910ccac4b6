//! What the running server counts for its operators, in Prometheus' text format (`GET /metrics`):
//! requests by route and status with their latencies, events ingested, orders created, monitor
//! passes and their length; read from the database when scraped: the outbox's backlog, open
//! alerts, the connection pools' use. Every name starts with `oversight_`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::{App, AppError};

/// The upper bounds (seconds) of the request latency histogram.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Latencies {
    /// Requests at or under each bound of [`BUCKETS`].
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The server's counters, shared by every request and job.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Latencies>>,
    case_events: AtomicU64,
    task_events: AtomicU64,
    orders: AtomicU64,
    monitor_passes: AtomicU64,
    /// Microseconds spent in monitor passes.
    monitor_micros: AtomicU64,
}

impl Metrics {
    /// A request answered: its method, the route it matched, its status and how long it took.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        // A method is a label: anything but the standard ones counts as `other`, so that a
        // client inventing methods cannot grow the table.
        const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
        let method = if KNOWN.contains(&method) { method } else { "other" };
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let l = requests.entry((route.to_string(), method.to_string(), status)).or_default();
        let secs = took.as_secs_f64();
        for (n, bound) in l.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *n += 1;
            }
        }
        l.count += 1;
        l.sum += secs;
    }

    pub fn case_events(&self, n: usize) {
        self.case_events.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn task_events(&self, n: usize) {
        self.task_events.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn orders(&self, n: usize) {
        self.orders.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn monitor_pass(&self, took: Duration) {
        self.monitor_passes.fetch_add(1, Ordering::Relaxed);
        self.monitor_micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }
}

/// A label value as the text format writes it.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The metrics in Prometheus' text exposition format.
pub async fn render(app: &App) -> Result<String, AppError> {
    // (Infallible today; kept a Result for what a scrape may read next.)
    let m = &app.metrics;
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        name.to_string()
    };
    let requests_name = family(
        "oversight_http_requests",
        "histogram",
        "HTTP requests by route, method and status, and their latency in seconds.",
    );
    let mut body = String::new();
    {
        let requests = m.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((route, method, status), l) in requests.iter() {
            let labels = format!("route=\"{}\",method=\"{}\",status=\"{status}\"", label(route), label(method));
            for (bound, n) in BUCKETS.iter().zip(l.buckets) {
                let _ = writeln!(body, "{requests_name}_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(body, "{requests_name}_bucket{{{labels},le=\"+Inf\"}} {}", l.count);
            let _ = writeln!(body, "{requests_name}_sum{{{labels}}} {}", l.sum);
            let _ = writeln!(body, "{requests_name}_count{{{labels}}} {}", l.count);
        }
    }
    out.push_str(&body);
    let counter = |out: &mut String, name: &str, help: &str, lines: &[(&str, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (labels, v) in lines {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    counter(
        &mut out,
        "oversight_events_ingested_total",
        "Events accepted (new, not duplicates) since the server started, by kind.",
        &[
            ("{kind=\"case\"}", m.case_events.load(Ordering::Relaxed)),
            ("{kind=\"task\"}", m.task_events.load(Ordering::Relaxed)),
        ],
    );
    counter(
        &mut out,
        "oversight_orders_created_total",
        "Hotline work orders taken since the server started.",
        &[("", m.orders.load(Ordering::Relaxed))],
    );
    counter(
        &mut out,
        "oversight_monitor_passes_total",
        "Passes of the monitor since the server started.",
        &[("", m.monitor_passes.load(Ordering::Relaxed))],
    );
    let _ = writeln!(
        out,
        "# HELP oversight_monitor_pass_seconds_total Time spent in monitor passes.\n# TYPE oversight_monitor_pass_seconds_total counter\noversight_monitor_pass_seconds_total {}",
        m.monitor_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    // What the database holds: left out (and `oversight_db_up` 0) when it cannot be read, so
    // that the counters above still reach the scraper.
    let read = oversight_store::metrics_gauges(&app.db).await;
    let gauge = |out: &mut String, name: &str, help: &str, lines: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, v) in lines {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    gauge(
        &mut out,
        "oversight_db_up",
        "Whether the database answered this scrape.",
        &[(String::new(), f64::from(u8::from(read.is_ok())))],
    );
    match read {
        Ok((backlog, open_alerts)) => {
            gauge(
                &mut out,
                "oversight_outbox_backlog",
                "Messages waiting to be sent.",
                &[(String::new(), backlog as f64)],
            );
            gauge(
                &mut out,
                "oversight_open_alerts",
                "Alerts nobody has acted on yet.",
                &[(String::new(), open_alerts as f64)],
            );
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the database did not answer"),
    }
    let pools: Vec<(String, f64)> = app
        .db
        .pool_use()
        .into_iter()
        .flat_map(|(pool, size, idle)| {
            [
                (format!("{{pool=\"{pool}\",state=\"busy\"}}"), (size - idle) as f64),
                (format!("{{pool=\"{pool}\",state=\"idle\"}}"), idle as f64),
            ]
        })
        .collect();
    gauge(&mut out, "oversight_db_connections", "Database connections open, busy or idle, by pool.", &pools);
    Ok(out)
}

//! `oversight bench --soak-minutes N`: the server process under a steady mixed load for N
//! minutes — case events, orders through the JSON API and Open311, staff reading pages — with
//! its memory and every client's errors printed each minute. Nothing is asserted: the figures
//! say whether memory stays flat and nothing fails (docs/performance.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use oversight_app::{Actor, App, Config, accounts, demo};
use oversight_domain::access::KeyPurposes;
use serde_json::json;

/// What one kind of client did so far.
#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    failed: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Counts {
    async fn record(&self, what: &str, answer: reqwest::Result<reqwest::Response>) {
        match answer {
            Ok(res) if res.status().is_success() || res.status().is_redirection() => {
                // Read to the end: a client that stops reading is not what users do.
                let _ = res.bytes().await;
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(res) => self.fail(format!("{what}: {} {}", res.status(), res.text().await.unwrap_or_default())),
            Err(e) => self.fail(format!("{what}: {e}")),
        }
    }

    fn fail(&self, error: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(error);
    }
}

/// The server's resident memory, in MB.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| crate::bench::status_mb(&s, "VmRSS:"))
        .unwrap_or(f64::NAN)
}

pub async fn run(url: String, minutes: u64) -> Result<()> {
    let app = App::open(Config { database_url: Some(url.clone()), ..Config::default() }).await?;
    let accounts = demo::load(&app).await.context("loading the demo network")?;
    let (_, secret) = accounts::create_api_key(&app, &Actor::cli(), "浸泡测试", None, &KeyPurposes::all()).await?;
    let staff = accounts.iter().find(|a| a.username == "xiaoneng").context("the demo's office account")?;
    drop(app);

    let server = crate::bench::ServerProcess::start(&url, true).await?;
    soak(&server.base, server.pid, &secret, &staff.password, minutes).await
}

async fn soak(base: &str, pid: u32, secret: &str, password: &str, minutes: u64) -> Result<()> {
    let client = reqwest::Client::new();
    println!("soak: {minutes} min of case events, API orders, Open311 requests and page views on {base}");
    let stop = Arc::new(AtomicBool::new(false));
    let kinds = ["case events", "API orders", "Open311", "pages"];
    let counts: Arc<[Counts; 4]> = Arc::new(Default::default());
    let mut workers = Vec::new();

    // Case events: 500 a request, five per case (received, accepted, a step, completed, rated).
    {
        let (client, base, secret, stop, counts) =
            (client.clone(), base.to_string(), secret.to_string(), stop.clone(), counts.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut body = String::new();
                for _ in 0..100 {
                    n += 1;
                    let case = format!("SOAK-{n}");
                    for (i, (kind, day, extra)) in [
                        ("received", 1, json!({"item_code": "SX001", "venue_code": "460100-V", "applicant": {"kind": "person", "name": "测试"}})),
                        ("accepted", 1, json!({})),
                        ("step", 2, json!({"name": "审核"})),
                        ("completed", 3, json!({"result": "approved"})),
                        ("rated", 3, json!({"level": 5, "channel": "device"})),
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        let mut event = json!({"event_id": format!("{case}-{i}"), "case_no": case, "type": kind,
                            "at": format!("2026-11-{day:02}T{:02}:00:00+08:00", 9 + i)});
                        if let (Some(e), Some(x)) = (event.as_object_mut(), extra.as_object()) {
                            e.extend(x.clone());
                        }
                        body.push_str(&event.to_string());
                        body.push('\n');
                    }
                }
                let answer = client.post(format!("{base}/api/v1/case-events")).bearer_auth(&secret).body(body).send().await;
                counts[0].record("case events", answer).await;
            }
        }));
    }
    // Orders through the JSON API and through Open311.
    for (k, open311) in [(1, false), (2, true)] {
        let (client, base, secret, stop, counts) =
            (client.clone(), base.to_string(), secret.to_string(), stop.clone(), counts.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let summary = format!("窗口办事拖沓，第 {n} 次反映");
                let answer = if open311 {
                    let form = [
                        ("api_key", secret.as_str()),
                        ("service_code", "complaint"),
                        ("description", summary.as_str()),
                    ];
                    client.post(format!("{base}/open311/v2/requests.json")).form(&form).send().await
                } else {
                    let order = json!({"type": "complaint", "summary": summary, "anonymous": true});
                    client.post(format!("{base}/api/v1/orders")).bearer_auth(&secret).json(&order).send().await
                };
                counts[k].record(if open311 { "Open311" } else { "API order" }, answer).await;
            }
        }));
    }
    // The office reading its pages.
    {
        let (base, password, stop, counts) = (base.to_string(), password.to_string(), stop.clone(), counts.clone());
        workers.push(tokio::spawn(async move {
            let Ok(browser) =
                reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build()
            else {
                counts[3].fail("no HTTP client".into());
                return;
            };
            let form = match browser.get(format!("{base}/login")).send().await {
                Ok(res) => res.text().await.unwrap_or_default(),
                Err(e) => return counts[3].fail(format!("login page: {e}")),
            };
            let csrf =
                form.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
            let login = [("csrf", csrf), ("username", "xiaoneng"), ("password", password.as_str()), ("next", "/")];
            counts[3].record("login", browser.post(format!("{base}/login")).form(&login).send().await).await;
            let pages =
                ["/", "/dashboard", "/cases", "/supervision", "/hotline", "/hotline/list", "/reports", "/tasks"];
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let page = pages[i % pages.len()];
                i += 1;
                counts[3].record(page, browser.get(format!("{base}{page}")).send().await).await;
            }
        }));
    }

    let started = Instant::now();
    let first_rss = rss_mb(pid);
    println!("minute  case events  API orders  Open311  pages  errors  server RSS (MB)");
    println!("     0            0           0        0      0       0  {first_rss:.0}");
    let mut peak = first_rss;
    for minute in 1..=minutes {
        tokio::time::sleep_until((started + Duration::from_secs(60 * minute)).into()).await;
        let ok: Vec<u64> = counts.iter().map(|c| c.ok.load(Ordering::Relaxed)).collect();
        let failed: u64 = counts.iter().map(|c| c.failed.load(Ordering::Relaxed)).sum();
        let rss = rss_mb(pid);
        peak = peak.max(rss);
        println!("{minute:>6}  {:>11}  {:>10}  {:>7}  {:>5}  {failed:>6}  {rss:.0}", ok[0], ok[1], ok[2], ok[3]);
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }
    let secs = started.elapsed().as_secs_f64();
    for (kind, c) in kinds.iter().zip(counts.iter()) {
        let ok = c.ok.load(Ordering::Relaxed);
        let failed = c.failed.load(Ordering::Relaxed);
        let first = c.first_error.lock().unwrap_or_else(|e| e.into_inner()).clone();
        println!(
            "{kind}: {ok} answered ({:.0}/s), {failed} failed{}",
            ok as f64 / secs,
            first.map(|e| format!("; first: {}", e.chars().take(200).collect::<String>())).unwrap_or_default()
        );
    }
    println!("server RSS: {first_rss:.0} MB at the start, {:.0} MB at the end, {peak:.0} MB at most", rss_mb(pid));
    Ok(())
}

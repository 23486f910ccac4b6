//! The command line of spec/exchange.md §5, run as a real process on both backends.

use std::process::{Command, Output};

fn oversight(db: &str, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--db", db]);
    Command::new(env!("CARGO_BIN_EXE_oversight"))
        .args(&all)
        .env("OVERSIGHT_LOG", "error")
        .output()
        .expect("run oversight")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn demo_file(name: &str) -> String {
    format!("{}/../../data/demo/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn run_cli_journey(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    let o = oversight(db, &["migrate"]);
    assert!(o.status.success(), "{o:?}");

    // Deadlines per spec/metrics.md, from the stored calendar.
    let o = oversight(db, &["calendar", "deadline", "--start", "2011-04-01T09:15:00+08:00", "--days", "2"]);
    assert_eq!(stdout(&o).trim(), "2011-04-06", "{o:?}");
    // With the default log settings a command prints its answer and nothing else.
    let quiet = Command::new(env!("CARGO_BIN_EXE_oversight"))
        .args(["calendar", "deadline", "--start", "2011-04-01T09:15:00+08:00", "--days", "2", "--db", db])
        .env_remove("OVERSIGHT_LOG")
        .output()
        .unwrap();
    assert_eq!((stdout(&quiet).as_str(), String::from_utf8_lossy(&quiet.stderr).as_ref()), ("2011-04-06\n", ""));
    let o = oversight(db, &["calendar", "deadline", "--start", "2011-09-30T17:00:00+08:00", "--days", "1"]);
    assert_eq!(stdout(&o).trim(), "2011-10-08");
    let o = oversight(db, &["calendar", "deadline", "--start", "2099-01-05T09:00:00+08:00", "--days", "1"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("2099"));
    let o = oversight(db, &["calendar", "deadline", "--start", "2011-04-01", "--days", "1"]);
    assert!(!o.status.success(), "a start without time and offset is refused");

    // Imports: accepted, duplicate, rejected.
    let o = oversight(db, &["import", "orgs", &demo_file("haikou-orgs.csv")]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).starts_with("accepted: 955\nduplicate: 0\nrejected: 0\n"), "{}", stdout(&o));
    let o = oversight(db, &["import", "orgs", &demo_file("haikou-orgs.csv")]);
    assert!(stdout(&o).starts_with("accepted: 0\nduplicate: 955\nrejected: 0\n"), "{}", stdout(&o));
    let o = oversight(db, &["import", "items", &demo_file("haikou-items-gb18030.csv"), "--encoding", "gb18030"]);
    assert!(stdout(&o).starts_with("accepted: 10\n"), "{}", stdout(&o));
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "code,name,department_code,legal_days,promised_days,fee_cents\nZ1,甲,460100-D01,10,15,0\nZ2,乙,460100-D01,10,5,-1\n").unwrap();
    let o = oversight(db, &["import", "items", bad.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "a read file with rejected rows is answered, not failed");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["accepted"], 0);
    assert_eq!(report["rejected"][0]["line"], 2);
    assert_eq!(report["rejected"][0]["field"], "promised_days");
    assert_eq!(report["rejected"][1]["field"], "fee_cents");
    let o = oversight(db, &["import", "orgs", "/nonexistent/orgs.csv"]);
    assert!(!o.status.success(), "an unreadable file fails");
    let o = oversight(db, &["import", "orgs", &demo_file("haikou-items.csv")]);
    assert_eq!(o.status.code(), Some(2), "a file without the columns cannot be read at all");

    // Case events and the overdue-rate report.
    let events = dir.path().join("events.ndjson");
    let lines = [
        r#"{"event_id":"e1","case_no":"HK-1","type":"received","at":"2011-03-31T10:00:00+08:00","item_code":"SX002","venue_code":"460100-V","applicant":{"kind":"person","name":"王"}}"#,
        r#"{"event_id":"e2","case_no":"HK-1","type":"accepted","at":"2011-04-01T10:00:00+08:00","promised_days":2}"#,
        r#"{"event_id":"e3","case_no":"HK-1","type":"completed","at":"2011-04-06T16:00:00+08:00","result":"approved"}"#,
        r#"{"event_id":"e4","case_no":"HK-2","type":"received","at":"2011-03-31T10:00:00+08:00","item_code":"SX002","venue_code":"460105-V","applicant":{"kind":"person","name":"李"}}"#,
        r#"{"event_id":"e5","case_no":"HK-2","type":"accepted","at":"2011-04-01T10:00:00+08:00","promised_days":2}"#,
        r#"{"event_id":"e6","case_no":"HK-2","type":"completed","at":"2011-04-07T09:00:00+08:00","result":"approved"}"#,
        r#"{"event_id":"e6","case_no":"HK-2","type":"completed","at":"2011-04-07T09:00:00+08:00","result":"approved"}"#,
        r#"{"event_id":"e7","case_no":"HK-3","type":"accepted","at":"2011-04-01T10:00:00"}"#,
    ];
    std::fs::write(&events, lines.join("\n")).unwrap();
    let o = oversight(db, &["import", "case-events", events.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).starts_with("accepted: 6\nduplicate: 1\nrejected: 1\n"), "{}", stdout(&o));
    assert!(stdout(&o).contains("第 8 行，字段 at"));
    // The file is streamed: Windows line ends and blank lines keep the line numbers; a line
    // that is not UTF-8 refuses the whole file, naming it, before anything is stored.
    let crlf = dir.path().join("crlf.ndjson");
    let mut text = format!("{}\r\n\r\n{}\r\n", lines[0].replace("e1", "c1"), lines[7].replace("e7", "c7"));
    std::fs::write(&crlf, &text).unwrap();
    let o = oversight(db, &["import", "case-events", crlf.to_str().unwrap()]);
    assert!(stdout(&o).starts_with("accepted: 1\nduplicate: 0\nrejected: 1\n"), "{o:?}");
    assert!(stdout(&o).contains("第 3 行，字段 at"), "{}", stdout(&o));
    text.push_str("{\"event_id\":\"X\"}\n");
    let mut bytes = text.replace("c1", "b1").into_bytes();
    let bad_at = bytes.iter().rposition(|b| *b == b'X').unwrap();
    bytes[bad_at] = 0xff;
    std::fs::write(&crlf, &bytes).unwrap();
    let o = oversight(db, &["import", "case-events", crlf.to_str().unwrap()]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("line 4 is not UTF-8"), "{o:?}");
    // History: a file of 2010 marked historical is taken like any other.
    let past = dir.path().join("past.ndjson");
    std::fs::write(
        &past,
        lines[..3].join("\n").replace("_id\":\"e", "_id\":\"p").replace("HK-1", "HK-9").replace("2011-", "2010-"),
    )
    .unwrap();
    let o = oversight(db, &["import", "case-events", past.to_str().unwrap(), "--historical"]);
    assert!(stdout(&o).starts_with("accepted: 3\nduplicate: 0\nrejected: 0\n"), "{o:?}");
    let o = oversight(
        db,
        &["report", "cases", "--from", "2011-04-01", "--to", "2011-04-30", "--group-by", "level", "--format", "json"],
    );
    assert!(o.status.success(), "{o:?}");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report,
        serde_json::json!({
            "from": "2011-04-01", "to": "2011-04-30",
            "total": {"settled": 2, "on_time": 1, "overdue": 1, "overdue_rate": 0.5},
            "groups": [
                {"key": "city", "name": "市级", "settled": 1, "on_time": 1, "overdue": 0, "overdue_rate": 0.0},
                {"key": "district", "name": "区级", "settled": 1, "on_time": 0, "overdue": 1, "overdue_rate": 1.0}
            ]
        })
    );
    let o = oversight(
        db,
        &["report", "cases", "--from", "2011-04-01", "--to", "2011-04-30", "--level", "city", "--format", "json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["total"]["settled"], 1);
    assert_eq!(report["groups"], serde_json::json!([]));
    let o = oversight(db, &["report", "cases", "--from", "2012-01-01", "--to", "2012-12-31", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["total"]["overdue_rate"], serde_json::Value::Null);
    let o = oversight(
        db,
        &["report", "cases", "--from", "2011-04-01", "--to", "2011-04-30", "--group-by", "colour", "--format", "json"],
    );
    assert!(!o.status.success());

    // Accounts and keys.
    let o = oversight(
        db,
        &["user", "create", "--username", "zhang", "--name", "张督查", "--role", "supervisor", "--org", "460105"],
    );
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("初始密码"));
    let o =
        oversight(db, &["user", "create", "--username", "li", "--name", "李", "--role", "emperor", "--org", "460105"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("role"));
    let o = oversight(db, &["api-key", "create", "--name", "秀英区审批系统", "--scope", "460105"]);
    assert!(o.status.success());
    assert!(stdout(&o).lines().any(|l| l.starts_with("ovk_")));

    // Legacy work orders and their KPIs.
    let tickets = dir.path().join("tickets.ndjson");
    std::fs::write(
        &tickets,
        [
            r#"{"ticket_no":"2008-1","channel":"phone","type":"complaint","received_at":"2008-05-04T10:00:00+08:00","subject_venue_code":"460100-V","summary":"排队太久","closed_at":"2008-05-06T10:00:00+08:00","satisfaction":"satisfied"}"#,
            r#"{"ticket_no":"2008-2","channel":"web","type":"consultation","received_at":"2008-05-05T10:00:00+08:00","summary":"如何办理"}"#,
            r#"{"ticket_no":"2008-3","channel":"fax","type":"complaint","received_at":"2008-05-05T10:00:00+08:00","summary":"x"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let o = oversight(db, &["import", "tickets", tickets.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("accepted: 2") && out.contains("rejected: 1") && out.contains("channel"), "{out}");
    let o = oversight(db, &["report", "tickets", "--from", "2008-05-01", "--to", "2008-05-31", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {o:?}"));
    assert_eq!(report["received"], 2);
    assert_eq!(report["closed"], 1);
    assert_eq!(report["by_type"]["consultation"], 1);
    assert_eq!(report["by_type"]["praise"], 0);
    assert_eq!(report["venue_complaints"], 1);
    assert_eq!(report["satisfaction_rate"], 1.0);

    // The audit chain holds.
    let o = oversight(db, &["audit", "verify"]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("哈希链无断裂"));

    // A backup restores to the same figures (SQLite: a consistent copy taken while the database
    // is open; PostgreSQL: its own pg_dump, said so).
    let copy = dir.path().join("copy.db");
    let o = oversight(db, &["backup", "--to", copy.to_str().unwrap()]);
    if db.starts_with("sqlite") {
        assert!(o.status.success(), "{o:?}");
        let restored = format!("sqlite://{}", copy.display());
        let report = |db: &str| {
            let args = ["report", "tickets", "--from", "2008-05-01", "--to", "2008-05-31", "--format", "json"];
            stdout(&oversight(db, &args))
        };
        assert_eq!(report(&restored), report(db), "the copy gives the same figures");
        let o = oversight(&restored, &["audit", "verify"]);
        assert!(stdout(&o).contains("哈希链无断裂"), "the copy's audit chain holds: {o:?}");
        let o = oversight(db, &["backup", "--to", copy.to_str().unwrap()]);
        assert!(!o.status.success(), "a backup never overwrites a file");
    } else {
        assert_eq!(o.status.code(), Some(2));
        assert!(stdout(&o).contains("pg_dump"), "{o:?}");
    }
}

#[test]
fn cli_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    run_cli_journey(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_on_postgres() {
    let Some((url, admin, name)) = oversight_testkit::fresh_postgres_url().await else {
        eprintln!("{} not set: PostgreSQL variant skipped", oversight_testkit::PG_ENV);
        return;
    };
    let result = std::panic::catch_unwind(|| run_cli_journey(&url));
    oversight_testkit::drop_postgres(admin, name);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// A server process of our own, stopped when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The most memory the process has held (VmHWM, in KiB).
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Hardening: 32 MiB of empty lines sent as case events used to take the server to 1.3 GB (a
/// string and a slice per line of a body buffered whole). Now the body is read a line at a time:
/// the real server process answers with the one bad event's line number and stays small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_empty_lines_costs_the_server_no_memory() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("o.db").display());
    let o = oversight(&db, &["import", "orgs", &demo_file("haikou-orgs.csv")]);
    assert!(o.status.success(), "{o:?}");
    let o = oversight(&db, &["api-key", "create", "--name", "某部门系统"]);
    let key = stdout(&o).lines().nth(1).unwrap().trim().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_oversight"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--db", &db])
            .env("OVERSIGHT_LOG", "error")
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let before = peak_kib(server.0.id());
    let mut body = vec![b'\n'; 32 << 20];
    body.extend_from_slice(br#"{"event_id":"e1","case_no":"C1","type":"accepted","at":"2011-03-01T09:00:00"}"#);
    let res = client
        .post(format!("{base}/api/v1/case-events"))
        .header("authorization", format!("Bearer {key}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report: serde_json::Value = res.json().await.unwrap();
    assert_eq!(report["rejected"][0]["line"], (32 << 20) + 1, "{report}");
    assert_eq!(report["rejected"][0]["field"], "at");
    let grown = peak_kib(server.0.id()).saturating_sub(before);
    assert!(grown < 128 << 10, "the server's peak grew by {} MiB for a body of empty lines", grown >> 10);
}

/// `serve --log-format json`: one JSON line per request, with its method, the route it matched,
/// its status and latency, and nothing of what the URL's query carried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_logs_one_json_line_per_request_and_no_query() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("o.db").display());
    assert!(oversight(&db, &["migrate"]).status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = dir.path().join("server.log");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_oversight"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--db", &db, "--log-format", "json"])
            .env_remove("OVERSIGHT_LOG")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let res = client.get(format!("{base}/login?next=/hotline/13812345678")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(client.get(format!("{base}/no/such/page")).send().await.unwrap().status(), 404);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let requests: Vec<&serde_json::Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    let login = requests.iter().find(|l| l["route"] == "/login").unwrap_or_else(|| panic!("no /login line: {text}"));
    assert_eq!((login["method"].as_str(), login["status"].as_u64()), (Some("GET"), Some(200)), "{login}");
    assert!(login["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{login}");
    assert!(requests.iter().any(|l| l["status"] == 404), "a request no route took is logged too: {text}");
    assert!(!text.contains("13812345678"), "the query stays out of the log: {text}");
}

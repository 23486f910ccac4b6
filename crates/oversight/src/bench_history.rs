//! `oversight bench`, historical imports (issue 16 §2): a year's archive of case events loaded
//! as a city would load it, by the real command (`oversight import case-events FILE
//! --historical`) run as a new process into a fresh SQLite database, process start included,
//! its peak memory read while it runs; beside it, in the same run, the floor the target is set
//! against: a plain script that only stores the same rows in SQLite (Python's `sqlite3`, one
//! transaction, the event id as primary key and an index by case).

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use oversight_app::{App, Config, demo};
use oversight_domain::org::OrgKind;

use crate::bench::{rate, status_mb};

/// The plain script: every line's event id, case, type and time as columns, the line itself
/// beside them.
const PLAIN_STORE: &str = r#"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE event (event_id TEXT PRIMARY KEY, case_no TEXT NOT NULL, type TEXT NOT NULL, at TEXT NOT NULL, body TEXT NOT NULL)")
db.execute("CREATE INDEX event_case ON event (case_no)")
def rows():
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            if line.strip():
                e = json.loads(line)
                yield (e["event_id"], e["case_no"], e["type"], e["at"], line)
with db:
    db.executemany("INSERT INTO event VALUES (?, ?, ?, ?, ?)", rows())
db.close()
"#;

pub async fn run(venues: &[(String, OrgKind, Option<String>)], items: &[(String, u32)], cases: u64) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("archive.ndjson");
    let mut events = 0u64;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file)?);
        // Generated a slice at a time: the bench holds no more of the file than the importer.
        let mut from = 0;
        while from < cases {
            let n = (cases - from).min(50_000);
            for l in crate::bench::generate(venues, items, 20_000_000 + from, n) {
                writeln!(f, "{l}")?;
                events += 1;
            }
            from += n;
        }
        f.flush()?;
    }
    let size_mb = std::fs::metadata(&file)?.len() as f64 / 1e6;

    // A fresh database with the network, as a city has before it loads its archive.
    let db = dir.path().join("archive.db");
    let url = format!("sqlite://{}", db.display());
    {
        let fresh = App::open(Config { database_url: Some(url.clone()), ..Default::default() }).await?;
        demo::load(&fresh).await?;
        fresh.db.close().await;
    }
    let exe = std::env::current_exe()?;
    let report = dir.path().join("report.json");
    let t = Instant::now();
    let mut child = Command::new(&exe)
        .args(["import", "case-events"])
        .arg(&file)
        .args(["--historical", "--format", "json", "--db", &url])
        .stdout(std::fs::File::create(&report)?)
        .stderr(Stdio::null())
        .spawn()
        .context("starting oversight import")?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0.0f64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            peak = peak.max(status_mb(&text, "VmHWM:"));
        }
        if let Some(s) = child.try_wait()? {
            break s;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let secs = t.elapsed().as_secs_f64();
    if !status.success() {
        bail!("oversight import case-events --historical ended with {status}");
    }
    let answer: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report)?)?;
    println!(
        "historical import: {events} events of {cases} cases ({size_mb:.0} MB) by `oversight import case-events --historical`, process start included, in {secs:.2} s = {} events/s, peak {peak:.0} MB (accepted {}, rejected {})",
        rate(events, secs),
        answer["accepted"],
        answer["rejected"].as_array().map_or(0, Vec::len)
    );

    let plain = dir.path().join("plain.db");
    let t = Instant::now();
    match Command::new("python3").args(["-c", PLAIN_STORE]).arg(&file).arg(&plain).status() {
        Ok(s) if s.success() => {
            let floor = t.elapsed().as_secs_f64();
            println!(
                "historical floor: a plain Python script storing the same rows in SQLite in {floor:.2} s = {} rows/s; the import is {:.2}× that",
                rate(events, floor),
                floor / secs
            );
        }
        Ok(s) => println!("historical floor: not measured (the plain script ended with {s})"),
        Err(e) => println!("historical floor: not measured (python3: {e})"),
    }
    Ok(())
}

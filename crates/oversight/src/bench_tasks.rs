//! `oversight bench`, key tasks (issue 12): a year of generated task histories imported with
//! the real command (`oversight import task-events FILE`, process start included), the tasks
//! report as of past days over them, and the monitor's pass on a day when some lights change.

use std::io::Write as _;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate, TimeZone, Utc};
use oversight_app::tasks::{self, TaskGroupBy};
use oversight_app::{Actor, App, ManualClock, supervision};
use serde_json::json;

use crate::bench::{Lcg, own_mb, rate};

const ORIGINS: [&str; 5] = ["annual_plan", "meeting_decision", "leader_instruction", "major_project", "proposal"];

/// Writes `tasks` task histories of about ten events each, assigned through 2011 to the
/// departments given; returns how many events.
fn generate(file: &std::path::Path, departments: &[String], tasks: u64) -> Result<u64> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(file)?);
    let mut r = Lcg(20_110_101);
    let mut n = 0;
    let day0 = NaiveDate::from_ymd_opt(2011, 1, 3).context("a date")?;
    for t in 0..tasks {
        let no = format!("RW-B{t:07}");
        let lead = &departments[r.next(departments.len() as u64) as usize];
        let assigned = day0 + Days::new(r.next(330));
        let due = assigned + Days::new(30 + r.next(90));
        let m1 = assigned + Days::new(10 + r.next(15));
        let m2 = assigned + Days::new(20 + r.next(10));
        let at = |d: NaiveDate, h: u32| format!("{d}T{h:02}:00:00+08:00");
        let mut lines = vec![
            json!({"event_id": format!("{no}-a"), "task_no": no, "type": "assigned", "at": at(assigned, 9),
            "title": format!("压测任务 {t}"), "origin": ORIGINS[(t % 5) as usize], "lead_department_code": lead,
            "co_department_codes": [], "due": due.to_string(),
            "milestones": [{"code": "M1", "name": "方案", "due": m1.to_string()}, {"code": "M2", "name": "实施", "due": m2.to_string()}]}),
        ];
        let mut ev = |kind: &str, d: NaiveDate, extra: serde_json::Value| {
            let mut e =
                json!({"event_id": format!("{no}-{}", lines.len()), "task_no": no, "type": kind, "at": at(d, 10)});
            if let (Some(e), Some(x)) = (e.as_object_mut(), extra.as_object()) {
                e.extend(x.clone());
            }
            lines.push(e);
        };
        ev("signed", assigned + Days::new(r.next(4)), json!({"department_code": lead}));
        ev("progress", assigned + Days::new(5), json!({"department_code": lead, "note": "已部署"}));
        ev("milestone_done", m1 - Days::new(r.next(3)), json!({"milestone_code": "M1"}));
        ev("progress", m1 + Days::new(3), json!({"department_code": lead, "note": "推进中"}));
        ev("milestone_done", m2 + Days::new(r.next(6)), json!({"milestone_code": "M2"}));
        ev(
            "rescheduled",
            m2 + Days::new(8),
            json!({"due": (due + Days::new(10)).to_string(), "approved_by": "市领导"}),
        );
        ev("progress", m2 + Days::new(12), json!({"department_code": lead, "note": "收尾"}));
        // Most are reported done and verified, some late, a tenth still open at the end.
        if r.next(10) > 0 {
            let done = due + Days::new(r.next(20));
            ev("reported_done", done - Days::new(10), json!({"note": "已完成"}));
            ev("verified", done - Days::new(5), json!({}));
        } else {
            ev("progress", due - Days::new(5), json!({"department_code": lead, "note": "仍在推进"}));
            ev("progress", due - Days::new(2), json!({"department_code": lead, "note": "仍在推进"}));
        }
        for l in &lines {
            writeln!(f, "{l}")?;
        }
        n += lines.len() as u64;
    }
    f.flush()?;
    Ok(n)
}

/// Runs `oversight <args>` on the benchmark database as a user would; returns its wall time
/// (process start included) and what it printed.
fn command(url: &str, args: &[&str]) -> Result<(f64, String)> {
    let t = Instant::now();
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["--db", url])
        .args(args)
        .env("OVERSIGHT_LOG", "warn")
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(out.status.success(), "oversight {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    Ok((secs, String::from_utf8_lossy(&out.stdout).into_owned()))
}

pub async fn run(app: &App, url: &str, clock: &ManualClock, tasks_n: u64) -> Result<()> {
    if tasks_n == 0 {
        return Ok(());
    }
    let mut departments: Vec<String> = oversight_app::network::department_names(app).await?.into_keys().collect();
    departments.sort();
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("task-events.ndjson");
    let events = generate(&file, &departments, tasks_n)?;
    let mb = std::fs::metadata(&file)?.len() as f64 / 1e6;
    let (secs, answer) = command(url, &["import", "task-events", &file.display().to_string()])?;
    println!(
        "task import:      {events} events of {tasks_n} tasks ({mb:.0} MB) by `oversight import task-events` in {secs:.2} s = {} events/s, process start included ({})",
        rate(events, secs),
        answer.trim().replace('\n', "; ")
    );
    if let Some(floor) = oversight_store::tasks::storage_floor(&app.db).await? {
        let secs = floor.as_secs_f64();
        println!(
            "task import floor: PostgreSQL itself stores the same events and phase pieces (copied server-side into empty tables with their indexes) in {secs:.2} s = {} events/s",
            rate(events, secs)
        );
    }

    for (label, group) in
        [("total", None), ("by lead", Some(TaskGroupBy::LeadDepartment)), ("by origin", Some(TaskGroupBy::Origin))]
    {
        for (from, to) in [("2011-03-01", "2011-03-31"), ("2011-09-01", "2011-09-30"), ("2011-01-01", "2011-12-31")] {
            let (from, to) = (from.parse::<NaiveDate>()?, to.parse::<NaiveDate>()?);
            let mut times = Vec::new();
            let mut open = 0;
            for _ in 0..3 {
                let t = Instant::now();
                let r = tasks::task_report(app, &Actor::cli(), from, to, group).await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                open = r.total.counts.open;
            }
            times.sort_by(f64::total_cmp);
            println!("tasks report {label:<9} as of {to} ({open} open): median {:.1} ms", times[1]);
        }
    }
    let (secs, _) = command(url, &["report", "tasks", "--from", "2011-03-01", "--to", "2011-03-31"])?;
    println!("tasks report by `oversight report tasks` (process start included): {:.0} ms", secs * 1000.0);

    // The monitor: the imported lights were set for the clock's day; a day later only the
    // tasks whose light changes that day are looked at.
    clock.set(Utc.with_ymd_and_hms(2026, 1, 1, 0, 30, 0).single().unwrap_or_else(Utc::now));
    let t = Instant::now();
    let pass = supervision::monitor_pass(app, "bench").await?;
    println!(
        "task monitor:     a day later: {} tasks looked at (of {tasks_n}) in {:.1} ms",
        pass.tasks,
        t.elapsed().as_secs_f64() * 1000.0
    );
    println!("memory now:       {:.0} MB (this process)", own_mb("VmRSS:"));
    Ok(())
}

//! The evaluation's figures: a year's run of the example scheme by the real command (process
//! start included) over the settled cases the bench generated, and a draft scheme set beside the
//! published result (what if), in the process.

use std::time::Instant;

use anyhow::Result;
use chrono::NaiveDate;
use oversight_app::evaluation::{self, EXAMPLE_SCHEME};
use oversight_app::{Actor, App};

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

pub async fn run(app: &App, url: &str) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("scheme.toml");
    std::fs::write(&file, EXAMPLE_SCHEME)?;
    let mut times = Vec::new();
    let mut departments = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let out = std::process::Command::new(std::env::current_exe()?)
            .args(["--db", url, "evaluation", "run", "--from", "2024-01-01", "--to", "2024-12-31", "--format", "json"])
            .arg("--scheme")
            .arg(&file)
            .env("OVERSIGHT_LOG", "warn")
            .output()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(out.status.success(), "oversight evaluation run: {}", String::from_utf8_lossy(&out.stderr));
        let result: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        departments = result["departments"].as_array().map_or(0, |d| d.len());
    }
    println!(
        "evaluation a year, {departments} departments, by `oversight evaluation run` (process start included): median {:.0} ms",
        median(times)
    );
    // What if: the example published, a draft weighing the overdue rate more set beside it.
    let (from, to) = (
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
        NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default(),
    );
    let cli = Actor::cli();
    let published = evaluation::save_scheme(app, &cli, None, EXAMPLE_SCHEME).await?;
    let t = Instant::now();
    let result = evaluation::publish(app, &cli, &published.id, from, to).await?;
    println!("evaluation publish a year (run, records kept): {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    let draft = EXAMPLE_SCHEME.replace("weight = 40", "weight = 50").replace("per = 2, cap = 20", "per = 1, cap = 10");
    let draft = evaluation::save_scheme(app, &cli, Some(&published.id), &draft).await?;
    let mut times = Vec::new();
    let mut moved = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let (_, moves) = evaluation::what_if(app, &cli, &draft.id, &result).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        moved = moves.iter().filter(|m| m.moved().is_some_and(|n| n != 0)).count();
    }
    println!(
        "evaluation what-if a year beside the published result: median {:.0} ms ({moved} departments move)",
        median(times)
    );
    Ok(())
}

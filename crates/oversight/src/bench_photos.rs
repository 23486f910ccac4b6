//! Inspectors' photos: a camera-sized JPEG uploaded to the server as a phone would, one at a
//! time and four at once, with the server process's memory.

use std::time::Instant;

use anyhow::{Context, Result};
use oversight_app::accounts::{self, NewUser};
use oversight_app::inspections::{self, NewFinding, NewRound};
use oversight_app::{Actor, App};

use crate::bench::{ServerProcess, status_mb};

const USER: &str = "bench-inspector";
const PASSWORD: &str = "Bench-Photos-2026!";

/// A noisy 4000 × 3000 picture as a camera's JPEG of about 12 MB (the quality lowered until it
/// is no bigger: noise does not compress).
fn camera_jpeg() -> Result<Vec<u8>> {
    let mut seed = 2011u64;
    let picture = image::RgbImage::from_fn(4000, 3000, |x, y| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let n = (seed >> 58) as u8;
        image::Rgb([((x / 16) as u8).wrapping_add(n), ((y / 16) as u8).wrapping_add(n / 2), 100 + n])
    });
    let mut quality = 98;
    loop {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(&picture)?;
        if out.len() <= 12 << 20 || quality <= 60 {
            return Ok(out);
        }
        quality -= 4;
    }
}

/// A signed-in client of the server, and its form token.
async fn sign_in(base: &str) -> Result<(reqwest::Client, String)> {
    let client = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build()?;
    let token = |html: &str| -> Result<String> {
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).context("a form token")? + marker.len();
        Ok(html[start..].split('"').next().unwrap_or_default().to_string())
    };
    let page = client.get(format!("{base}/login")).send().await?.text().await?;
    let pre = token(&page)?;
    let form = [("csrf", pre.as_str()), ("username", USER), ("password", PASSWORD), ("next", "/")];
    let res = client.post(format!("{base}/login")).form(&form).send().await?;
    anyhow::ensure!(res.status().as_u16() == 303, "sign-in: {}", res.status());
    let home = client.get(format!("{base}/")).send().await?.text().await?;
    Ok((client, token(&home)?))
}

pub async fn run(app: &App, url: &str) -> Result<()> {
    let cli = Actor::cli();
    let new = NewUser {
        username: USER,
        display_name: "基准测试监督专员",
        password: PASSWORD,
        role: "inspector",
        org_code: "460100",
    };
    if accounts::create_user(app, &cli, new).await.is_err() {
        println!("photos:           {USER} exists already (a reused database): skipped");
        return Ok(());
    }
    let inspector = accounts::actor_of(app, USER).await?.context("the bench inspector")?;
    let office = accounts::actor_of(app, "xiaoneng").await?.context("the demo's supervisor")?;
    let plan = NewRound {
        month: app.today().format("%Y-%m").to_string(),
        kind: "open".into(),
        inspectors: vec![USER.into()],
        quotas: [("city".to_string(), "1".to_string())].into_iter().collect(),
    };
    let round = inspections::plan_round(app, &office, &plan).await?;
    let visit = inspections::start_visit(app, &inspector, &round, "460100-V").await?;
    let finding = NewFinding {
        item_code: "environment".into(),
        severity: "minor".into(),
        department_code: "460100-D01".into(),
        note: "基准测试".into(),
        ..Default::default()
    };
    let finding = inspections::record_finding(app, &inspector, &visit, &finding).await?.id;
    let jpeg = camera_jpeg()?;
    let mb = jpeg.len() as f64 / (1 << 20) as f64;
    println!("photo:            a {mb:.1} MB camera JPEG generated");

    let server = ServerProcess::start(url, false).await?;
    let (client, csrf) = sign_in(&server.base).await?;
    let started = std::fs::read_to_string(format!("/proc/{}/status", server.pid))?;
    let upload = |client: reqwest::Client| {
        let part = reqwest::multipart::Part::bytes(jpeg.clone()).file_name("camera.jpg").mime_str("image/jpeg");
        let url = format!("{}/inspections/findings/{finding}/photos?csrf={csrf}", server.base);
        async move {
            let t = Instant::now();
            let res = client.post(url).multipart(reqwest::multipart::Form::new().part("photo", part?)).send().await?;
            anyhow::ensure!(res.status().as_u16() == 303, "photo upload: {}", res.status());
            Ok::<f64, anyhow::Error>(t.elapsed().as_secs_f64())
        }
    };
    let mut times = Vec::new();
    for _ in 0..3 {
        times.push(upload(client.clone()).await?);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "photo:            {mb:.1} MB 4000×3000 JPEG accepted, shrunk to 1600 px and stored: median {:.2} s (HTTP, server in release or debug as built)",
        times[1]
    );
    let before = std::fs::read_to_string(format!("/proc/{}/status", server.pid))?;
    let t = Instant::now();
    let four = futures_util::future::join_all((0..4).map(|_| upload(client.clone()))).await;
    let slowest = four.into_iter().collect::<Result<Vec<f64>>>()?.into_iter().fold(0.0, f64::max);
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid))?;
    println!(
        "photos, 4 at once: all stored in {:.2} s (slowest {slowest:.2} s); server {:.0} MB resident at start, {:.0} MB after the first three, peak {:.0} MB",
        t.elapsed().as_secs_f64(),
        status_mb(&started, "VmRSS:"),
        status_mb(&before, "VmRSS:"),
        status_mb(&status, "VmHWM:")
    );
    drop(server);
    Ok(())
}

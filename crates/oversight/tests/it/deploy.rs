//! The recipes of `deploy/` start the server as they are written: the systemd unit's
//! `ExecStart` with its `Environment`, and the container's `ENTRYPOINT` and `CMD` with its `ENV`
//! and `WORKDIR`. Each is run as a real process with the built binary in place of
//! `/usr/local/bin/oversight` and a temporary directory in place of `/var/lib/oversight`; it must
//! answer `/healthz`, keep its database in the state directory, log JSON, and stop cleanly
//! (exit 0) on SIGTERM, which is what systemd and container runtimes send.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const BINARY: &str = "/usr/local/bin/oversight";
const STATE: &str = "/var/lib/oversight";

fn recipe(name: &str) -> String {
    let path = format!("{}/../../deploy/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A recipe's command, environment and working directory.
struct Launch {
    argv: Vec<String>,
    env: Vec<(String, String)>,
    dir: Option<String>,
}

fn systemd_unit(text: &str) -> Launch {
    let mut launch = Launch { argv: Vec::new(), env: Vec::new(), dir: None };
    for line in text.lines().map(str::trim) {
        if let Some(pair) = line.strip_prefix("Environment=") {
            let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("bad Environment= line: {line}"));
            launch.env.push((k.into(), v.into()));
        } else if let Some(cmd) = line.strip_prefix("ExecStart=") {
            launch.argv = cmd.split_whitespace().map(String::from).collect();
        } else if let Some(dir) = line.strip_prefix("WorkingDirectory=") {
            launch.dir = Some(dir.into());
        }
    }
    launch
}

fn containerfile(text: &str) -> Launch {
    // Only the final stage runs.
    let last = text.rsplit("\nFROM ").next().unwrap_or(text);
    let mut launch = Launch { argv: Vec::new(), env: Vec::new(), dir: None };
    let mut cmd = Vec::new();
    for line in last.lines().map(str::trim) {
        let exec_form = |rest: &str| -> Vec<String> {
            serde_json::from_str(rest).unwrap_or_else(|e| panic!("not the exec form ({e}): {line}"))
        };
        if let Some(pair) = line.strip_prefix("ENV ") {
            let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("bad ENV line: {line}"));
            launch.env.push((k.into(), v.into()));
        } else if let Some(rest) = line.strip_prefix("ENTRYPOINT ") {
            launch.argv = exec_form(rest);
        } else if let Some(rest) = line.strip_prefix("CMD ") {
            cmd = exec_form(rest);
        } else if let Some(dir) = line.strip_prefix("WORKDIR ") {
            launch.dir = Some(dir.into());
        }
    }
    launch.argv.extend(cmd);
    launch
}

/// Runs a recipe with the state directory at `state` and a free port, and checks it starts,
/// serves, keeps its database where the recipe says and stops on SIGTERM.
async fn starts_and_stops(name: &str, launch: Launch, state: &Path) {
    let here = |v: &str| v.replace(STATE, &state.display().to_string());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert_eq!(launch.argv.first().map(String::as_str), Some(BINARY), "{name}: the command");
    let mut command = Command::new(env!("CARGO_BIN_EXE_oversight"));
    command.args(&launch.argv[1..]).env_clear().env("PATH", "/usr/bin:/bin");
    let mut listen = None;
    for (k, v) in &launch.env {
        let v = if k == "OVERSIGHT_LISTEN" {
            let host = v.rsplit_once(':').map_or(v.as_str(), |(h, _)| h);
            listen = Some(host.to_string());
            format!("{host}:{port}")
        } else {
            here(v)
        };
        command.env(k, v);
    }
    assert!(listen.is_some(), "{name} sets OVERSIGHT_LISTEN");
    let dir = here(launch.dir.as_deref().unwrap_or(STATE));
    let log = state.join("server.log");
    let child = command
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut server = Server(Some(child));
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..150 {
        if client.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(up, "{name}: the server did not answer /healthz: {}", text());
    assert!(state.join("oversight.db").exists(), "{name}: the database is not in the state directory");
    let page = client.get(format!("http://127.0.0.1:{port}/login")).send().await.unwrap();
    assert_eq!(page.status(), 200, "{name}: the sign-in page");

    let Some(mut child) = server.0.take() else { unreachable!() };
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut status = None;
    for _ in 0..100 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("{name}: still running 10 s after SIGTERM: {}", text())
    };
    assert!(status.success(), "{name}: SIGTERM ended it with {status}: {}", text());
    let lines = text();
    let first = lines.lines().next().unwrap_or_default();
    assert!(serde_json::from_str::<serde_json::Value>(first).is_ok(), "{name}: the log is not JSON lines: {first}");
}

struct Server(Option<std::process::Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_systemd_unit_starts_the_server_and_stops_it_on_sigterm() {
    let unit = recipe("oversight.service");
    let launch = systemd_unit(&unit);
    assert!(unit.contains("StateDirectory=oversight"), "systemd creates {STATE}");
    let state = tempfile::tempdir().unwrap();
    starts_and_stops("oversight.service", launch, state.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_container_recipe_starts_the_server_and_stops_it_on_sigterm() {
    let recipe = recipe("Containerfile");
    let launch = containerfile(&recipe);
    assert!(recipe.contains(&format!("VOLUME {STATE}")), "the database outlives the container");
    let state = tempfile::tempdir().unwrap();
    starts_and_stops("Containerfile", launch, state.path()).await;
}

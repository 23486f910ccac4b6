//! Programs the project did not write, from PyPI, for tests that talk to them over the wire:
//! an Open311 client, an SMTP server. Each set lives in its own virtual environment under the
//! target directory, made once.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The Python of a virtual environment `name` holding `packages` (pinned), made when missing.
pub fn venv(name: &str, packages: &[&str]) -> PathBuf {
    static MAKING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let exe = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/<test> → target/<profile>/py/<name>
    let dir = exe.parent().and_then(|d| d.parent()).expect("a target directory").join("py").join(name);
    let python = dir.join("bin/python");
    let ready = dir.join(".ready");
    let wanted = packages.join("\n");
    if std::fs::read_to_string(&ready).ok().as_deref() != Some(wanted.as_str()) {
        let status = Command::new("python3").args(["-m", "venv", "--clear"]).arg(&dir).status().expect("python3 runs");
        assert!(status.success(), "python3 -m venv {} failed", dir.display());
        let status = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(packages)
            .status()
            .expect("pip runs");
        assert!(status.success(), "pip install {packages:?} failed (PyPI must be reachable)");
        std::fs::write(&ready, wanted).expect("mark the environment ready");
    }
    python
}

/// What a schemathesis run found.
pub struct Schemathesis {
    pub passed: bool,
    /// Its report (standard output, then standard error).
    pub report: String,
}

/// Runs schemathesis (pinned) against `document` with `base` as the API's URL and `args` after
/// them (checks, phases, limits, headers), in a scratch working directory (it keeps a cache
/// there), off the async runtime.
pub async fn schemathesis(document: PathBuf, base: String, args: Vec<String>) -> Schemathesis {
    tokio::task::spawn_blocking(move || {
        let python = venv("schemathesis", &["schemathesis==4.32.5"]);
        let st = python.parent().expect("a venv's bin directory").join("schemathesis");
        let workdir = tempfile::tempdir().expect("a scratch directory");
        let out = Command::new(st)
            .current_dir(workdir.path())
            .arg("run")
            .arg(document)
            .args(["--url", &base])
            .args(args)
            .output()
            .expect("schemathesis runs");
        Schemathesis {
            passed: out.status.success(),
            report: format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        }
    })
    .await
    .expect("the schemathesis task ends")
}

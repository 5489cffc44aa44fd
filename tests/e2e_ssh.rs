//! `RUN --mount=type=ssh` end to end: an `ssh-agent` started here is forwarded with buildx
//! `--ssh ID=SOCKET`, and the build reports what the agent socket looks like inside the RUN.
//!
//! Each folder in tests/e2e_ssh/ is a case: a `Dockerfile` (without the syntax line) and
//! `case.json` naming the ssh ids to forward and the files the build's output must hold (or the
//! error lines it must print). Skips like tests/e2e.rs without the engine and image, and without
//! `ssh-agent`.

mod common;

use common::docker::{buildx_build, engine_ready, missing, tail, write_with_syntax};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Case {
    /// What the case shows, for the reader.
    #[allow(dead_code)]
    notes: String,
    /// ssh ids forwarded to the build, each to the test's agent.
    forward: Vec<String>,
    /// Files of the local output with their exact content.
    files: BTreeMap<String, String>,
    /// When set the build must fail, and its output must contain each of these lines.
    error: Vec<String>,
}

/// An `ssh-agent` in the foreground, killed (by its own pid) when dropped.
struct Agent {
    child: Child,
    socket: PathBuf,
}

impl Agent {
    fn start(socket: PathBuf) -> Option<Agent> {
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let agent = Agent { child, socket };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !agent.socket.exists() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(agent)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_case(dir: &Path, name: &str, agent: &Agent, work: &Path) -> Vec<String> {
    let case: Case =
        serde_json::from_slice(&std::fs::read(dir.join("case.json")).expect("case.json"))
            .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
    let ctx = work.join("ctx");
    let out_dir = work.join("out");
    std::fs::create_dir_all(&ctx).expect("temp dir");
    write_with_syntax(
        &dir.join("Dockerfile"),
        &ctx,
        &common::docker::frontend_image(),
    );
    let mut cmd = buildx_build();
    for id in &case.forward {
        cmd.arg("--ssh")
            .arg(format!("{id}={}", agent.socket.display()));
    }
    cmd.arg("--output")
        .arg(format!("type=local,dest={}", out_dir.display()));
    let out = cmd.arg(&ctx).output().expect("docker buildx");
    let output = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    let mut fail = |msg: String| problems.push(format!("{name}: {msg}"));
    if !case.error.is_empty() {
        if out.status.success() {
            fail("build succeeded but an error was expected".into());
        }
        for line in &case.error {
            if !output.contains(line.as_str()) {
                fail(format!("output lacks {line:?}\n{}", tail(&output)));
            }
        }
        return problems;
    }
    if !out.status.success() {
        fail(format!("build failed:\n{}", tail(&output)));
        return problems;
    }
    for (path, want) in &case.files {
        match std::fs::read_to_string(out_dir.join(path)) {
            Ok(got) if &got == want => {}
            Ok(got) => fail(format!("{path} holds {got:?}, want {want:?}")),
            Err(e) => fail(format!("{path}: {e}")),
        }
    }
    problems
}

#[test]
fn e2e_ssh_cases() {
    if !engine_ready() {
        return;
    }
    let work = std::env::temp_dir().join(format!("mstage-e2e-ssh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("temp dir");
    let Some(agent) = Agent::start(work.join("agent.sock")) else {
        missing("ssh-agent (openssh-client) to forward to the build");
        return;
    };
    let mut problems = Vec::new();
    for (name, dir) in &common::case_dirs("e2e_ssh") {
        let case_work = work.join(name);
        let found = run_case(dir, name, &agent, &case_work);
        eprintln!("{} {name}", if found.is_empty() { "ok  " } else { "FAIL" });
        problems.extend(found);
    }
    drop(agent);
    let _ = std::fs::remove_dir_all(&work);
    common::assert_no_problems(&problems);
}

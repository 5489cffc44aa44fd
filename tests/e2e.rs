//! End-to-end builds through the real path: `docker buildx build` on the local engine, whose BuildKit
//! pulls the mstage image (`# syntax=mstage:dev`, or MSTAGE_IMAGE) and runs it as the frontend.
//!
//! Each folder in tests/e2e/ is a case: a `Dockerfile` (without the syntax line), an optional
//! `context/`, and `case.json` saying how to build and what must hold afterwards. Needs the engine
//! (`hack/engine-up`) and the image (`hack/image`); without them the test skips, except under CI=true.

mod common;

use common::docker::{buildx_build, docker, engine_ready, tail, write_with_syntax};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Case {
    target: Option<String>,
    build_args: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    /// Entitlements the build asks for (`--allow`); hack/engine-up's daemon grants them.
    allow: Vec<String>,
    /// Further `buildx build` arguments (`--add-host`, `--shm-size`, ...).
    flags: Vec<String>,
    /// Files that must exist in the result, with their exact content when not null.
    files: BTreeMap<String, Option<String>>,
    /// Paths that must not exist in the result.
    absent: Vec<String>,
    /// Fields of the image config (`docker image inspect .Config`) that must be equal.
    config: serde_json::Map<String, serde_json::Value>,
    /// When set the build must fail, and its output must contain each of these lines.
    error: Vec<String>,
    /// Lines that must not appear in the build output (e.g. a stage that must not run).
    output_lacks: Vec<String>,
}

struct Build {
    success: bool,
    output: String,
    rootfs: PathBuf,
    config: serde_json::Value,
}

fn build(case_dir: &Path, case: &Case, work: &Path) -> Build {
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("temp dir");
    common::docker::copy_context(&case_dir.join("context"), &ctx);
    write_with_syntax(
        &case_dir.join("Dockerfile"),
        &ctx,
        &common::docker::frontend_image(),
    );
    let tag = format!("mstage-e2e-{}", std::process::id());
    let tar = work.join("rootfs.tar");
    let mut cmd = buildx_build();
    cmd.args(["-t", &tag]);
    if let Some(target) = &case.target {
        cmd.args(["--target", target]);
    }
    for (k, v) in &case.build_args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    for (k, v) in &case.labels {
        cmd.arg("--label").arg(format!("{k}={v}"));
    }
    for entitlement in &case.allow {
        cmd.arg("--allow").arg(entitlement);
    }
    let out = cmd
        .args(&case.flags)
        .arg(&ctx)
        .output()
        .expect("docker buildx");
    let output = String::from_utf8_lossy(&out.stderr).into_owned();
    let rootfs = work.join("rootfs");
    let mut config = serde_json::Value::Null;
    if out.status.success() {
        config = inspect_config(&tag);
        export_rootfs(&tag, &tar, &rootfs);
        let _ = docker().args(["image", "rm", "-f", &tag]).output();
    }
    Build {
        success: out.status.success(),
        output,
        rootfs,
        config,
    }
}

fn inspect_config(tag: &str) -> serde_json::Value {
    let out = docker()
        .args(["image", "inspect", "--format", "{{json .Config}}", tag])
        .output()
        .expect("docker image inspect");
    serde_json::from_slice(&out.stdout).expect("config JSON")
}

/// The image's filesystem, through a container that is created but never started.
fn export_rootfs(tag: &str, tar: &Path, rootfs: &Path) {
    let created = docker()
        .args(["create", tag, "/none"])
        .output()
        .expect("docker create");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let id = String::from_utf8_lossy(&created.stdout).trim().to_string();
    let exported = docker()
        .args(["export", "-o"])
        .arg(tar)
        .arg(&id)
        .status()
        .expect("export");
    let _ = docker().args(["rm", &id]).output();
    assert!(exported.success());
    std::fs::create_dir_all(rootfs).expect("rootfs dir");
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(rootfs)
        .status()
        .expect("tar");
    assert!(untar.success());
}

fn check(name: &str, case: &Case, b: &Build) -> Vec<String> {
    let mut problems = Vec::new();
    let mut fail = |msg: String| problems.push(format!("{name}: {msg}"));
    if !case.error.is_empty() {
        if b.success {
            fail("build succeeded but an error was expected".into());
        }
        for line in &case.error {
            if !b.output.contains(line.as_str()) {
                fail(format!("output lacks {line:?}\n{}", tail(&b.output)));
            }
        }
        return problems;
    }
    if !b.success {
        fail(format!("build failed:\n{}", tail(&b.output)));
        return problems;
    }
    for line in &case.output_lacks {
        if b.output.contains(line.as_str()) {
            fail(format!("output contains {line:?}"));
        }
    }
    for (path, content) in &case.files {
        let p = b.rootfs.join(path.trim_start_matches('/'));
        match (std::fs::symlink_metadata(&p), content) {
            (Err(_), _) => fail(format!("{path} is missing")),
            (Ok(_), Some(want)) => {
                let got = std::fs::read_to_string(&p).unwrap_or_default();
                if &got != want {
                    fail(format!("{path} holds {got:?}, want {want:?}"));
                }
            }
            (Ok(_), None) => {}
        }
    }
    for path in &case.absent {
        if std::fs::symlink_metadata(b.rootfs.join(path.trim_start_matches('/'))).is_ok() {
            fail(format!("{path} exists but must not"));
        }
    }
    for (key, want) in &case.config {
        let got = b
            .config
            .get(key)
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        if &got != want {
            fail(format!("config {key} is {got}, want {want}"));
        }
    }
    problems
}

#[test]
fn e2e_cases() {
    if !engine_ready() {
        return;
    }
    let mut problems = Vec::new();
    for (name, dir) in &common::case_dirs("e2e") {
        let case: Case =
            serde_json::from_slice(&std::fs::read(dir.join("case.json")).expect("case.json"))
                .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
        let work = std::env::temp_dir().join(format!("mstage-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        let result = build(dir, &case, &work);
        let found = check(name, &case, &result);
        eprintln!("{} {name}", if found.is_empty() { "ok  " } else { "FAIL" });
        problems.extend(found);
        let _ = std::fs::remove_dir_all(&work);
    }
    common::assert_no_problems(&problems);
}

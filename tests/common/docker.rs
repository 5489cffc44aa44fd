//! The local engine as the end-to-end tests reach it: the `docker` CLI, the frontend image under
//! test, and what to do when a prerequisite is missing (skip, except under `CI=true`).

use std::path::Path;
use std::process::{Command, Output};

/// Where `hack/engine-up` unpacks the engine: its docker CLI and the buildx and compose plugins.
const ENGINE_PREFIX: &str = "/opt/docker28";

/// The engine's `docker` CLI, as `eval "$(hack/engine-up)"` sets it up; the same defaults when
/// the tests run without that (a plain `cargo test` after `hack/engine-up`).
pub fn docker() -> Command {
    let engine_cli = Path::new(ENGINE_PREFIX).join("usr/bin/docker");
    let from_engine = std::env::var_os("DOCKER_CONFIG").is_none() && engine_cli.exists();
    let mut cmd = Command::new(if from_engine {
        engine_cli.as_os_str()
    } else {
        "docker".as_ref()
    });
    if from_engine {
        cmd.env("DOCKER_CONFIG", Path::new(ENGINE_PREFIX).join("config"));
    }
    if std::env::var_os("DOCKER_HOST").is_none() {
        cmd.env("DOCKER_HOST", "unix:///tmp/dk/docker.sock");
    }
    cmd.env("BUILDX_EXPERIMENTAL", "1");
    cmd
}

pub fn frontend_image() -> String {
    std::env::var("MSTAGE_IMAGE").unwrap_or_else(|_| "mstage:dev".to_string())
}

/// Runs a docker command that must succeed, returning its stdout.
pub fn run(args: &[&str]) -> String {
    let out = docker().args(args).output().expect("docker");
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn succeeds(out: &std::io::Result<Output>) -> bool {
    out.as_ref().map(|o| o.status.success()).unwrap_or(false)
}

/// The engine holds the frontend image; without it the test skips, but CI must have it.
pub fn engine_ready() -> bool {
    let image = frontend_image();
    if succeeds(&docker().args(["image", "inspect", &image]).output()) {
        return true;
    }
    missing(&format!(
        "no engine with image {image} (run hack/engine-up and hack/image)"
    ));
    false
}

/// A prerequisite is absent: a failure under CI=true, a printed skip otherwise.
pub fn missing(what: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {what}"
    );
    eprintln!("skipping: {what}");
}

/// `docker buildx build` as every end-to-end build runs it: no network, plain progress.
pub fn buildx_build() -> Command {
    let mut cmd = docker();
    cmd.args([
        "buildx",
        "build",
        "--network",
        "none",
        "--progress",
        "plain",
    ]);
    cmd
}

/// Copies a case's build context folder, when it has one, into `ctx` (modes and links kept).
pub fn copy_context(from: &Path, ctx: &Path) {
    if !from.is_dir() {
        return;
    }
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from.join("."))
        .arg(ctx)
        .status()
        .expect("cp");
    assert!(status.success(), "copying {}", from.display());
}

/// Copies the Dockerfile at `source` into `ctx` behind a `# syntax=` line naming `frontend`.
pub fn write_with_syntax(source: &Path, ctx: &Path, frontend: &str) {
    let dockerfile = std::fs::read_to_string(source).expect("read Dockerfile");
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("# syntax={frontend}\n{dockerfile}"),
    )
    .expect("write Dockerfile");
}

/// The last 25 lines of a build's output, enough to show its error in a failure message.
pub fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

/// The local index of busybox for linux/amd64 and linux/arm64 that hack/emulation-up builds.
pub const MULTI_PLATFORM_BASE: &str = "busybox:multi-platform";

/// qemu-aarch64 registered with the F flag (the interpreter opened at registration, so it runs
/// inside containers) and the local base image of both platforms.
pub fn emulation_ready() -> bool {
    let entry =
        std::fs::read_to_string("/proc/sys/fs/binfmt_misc/qemu-aarch64").unwrap_or_default();
    let registered = entry.lines().any(|l| l == "enabled")
        && entry
            .lines()
            .any(|l| l.starts_with("flags:") && l.contains('F'));
    let base = succeeds(
        &docker()
            .args(["image", "inspect", MULTI_PLATFORM_BASE])
            .output(),
    );
    if registered && base {
        return true;
    }
    missing("no arm64 emulation or no busybox:multi-platform (run hack/emulation-up)");
    false
}

/// The busybox stand-in base image (hack/engine-up) as the tests' expectations name it: its
/// digest and its layer's diff id, which come from the time it was imported on this machine,
/// each with the word recorded in their place (`{busybox-digest}`, `{busybox-layer}`). Empty
/// when the engine has no stand-in.
pub fn standin_placeholders() -> Vec<(String, String)> {
    let out = docker()
        .args([
            "image",
            "inspect",
            "-f",
            "{{.Id}} {{index .RootFS.Layers 0}}",
            "busybox:latest",
        ])
        .output();
    let Ok(out) = out else { return Vec::new() };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    match (words.next(), words.next()) {
        (Some(digest), Some(layer)) if out.status.success() => vec![
            (digest.to_string(), "{busybox-digest}".to_string()),
            (layer.to_string(), "{busybox-layer}".to_string()),
        ],
        _ => Vec::new(),
    }
}

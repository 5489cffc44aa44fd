//! Resource limits of RUN steps (dockerfile 1.25's `memory`, `memswap`, `cpushares`, `cpuperiod`,
//! `cpuquota`, `cpusetcpus`, `cpusetmems` options) reach the step's cgroup on a BuildKit with
//! `exec.meta.linux.resources`: tests/resource_limits/Dockerfile writes what its RUN step's
//! cgroup says into the output, built with the options of tests/resource_limits/options.json
//! and without them, through mstage and, when `peer/dockerfile:1.26.0` is in the engine, the
//! reference, which must write the same.
//!
//! buildx 0.29 has no flag for these options (its `--memory`, `--cpu-quota` are hidden and
//! ignored), so the builds go through `buildctl --opt` to a standalone buildkitd, the frontend
//! pulled from the local registry (`--frontend gateway.v0 --opt source=...`). Docker 28.5's
//! BuildKit lacks the cap (both frontends then drop the limits), and CI cannot build a current
//! buildkitd: MSTAGE_BUILDKITD names one (see hack/remote-buildkit-up), and buildctl is
//! MSTAGE_BUILDCTL or the one beside it; without them the test prints why it skips.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::builder::{image_present, REFERENCE};
use common::docker::{engine_ready, frontend_image, tail};
use common::nodes::{node, push};

fn case_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/resource_limits")
}

/// The frontend options that set the limits.
fn options() -> BTreeMap<String, String> {
    let json = std::fs::read(case_dir().join("options.json")).expect("options.json");
    serde_json::from_slice(&json).expect("options.json")
}

struct Setup {
    buildctl: PathBuf,
    /// The node's `tcp://127.0.0.1:PORT`.
    addr: String,
    /// The base image in the registry.
    base: String,
    /// Pushed frontends by digest: mstage, then the reference when the engine has it.
    frontends: Vec<String>,
}

fn setup() -> Option<Setup> {
    let Some(buildkitd) = std::env::var_os("MSTAGE_BUILDKITD") else {
        eprintln!(
            "skipping: MSTAGE_BUILDKITD is not set (a current buildkitd binary; see \
             hack/remote-buildkit-up); CI cannot build one"
        );
        return None;
    };
    let buildctl = std::env::var_os("MSTAGE_BUILDCTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&buildkitd).with_file_name("buildctl"));
    if !buildctl.is_file() {
        eprintln!(
            "skipping: no buildctl at {} (set MSTAGE_BUILDCTL)",
            buildctl.display()
        );
        return None;
    }
    if !engine_ready() {
        return None;
    }
    let registry = common::registry::address()
        .expect("MSTAGE_BUILDKITD is set but no registry answers (hack/registry-up)");
    let base = push("busybox:latest", &registry, "resources-busybox:latest");
    let mut frontends = vec![push(
        &frontend_image(),
        &registry,
        "mstage-resources:latest",
    )];
    if image_present(REFERENCE) {
        frontends.push(push(REFERENCE, &registry, "dockerfile-resources:latest"));
    } else {
        eprintln!("{REFERENCE} is not in the engine: mstage is checked on its own");
    }
    Some(Setup {
        buildctl,
        // The standalone buildkitd, started if it is not running.
        addr: node(None, &[]),
        base,
        frontends,
    })
}

/// Builds the case with `frontend` and `opts`; the limits its RUN step saw.
fn limits(setup: &Setup, frontend: &str, opts: &BTreeMap<String, String>) -> String {
    let work = std::env::temp_dir().join(format!("mstage-resources-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("context dir");
    std::fs::copy(case_dir().join("Dockerfile"), ctx.join("Dockerfile")).expect("Dockerfile");
    let out = work.join("out");
    let mut cmd = Command::new(&setup.buildctl);
    // Each step runs: equal ops of the other frontend's build are in the cache, and the limits,
    // being metadata, are not part of the cache key.
    cmd.args(["--addr", &setup.addr, "build", "--no-cache"])
        .args(["--frontend", "gateway.v0", "--opt"])
        .arg(format!("source={frontend}"))
        .arg("--opt")
        .arg(format!("build-arg:BASE={}", setup.base));
    for (key, value) in opts {
        cmd.arg("--opt").arg(format!("{key}={value}"));
    }
    cmd.arg("--local")
        .arg(format!("context={}", ctx.display()))
        .arg("--local")
        .arg(format!("dockerfile={}", ctx.display()))
        .arg("--output")
        .arg(format!("type=local,dest={}", out.display()));
    let result = cmd.output().expect("buildctl");
    let log = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{frontend}:\n{}", tail(&log));
    let limits = std::fs::read_to_string(out.join("out/limits")).expect("out/limits");
    let _ = std::fs::remove_dir_all(&work);
    limits
}

#[test]
fn limits_reach_run_steps() {
    let Some(setup) = setup() else {
        return;
    };
    let opts = options();
    let mut seen = Vec::new();
    for frontend in &setup.frontends {
        let limited = limits(&setup, frontend, &opts);
        eprintln!("{frontend}: {}", limited.trim_end().replace('\n', "; "));
        let lines: Vec<&str> = limited.lines().take(2).collect();
        assert_eq!(
            lines,
            [
                format!("memory {}", opts["memory"]),
                format!("cpu {} {}", opts["cpuquota"], opts["cpuperiod"]),
            ],
            "{frontend}:\n{limited}"
        );
        let unlimited = limits(&setup, frontend, &BTreeMap::new());
        assert_ne!(limited, unlimited, "{frontend}: the node's defaults");
        seen.push((frontend, limited, unlimited));
    }
    if let [(_, ours, ours_default), (reference, theirs, theirs_default)] = &seen[..] {
        assert_eq!(ours, theirs, "with the limits, as {reference}");
        assert_eq!(ours_default, theirs_default, "without them, as {reference}");
    }
}

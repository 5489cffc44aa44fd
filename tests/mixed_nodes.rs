//! BuildKit nodes of different platforms, as clusters mix them: standalone buildkitd nodes that
//! each declare one platform (`hack/remote-buildkit-up` with MSTAGE_BUILDKIT_PLATFORM; the arm64
//! one runs its steps under emulation, hack/emulation-up), pulling the frontend from the local
//! registry. tests/emulation/uname/ is built FROM `REGISTRY/busybox` (amd64 and arm64).
//!
//! - On the arm64 node alone, a build that asks for no platform runs for the node's platform
//!   (aarch64) and, like the reference, ends without buildx's "Requested platform ... does not
//!   match result platform" warning: BuildKit checks the result against its own default platform,
//!   the one it ran the frontend image for, and the reference names its result after that.
//! - A buildx builder of an amd64 node and an arm64 node builds both platforms, each node its
//!   own (checked in each node's build history), into one local output.
//! - Both again with a node whose own platform is arm64 (an arm64 buildkitd under emulation,
//!   MSTAGE_BUILDKITD_ARM64 and MSTAGE_BUILDKITD_QEMU), which runs mstage's arm64 binary.
//!
//! The reference runs too when `peer/dockerfile:1.26.0` is in the engine, and must agree.
//! Needs a current buildkitd, which CI cannot build: MSTAGE_BUILDKITD names one (see
//! hack/remote-buildkit-up); without it the tests print why they skip. The nodes are started here
//! (the script is idempotent), then the engine, the registry and emulation must be there.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::docker::{buildx_build, docker, engine_ready, frontend_image, run, succeeds, tail};

const REFERENCE: &str = "peer/dockerfile:1.26.0";
const MISMATCH: &str = "does not match result platform";

/// The tests share nodes and builders; one at a time.
static NODES: Mutex<()> = Mutex::new(());

fn case_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulation/uname")
}

/// Each platform's files (`linux_arm64/arch`), as recorded from the reference.
fn expected() -> BTreeMap<String, String> {
    let json = std::fs::read(case_dir().join("expected.json")).expect("expected.json");
    serde_json::from_slice(&json).expect("expected.json")
}

/// What the tests need besides the nodes, or why they skip.
struct Setup {
    registry: String,
    /// `REGISTRY/name:latest@digest` of mstage, and of the reference when it is in the engine.
    frontends: Vec<String>,
}

fn setup() -> Option<Setup> {
    if std::env::var_os("MSTAGE_BUILDKITD").is_none() {
        eprintln!(
            "skipping: MSTAGE_BUILDKITD is not set (a current buildkitd binary; see \
             hack/remote-buildkit-up); CI cannot build one"
        );
        return None;
    }
    if !engine_ready() {
        return None;
    }
    let registry = common::registry::address()
        .expect("MSTAGE_BUILDKITD is set but no registry answers (hack/registry-up)");
    let mut frontends = vec![push(&frontend_image(), &registry, "mstage-nodes")];
    if succeeds(&docker().args(["image", "inspect", REFERENCE]).output()) {
        frontends.push(push(REFERENCE, &registry, "dockerfile-nodes"));
    } else {
        eprintln!("{REFERENCE} is not in the engine: mstage is checked on its own");
    }
    Some(Setup {
        registry,
        frontends,
    })
}

/// Pushes a local image (every platform it holds) as `REGISTRY/repo:latest`; returns that
/// reference with its digest, so the nodes pull exactly it.
fn push(image: &str, registry: &str, repo: &str) -> String {
    let remote = format!("{registry}/{repo}:latest");
    run(&["tag", image, &remote]);
    run(&["push", "--quiet", &remote]);
    let raw = run(&[
        "buildx",
        "imagetools",
        "inspect",
        "--format",
        "{{json .Manifest}}",
        &remote,
    ]);
    run(&["image", "rm", &remote]);
    let manifest: serde_json::Value = serde_json::from_str(&raw).expect("manifest JSON");
    let digest = manifest["digest"].as_str().expect("pushed digest");
    format!("{remote}@{digest}")
}

/// A node for `platform` alone, started if it is not running (`env`: more of the script's
/// variables); its `tcp://127.0.0.1:PORT`.
fn node(platform: &str, env: &[(&str, String)]) -> String {
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("hack/remote-buildkit-up"))
        .env("MSTAGE_BUILDKIT_PLATFORM", platform)
        // The native node's emulator and state are its own (`env`), not every node's.
        .env_remove("MSTAGE_BUILDKITD_QEMU")
        .env_remove("MSTAGE_BUILDKIT_DIR")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("hack/remote-buildkit-up");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "hack/remote-buildkit-up for {platform}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("MSTAGE_REMOTE_BUILDKIT="))
        .expect("no MSTAGE_REMOTE_BUILDKIT line")
        .to_string()
}

fn port(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap_or_default()
}

/// A buildx builder of `nodes` (address, the platform it declares), created once.
fn builder(nodes: &[(&str, &str)]) -> String {
    let ports: Vec<&str> = nodes.iter().map(|(addr, _)| port(addr)).collect();
    let name = format!("mstage-nodes-{}", ports.join("-"));
    if succeeds(&docker().args(["buildx", "inspect", &name]).output()) {
        return name;
    }
    for (index, (addr, platform)) in nodes.iter().enumerate() {
        let mut args = vec!["buildx", "create", "--name", &name, "--driver", "remote"];
        if index > 0 {
            args.push("--append");
        }
        args.extend(["--platform", platform, addr]);
        run(&args);
    }
    name
}

struct Built {
    log: String,
    out: PathBuf,
    /// The build's ID in the nodes' histories.
    id: String,
}

/// Builds the case with `frontend` from the registry's busybox on `builder` into a local output.
fn build(builder: &str, frontend: &str, registry: &str, platforms: Option<&str>) -> Built {
    let work = std::env::temp_dir().join(format!(
        "mstage-nodes-{}-{}",
        std::process::id(),
        port(builder)
    ));
    let _ = std::fs::remove_dir_all(&work);
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("context dir");
    common::docker::write_with_syntax(&case_dir().join("Dockerfile"), &ctx, frontend);
    let out = work.join("out");
    let metadata = work.join("metadata.json");
    let mut cmd = buildx_build();
    // Each RUN runs, not taken from the cache another frontend's equal ops left.
    cmd.args(["--no-cache", "--builder", builder, "--build-arg"])
        .arg(format!("BASE={registry}/busybox:latest"))
        .arg("--metadata-file")
        .arg(&metadata)
        .arg("--output")
        .arg(format!("type=local,dest={}", out.display()));
    if let Some(platforms) = platforms {
        cmd.args(["--platform", platforms]);
    }
    let result = cmd.arg(&ctx).output().expect("docker buildx build");
    let log = String::from_utf8_lossy(&result.stderr).into_owned();
    assert!(
        result.status.success(),
        "{frontend} failed:\n{}",
        tail(&log)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&metadata).expect("metadata file")).expect("JSON");
    let id = metadata["buildx.build.ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .expect("buildx.build.ref")
        .to_string();
    Built { log, out, id }
}

/// The files under `out` that the expectations name, keyed as they are (`linux_arm64/arch`), or,
/// for a single-platform output, under `platform`'s folder name.
fn files(out: &Path, single: Option<&str>) -> BTreeMap<String, String> {
    expected()
        .into_keys()
        .filter_map(|key| {
            let path = match single {
                Some(platform) => key.strip_prefix(&format!("{platform}/"))?.to_string(),
                None => key.clone(),
            };
            Some((key, std::fs::read_to_string(out.join(path)).ok()?))
        })
        .collect()
}

/// The platforms build `id` ran for on the node at `addr` (its own history).
fn node_platforms(addr: &str, id: &str) -> Vec<String> {
    let name = format!("mstage-remote-{}", port(addr));
    if !succeeds(&docker().args(["buildx", "inspect", &name]).output()) {
        run(&[
            "buildx", "create", "--name", &name, "--driver", "remote", addr,
        ]);
    }
    let raw = run(&[
        "buildx",
        "history",
        "inspect",
        "--builder",
        &name,
        "--format",
        "json",
        id,
    ]);
    let record: serde_json::Value = serde_json::from_str(&raw).expect("history JSON");
    serde_json::from_value(record["Platform"].clone()).expect("history platforms")
}

/// On an arm64 node alone, a build that asks for no platform gives the arm64 files and no
/// platform-mismatch warning, with each of `frontends`.
fn check_default_platform(arm64: &str, registry: &str, frontends: &[String]) {
    let builder = builder(&[(arm64, "linux/arm64")]);
    let want: BTreeMap<String, String> = expected()
        .into_iter()
        .filter(|(key, _)| key.starts_with("linux_arm64/"))
        .collect();
    for frontend in frontends {
        let built = build(&builder, frontend, registry, None);
        assert_eq!(files(&built.out, Some("linux_arm64")), want, "{frontend}");
        assert!(
            !built.log.contains(MISMATCH),
            "{frontend}: buildx warns of a platform mismatch:\n{}",
            tail(&built.log)
        );
    }
}

/// A builder of the two nodes builds both platforms, each node its own, with each of `frontends`.
fn check_split(amd64: &str, arm64: &str, registry: &str, frontends: &[String]) {
    let builder = builder(&[(amd64, "linux/amd64"), (arm64, "linux/arm64")]);
    for frontend in frontends {
        let built = build(
            &builder,
            frontend,
            registry,
            Some("linux/amd64,linux/arm64"),
        );
        assert_eq!(files(&built.out, None), expected(), "{frontend}");
        assert!(
            !built.log.contains(MISMATCH),
            "{frontend}:\n{}",
            tail(&built.log)
        );
        for (addr, platform) in [(amd64, "linux/amd64"), (arm64, "linux/arm64")] {
            assert_eq!(
                node_platforms(addr, &built.id),
                vec![platform.to_string()],
                "{frontend}: what the {platform} node built"
            );
        }
    }
}

#[test]
fn arm64_node_builds_for_its_platform() {
    let _one = NODES.lock().unwrap_or_else(|e| e.into_inner());
    let Some(setup) = setup() else {
        return;
    };
    let arm64 = node("linux/arm64", &[]);
    check_default_platform(&arm64, &setup.registry, &setup.frontends);
}

#[test]
fn platforms_split_across_nodes() {
    let _one = NODES.lock().unwrap_or_else(|e| e.into_inner());
    let Some(setup) = setup() else {
        return;
    };
    let amd64 = node("linux/amd64", &[]);
    let arm64 = node("linux/arm64", &[]);
    check_split(&amd64, &arm64, &setup.registry, &setup.frontends);
}

/// An arm64 buildkitd (MSTAGE_BUILDKITD_ARM64) run under MSTAGE_BUILDKITD_QEMU (see
/// hack/remote-buildkit-up) is a node whose own platform is arm64: it runs the frontend image's
/// arm64 binary, whose unasked-for result must then say linux/arm64. Only mstage: the reference
/// image here holds amd64 alone.
#[test]
fn native_arm64_node_runs_the_arm64_frontend() {
    let (Some(binary), Some(qemu)) = (
        std::env::var_os("MSTAGE_BUILDKITD_ARM64"),
        std::env::var_os("MSTAGE_BUILDKITD_QEMU"),
    ) else {
        eprintln!(
            "skipping: MSTAGE_BUILDKITD_ARM64 and MSTAGE_BUILDKITD_QEMU are not both set (an \
             arm64 buildkitd and the qemu-aarch64 to run it; see hack/remote-buildkit-up)"
        );
        return;
    };
    let _one = NODES.lock().unwrap_or_else(|e| e.into_inner());
    let Some(setup) = setup() else {
        return;
    };
    let mstage = &setup.frontends[..1];
    let index = run(&["buildx", "imagetools", "inspect", "--raw", &mstage[0]]);
    assert!(
        index.contains("\"arm64\""),
        "{} holds no linux/arm64 (build it with MSTAGE_IMAGE_PLATFORMS=linux/amd64,linux/arm64 hack/image)",
        frontend_image()
    );
    let state = std::env::temp_dir().join("mstage-buildkit-native-arm64");
    let native = node(
        "linux/arm64",
        &[
            ("MSTAGE_BUILDKITD", binary.to_string_lossy().into_owned()),
            ("MSTAGE_BUILDKITD_QEMU", qemu.to_string_lossy().into_owned()),
            ("MSTAGE_BUILDKIT_DIR", state.to_string_lossy().into_owned()),
        ],
    );
    check_default_platform(&native, &setup.registry, mstage);
    let amd64 = node("linux/amd64", &[]);
    check_split(&amd64, &native, &setup.registry, mstage);
}

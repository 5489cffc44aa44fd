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
//! - The same builder builds the multi-platform cases of tests/multi_platform/ whose platforms
//!   the nodes declare (buildx sends a build with another platform, such as arm/v7, to one node
//!   whole) into local outputs (buildx's tar and OCI outputs of multi-node builds are "currently
//!   not supported"), each platform on the node declaring it, compared with `expected/split-local.json`: each node is also the build platform of its
//!   share, so `BUILDPLATFORM` is the node's own (recorded from the reference with
//!   `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test mixed_nodes
//!   multi_platform`).
//! - Both again with a node whose own platform is arm64 (an arm64 buildkitd under emulation,
//!   MSTAGE_BUILDKITD_ARM64 and MSTAGE_BUILDKITD_QEMU), which runs mstage's arm64 binary.
//!
//! The reference runs too when `peer/dockerfile:1.26.0` is in the engine, and must agree.
//! Needs a current buildkitd, which CI cannot build: MSTAGE_BUILDKITD names one (see
//! hack/remote-buildkit-up); without it the tests print why they skip. The nodes are started here
//! (the script is idempotent), then the engine, the registry and emulation must be there.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::builder::{finish, Built};
use common::docker::{buildx_build, frontend_image, run, tail};
use common::multi_platform::Case;
use common::nodes::{builder, node, node_platforms, port, setup};

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

/// What the uname tests need besides the nodes, or why they skip.
struct Setup {
    registry: String,
    /// `REGISTRY/name:latest@digest` of mstage, and of the reference when it is in the engine.
    frontends: Vec<String>,
}

fn uname_setup() -> Option<Setup> {
    let setup = setup()?;
    let frontends = std::iter::once(setup.mstage)
        .chain(setup.reference)
        .collect();
    Some(Setup {
        registry: setup.registry,
        frontends,
    })
}

struct Uname {
    log: String,
    out: PathBuf,
    /// The build's ID in the nodes' histories.
    id: String,
}

/// Builds the case with `frontend` from the registry's busybox on `builder` into a local output.
fn build(builder: &str, frontend: &str, registry: &str, platforms: Option<&str>) -> Uname {
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
    cmd.arg(&ctx);
    let built = finish(cmd, &metadata).unwrap_or_else(|log| panic!("{frontend} failed:\n{log}"));
    let id = built.id.expect("buildx.build.ref");
    Uname {
        log: built.log,
        out,
        id,
    }
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

/// On an arm64 node alone, a build that asks for no platform gives the arm64 files and no
/// platform-mismatch warning, with each of `frontends`.
fn check_default_platform(arm64: &str, registry: &str, frontends: &[String]) {
    let builder = builder(&[(arm64, Some("linux/arm64"))]);
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
    let builder = builder(&[(amd64, Some("linux/amd64")), (arm64, Some("linux/arm64"))]);
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
    let Some(setup) = uname_setup() else {
        return;
    };
    let arm64 = node(Some("linux/arm64"), &[]);
    check_default_platform(&arm64, &setup.registry, &setup.frontends);
}

#[test]
fn platforms_split_across_nodes() {
    let _one = NODES.lock().unwrap_or_else(|e| e.into_inner());
    let Some(setup) = uname_setup() else {
        return;
    };
    let amd64 = node(Some("linux/amd64"), &[]);
    let arm64 = node(Some("linux/arm64"), &[]);
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
    let Some(setup) = uname_setup() else {
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
        Some("linux/arm64"),
        &[
            ("MSTAGE_BUILDKITD", binary.to_string_lossy().into_owned()),
            ("MSTAGE_BUILDKITD_QEMU", qemu.to_string_lossy().into_owned()),
            ("MSTAGE_BUILDKIT_DIR", state.to_string_lossy().into_owned()),
        ],
    );
    check_default_platform(&native, &setup.registry, mstage);
    let amd64 = node(Some("linux/amd64"), &[]);
    check_split(&amd64, &native, &setup.registry, mstage);
}

/// The share of a split build each node ran (its history), against the platforms asked for:
/// each node that declares an asked-for platform built it, and every asked-for platform was
/// built on exactly one node.
fn split_problems(nodes: &[(String, &str)], case: &Case, built: &Built) -> Vec<String> {
    let Some(id) = &built.id else {
        return vec!["the build's metadata names no build ref".to_string()];
    };
    let asked: BTreeSet<&str> = case.platforms().into_iter().collect();
    let mut problems = Vec::new();
    let mut built_on: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (addr, own) in nodes {
        let platforms = node_platforms(addr, id);
        if asked.contains(own) && !platforms.iter().any(|p| p == own) {
            problems.push(format!(
                "the {own} node did not build its own platform (it built {platforms:?})"
            ));
        }
        for platform in platforms {
            built_on.entry(platform).or_default().push(own);
        }
    }
    let built_platforms: BTreeSet<&str> = built_on.keys().map(String::as_str).collect();
    if built_platforms != asked {
        problems.push(format!(
            "the nodes built {built_platforms:?}, not the platforms asked for {asked:?}"
        ));
    }
    for (platform, on) in &built_on {
        if on.len() > 1 {
            problems.push(format!("{platform} was built on several nodes: {on:?}"));
        }
    }
    problems
}

/// An amd64 node and an arm64 node in one builder build the multi-platform cases, each node
/// its own platform, with the same files as the reference.
#[test]
fn multi_platform_cases_split_across_nodes() {
    let _one = NODES.lock().unwrap_or_else(|e| e.into_inner());
    let Some(setup) = setup() else {
        return;
    };
    let nodes = [
        (node(Some("linux/amd64"), &[]), "linux/amd64"),
        (node(Some("linux/arm64"), &[]), "linux/arm64"),
    ];
    let members: Vec<(&str, Option<&str>)> = nodes
        .iter()
        .map(|(addr, platform)| (addr.as_str(), Some(*platform)))
        .collect();
    let through = setup.through(builder(&members), "split-");
    let problems = common::multi_platform::check_cases(
        &through,
        &|case, output| {
            output == "local"
                && case
                    .platforms()
                    .iter()
                    .all(|p| nodes.iter().any(|(_, own)| own == p))
        },
        &|case, built| split_problems(&nodes, case, built),
    );
    common::assert_no_problems(&problems);
}

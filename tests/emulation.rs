//! Multi-platform builds whose RUN steps run: linux/arm64 under emulation (qemu-user-static
//! registered with binfmt_misc by hack/emulation-up). tests/emulation/uname/ starts FROM a base
//! image of both platforms, the local index `busybox:multi-platform` and then the registry's
//! `REGISTRY/busybox:latest` (both from hack/emulation-up), runs `uname -m` and is built with
//! `--platform linux/amd64,linux/arm64` into a local output. Its `expected.json` (each platform's
//! files) was recorded from peer/dockerfile:1.26.0; when that image is in the engine the
//! reference is built too and must give the same files.
//!
//! Needs the engine, the frontend image and emulation; skips without them, except under CI=true
//! (hack/test runs hack/emulation-up). The registry build skips without a registry.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::docker::{
    buildx_build, docker, emulation_ready, engine_ready, frontend_image, missing, succeeds, tail,
    MULTI_PLATFORM_BASE,
};

const REFERENCE: &str = "peer/dockerfile:1.26.0";
const PLATFORMS: &str = "linux/amd64,linux/arm64";

fn case_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulation/uname")
}

/// Builds the case with `frontend` from `base` into a local output; returns each file under it
/// (`linux_arm64/arch`) that the expectations name, with its content.
fn build(frontend: &str, base: &str) -> BTreeMap<String, String> {
    let work = std::env::temp_dir().join(format!(
        "mstage-emulation-{}-{}",
        std::process::id(),
        frontend.replace(['/', ':'], "-")
    ));
    let _ = std::fs::remove_dir_all(&work);
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("context dir");
    common::docker::write_with_syntax(&case_dir().join("Dockerfile"), &ctx, frontend);
    let out = work.join("out");
    let run = buildx_build()
        // Each RUN runs, not taken from the cache another frontend's equal ops left.
        .args(["--no-cache", "--platform", PLATFORMS, "--build-arg"])
        .arg(format!("BASE={base}"))
        .arg("--output")
        .arg(format!("type=local,dest={}", out.display()))
        .arg(&ctx)
        .output()
        .expect("docker buildx build");
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "{frontend} from {base} failed:\n{}",
        tail(&log)
    );
    let files = expected()
        .into_keys()
        .filter_map(|path| {
            let content = std::fs::read_to_string(out.join(&path)).ok()?;
            Some((path, content))
        })
        .collect();
    let _ = std::fs::remove_dir_all(&work);
    files
}

fn expected() -> BTreeMap<String, String> {
    let json = std::fs::read(case_dir().join("expected.json")).expect("expected.json");
    serde_json::from_slice(&json).expect("expected.json")
}

/// The base images to build from: the local index, and the registry's when it is there.
fn bases() -> Vec<String> {
    let mut bases = vec![MULTI_PLATFORM_BASE.to_string()];
    let Some(registry) = common::registry::address() else {
        missing("no registry answers (hack/registry-up): REGISTRY/busybox is not built from");
        return bases;
    };
    let remote = format!("{registry}/busybox:latest");
    let index = docker()
        .args(["buildx", "imagetools", "inspect", "--raw", &remote])
        .output();
    let both = index.as_ref().is_ok_and(|o| {
        let raw = String::from_utf8_lossy(&o.stdout);
        o.status.success() && raw.contains("\"arm64\"") && raw.contains("\"amd64\"")
    });
    if both {
        bases.push(remote);
    } else {
        missing(&format!(
            "{remote} is not an index of linux/amd64 and linux/arm64 (run hack/emulation-up)"
        ));
    }
    bases
}

#[test]
fn run_steps_on_each_platform() {
    if !engine_ready() || !emulation_ready() {
        return;
    }
    let reference = succeeds(&docker().args(["image", "inspect", REFERENCE]).output());
    if !reference {
        eprintln!("{REFERENCE} is not in the engine: mstage is checked against expected.json only");
    }
    for base in bases() {
        let got = build(&frontend_image(), &base);
        assert_eq!(got, expected(), "mstage from {base}");
        if reference {
            assert_eq!(build(REFERENCE, &base), got, "the reference from {base}");
        }
    }
}

/// The arm64 build of mstage (MSTAGE_ARM64_BINARY, e.g. target/aarch64-unknown-linux-gnu/release/mstage
/// as `MSTAGE_IMAGE_PLATFORMS=linux/amd64,linux/arm64 hack/image` leaves it), run under emulation,
/// prints the same LLB, byte for byte, as this build for every Dockerfile of tests/e2e and
/// tests/differential and each target platform, or the same error. Skips without the variable
/// (CI builds amd64 alone). Dockerfiles that read the build platform would differ by the host's,
/// and none here does.
#[test]
fn arm64_binary_prints_the_same_llb() {
    let Some(arm64) = std::env::var_os("MSTAGE_ARM64_BINARY") else {
        eprintln!("skipping: MSTAGE_ARM64_BINARY is not set (an arm64 mstage, see hack/image)");
        return;
    };
    if !emulation_ready() {
        return;
    }
    // Each conversion runs in its case's folder.
    let arm64 = std::fs::canonicalize(&arm64).expect("MSTAGE_ARM64_BINARY");
    let mut compared = 0;
    for folder in ["e2e", "differential"] {
        for (name, dir) in common::case_dirs(folder) {
            let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
            assert!(
                !dockerfile.contains("BUILDPLATFORM"),
                "{name} reads the build platform"
            );
            for platform in PLATFORMS.split(',') {
                let convert = |binary: &std::ffi::OsStr| {
                    std::process::Command::new(binary)
                        .args(["llb", "-f", "Dockerfile", "--platform", platform])
                        .current_dir(&dir)
                        .output()
                        .expect("mstage llb")
                };
                let native = convert(env!("CARGO_BIN_EXE_mstage").as_ref());
                let emulated = convert(arm64.as_os_str());
                assert_eq!(
                    native.status.code(),
                    emulated.status.code(),
                    "{name} {platform}"
                );
                assert!(
                    native.stdout == emulated.stdout,
                    "{name} {platform}: the LLB differs"
                );
                assert_eq!(
                    String::from_utf8_lossy(&native.stderr),
                    String::from_utf8_lossy(&emulated.stderr),
                    "{name} {platform}"
                );
                compared += 1;
            }
        }
    }
    eprintln!("{compared} conversions compared");
}

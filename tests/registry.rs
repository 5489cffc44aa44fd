//! The registry path, as BuildKit clusters get a frontend: the mstage image is pushed to a registry
//! on 127.0.0.1, its local tag removed, and a Dockerfile starting `# syntax=REGISTRY/mstage` is
//! built through `docker buildx build --output type=tar`, so BuildKit pulls the frontend itself.
//!
//! `frontend_from_registry` uses the local engine and the registry `hack/registry-up` starts
//! (MSTAGE_REGISTRY=127.0.0.1:PORT, or the one recorded under /tmp/mstage-registry); CI runs it.
//!
//! `frontend_from_registry_on_remote_buildkit` needs a current BuildKit outside the engine, which
//! CI cannot build: MSTAGE_REMOTE_BUILDKIT=tcp://127.0.0.1:PORT names a buildkitd that mirrors
//! docker.io to the registry and allows it over plain HTTP, as `hack/remote-buildkit-up` starts
//! one; or, with MSTAGE_BUILDKITD=path/to/buildkitd, the test starts it (tests/common/nodes.rs).
//! The test pushes busybox:latest as REGISTRY/library/busybox, the mirror path of `FROM busybox`.
//! Without either variable it prints why it skips. The multi-platform and named-context cases
//! run on the same node in tests/remote_cases.rs.
//!
//! The builds are cases of tests/e2e: their Dockerfiles, and the files or error lines their
//! case.json expects. On the remote BuildKit a failing case checks that errors still point at the
//! Dockerfile line (current BuildKit re-marshals ops and keys source maps by the new digests).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::docker::{buildx_build, engine_ready, frontend_image, missing, run, write_with_syntax};

/// Both tests push and untag `REGISTRY/mstage`; one at a time.
static REGISTRY_TAG: Mutex<()> = Mutex::new(());

const MULTI_STAGE: &str = "builder-pattern";
const FAILING: &str = "failing-run";

/// What the case must produce, read from its case.json (other fields are for tests/e2e.rs).
#[derive(serde::Deserialize)]
struct Expected {
    #[serde(default)]
    files: BTreeMap<String, Option<String>>,
    #[serde(default)]
    absent: Vec<String>,
    /// The build must fail with each of these lines in its output.
    #[serde(default)]
    error: Vec<String>,
}

fn case_dir(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/e2e")
        .join(case)
}

fn expected(case: &str) -> Expected {
    let json = std::fs::read(case_dir(case).join("case.json")).expect("case.json");
    serde_json::from_slice(&json).expect("case.json")
}

/// Pushes the frontend image as `REGISTRY/mstage` and drops that local tag, so the build must pull
/// it. Returns the pushed reference with its digest.
fn push_frontend(registry: &str) -> String {
    let remote = format!("{registry}/mstage");
    run(&["tag", &frontend_image(), &remote]);
    run(&["push", "--quiet", &remote]);
    let digests = run(&[
        "image",
        "inspect",
        "--format",
        "{{json .RepoDigests}}",
        &remote,
    ]);
    let digests: Vec<String> = serde_json::from_str(&digests).expect("RepoDigests JSON");
    run(&["image", "rm", &remote]);
    let pushed = digests
        .into_iter()
        .find(|d| d.starts_with(&format!("{remote}@")))
        .expect("no digest for the pushed image");
    pushed.replacen('@', ":latest@", 1)
}

struct Built {
    success: bool,
    log: String,
    rootfs: PathBuf,
}

/// Builds the case with `# syntax=REGISTRY/mstage` into a tar and unpacks it.
fn build_from_registry(case: &str, registry: &str, builder: Option<&str>, work: &Path) -> Built {
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("context dir");
    write_with_syntax(
        &case_dir(case).join("Dockerfile"),
        &ctx,
        &format!("{registry}/mstage"),
    );
    let tar = work.join("out.tar");
    let mut cmd = buildx_build();
    if let Some(builder) = builder {
        cmd.args(["--builder", builder]);
    }
    cmd.arg("--output")
        .arg(format!("type=tar,dest={}", tar.display()));
    let out = cmd.arg(&ctx).output().expect("docker buildx build");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let rootfs = work.join("rootfs");
    if !out.status.success() {
        return Built {
            success: false,
            log,
            rootfs,
        };
    }
    std::fs::create_dir_all(&rootfs).expect("rootfs dir");
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&rootfs)
        .status()
        .expect("tar");
    assert!(untar.success());
    Built {
        success: true,
        log,
        rootfs,
    }
}

fn check_result(case: &str, built: &Built, pushed: &str) {
    let log = &built.log;
    assert!(
        log.contains(&format!("docker-image://{pushed}")),
        "{case}: the frontend was not the one pushed ({pushed}):\n{log}"
    );
    let expected = expected(case);
    if !expected.error.is_empty() {
        assert!(!built.success, "{case}: the build succeeded but must fail");
        for line in &expected.error {
            assert!(
                log.contains(line.as_str()),
                "{case}: output lacks {line:?}:\n{log}"
            );
        }
        return;
    }
    assert!(built.success, "{case}: build failed:\n{log}");
    let rootfs = &built.rootfs;
    for (path, content) in &expected.files {
        let file = rootfs.join(path.trim_start_matches('/'));
        let got = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{path} is missing"));
        if let Some(want) = content {
            assert_eq!(&got, want, "{path}");
        }
    }
    for path in &expected.absent {
        assert!(
            std::fs::symlink_metadata(rootfs.join(path.trim_start_matches('/'))).is_err(),
            "{path} exists but must not"
        );
    }
}

fn work_dir(name: &str) -> PathBuf {
    let work = std::env::temp_dir().join(format!("mstage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    work
}

#[test]
fn frontend_from_registry() {
    if !engine_ready() {
        return;
    }
    let Some(registry) = common::registry::address() else {
        missing("no registry answers (run hack/registry-up, or set MSTAGE_REGISTRY)");
        return;
    };
    let _one = REGISTRY_TAG.lock().unwrap_or_else(|e| e.into_inner());
    let pushed = push_frontend(&registry);
    let work = work_dir("registry");
    let built = build_from_registry(MULTI_STAGE, &registry, None, &work);
    check_result(MULTI_STAGE, &built, &pushed);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn frontend_from_registry_on_remote_buildkit() {
    let addr = match std::env::var("MSTAGE_REMOTE_BUILDKIT") {
        Ok(addr) => addr,
        Err(_) if std::env::var_os("MSTAGE_BUILDKITD").is_some() => common::nodes::node(None, &[]),
        Err(_) => {
            eprintln!(
                "skipping: neither MSTAGE_REMOTE_BUILDKIT (tcp://127.0.0.1:PORT of a current \
                 buildkitd) nor MSTAGE_BUILDKITD is set (see this file's header); the engine's \
                 embedded BuildKit is tested instead"
            );
            return;
        }
    };
    if !engine_ready() {
        return;
    }
    let registry =
        common::registry::address().expect("MSTAGE_REMOTE_BUILDKIT is set but no registry answers");
    let _one = REGISTRY_TAG.lock().unwrap_or_else(|e| e.into_inner());
    let base = format!("{registry}/library/busybox");
    run(&["tag", "busybox:latest", &base]);
    run(&["push", "--quiet", &base]);
    run(&["image", "rm", &base]);
    let pushed = push_frontend(&registry);
    let builder = common::nodes::builder(&[(&addr, None)]);
    for case in [MULTI_STAGE, FAILING] {
        let work = work_dir(&format!("remote-buildkit-{case}"));
        let built = build_from_registry(case, &registry, Some(&builder), &work);
        check_result(case, &built, &pushed);
        let _ = std::fs::remove_dir_all(&work);
    }
}

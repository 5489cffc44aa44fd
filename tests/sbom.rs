//! SBOM attestations (`docker buildx build --sbom=generator=IMAGE`) through mstage, compared with
//! what the reference 1.26 produced, recorded in `tests/sbom/cases/<case>/expected-1.26.json`.
//!
//! The generator is a small scanner built here from `tests/sbom/scanner/` (a shell script that
//! speaks BuildKit's scanner protocol). BuildKit runs it with the default network, which the
//! project's engine lacks (it runs without a bridge), so the engine cannot finish a scan, for the
//! reference either:
//!
//! - `sbom_scan_on_the_engine` checks that mstage gets as far as the reference there: the
//!   generator resolved from the engine's image store and run on the result under the
//!   reference's step name, failing as the reference does (`tests/sbom/engine-1.26.json`).
//! - `sbom_attestations_on_remote_buildkit` builds each case on the BuildKit named by
//!   MSTAGE_REMOTE_BUILDKIT (see tests/registry.rs; its worker runs with the host network), with
//!   the scanner, busybox and the frontend pushed to the local registry, and compares the SPDX
//!   statements in the output (local directory or OCI layout) with the recorded ones. When the
//!   engine holds `peer/dockerfile:1.26.0`, the reference is built too and must match the same
//!   records; MSTAGE_SBOM_RECORD=1 rewrites them from the reference instead.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::builder::{image_present, REFERENCE};
use common::docker::{buildx_build, docker, engine_ready, frontend_image, missing, run, tail};
use common::outputs::{read_json, untar};
use serde_json::{json, Value};

const SCANNER_TAG: &str = "mstage-sbom-scanner:test";
const SPDX: &str = "https://spdx.dev/Document";
const ENGINE_CASE: &str = "scan-stage-and-context";

#[derive(serde::Deserialize)]
struct Case {
    /// `--platform`; empty builds for the builder's platform.
    platforms: String,
    /// Appended to `generator=IMAGE` in `--sbom`.
    params: String,
    build_args: BTreeMap<String, String>,
    /// `local` or `oci`.
    output: String,
}

fn sbom_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sbom")
}

fn cases() -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(sbom_dir().join("cases"))
        .expect("tests/sbom/cases")
        .map(|e| e.expect("case entry").path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    cases.sort();
    cases
}

fn read_case(dir: &Path) -> Case {
    let json = std::fs::read(dir.join("case.json")).expect("case.json");
    serde_json::from_slice(&json).expect("case.json")
}

fn work_dir(name: &str) -> PathBuf {
    let work = std::env::temp_dir().join(format!("mstage-sbom-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    work
}

/// Builds the scanner image into the engine as SCANNER_TAG.
fn build_scanner() {
    let out = buildx_build()
        .args(["-t", SCANNER_TAG])
        .arg(sbom_dir().join("scanner"))
        .output()
        .expect("docker buildx build");
    assert!(
        out.status.success(),
        "building the scanner: {}",
        tail(&String::from_utf8_lossy(&out.stderr))
    );
}

/// The case's context with its Dockerfile behind `# syntax=FRONTEND`.
fn context(case_dir: &Path, frontend: &str, work: &Path) -> PathBuf {
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("context dir");
    common::docker::copy_context(&case_dir.join("context"), &ctx);
    common::docker::write_with_syntax(&case_dir.join("Dockerfile"), &ctx, frontend);
    ctx
}

/// How a build ended: its output folder, or its log when it failed.
type Outcome = Result<PathBuf, String>;

fn build(
    case_dir: &Path,
    frontend: &str,
    scanner: &str,
    builder: Option<&str>,
    work: &Path,
) -> Outcome {
    let case = read_case(case_dir);
    let ctx = context(case_dir, frontend, work);
    let out = work.join("out");
    let mut cmd = match builder {
        // A remote builder has the host network; `--network none` is the engine's need.
        Some(builder) => {
            let mut cmd = docker();
            cmd.args([
                "buildx",
                "build",
                "--progress",
                "plain",
                "--builder",
                builder,
            ]);
            cmd
        }
        None => buildx_build(),
    };
    cmd.arg(format!("--sbom=generator={scanner}{}", case.params));
    if !case.platforms.is_empty() {
        cmd.args(["--platform", &case.platforms]);
    }
    for (key, value) in &case.build_args {
        cmd.args(["--build-arg", &format!("{key}={value}")]);
    }
    let dest = match case.output.as_str() {
        "oci" => format!("type=oci,dest={}", work.join("out.tar").display()),
        _ => format!("type=local,dest={}", out.display()),
    };
    let result = cmd
        .args(["--output", &dest])
        .arg(&ctx)
        .output()
        .expect("docker buildx build");
    let log = String::from_utf8_lossy(&result.stderr).into_owned();
    if !result.status.success() {
        return Err(log);
    }
    if case.output == "oci" {
        untar(&work.join("out.tar"), &out);
    }
    Ok(out)
}

/// The SPDX statements of a local export: each `*.spdx.json` file by its path.
fn local_statements(out: &Path) -> Value {
    let mut found = BTreeMap::new();
    let mut dirs = vec![out.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read output") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().ends_with(".spdx.json") {
                let name = path
                    .strip_prefix(out)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.insert(name, read_json(&path));
            }
        }
    }
    json!(found)
}

fn blob(layout: &Path, digest: &str) -> Value {
    let (algorithm, hex) = digest.split_once(':').expect("digest");
    read_json(&layout.join("blobs").join(algorithm).join(hex))
}

/// The SPDX statements of an OCI layout, by the platform of the image manifest they attest:
/// the layer's annotations and the statement, its subjects' digests named by what they are.
fn oci_statements(layout: &Path) -> Value {
    let index = read_json(&layout.join("index.json"));
    let top = blob(
        layout,
        index["manifests"][0]["digest"]
            .as_str()
            .expect("index digest"),
    );
    let manifests = top["manifests"].as_array().expect("manifest list");
    let platform_of = |digest: &str| {
        let m = manifests
            .iter()
            .find(|m| m["digest"] == digest)
            .expect("attested manifest");
        format!(
            "{}/{}",
            m["platform"]["os"].as_str().unwrap(),
            m["platform"]["architecture"].as_str().unwrap()
        )
    };
    let mut found: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for entry in manifests {
        let annotations = &entry["annotations"];
        if annotations["vnd.docker.reference.type"] != "attestation-manifest" {
            continue;
        }
        let attested = annotations["vnd.docker.reference.digest"]
            .as_str()
            .expect("attested digest");
        let manifest = blob(layout, entry["digest"].as_str().expect("digest"));
        for layer in manifest["layers"].as_array().expect("layers") {
            if layer["annotations"]["in-toto.io/predicate-type"] != SPDX {
                continue;
            }
            let mut statement = blob(layout, layer["digest"].as_str().expect("layer digest"));
            for subject in statement["subject"].as_array_mut().into_iter().flatten() {
                if subject["digest"]["sha256"].as_str() == attested.strip_prefix("sha256:") {
                    subject["digest"] = json!("<the attested image manifest>");
                }
            }
            let record = json!({ "layer": { "mediaType": layer["mediaType"], "annotations": layer["annotations"] }, "statement": statement });
            found.entry(platform_of(attested)).or_default().push(record);
        }
    }
    json!(found)
}

fn statements(case_dir: &Path, out: &Path) -> Value {
    match read_case(case_dir).output.as_str() {
        "oci" => oci_statements(out),
        _ => local_statements(out),
    }
}

/// Tags and pushes a local image to the registry under `name`; returns the pushed reference.
fn push(image: &str, registry: &str, name: &str) -> String {
    let remote = format!("{registry}/{name}");
    run(&["tag", image, &remote]);
    run(&["push", "--quiet", &remote]);
    run(&["image", "rm", &remote]);
    remote
}

#[test]
fn sbom_scan_on_the_engine() {
    if !engine_ready() {
        return;
    }
    build_scanner();
    let case_dir = sbom_dir().join("cases").join(ENGINE_CASE);
    let expected = read_json(&sbom_dir().join("engine-1.26.json"));
    let lines: Vec<&str> = expected["error"]
        .as_array()
        .expect("error lines")
        .iter()
        .map(|l| l.as_str().expect("line"))
        .collect();
    let mut frontends = vec![frontend_image()];
    if image_present(REFERENCE) {
        frontends.push(REFERENCE.to_string());
    }
    for frontend in frontends {
        let work = work_dir("engine");
        let outcome = build(&case_dir, &frontend, SCANNER_TAG, None, &work);
        let log = match outcome {
            Ok(_) => panic!("{frontend}: the scan ran on an engine without a bridge network"),
            Err(log) => log,
        };
        for line in &lines {
            assert!(
                log.contains(line),
                "{frontend}: output lacks {line:?}:\n{}",
                tail(&log)
            );
        }
        let _ = std::fs::remove_dir_all(&work);
    }
}

#[test]
fn sbom_attestations_on_remote_buildkit() {
    let Ok(addr) = std::env::var("MSTAGE_REMOTE_BUILDKIT") else {
        eprintln!(
            "skipping: MSTAGE_REMOTE_BUILDKIT is not set (a buildkitd whose worker has a network, \
             see tests/registry.rs); sbom_scan_on_the_engine covers the engine"
        );
        return;
    };
    if !engine_ready() {
        return;
    }
    let Some(registry) = common::registry::address() else {
        missing("MSTAGE_REMOTE_BUILDKIT is set but no registry answers (hack/registry-up)");
        return;
    };
    build_scanner();
    let scanner = push(SCANNER_TAG, &registry, SCANNER_TAG);
    push("busybox:latest", &registry, "library/busybox:latest");
    let record = std::env::var("MSTAGE_SBOM_RECORD").as_deref() == Ok("1");
    // The reference first, so that a recording is in place before mstage is compared with it.
    let mut frontends = Vec::new();
    if image_present(REFERENCE) {
        frontends.push(push(REFERENCE, &registry, REFERENCE));
    } else {
        assert!(
            !record,
            "MSTAGE_SBOM_RECORD=1 needs {REFERENCE} in the engine"
        );
        eprintln!("no {REFERENCE} in the engine: comparing with the records only");
    }
    frontends.push(push(&frontend_image(), &registry, "mstage-sbom:test"));
    // A buildx builder for the remote BuildKit (the one tests/registry.rs uses).
    let builder = common::nodes::builder(&[(&addr, None)]);
    let mut problems = Vec::new();
    for (name, case_dir) in cases() {
        let expected_path = case_dir.join("expected-1.26.json");
        for frontend in &frontends {
            let is_reference = frontend.ends_with(REFERENCE);
            let work = work_dir(&name);
            let got = match build(&case_dir, frontend, &scanner, Some(&builder), &work) {
                Ok(out) => statements(&case_dir, &out),
                Err(log) => {
                    problems.push(format!("{name} through {frontend} failed:\n{}", tail(&log)));
                    continue;
                }
            };
            let _ = std::fs::remove_dir_all(&work);
            if record && is_reference {
                let text = serde_json::to_string_pretty(&got).expect("json") + "\n";
                std::fs::write(&expected_path, text).expect("write record");
                continue;
            }
            let expected = read_json(&expected_path);
            if got != expected {
                problems.push(format!(
                    "{name} through {frontend}: SPDX statements differ from {}:\n{}",
                    expected_path.display(),
                    serde_json::to_string_pretty(&got).unwrap()
                ));
            }
        }
    }
    common::assert_no_problems(&problems);
}

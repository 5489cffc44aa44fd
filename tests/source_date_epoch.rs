//! SOURCE_DATE_EPOCH through the real engine: what the conformance tools cannot see. Each folder
//! in tests/source_date_epoch/ holds a `Dockerfile` (no syntax line), a `case.json` (build args,
//! the base image, the paths whose modification time matters) and `expected.json`, recorded from
//! the reference frontend: the image's `created`, the `created` of each history entry the build
//! adds (the base image's own entries must stay as they are in that image), and the paths' times.
//!
//! The same cases run again on an engine with the classic image store when
//! MSTAGE_CLASSIC_DOCKER_HOST names one (hack/test starts it): the image must come out the same.
//!
//! Record with `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test
//! source_date_epoch`; review the diff. Needs the engine and the image, like tests/e2e.rs.

mod common;

use common::docker::{buildx_build, docker, engine_ready, tail, write_with_syntax};

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[allow(dead_code)]
    notes: String,
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    /// The image the target is built on, whose history the build must leave as it is.
    base: String,
    /// Paths whose modification time (seconds) is recorded.
    #[serde(default)]
    mtimes: Vec<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
#[serde(deny_unknown_fields)]
struct Observed {
    created: Option<String>,
    /// `created` of the entries after the base image's.
    history: Vec<Option<String>>,
    mtimes: BTreeMap<String, i64>,
}

/// The image config as the image store holds it (`docker save`: OCI layout with a manifest.json).
fn saved_config(image: &str, work: &Path) -> serde_json::Value {
    let dir = work.join(format!("save-{}", image.replace(['/', ':'], "_")));
    std::fs::create_dir_all(&dir).expect("save dir");
    let tar = dir.join("image.tar");
    let status = docker()
        .args(["save", "-o"])
        .arg(&tar)
        .arg(image)
        .status()
        .expect("docker save");
    assert!(status.success(), "docker save {image}");
    untar(&tar, &dir, &["manifest.json"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .expect("manifest JSON");
    // `docker save busybox` saves every tag of the repository (busybox:arm64 too, once
    // hack/emulation-up has made it): take the entry of the name asked for.
    let name = if image.rsplit('/').next().unwrap_or(image).contains(':') {
        image.to_string()
    } else {
        format!("{image}:latest")
    };
    let entry = manifest
        .as_array()
        .and_then(|entries| {
            entries.iter().find(|e| {
                e["RepoTags"]
                    .as_array()
                    .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some(name.as_str())))
            })
        })
        .unwrap_or_else(|| panic!("{name} in docker save's manifest.json: {manifest}"));
    let config_path = entry["Config"].as_str().expect("config path").to_string();
    untar(&tar, &dir, &[&config_path]);
    serde_json::from_slice(&std::fs::read(dir.join(&config_path)).expect("config"))
        .expect("config JSON")
}

fn untar(tar: &Path, into: &Path, members: &[&str]) {
    let status = Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(into)
        .args(members)
        .status()
        .expect("tar");
    assert!(status.success(), "tar -xf {}", tar.display());
}

fn history_created(config: &serde_json::Value) -> Vec<Option<String>> {
    config["history"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|h| h["created"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Modification times of `paths` in the image's filesystem (a created, never started container).
fn mtimes(tag: &str, paths: &[String], work: &Path) -> BTreeMap<String, i64> {
    let id = common::docker::run(&["create", tag, "/none"]);
    let tar = work.join("rootfs.tar");
    let exported = docker()
        .args(["export", "-o"])
        .arg(&tar)
        .arg(&id)
        .status()
        .expect("docker export");
    let _ = docker().args(["rm", &id]).output();
    assert!(exported.success());
    let rootfs = work.join("rootfs");
    std::fs::create_dir_all(&rootfs).expect("rootfs dir");
    untar(&tar, &rootfs, &[]);
    paths
        .iter()
        .map(|p| {
            let meta = std::fs::symlink_metadata(rootfs.join(p.trim_start_matches('/')))
                .unwrap_or_else(|e| panic!("{p} in the image: {e}"));
            (p.clone(), meta.mtime())
        })
        .collect()
}

fn observe(name: &str, dir: &Path, case: &Case, work: &Path) -> Observed {
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("ctx dir");
    write_with_syntax(
        &dir.join("Dockerfile"),
        &ctx,
        &common::docker::frontend_image(),
    );
    let tag = format!("mstage-sde-{}-{name}", std::process::id());
    let mut cmd = buildx_build();
    cmd.args(["-t", &tag]);
    for (k, v) in &case.build_args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    let out = cmd.arg(&ctx).output().expect("docker buildx");
    assert!(
        out.status.success(),
        "{name}: build failed:\n{}",
        tail(&String::from_utf8_lossy(&out.stderr))
    );
    let config = saved_config(&tag, work);
    let times = mtimes(&tag, &case.mtimes, work);
    let _ = docker().args(["image", "rm", "-f", &tag]).output();

    let base = history_created(&saved_config(&case.base, work));
    let history = history_created(&config);
    assert!(
        history.len() >= base.len() && history[..base.len()] == base[..],
        "{name}: the base image's history changed: {history:?}, base {base:?}"
    );
    Observed {
        created: config["created"].as_str().map(str::to_string),
        history: history[base.len()..].to_vec(),
        mtimes: times,
    }
}

#[test]
fn source_date_epoch_cases() {
    if !engine_ready() {
        return;
    }
    let record = std::env::var("MSTAGE_RECORD").as_deref() == Ok("1");
    let mut problems = Vec::new();
    for (name, dir) in &common::case_dirs("source_date_epoch") {
        let case: Case =
            serde_json::from_slice(&std::fs::read(dir.join("case.json")).expect("case.json"))
                .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
        let work = std::env::temp_dir().join(format!("mstage-sde-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        let got = observe(name, dir, &case, &work);
        let _ = std::fs::remove_dir_all(&work);
        let expected_path = dir.join("expected.json");
        if record {
            let text = serde_json::to_string_pretty(&got).expect("JSON") + "\n";
            std::fs::write(&expected_path, text).expect("write expected.json");
            continue;
        }
        let want: Observed = serde_json::from_slice(
            &std::fs::read(&expected_path).expect("expected.json (record it)"),
        )
        .unwrap_or_else(|e| panic!("{name}/expected.json: {e}"));
        let ok = got == want;
        eprintln!("{} {name}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            problems.push(format!("{name}: got {got:?}\n want {want:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The cases again on the classic image store, in a child run of [`source_date_epoch_cases`]
/// pointed at that engine: exporters differ between the stores, the image must not.
#[test]
fn source_date_epoch_cases_on_the_classic_image_store() {
    let Ok(host) = std::env::var("MSTAGE_CLASSIC_DOCKER_HOST") else {
        common::docker::missing(
            "MSTAGE_CLASSIC_DOCKER_HOST (an engine on the classic image store; hack/test starts one)",
        );
        return;
    };
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["source_date_epoch_cases", "--exact", "--nocapture"])
        .env("DOCKER_HOST", &host)
        .env_remove("MSTAGE_RECORD")
        .output()
        .expect("the test binary");
    assert!(
        out.status.success(),
        "on the classic image store ({host}):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        tail(&String::from_utf8_lossy(&out.stderr))
    );
}

//! The cases of tests/named_contexts/ (`--build-context NAME=...`) built through a builder and
//! compared with what the reference built: each folder holds a `Dockerfile` (no syntax line),
//! `flags` (extra `buildx build` arguments, one a line; the build runs in the case's folder, so a
//! relative path names something in it) and `expected/config.json`, recorded from the reference: the
//! built image's config (its layers' diff ids included) without the build's timestamps.
//!
//! A layer that a RUN or WORKDIR made holds files stamped with the time it ran, so its diff id is
//! that builder's cache, not the Dockerfile's: against `expected/config.json` such diff ids are compared
//! as present only. When the reference runs too it builds first and must give the expected
//! config; mstage's must then equal the reference's on the same builder in full (mstage's equal
//! ops come from the reference's cache, diff ids and all).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::builder::{finish, Through, Work};
use super::docker::write_with_syntax;

/// The case folders of tests/named_contexts/ that need no servers or made-up inputs (their
/// `flags` have no `{...}` placeholders, which tests/named_contexts.rs fills in), sorted.
pub fn case_dirs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/named_contexts");
    let self_contained = |p: &PathBuf| {
        let flags = std::fs::read_to_string(p.join("flags")).unwrap_or_default();
        !flags.contains('{') && !p.join("pending").exists()
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/named_contexts")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Dockerfile").is_file())
        .filter(self_contained)
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases in {}", root.display());
    dirs
}

/// Builds every case through `through` (with MSTAGE_RECORD set, records `expected/config.json` from
/// the one frontend); every problem found, with its case.
pub fn check_cases(through: &Through) -> Vec<String> {
    let record = std::env::var_os("MSTAGE_RECORD").is_some();
    let mut problems = Vec::new();
    for dir in &case_dirs() {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        let expected_path = dir
            .join("expected")
            .join(format!("{}config.json", through.expected_prefix));
        let mut reference = None;
        for (frontend, is_reference) in through.frontends() {
            let who = if is_reference {
                "the reference"
            } else {
                "mstage"
            };
            let work = Work::new(&format!("named-{name}-{who}"));
            let got = match built_config(through, dir, frontend, &work.dir) {
                Ok(got) => got,
                Err(e) => {
                    problems.push(format!("{name}: {who} failed: {e}"));
                    break;
                }
            };
            if record {
                let text = serde_json::to_string_pretty(&got).expect("json") + "\n";
                std::fs::write(&expected_path, text).expect("write expected.json");
                eprintln!("recorded {}", expected_path.display());
                continue;
            }
            let expected: Value = serde_json::from_str(
                &std::fs::read_to_string(&expected_path).expect("expected.json"),
            )
            .expect("expected.json parses");
            if masked(&got) != masked(&expected) {
                problems.push(format!(
                    "{name}: {who}'s image config differs from {}\nexpected: {expected}\n     got: {got}",
                    expected_path.display()
                ));
            }
            match &reference {
                None if is_reference => reference = Some(got),
                Some(want) if got != *want => problems.push(format!(
                    "{name}: mstage's image config differs from the reference's on the same \
                     builder\nreference: {want}\n   mstage: {got}"
                )),
                _ => {}
            }
            eprintln!("ok   {name}: {who}");
        }
    }
    problems
}

/// Builds the case with `frontend` into an OCI layout; the image config it wrote, without
/// `created` anywhere.
fn built_config(
    through: &Through,
    case_dir: &Path,
    frontend: &str,
    work: &Path,
) -> Result<Value, String> {
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).map_err(|e| e.to_string())?;
    write_with_syntax(&case_dir.join("Dockerfile"), &ctx, frontend);
    let flags = std::fs::read_to_string(case_dir.join("flags")).unwrap_or_default();
    let layout = work.join("oci");
    let metadata = work.join("metadata.json");
    let mut cmd = through.buildx_build(&metadata);
    cmd.current_dir(case_dir)
        .args(flags.lines().filter(|l| !l.is_empty()))
        .arg(format!(
            "--output=type=oci,tar=false,dest={}",
            layout.display()
        ))
        .arg(&ctx);
    finish(cmd, &metadata)?;
    let blob = |digest: &Value| -> Result<Value, String> {
        let digest = digest.as_str().ok_or("no digest")?;
        let hex = digest.strip_prefix("sha256:").ok_or("not sha256")?;
        let data =
            std::fs::read(layout.join("blobs/sha256").join(hex)).map_err(|e| e.to_string())?;
        serde_json::from_slice(&data).map_err(|e| e.to_string())
    };
    let index: Value = serde_json::from_slice(
        &std::fs::read(layout.join("index.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let mut manifest = blob(&index["manifests"][0]["digest"])?;
    if manifest.get("manifests").is_some() {
        manifest = blob(&manifest["manifests"][0]["digest"])?;
    }
    let mut config = blob(&manifest["config"]["digest"])?;
    strip_created(&mut config);
    Ok(config)
}

fn strip_created(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("created");
            map.values_mut().for_each(strip_created);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_created),
        _ => {}
    }
}

/// The config with the diff ids of layers made by a RUN or WORKDIR (the history entries that are
/// not `empty_layer`, in order, are the layers) replaced by what made them.
pub fn masked(config: &Value) -> Value {
    let mut config = config.clone();
    let made_at_build_time: Vec<Option<String>> = config["history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["empty_layer"] != true)
        .map(|entry| {
            let by = entry["created_by"].as_str().unwrap_or_default();
            ["RUN ", "WORKDIR "]
                .iter()
                .any(|made| by.starts_with(made))
                .then(|| format!("<made at build time by {by}>"))
        })
        .collect();
    if let Some(ids) = config["rootfs"]["diff_ids"].as_array_mut() {
        for (id, made) in ids.iter_mut().zip(made_at_build_time) {
            if let Some(made) = made {
                *id = Value::String(made);
            }
        }
    }
    config
}

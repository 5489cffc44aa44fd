//! Several platforms at once through the real engine: each folder in tests/multi_platform/ is a
//! Dockerfile (no syntax line, no RUN: the engine has no emulation), its `context/` and
//! `case.json` (`platforms`, `build_args`, `outputs`), built with `docker buildx build` into each
//! output (`local`, `tar`, `oci`). What each output holds (files per platform; for OCI also each
//! platform's image config, normalized) must equal `expected/<output>.json`, recorded from the
//! reference with `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test multi_platform`.
//!
//! When the reference image is in the engine, the same build is also run with it first: mstage's
//! per-platform step names (`[linux/amd64->arm64 tools 1/1] COPY ...`) must be the reference's,
//! and each of its steps must then come from the cache (equal cache keys for each platform). Needs the engine and the image; skips without them, except under CI=true.

mod common;

use common::docker::{buildx_build, docker, engine_ready, frontend_image, tail, write_with_syntax};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::{json, Value};

const REFERENCE: &str = "peer/dockerfile:1.26.0";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// `--platform`, as given on the command line.
    platforms: String,
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    outputs: Vec<String>,
}

/// A built output of one case: a working folder kept until the case is checked.
struct Work {
    dir: PathBuf,
}

impl Work {
    fn new(case: &str, what: &str) -> Work {
        let dir =
            std::env::temp_dir().join(format!("mstage-mp-{}-{case}-{what}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("work dir");
        Work { dir }
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The per-platform step names of a plain-progress log (`[linux/arm64 stage-1 2/5] COPY ...`).
/// An image source that several stages or `COPY --from`s share is one vertex shown under any
/// of their names, so image sources are left out.
fn step_names(log: &str) -> std::collections::BTreeSet<String> {
    log.lines()
        .filter_map(|line| line.split_once(' ').map(|(_, rest)| rest))
        .filter(|rest| rest.starts_with("[linux/") && !rest.contains("] FROM "))
        .map(str::to_string)
        .collect()
}

/// A step name without its platform prefix (`[stage-1 2/5] COPY ...`).
fn without_platform(name: &str) -> String {
    match name.split_once(' ') {
        Some((_, rest)) => format!("[{rest}"),
        None => name.to_string(),
    }
}

/// How mstage's step names differ from the reference's. BuildKit shows an op that several
/// platforms share (equal digests) once, under whichever platform's name came first, so names
/// are compared without their platform, and in full only for steps each platform ran alone.
fn name_differences(
    got: &std::collections::BTreeSet<String>,
    want: &std::collections::BTreeSet<String>,
    platforms: usize,
) -> Vec<String> {
    let by_step = |names: &std::collections::BTreeSet<String>| {
        let mut steps: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for name in names {
            steps
                .entry(without_platform(name))
                .or_default()
                .insert(name.clone());
        }
        steps
    };
    let (got, want) = (by_step(got), by_step(want));
    let mut out = Vec::new();
    let (got_steps, want_steps): (Vec<&String>, Vec<&String>) =
        (got.keys().collect(), want.keys().collect());
    if got_steps != want_steps {
        out.push(format!(
            "steps differ from the reference's\n got: {got_steps:?}\nwant: {want_steps:?}"
        ));
    }
    for (step, names) in &want {
        if names.len() == platforms && got.get(step) != Some(names) {
            out.push(format!(
                "{step}: names {:?}, the reference's {names:?}",
                got.get(step)
            ));
        }
    }
    out
}

/// Builds the case with `frontend` into `output`; the build's log, or its failure.
fn build(
    dir: &Path,
    case: &Case,
    frontend: &str,
    output: &str,
    work: &Path,
) -> Result<String, String> {
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("ctx");
    common::docker::copy_context(&dir.join("context"), &ctx);
    write_with_syntax(&dir.join("Dockerfile"), &ctx, frontend);
    let dest = work.join("out");
    let output = match output {
        "local" => format!("type=local,dest={}", dest.display()),
        "tar" | "oci" => format!("type={output},dest={}.tar", dest.display()),
        other => panic!("unknown output {other}"),
    };
    let mut cmd = buildx_build();
    cmd.args(["--platform", &case.platforms, "--output", &output]);
    for (k, v) in &case.build_args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    let out = cmd.arg(&ctx).output().expect("docker buildx");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok(log)
    } else {
        Err(tail(&log))
    }
}

/// What an output holds, in a form that does not change between builds.
fn view(output: &str, work: &Path) -> Value {
    let dest = work.join("out");
    match output {
        "local" => tree(&dest),
        "tar" => {
            let dir = work.join("untarred");
            untar(&work.join("out.tar"), &dir);
            tree(&dir)
        }
        _ => {
            let dir = work.join("layout");
            untar(&work.join("out.tar"), &dir);
            oci_view(&dir)
        }
    }
}

fn untar(tar: &Path, into: &Path) {
    std::fs::create_dir_all(into).expect("untar dir");
    let status = Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(into)
        .status()
        .expect("tar");
    assert!(status.success(), "tar -xf {}", tar.display());
}

/// Every path below `root`: a file's permission bits and content, a folder's `<dir MODE>` or a
/// symlink's `-> target`.
fn tree(root: &Path) -> Value {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    json!(out)
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap_or_default();
            out.insert(name, format!("-> {}", target.display()));
        } else if meta.is_dir() {
            out.insert(name, format!("<dir {:o}>", mode(&meta)));
            walk(root, &path, out);
        } else {
            let data = std::fs::read(&path).unwrap_or_default();
            let text = String::from_utf8_lossy(&data);
            out.insert(name, format!("[{:o}] {text}", mode(&meta)));
        }
    }
}

fn mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

/// Each image of an OCI layout keyed by its platform: its config (times dropped, layer ids
/// counted) and the files of its layers. Attestation manifests are BuildKit's, not the
/// frontend's, and are left out.
fn oci_view(layout: &Path) -> Value {
    let index: Value = read_json(&layout.join("index.json"));
    let mut images = serde_json::Map::new();
    collect_images(layout, &index, &mut images);
    Value::Object(images)
}

fn collect_images(layout: &Path, index: &Value, images: &mut serde_json::Map<String, Value>) {
    for desc in index["manifests"].as_array().into_iter().flatten() {
        if desc["annotations"]["vnd.docker.reference.type"] == "attestation-manifest" {
            continue;
        }
        let blob: Value = read_json(&blob_path(layout, &desc["digest"]));
        if desc["mediaType"]
            .as_str()
            .is_some_and(|m| m.contains("index"))
        {
            collect_images(layout, &blob, images);
            continue;
        }
        let config: Value = read_json(&blob_path(layout, &blob["config"]["digest"]));
        let files = layout.join(format!("rootfs-{}", images.len()));
        for layer in blob["layers"].as_array().into_iter().flatten() {
            untar(&blob_path(layout, &layer["digest"]), &files);
        }
        let mut platform = format!(
            "{}/{}",
            config["os"].as_str().unwrap_or(""),
            config["architecture"].as_str().unwrap_or("")
        );
        if let Some(variant) = config["variant"].as_str() {
            platform = format!("{platform}/{variant}");
        }
        images.insert(
            platform,
            json!({"config": normalized_config(config), "files": tree(&files)}),
        );
    }
}

fn blob_path(layout: &Path, digest: &Value) -> PathBuf {
    let digest = digest.as_str().unwrap_or_default();
    let (algo, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    layout.join("blobs").join(algo).join(hex)
}

fn read_json(path: &Path) -> Value {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&data).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The config without what changes between builds: creation times and layer digests (the
/// files are compared instead; their times differ between builds).
fn normalized_config(mut config: Value) -> Value {
    if let Some(c) = config.as_object_mut() {
        c.remove("created");
        if let Some(ids) = c.get_mut("rootfs").and_then(|r| r.get_mut("diff_ids")) {
            *ids = json!(ids.as_array().map_or(0, Vec::len));
        }
    }
    for entry in config["history"].as_array_mut().into_iter().flatten() {
        if let Some(e) = entry.as_object_mut() {
            e.remove("created");
        }
    }
    config
}

/// The per-platform steps of a plain-progress log (`#12 [linux/arm64 stage-1 2/5] COPY ...`):
/// how many there are, and those that ran instead of coming from the cache. Image metadata
/// loads and image sources are resolved each time, never "CACHED", and are left out.
fn platform_steps(log: &str) -> (usize, Vec<String>) {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut cached = std::collections::BTreeSet::new();
    for line in log.lines() {
        let Some((id, rest)) = line.split_once(' ') else {
            continue;
        };
        if rest == "CACHED" {
            cached.insert(id.to_string());
        } else if rest.starts_with("[linux/")
            && !rest.contains(" internal] ")
            && !rest.contains("] FROM ")
            && !names.contains_key(id)
        {
            names.insert(id.to_string(), rest.to_string());
        }
    }
    let total = names.len();
    let uncached = names
        .into_iter()
        .filter(|(id, _)| !cached.contains(id))
        .map(|(_, name)| name)
        .collect();
    (total, uncached)
}

fn reference_available() -> bool {
    common::docker::succeeds(&docker().args(["image", "inspect", REFERENCE]).output())
}

#[test]
fn multi_platform_cases() {
    if !engine_ready() {
        return;
    }
    let frontend = frontend_image();
    let record = std::env::var_os("MSTAGE_RECORD").is_some();
    let reference = !record && reference_available();
    let mut problems = Vec::new();
    for (name, dir) in &common::case_dirs("multi_platform") {
        let case: Case =
            serde_json::from_slice(&std::fs::read(dir.join("case.json")).expect("case.json"))
                .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
        for output in &case.outputs {
            let label = format!("{name} ({output}, {})", case.platforms);
            let mut reference_steps = None;
            if reference {
                let work = Work::new(name, &format!("{output}-ref"));
                match build(dir, &case, REFERENCE, output, &work.dir) {
                    Ok(log) => reference_steps = Some(step_names(&log)),
                    Err(log) => {
                        problems.push(format!("{label}: the reference failed:\n{log}"));
                        continue;
                    }
                }
            }
            let work = Work::new(name, output);
            let log = match build(dir, &case, &frontend, output, &work.dir) {
                Ok(log) => log,
                Err(log) => {
                    problems.push(format!("{label}: build failed:\n{log}"));
                    continue;
                }
            };
            let got = view(output, &work.dir);
            let expected_file = dir.join("expected").join(format!("{output}.json"));
            if record {
                std::fs::create_dir_all(dir.join("expected")).expect("expected dir");
                let text = serde_json::to_string_pretty(&got).expect("json") + "\n";
                std::fs::write(&expected_file, text).expect("write expected");
                eprintln!("recorded {label}");
                continue;
            }
            let want = read_json(&expected_file);
            if got != want {
                problems.push(format!(
                    "{label}: output differs from the reference's\n got: {}\nwant: {}",
                    serde_json::to_string_pretty(&got).unwrap_or_default(),
                    serde_json::to_string_pretty(&want).unwrap_or_default()
                ));
            }
            if let Some(want) = &reference_steps {
                let got = step_names(&log);
                let platforms = case.platforms.split(',').count();
                for difference in name_differences(&got, want, platforms) {
                    problems.push(format!("{label}: {difference}"));
                }
                let (steps, uncached) = platform_steps(&log);
                if steps == 0 {
                    problems.push(format!(
                        "{label}: no step names its platform:\n{}",
                        tail(&log)
                    ));
                }
                if !uncached.is_empty() {
                    problems.push(format!(
                        "{label}: steps not cached after the reference's build (op digests differ): {uncached:?}"
                    ));
                }
            }
            eprintln!("ok   {label}");
        }
    }
    if !reference && !record {
        eprintln!(
            "note: {REFERENCE} is not in the engine; op digests per platform were not compared"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

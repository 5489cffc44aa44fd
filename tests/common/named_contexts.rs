//! The cases of tests/named_contexts/ (`--build-context NAME=…` of every kind) built through a
//! builder (tests/common/builder.rs: the engine's own BuildKit, or a remote node) and compared
//! with what the reference 1.26 built from the same input.
//!
//! A case is a folder holding a `Dockerfile` (no syntax line) and `flags` (extra `buildx build`
//! arguments, one a line, whose placeholders tests/common/case_inputs.rs fills in: `{case}`,
//! `{git}`, `{git-http}`, `{http}`, `{oci}`, `{busybox-digest}`). An optional `context/` folder is the main build
//! context. `expected/` holds what the reference gave: `llb.json`, the `--call=convertllb`
//! answer canonicalized by tests/common/llb.rs (the ports, paths, layout digest and busybox
//! stand-in's digest as placeholders); `tree.txt`, the built file tree (tests/common/tree.rs);
//! and `config.json`, the image config without timestamps (the stand-in's layer as
//! `{busybox-layer}`). A builder whose result legitimately differs in one of them
//! has its own `expected/<prefix><file>` (see `Through::expected_prefix`), which then replaces
//! the shared file; recording writes it only when it differs from the shared one. The remote
//! node (tests/remote_cases.rs, `remote-`) has its own `llb.json` where a stage starts `FROM` an
//! image: buildx asks the engine's docker driver to resolve images from its store first
//! (`image-resolve-mode=local`, which the frontends put on the image source as
//! `image.resolvemode`), and a remote node to pull them.
//!
//! Layer diff ids: the files of `{case}` directories and git checkouts carry the times of the
//! client's copy or the checkout, so such cases' diff ids are all masked; a layer that a RUN or
//! WORKDIR made holds files stamped with the time it ran, so its diff id is that builder's
//! cache, not the Dockerfile's, and is compared with the expected one as present only. So is a
//! layer that COPYs what a RUN made, or the folder of an http source (dated when the builder
//! first fetched it), which no history entry tells apart: the shared `config.json` notes such a
//! layer's diff id (a text, not `sha256:`; found by building again with `--no-cache` and on
//! another builder), a note matches any diff id, and recording keeps the notes; where a layer's
//! diff id on a builder with its own files differs from the shared one, recording notes it
//! there. When the reference runs too it builds first and must give the expected outcome;
//! mstage's must then equal the reference's on the same builder in full (mstage's equal ops
//! come from the reference's cache, layers made at build time and all).
//!
//! A case with a `pending` file (saying what mstage does not do yet) is skipped with that reason
//! unless `MSTAGE_PENDING=1`; `MSTAGE_ONLY=<case>` runs one case. Record with `MSTAGE_RECORD=1
//! MSTAGE_IMAGE=peer/dockerfile:1.26.0`; review the diff.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::builder::{finish, verdict, who, Through, Work};
use super::case_inputs::Inputs;
use super::docker::{copy_context, missing, tail, write_with_syntax};
use super::serve::git_available;

/// What one frontend made of a case.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub llb: Value,
    pub tree: String,
    pub config: Value,
}

/// The files of `expected/` an outcome is recorded in.
const PARTS: [&str; 3] = ["llb.json", "tree.txt", "config.json"];

/// The case folders of tests/named_contexts/, sorted, with their names.
pub fn case_dirs() -> Vec<(String, PathBuf)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/named_contexts");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/named_contexts")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases in {}", root.display());
    dirs.into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap_or_default().to_string_lossy().into();
            (name, dir)
        })
        .collect()
}

/// Whether the case is to run here; says why not when it is not.
fn runs(name: &str, dir: &Path) -> bool {
    let only = std::env::var("MSTAGE_ONLY").ok();
    if only.is_some_and(|o| o != name) {
        return false;
    }
    if let Ok(reason) = std::fs::read_to_string(dir.join("pending")) {
        if std::env::var_os("MSTAGE_PENDING").is_none() {
            eprintln!(
                "skipping {name} (MSTAGE_PENDING=1 runs it): {}",
                reason.trim()
            );
            return false;
        }
    }
    if dir.join("git").is_dir() && !git_available() {
        missing(&format!("git, for case {name}"));
        return false;
    }
    true
}

/// Builds every case through `through` with each of its frontends (with MSTAGE_RECORD set,
/// records `expected/` from the one frontend); every problem found, with its case.
pub fn check_cases(through: &Through) -> Vec<String> {
    let record = std::env::var_os("MSTAGE_RECORD").is_some();
    let prefix = through.expected_prefix;
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, dir) in case_dirs().iter().filter(|(n, d)| runs(n, d)) {
        let work = Work::new(&format!("named-{name}"));
        let inputs = match Inputs::prepare(dir, &work.dir) {
            Ok(inputs) => inputs,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        let mut reference = None;
        for (frontend, is_reference) in through.frontends() {
            let before = problems.len();
            let who = who(is_reference);
            let got = match run_case(through, dir, &inputs, frontend, is_reference) {
                Ok(got) => got,
                Err(e) => {
                    problems.push(format!("{name}: {who} failed: {e}"));
                    break;
                }
            };
            checked += 1;
            if record {
                write_expected(&dir.join("expected"), prefix, &got);
                eprintln!("recorded {name}");
                continue;
            }
            match read_expected(&dir.join("expected"), prefix) {
                Ok(want) => problems.extend(
                    differences(&want, &got, configs_agree)
                        .into_iter()
                        .map(|d| format!("{name}: {who}: {d}")),
                ),
                Err(e) => problems.push(format!("{name}: {e}")),
            }
            match &reference {
                None if is_reference => reference = Some(got),
                Some(want) => {
                    problems.extend(differences(want, &got, Value::eq).into_iter().map(|d| {
                        format!(
                            "{name}: mstage differs from the reference on the same builder: {d}"
                        )
                    }))
                }
                None => {}
            }
            eprintln!("{}  {name}: {who}", verdict(problems.len() - before));
        }
    }
    assert!(checked > 0 || !problems.is_empty(), "no case was built");
    problems
}

/// The case built with `frontend`: its conversion, then its file tree and image config.
fn run_case(
    through: &Through,
    case_dir: &Path,
    inputs: &Inputs,
    frontend: &str,
    is_reference: bool,
) -> Result<Outcome, String> {
    let tag = if is_reference { "reference" } else { "mstage" };
    let work = inputs.work().join(tag);
    let main = work.join("main");
    std::fs::create_dir_all(&main).map_err(|e| e.to_string())?;
    copy_context(&case_dir.join("context"), &main);
    write_with_syntax(&case_dir.join("Dockerfile"), &main, frontend);
    let raw_flags = std::fs::read_to_string(case_dir.join("flags")).unwrap_or_default();
    let flags: Vec<String> = raw_flags
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| inputs.expand(l))
        .collect();

    let call = through
        .buildx_build(&work.join("call-metadata.json"))
        .arg("--call=convertllb")
        .args(&flags)
        .arg(&main)
        .output()
        .map_err(|e| e.to_string())?;
    let llb = super::llb::result_json(&String::from_utf8_lossy(&call.stdout)).ok_or_else(|| {
        format!(
            "convertllb gave no result.json: {}",
            tail(&String::from_utf8_lossy(&call.stderr))
        )
    })?;
    let placeholders = inputs.placeholders();
    let llb = super::llb::canonical(&llb, &placeholders);

    let tar = work.join("out.tar");
    let layout = work.join("out-oci");
    let metadata = work.join("metadata.json");
    let mut build = through.buildx_build(&metadata);
    build
        .args(&flags)
        .arg(format!("--output=type=tar,dest={}", tar.display()))
        .arg(format!(
            "--output=type=oci,tar=false,dest={}",
            layout.display()
        ))
        .arg(&main);
    finish(build, &metadata).map_err(|log| format!("build failed: {log}"))?;
    let tree = super::tree::listing(&tar, &work.join("tree"))?;
    let config = super::oci::config_without_times(&layout)?;
    let mut config = super::llb::with_replaced(&config, &placeholders);
    if raw_flags.contains("{case}") || raw_flags.contains("{git") {
        if let Some(ids) = config["rootfs"]["diff_ids"].as_array_mut() {
            ids.iter_mut()
                .for_each(|id| *id = Value::String("(varies with file times)".into()));
        }
    }
    Ok(Outcome { llb, tree, config })
}

/// `expected/<prefix><part>` when the builder has its own, else the shared `expected/<part>`.
fn expected_file(dir: &Path, prefix: &str, part: &str) -> PathBuf {
    let own = dir.join(format!("{prefix}{part}"));
    if prefix.is_empty() || !own.is_file() {
        dir.join(part)
    } else {
        own
    }
}

fn read_expected(dir: &Path, prefix: &str) -> Result<Outcome, String> {
    let read = |part: &str| {
        let path = expected_file(dir, prefix, part);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let json = |part: &str| -> Result<Value, String> {
        serde_json::from_str(&read(part)?).map_err(|e| format!("expected/{prefix}{part}: {e}"))
    };
    Ok(Outcome {
        llb: json("llb.json")?,
        tree: read("tree.txt")?,
        config: json("config.json")?,
    })
}

/// Records `outcome`: in the shared files, or (a builder with a prefix) in its own files for
/// the parts that differ from the shared ones, removing its own files of the parts that agree.
fn write_expected(dir: &Path, prefix: &str, outcome: &Outcome) {
    std::fs::create_dir_all(dir).expect("expected/");
    let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("json") + "\n";
    let texts = [
        pretty(&outcome.llb),
        outcome.tree.clone(),
        pretty(&outcome.config),
    ];
    let shared = read_expected(dir, "").ok();
    for (index, (part, mut text)) in PARTS.iter().zip(texts).enumerate() {
        let own = dir.join(format!("{prefix}{part}"));
        let agrees = shared.as_ref().is_some_and(|shared| match index {
            0 => shared.llb == outcome.llb,
            1 => shared.tree == outcome.tree,
            _ => configs_agree(&shared.config, &outcome.config),
        });
        if prefix.is_empty() {
            if let (2, Some(shared)) = (index, &shared) {
                text = pretty(&notes_kept(&shared.config, &outcome.config));
            }
            std::fs::write(&own, text).expect("write expected");
        } else if agrees {
            let _ = std::fs::remove_file(&own);
        } else {
            if let (2, Some(shared)) = (index, &shared) {
                text = pretty(&noted_differing_layers(&shared.config, &outcome.config));
                eprintln!(
                    "{}: layers differing from the shared config are noted as made at build \
                     time; check that they are",
                    own.display()
                );
            }
            std::fs::write(&own, text).expect("write expected");
        }
    }
}

/// What a layer's diff id is replaced with when it differs from the shared expectation only
/// because the layer was made at build time (a builder's cache keeps the first one made).
const MADE_HERE: &str = "(made at build time: holds what a RUN made, or an http source's folder \
                         dated when the builder fetched it; varies with the builder's cache)";

/// `got` with the diff ids that `recorded` notes instead of giving noted again, so recording
/// anew keeps what a reviewer found to vary.
fn notes_kept(recorded: &Value, got: &Value) -> Value {
    let mut got = got.clone();
    let notes = recorded["rootfs"]["diff_ids"].as_array();
    if let (Some(ids), Some(notes)) = (got["rootfs"]["diff_ids"].as_array_mut(), notes) {
        if ids.len() == notes.len() {
            ids.iter_mut()
                .zip(notes)
                .filter(|(_, n)| !n.as_str().is_some_and(|n| n.starts_with("sha256:")))
                .for_each(|(id, n)| *id = n.clone());
        }
    }
    got
}

/// `got` with each diff id that differs from `shared`'s replaced by a note, when the configs
/// differ in nothing else (else `got` as it is, for the reviewer to see).
fn noted_differing_layers(shared: &Value, got: &Value) -> Value {
    let mut noted = got.clone();
    let shared_ids = shared["rootfs"]["diff_ids"].as_array();
    if let (Some(ids), Some(shared_ids)) = (noted["rootfs"]["diff_ids"].as_array_mut(), shared_ids)
    {
        if ids.len() == shared_ids.len() {
            ids.iter_mut()
                .zip(shared_ids)
                .filter(|(id, shared)| id != shared)
                .for_each(|(id, _)| *id = Value::String(MADE_HERE.into()));
        }
    }
    if masked(&with_ids_of(&noted, shared)) == masked(shared) {
        noted
    } else {
        got.clone()
    }
}

/// `config` with the diff ids of `other`, when both have as many.
fn with_ids_of(config: &Value, other: &Value) -> Value {
    let mut config = config.clone();
    if other["rootfs"]["diff_ids"].as_array().map(Vec::len)
        == config["rootfs"]["diff_ids"].as_array().map(Vec::len)
    {
        config["rootfs"]["diff_ids"] = other["rootfs"]["diff_ids"].clone();
    }
    config
}

/// Whether `got` is the `want` config: equal but for the diff ids of layers made at build time
/// (`masked`) and those `want` notes instead of giving (not `sha256:…`), which match any.
fn configs_agree(want: &Value, got: &Value) -> bool {
    masked(want) == masked(&notes_kept(want, got))
}

/// How `got` differs from `want`, one paragraph per part that differs; image configs are the
/// same when `same_config` says so.
fn differences(
    want: &Outcome,
    got: &Outcome,
    same_config: fn(&Value, &Value) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    if want.llb != got.llb {
        out.push(format!(
            "LLB differs\n--- want\n{}\n--- got\n{}",
            pretty(&want.llb),
            pretty(&got.llb)
        ));
    }
    if want.tree != got.tree {
        out.push(format!(
            "file tree differs\n--- want\n{}--- got\n{}",
            want.tree, got.tree
        ));
    }
    if !same_config(&want.config, &got.config) {
        out.push(format!(
            "image config differs\n--- want\n{}\n--- got\n{}",
            pretty(&want.config),
            pretty(&got.config)
        ));
    }
    out
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

//! The cases of tests/multi_platform/ (several platforms at once) built through a builder and
//! compared with what the reference built: each folder is a Dockerfile (no syntax line), its
//! `context/` and `case.json` (`platforms`, `build_args`, `outputs`, `emulation`), built with `docker buildx
//! build` into each output (`local`, `tar`, `oci`). What each output holds must equal the
//! builder's `expected/<prefix><output>.json` (see `Through::expected_prefix`), recorded from the
//! reference with MSTAGE_RECORD=1 and MSTAGE_IMAGE=peer/dockerfile:1.26.0.
//!
//! When the reference runs too it builds first, and must give the expected output as well;
//! mstage's per-platform step names (`[linux/amd64->arm64 tools 1/1] COPY ...`) must then be the
//! reference's and each of its steps must come from the cache (equal cache keys per platform).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::builder::{finish, who, Built, Through, Work};
use super::docker::{copy_context, emulation_ready, tail, write_with_syntax};
use super::outputs::{read_json, view};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// `--platform`, as given on the command line.
    pub platforms: String,
    #[serde(default)]
    pub build_args: BTreeMap<String, String>,
    pub outputs: Vec<String>,
    /// The case RUNs steps for linux/arm64 (from busybox:multi-platform): it needs arm64
    /// emulation (hack/emulation-up) and skips without it, except under CI=true.
    #[serde(default)]
    pub emulation: bool,
}

impl Case {
    pub fn platforms(&self) -> Vec<&str> {
        self.platforms.split(',').collect()
    }
}

/// Builds each case of tests/multi_platform/ that `wanted` selects (by case and output) through
/// `through`, then runs `verify` on each finished build (mstage's and the reference's); every
/// problem found, with its case.
pub fn check_cases(
    through: &Through,
    wanted: &dyn Fn(&Case, &str) -> bool,
    verify: &dyn Fn(&Case, &Built) -> Vec<String>,
) -> Vec<String> {
    let record = std::env::var_os("MSTAGE_RECORD").is_some();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, dir) in &super::case_dirs("multi_platform") {
        let case: Case =
            serde_json::from_slice(&std::fs::read(dir.join("case.json")).expect("case.json"))
                .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
        if case.emulation && !emulation_ready() {
            continue;
        }
        for output in case.outputs.iter().filter(|o| wanted(&case, o)) {
            let label = format!("{name} ({output}, {})", case.platforms);
            let expected = dir
                .join("expected")
                .join(format!("{}{output}.json", through.expected_prefix));
            let mut reference_log = None;
            for (frontend, is_reference) in through.frontends() {
                let who = who(is_reference);
                let work = Work::new(&format!("mp-{name}-{output}-{who}"));
                let built = match build(through, dir, &case, frontend, output, &work.dir) {
                    Ok(built) => built,
                    Err(log) => {
                        problems.push(format!("{label}: {who} failed:\n{log}"));
                        break;
                    }
                };
                checked += 1;
                let got = view(output, &work.dir);
                if record {
                    std::fs::create_dir_all(dir.join("expected")).expect("expected dir");
                    let text = serde_json::to_string_pretty(&got).expect("json") + "\n";
                    std::fs::write(&expected, text).expect("write expected");
                    eprintln!("recorded {label} in {}", expected.display());
                    continue;
                }
                let want = read_json(&expected);
                if got != want {
                    problems.push(format!(
                        "{label}: {who}'s output differs from {}\n got: {}\nwant: {}",
                        expected.display(),
                        serde_json::to_string_pretty(&got).unwrap_or_default(),
                        serde_json::to_string_pretty(&want).unwrap_or_default()
                    ));
                }
                problems.extend(
                    verify(&case, &built)
                        .into_iter()
                        .map(|p| format!("{label}: {who}: {p}")),
                );
                if is_reference {
                    reference_log = Some(built.log);
                } else if let Some(reference) = &reference_log {
                    let platforms = case.platforms().len();
                    problems.extend(
                        agreement(&built.log, reference, platforms)
                            .into_iter()
                            .map(|p| format!("{label}: {p}")),
                    );
                }
                eprintln!("ok   {label}: {who}");
            }
        }
    }
    assert!(checked > 0 || !problems.is_empty(), "no case was built");
    problems
}

/// Builds the case with `frontend` into `output` (under `work`: `out` or `out.tar`).
fn build(
    through: &Through,
    dir: &Path,
    case: &Case,
    frontend: &str,
    output: &str,
    work: &Path,
) -> Result<Built, String> {
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("ctx");
    copy_context(&dir.join("context"), &ctx);
    write_with_syntax(&dir.join("Dockerfile"), &ctx, frontend);
    let dest = work.join("out");
    let output = match output {
        "local" => format!("type=local,dest={}", dest.display()),
        "tar" | "oci" => format!("type={output},dest={}.tar", dest.display()),
        other => panic!("unknown output {other}"),
    };
    let metadata = work.join("metadata.json");
    let mut cmd = through.buildx_build(&metadata);
    cmd.args(["--platform", &case.platforms, "--output", &output]);
    for (k, v) in &case.build_args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    cmd.arg(&ctx);
    finish(cmd, &metadata)
}

/// How mstage's build (its `log`) differs from the reference's that ran just before: its step
/// names, and steps that did not come from the reference's cache.
fn agreement(log: &str, reference: &str, platforms: usize) -> Vec<String> {
    let mut problems = name_differences(&step_names(log), &step_names(reference), platforms);
    let (steps, uncached) = platform_steps(log);
    if steps == 0 {
        problems.push(format!("no step names its platform:\n{}", tail(log)));
    }
    if !uncached.is_empty() {
        problems.push(format!(
            "steps not cached after the reference's build (op digests differ): {uncached:?}"
        ));
    }
    problems
}

/// The per-platform step names of a plain-progress log (`[linux/arm64 stage-1 2/5] COPY ...`).
/// An image source that several stages or `COPY --from`s share is one vertex shown under any
/// of their names, so image sources are left out.
fn step_names(log: &str) -> BTreeSet<String> {
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
    got: &BTreeSet<String>,
    want: &BTreeSet<String>,
    platforms: usize,
) -> Vec<String> {
    let by_step = |names: &BTreeSet<String>| {
        let mut steps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
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

/// The per-platform steps of a plain-progress log (`#12 [linux/arm64 stage-1 2/5] COPY ...`):
/// how many there are, and those that ran instead of coming from the cache. Image metadata
/// loads and image sources are resolved each time, never "CACHED", and are left out.
fn platform_steps(log: &str) -> (usize, Vec<String>) {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut cached = BTreeSet::new();
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

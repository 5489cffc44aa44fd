//! Bake projects of tests/bake_compose/ built with `docker buildx bake` through a builder
//! (tests/common/builder.rs: the engine's own BuildKit, or `--builder` of remote nodes) and
//! compared with what the reference built, recorded in tests/bake_compose/expected/
//! (`<project>-<target>-tree.txt` and `-config.json`; a builder whose result legitimately differs
//! has its own `<expected_prefix><project>-…` files, which replace the shared ones). Compared: the
//! built file tree (tests/common/tree.rs) and the image config without timestamps or layer diff
//! ids (the directories' file times come from the client). When the reference runs too it
//! builds first; mstage's outcome must then equal it.
//!
//! Each `Dockerfile*` of a project gets `# syntax=<frontend>`, and the build must name that image
//! in its progress (the syntax line is honoured, not bypassed).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use super::builder::{verdict, who, Through, Work};
use super::docker::{copy_context, docker, tail};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bake_compose")
}

/// A build's file tree and image config.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    pub tree: String,
    pub config: Value,
}

/// A copy of the project `name` in `work`, each `Dockerfile*` behind `# syntax=<frontend>`.
pub fn project(name: &str, work: &Path, frontend: &str) -> Result<PathBuf, String> {
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let source = data_dir().join(name);
    copy_context(&source, &dir);
    for entry in std::fs::read_dir(&source).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        if file_name.starts_with("Dockerfile") {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            std::fs::write(
                dir.join(&*file_name),
                format!("# syntax={frontend}\n{text}"),
            )
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(dir)
}

/// Fails unless the build's output shows BuildKit loading `frontend` as the syntax image.
pub fn check_frontend_used(out: &Output, frontend: &str) -> Result<(), String> {
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("build failed: {}", tail(&text)));
    }
    let resolved = text.lines().any(|l| {
        l.contains("resolve image config for docker-image://") && l.trim_end().ends_with(frontend)
    });
    if resolved {
        Ok(())
    } else {
        Err(format!(
            "the build did not load the syntax image {frontend}: {}",
            tail(&text)
        ))
    }
}

/// The tree of the tar output and the config of the OCI layout, diff ids masked.
pub fn outcome(tar: &Path, layout: &Path, scratch: &Path) -> Result<Outcome, String> {
    let tree = super::tree::listing(tar, scratch)?;
    let mut config = super::oci::config_without_times(layout)?;
    if let Some(ids) = config["rootfs"]["diff_ids"].as_array_mut() {
        ids.iter_mut()
            .for_each(|id| *id = Value::String("(varies with file times)".into()));
    }
    Ok(Outcome { tree, config })
}

/// `docker buildx bake <targets>` of the project `name` through `through` with `frontend`; the
/// outcome of each target of `outputs`, whose outputs the bake file sets to `out-<target>.tar`
/// and `out-<target>-oci`.
fn bake(
    through: &Through,
    name: &str,
    targets: &[&str],
    outputs: &[&str],
    work: &Path,
    frontend: &str,
) -> Result<Vec<(String, Outcome)>, String> {
    let dir = project(name, work, frontend)?;
    let mut cmd = docker();
    cmd.args(["buildx", "bake", "--progress", "plain"]);
    if let Some(builder) = &through.builder {
        cmd.args(["--builder", builder]);
    }
    let out = cmd
        .args(targets)
        .current_dir(&dir)
        .output()
        .map_err(|e| e.to_string())?;
    check_frontend_used(&out, frontend)?;
    outputs
        .iter()
        .map(|target| {
            let got = outcome(
                &dir.join(format!("out-{target}.tar")),
                &dir.join(format!("out-{target}-oci")),
                &dir.join(format!("tree-{target}")),
            )?;
            Ok((format!("{name}-{target}"), got))
        })
        .collect()
}

/// Bakes `targets` of the project `name` through `through` with each of its frontends and
/// checks each target of `outputs` against its recorded outcome (or records it); the problems.
pub fn check_bake(
    through: &Through,
    name: &str,
    targets: &[&str],
    outputs: &[&str],
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut reference: Option<Vec<(String, Outcome)>> = None;
    for (frontend, is_reference) in through.frontends() {
        let before = problems.len();
        let who = who(is_reference);
        let work = Work::new(&format!("bake-{name}-{who}"));
        let built = match bake(through, name, targets, outputs, &work.dir, frontend) {
            Ok(built) => built,
            Err(e) => {
                problems.push(format!("bake {name}: {who}: {e}"));
                break;
            }
        };
        for (prefix, got) in &built {
            let what = format!("bake {prefix}: {who}");
            check(through.expected_prefix, prefix, &what, got, &mut problems);
        }
        match &reference {
            None if is_reference => reference = Some(built),
            Some(want) if *want != built => problems.push(format!(
                "bake {name}: mstage differs from the reference on the same builder\n\
                 --- reference\n{want:?}\n--- mstage\n{built:?}"
            )),
            _ => {}
        }
        eprintln!("{}  bake {name}: {who}", verdict(problems.len() - before));
    }
    problems
}

/// `expected/<builder_prefix><prefix>-<part>` when the builder has its own, else the shared one.
fn expected_file(builder_prefix: &str, prefix: &str, part: &str) -> PathBuf {
    let dir = data_dir().join("expected");
    let own = dir.join(format!("{builder_prefix}{prefix}-{part}"));
    if builder_prefix.is_empty() || !own.is_file() {
        dir.join(format!("{prefix}-{part}"))
    } else {
        own
    }
}

pub fn read_expected(builder_prefix: &str, prefix: &str) -> Result<Outcome, String> {
    let read = |part: &str| {
        let path = expected_file(builder_prefix, prefix, part);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    Ok(Outcome {
        tree: read("tree.txt")?,
        config: serde_json::from_str(&read("config.json")?).map_err(|e| e.to_string())?,
    })
}

/// Records `outcome` in the shared files, or (a builder with a prefix) in its own files when it
/// differs from the shared ones.
fn write_expected(builder_prefix: &str, prefix: &str, outcome: &Outcome) {
    let dir = data_dir().join("expected");
    std::fs::create_dir_all(&dir).expect("expected/");
    let shared = read_expected("", prefix).ok();
    let own = |part: &str| dir.join(format!("{builder_prefix}{prefix}-{part}"));
    if !builder_prefix.is_empty() && shared.as_ref() == Some(outcome) {
        let _ = std::fs::remove_file(own("tree.txt"));
        let _ = std::fs::remove_file(own("config.json"));
        return;
    }
    let config = serde_json::to_string_pretty(&outcome.config).expect("json") + "\n";
    std::fs::write(own("tree.txt"), &outcome.tree).expect("write tree");
    std::fs::write(own("config.json"), config).expect("write config");
}

/// Compares `got` with the recorded `prefix` outcome (or records it with MSTAGE_RECORD set),
/// adding what differs.
pub fn check(
    builder_prefix: &str,
    prefix: &str,
    what: &str,
    got: &Outcome,
    problems: &mut Vec<String>,
) {
    if std::env::var_os("MSTAGE_RECORD").is_some() {
        write_expected(builder_prefix, prefix, got);
        return;
    }
    match read_expected(builder_prefix, prefix) {
        Err(e) => problems.push(format!("{what}: {e}")),
        Ok(want) if want == *got => {}
        Ok(want) => problems.push(format!(
            "{what}: differs from the reference\n--- want\n{}{}\n--- got\n{}{}",
            want.tree,
            serde_json::to_string_pretty(&want.config).unwrap_or_default(),
            got.tree,
            serde_json::to_string_pretty(&got.config).unwrap_or_default()
        )),
    }
}

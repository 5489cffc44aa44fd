//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

/// The conformance corpus (`../shared/conformance`, or `MSTAGE_CONFORMANCE_DIR`). Absent, a test
/// skips with a message, except under `CI=true`, where a missing corpus is a failure.
#[allow(dead_code)]
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MSTAGE_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"));
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "conformance corpus not found at {} (CI=true requires it)",
            dir.display()
        );
    }
    eprintln!(
        "skipping: conformance corpus not found at {} (set MSTAGE_CONFORMANCE_DIR)",
        dir.display()
    );
    None
}

/// The case folders under `tests/<folder>` (those holding a `case.json`), sorted, with their
/// names; a folder without cases is a failure, not a pass.
#[allow(dead_code)]
pub fn case_dirs(folder: &str) -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(folder);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases in {}", root.display());
    dirs.into_iter()
        .map(|dir| {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, dir)
        })
        .collect()
}

#[allow(dead_code)]
pub mod docker;

#[allow(dead_code)]
pub mod llb;

#[allow(dead_code)]
pub mod oci;

#[allow(dead_code)]
pub mod registry;

#[allow(dead_code)]
pub mod bake;

#[allow(dead_code)]
pub mod builder;

#[allow(dead_code)]
pub mod case_inputs;

#[allow(dead_code)]
pub mod multi_platform;

#[allow(dead_code)]
pub mod named_contexts;

#[allow(dead_code)]
pub mod nodes;

#[allow(dead_code)]
pub mod outputs;

#[allow(dead_code)]
pub mod serve;

#[allow(dead_code)]
pub mod tree;

/// Fails with every case's problems listed, so one run shows them all.
#[allow(dead_code)]
pub fn assert_no_problems(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

//! BuildKit's parser corpus: every `testfiles/*/Dockerfile` must dump exactly as its `result`,
//! every `testfiles-negative/*/Dockerfile` must be rejected.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn case_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases in {}", dir.display());
    dirs
}

fn name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", path.display()))
}

#[test]
fn positive_cases_dump_exactly() {
    let Some(root) = common::conformance_dir() else {
        return;
    };
    let mut failures = Vec::new();
    for dir in case_dirs(&root.join("parser/testfiles")) {
        let expected = read(&dir.join("result"));
        match mstage::syntax::parse(&read(&dir.join("Dockerfile"))) {
            Ok(df) => {
                let got = mstage::syntax::dump(&df) + "\n";
                if got != expected {
                    failures.push(format!(
                        "{}:\n--- expected\n{expected}--- got\n{got}",
                        name(&dir)
                    ));
                }
            }
            Err(e) => failures.push(format!(
                "{}: unexpected error at line {}: {e}",
                name(&dir),
                e.line
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn negative_cases_are_rejected() {
    let Some(root) = common::conformance_dir() else {
        return;
    };
    let accepted: Vec<String> = case_dirs(&root.join("parser/testfiles-negative"))
        .into_iter()
        .filter(|dir| mstage::syntax::parse(&read(&dir.join("Dockerfile"))).is_ok())
        .map(|dir| name(&dir))
        .collect();
    assert!(accepted.is_empty(), "accepted: {accepted:?}");
}

/// The `mstage parse --dump` binary on a couple of corpus cases, and its error format.
#[test]
fn cli_dump_matches_corpus() {
    let Some(root) = common::conformance_dir() else {
        return;
    };
    for case in ["env", "ADD-COPY-with-JSON", "escape"] {
        let dir = root.join("parser/testfiles").join(case);
        let out = Command::new(env!("CARGO_BIN_EXE_mstage"))
            .args(["parse", "--dump"])
            .arg(dir.join("Dockerfile"))
            .output()
            .expect("running mstage");
        assert!(
            out.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            read(&dir.join("result")),
            "{case}"
        );
    }
    let bad = root.join("parser/testfiles-negative/env_no_value/Dockerfile");
    let out = Command::new(env!("CARGO_BIN_EXE_mstage"))
        .args(["parse", "--dump"])
        .arg(&bad)
        .output()
        .expect("running mstage");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("{}:3: ENV must have two arguments\n", bad.display())
    );
}

//! Helpers shared by the integration tests.

use std::path::PathBuf;

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

#[allow(dead_code)]
pub mod docker;

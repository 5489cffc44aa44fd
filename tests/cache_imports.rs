//! `--cache-from` reaches BuildKit's solve of the build, as the reference's `cache-imports`
//! does: BuildKit reports importing each cache (here ones that cannot be had, a registry on a
//! closed loopback port and a missing local directory, so the build still succeeds without
//! them). The reference gives the same lines when it is in the engine.

mod common;

use common::builder::{image_present, REFERENCE};
use common::docker::{buildx_build, engine_ready, frontend_image, tail, write_with_syntax};

/// What BuildKit prints about importing the two caches.
const EXPECTED: &[&str] = &[
    "importing cache manifest from 127.0.0.1:9/mstage-cache:x",
    "local cache import at /nonexistent/mstage-cache not found",
];

/// The build's output lines that mention the caches, or why it failed.
fn cache_lines(frontend: &str) -> Result<String, String> {
    let work = std::env::temp_dir().join(format!(
        "mstage-cache-imports-{}-{}",
        std::process::id(),
        frontend.replace(['/', ':'], "_")
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let dockerfile = work.join("Dockerfile.src");
    std::fs::write(&dockerfile, "FROM scratch\nCOPY Dockerfile /\n").map_err(|e| e.to_string())?;
    write_with_syntax(&dockerfile, &work, frontend);
    let out = buildx_build()
        .args([
            "--cache-from",
            "type=registry,ref=127.0.0.1:9/mstage-cache:x",
            "--cache-from",
            "type=local,src=/nonexistent/mstage-cache",
            "--output",
            "type=tar,dest=/dev/null",
        ])
        .arg(&work)
        .output()
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&work);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(tail(&stderr));
    }
    Ok(stderr.into_owned())
}

#[test]
fn cache_imports_reach_the_solve() {
    if !engine_ready() {
        return;
    }
    let mut frontends = vec![frontend_image()];
    if image_present(REFERENCE) {
        frontends.push(REFERENCE.to_string());
    } else {
        eprintln!("{REFERENCE} is not in the engine; checking mstage alone");
    }
    for frontend in frontends {
        let lines = cache_lines(&frontend).unwrap_or_else(|e| panic!("{frontend}: {e}"));
        for expected in EXPECTED {
            assert!(
                lines.contains(expected),
                "{frontend}: no {expected:?} in\n{}",
                tail(&lines)
            );
        }
    }
}

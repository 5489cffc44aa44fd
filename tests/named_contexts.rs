//! Named contexts (`--build-context NAME=...`) through the engine's own BuildKit: the cases of
//! tests/named_contexts/ (see tests/common/named_contexts.rs for their layout and what is
//! compared). The same cases run on a remote BuildKit node in tests/remote_cases.rs.
//!
//! Record with `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test
//! named_contexts`; review the diff. Needs the engine and the image, like tests/e2e.rs.

mod common;

use common::builder::Through;
use common::docker::{buildx_build, engine_ready, frontend_image, tail, write_with_syntax};

#[test]
fn image_contexts_build_what_the_reference_builds() {
    if !engine_ready() {
        return;
    }
    let problems = common::named_contexts::check_cases(&Through::local_engine());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// A local directory context reaches mstage (the contexts cap is claimed) and is refused by name
/// and kind rather than built from something else.
#[test]
fn local_contexts_are_refused_by_name() {
    if std::env::var_os("MSTAGE_RECORD").is_some() || !engine_ready() {
        return;
    }
    let work = std::env::temp_dir().join(format!("mstage-named-local-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (ctx, dir) = (work.join("ctx"), work.join("dir"));
    std::fs::create_dir_all(&ctx).expect("ctx");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        work.join("Dockerfile"),
        "FROM scratch\nCOPY --from=extra / /\n",
    )
    .expect("df");
    write_with_syntax(&work.join("Dockerfile"), &ctx, &frontend_image());
    let out = buildx_build()
        .arg(format!("--build-context=extra={}", dir.display()))
        .arg(&ctx)
        .output()
        .expect("docker");
    let _ = std::fs::remove_dir_all(&work);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "built: {}", tail(&stderr));
    assert!(
        stderr.contains("named context extra (local:extra): local contexts are not supported"),
        "{}",
        tail(&stderr)
    );
}

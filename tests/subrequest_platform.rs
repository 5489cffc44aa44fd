//! Subrequests (`--call outline`, ...) with `--platform` through the real engine: like the
//! reference, they describe the build for the build platform whatever platforms are asked for.
//! Each folder in tests/subrequest_platform/ holds a Dockerfile (no syntax line), `case.json`
//! (`call`, `platforms`) and `expected.txt`, the reference's stdout, recorded with
//! `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test subrequest_platform`.
//! Skips without the engine and image, except under CI=true.

mod common;

use common::docker::{buildx_build, engine_ready, frontend_image, tail, write_with_syntax};

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    call: String,
    platforms: String,
}

#[test]
fn subrequests_ignore_the_target_platforms() {
    if !engine_ready() {
        return;
    }
    let record = std::env::var_os("MSTAGE_RECORD").is_some();
    let mut problems = Vec::new();
    for (name, dir) in &common::case_dirs("subrequest_platform") {
        let case: Case =
            serde_json::from_slice(&std::fs::read(dir.join("case.json")).expect("case.json"))
                .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
        let ctx = std::env::temp_dir().join(format!("mstage-sub-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&ctx);
        std::fs::create_dir_all(&ctx).expect("ctx");
        write_with_syntax(&dir.join("Dockerfile"), &ctx, &frontend_image());
        let out = buildx_build()
            .args(["--call", &case.call, "--platform", &case.platforms])
            .arg(&ctx)
            .output()
            .expect("docker buildx");
        let _ = std::fs::remove_dir_all(&ctx);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            problems.push(format!(
                "{name}: failed:\n{}",
                tail(&String::from_utf8_lossy(&out.stderr))
            ));
            continue;
        }
        let expected = dir.join("expected.txt");
        if record {
            std::fs::write(&expected, &stdout).expect("write expected.txt");
            continue;
        }
        let want = std::fs::read_to_string(&expected).expect("expected.txt");
        if stdout != want {
            problems.push(format!("{name}: got\n{stdout}\nwant\n{want}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

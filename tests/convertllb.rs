//! `docker buildx build --call=convertllb` through the real engine with mstage: the target's
//! LLB as JSON must be the reference 1.26's, recorded in `tests/convertllb_cases/<case>/
//! result.json`. `MSTAGE_RECORD=1` records them instead, with `peer/dockerfile:1.26.0`.
//!
//! Canonicalized on both sides (tests/common/llb.rs): progress group ids (random in the
//! reference), the source map's Dockerfile entry, whose definition names the build's session,
//! and the busybox stand-in's digest, made when this machine imported it, as `{busybox-digest}`
//! (so op digests are named by content). Cases read nothing from the build context, whose
//! local source would name the session too. Needs the engine and
//! image; skips without them except under CI=true. A case's optional `flags` file holds extra
//! `buildx build` arguments, one a line (`--add-host`, `--shm-size`, ...).

mod common;

use common::docker::{
    buildx_build, engine_ready, frontend_image, standin_placeholders, write_with_syntax,
};

use std::path::{Path, PathBuf};

use serde_json::Value;

const REFERENCE: &str = "peer/dockerfile:1.26.0";

/// The case converted by `frontend`, canonical with `standin`'s placeholders.
fn convert(case_dir: &Path, frontend: &str, standin: &[(String, String)]) -> Result<Value, String> {
    let work = std::env::temp_dir().join(format!(
        "mstage-convertllb-{}-{}",
        std::process::id(),
        case_dir.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    write_with_syntax(&case_dir.join("Dockerfile"), &work, frontend);
    let flags = std::fs::read_to_string(case_dir.join("flags")).unwrap_or_default();
    let out = buildx_build()
        .arg("--call=convertllb")
        .args(flags.lines().filter(|l| !l.is_empty()))
        .arg(&work)
        .output()
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&work);
    let stdout = String::from_utf8_lossy(&out.stdout);
    common::llb::result_json(&stdout)
        .map(|doc| common::llb::canonical(&doc, standin))
        .ok_or_else(|| {
            format!(
                "no result.json (status {:?}): {}",
                out.status.code(),
                common::docker::tail(&String::from_utf8_lossy(&out.stderr))
            )
        })
}

#[test]
fn convertllb_matches_the_reference() {
    let record = std::env::var_os("MSTAGE_RECORD").is_some();
    if !engine_ready() {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/convertllb_cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/convertllb_cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|d| d.join("Dockerfile").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no convertllb cases");
    let standin = standin_placeholders();
    let mut problems = Vec::new();
    for dir in dirs {
        let name = dir.display().to_string();
        let expected = dir.join("result.json");
        if record {
            let doc = convert(&dir, REFERENCE, &standin).unwrap_or_else(|e| panic!("{name}: {e}"));
            let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
            std::fs::write(&expected, text).expect("write result.json");
            continue;
        }
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(&expected).unwrap_or_else(|e| panic!("{name}: {e}")),
        )
        .expect("result.json is JSON");
        match convert(&dir, &frontend_image(), &standin) {
            Ok(got) if got == want => {}
            Ok(got) => problems.push(format!(
                "{name}:\n--- want\n{}\n--- got\n{}",
                serde_json::to_string_pretty(&want).unwrap_or_default(),
                serde_json::to_string_pretty(&got).unwrap_or_default()
            )),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    common::assert_no_problems(&problems);
}

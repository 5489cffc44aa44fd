//! Named image contexts (`--build-context NAME=docker-image://REF`) through the real engine: each
//! folder in tests/named_contexts/ holds a `Dockerfile` (no syntax line), `flags` (extra `buildx
//! build` arguments, one a line) and `expected.json`, recorded from the reference: the built
//! image's layers (diff ids) and its config without the build's timestamps.
//!
//! Record with `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test
//! named_contexts`; review the diff. Needs the engine and the image, like tests/e2e.rs.

mod common;

use common::docker::{buildx_build, engine_ready, frontend_image, tail, write_with_syntax};

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The image config the build wrote, from its OCI layout, without `created` anywhere.
fn built_config(case_dir: &Path, work: &Path) -> Result<Value, String> {
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).map_err(|e| e.to_string())?;
    write_with_syntax(&case_dir.join("Dockerfile"), &ctx, &frontend_image());
    let flags = std::fs::read_to_string(case_dir.join("flags")).unwrap_or_default();
    let layout = work.join("oci");
    let out = buildx_build()
        .args(flags.lines().filter(|l| !l.is_empty()))
        .arg(format!(
            "--output=type=oci,tar=false,dest={}",
            layout.display()
        ))
        .arg(&ctx)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(tail(&String::from_utf8_lossy(&out.stderr)));
    }
    let blob = |digest: &Value| -> Result<Value, String> {
        let digest = digest.as_str().ok_or("no digest")?;
        let hex = digest.strip_prefix("sha256:").ok_or("not sha256")?;
        let data =
            std::fs::read(layout.join("blobs/sha256").join(hex)).map_err(|e| e.to_string())?;
        serde_json::from_slice(&data).map_err(|e| e.to_string())
    };
    let index: Value = serde_json::from_slice(
        &std::fs::read(layout.join("index.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let mut manifest = blob(&index["manifests"][0]["digest"])?;
    if manifest.get("manifests").is_some() {
        manifest = blob(&manifest["manifests"][0]["digest"])?;
    }
    let mut config = blob(&manifest["config"]["digest"])?;
    strip_created(&mut config);
    Ok(config)
}

fn strip_created(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("created");
            map.values_mut().for_each(strip_created);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_created),
        _ => {}
    }
}

#[test]
fn image_contexts_build_what_the_reference_builds() {
    let record = std::env::var_os("MSTAGE_RECORD").is_some();
    if !engine_ready() {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/named_contexts");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/named_contexts")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases in {}", root.display());
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        let work = std::env::temp_dir().join(format!("mstage-named-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        let got = built_config(dir, &work);
        let _ = std::fs::remove_dir_all(&work);
        let got = match got {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{name}: build failed: {e}"));
                continue;
            }
        };
        let expected_path = dir.join("expected.json");
        if record {
            let text = serde_json::to_string_pretty(&got).expect("json") + "\n";
            std::fs::write(&expected_path, text).expect("write expected.json");
            continue;
        }
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).expect("expected.json"))
                .expect("expected.json parses");
        if got != expected {
            failures.push(format!(
                "{name}: image config differs from the reference's\nexpected: {expected}\n     got: {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

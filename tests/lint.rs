//! Lint rules, data driven: each `tests/lint_cases/<name>/Dockerfile` is converted offline (the
//! `busybox` image known to the resolver) and its warnings, one `LINE: Rule: message` a line, plus
//! `error: ...` when `# check=error=true` fails the build, must equal `<name>/expected`.
//! An optional `<name>/build-args` holds `KEY=VALUE` lines passed as build args.
//! `LINT_BLESS=1` rewrites the expectations (review the diff).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use mstage::cli::llb::FileResolver;
use mstage::convert::{self, ConvertError, ConvertOptions};
use mstage::platform::Platform;

fn render(warnings: &[mstage::lint::Warning]) -> String {
    warnings
        .iter()
        .map(|w| format!("{}: {}: {}\n", w.start_line(), w.rule, w.message))
        .collect()
}

async fn lint(text: &str, build_args: BTreeMap<String, String>) -> Result<String, String> {
    let opts = ConvertOptions {
        build_platform: Platform::parse("linux/amd64").map_err(|e| e.to_string())?,
        build_args,
        ..Default::default()
    };
    let busybox = serde_json::json!({"architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:00"]}});
    let resolver = Arc::new(FileResolver::new(BTreeMap::from([(
        "busybox".to_string(),
        busybox,
    )])));
    match convert::convert(text, &opts, resolver).await {
        Ok(c) => Ok(render(&c.warnings)),
        Err(ConvertError::Lint { message, warnings }) => {
            Ok(format!("{}error: {message}\n", render(&warnings)))
        }
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn lint_cases() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lint_cases");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/lint_cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "too few lint cases");
    let mut failures = Vec::new();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
        let expected = std::fs::read_to_string(dir.join("expected")).expect("expected");
        let build_args = std::fs::read_to_string(dir.join("build-args"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let got = lint(&text, build_args)
            .await
            .unwrap_or_else(|e| format!("conversion failed: {e}\n"));
        if std::env::var_os("LINT_BLESS").is_some() {
            std::fs::write(dir.join("expected"), &got).expect("write expected");
            continue;
        }
        if got != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}",
                dir.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

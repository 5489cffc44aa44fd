//! Lint rules, data driven: each `tests/lint_cases/<name>/Dockerfile` is converted offline (the
//! `busybox` image known to the resolver) and its warnings, one `LINE: Rule: message` a line, plus
//! `error: ...` when `# check=error=true` fails the build, must equal `<name>/expected`.
//! An optional `<name>/build-args` holds `KEY=VALUE` lines passed as build args, and an
//! optional `<name>/dockerignore` the context's `.dockerignore` patterns, one a line.
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

async fn lint(
    text: &str,
    build_args: BTreeMap<String, String>,
    excludes: Vec<String>,
) -> Result<String, String> {
    let opts = ConvertOptions {
        build_platform: Platform::parse("linux/amd64").map_err(|e| e.to_string())?,
        build_args,
        excludes,
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
        let excludes = std::fs::read_to_string(dir.join("dockerignore"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        let got = lint(&text, build_args, excludes)
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

/// The check cases with a Dockerfile of their own (tests/check_cases/<case>/Dockerfile, images
/// from scratch only) linted offline as `--call=check` lints them: every stage, the warnings
/// and the error must be the reference's, as recorded in their `check.json`.
#[tokio::test]
async fn check_cases_offline() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/check_cases");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/check_cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|d| d.join("Dockerfile").is_file())
        // Contexts (.dockerignore) and build args are the gateway's to read.
        .filter(|d| {
            ["context", "build-args", "target"]
                .iter()
                .all(|f| !d.join(f).exists())
        })
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 5,
        "too few check cases with their own Dockerfile"
    );
    let mut failures = Vec::new();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
        // The recording put a syntax line first.
        let text = format!("# syntax=FRONTEND\n{text}");
        let recorded: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("check.json")).expect("check.json"),
        )
        .expect("check.json is JSON");
        let want = recorded_lines(&recorded);
        let opts = ConvertOptions {
            build_platform: Platform::parse("linux/amd64").expect("platform"),
            all_stages: true,
            ..Default::default()
        };
        let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
        let (warnings, error) = convert::lint(&text, &opts, resolver).await;
        let mut got = render_check(&warnings);
        if let Some(e) = error {
            got.push_str(&format!("error: {}\n", sorted_rules(&e.to_string())));
        }
        if got != want {
            failures.push(format!(
                "{}:\n--- want\n{want}--- got\n{got}",
                dir.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn render_check(warnings: &[mstage::lint::Warning]) -> String {
    warnings
        .iter()
        .map(|w| format!("{}: {}: {}\n", w.start_line(), w.rule, w.message))
        .collect()
}

/// `LINE: Rule: detail` for each recorded warning, then `error: message`.
fn recorded_lines(doc: &serde_json::Value) -> String {
    let mut out = String::new();
    for w in doc["warnings"].as_array().into_iter().flatten() {
        let line = w["location"]["ranges"][0]["start"]["line"]
            .as_u64()
            .unwrap_or(0);
        let field = |k: &str| w[k].as_str().unwrap_or("").to_string();
        out.push_str(&format!(
            "{line}: {}: {}\n",
            field("ruleName"),
            field("detail")
        ));
    }
    if let Some(message) = doc["buildError"]["message"].as_str() {
        out.push_str(&format!("error: {message}\n"));
    }
    out
}

/// A lint failure's rules as the recording lists them (sorted).
fn sorted_rules(message: &str) -> String {
    match message.split_once("lint violation found for rules: ") {
        Some((head, rules)) => {
            let mut names: Vec<&str> = rules.split(", ").collect();
            names.sort_unstable();
            format!("{head}lint violation found for rules: {}", names.join(", "))
        }
        None => message.to_string(),
    }
}

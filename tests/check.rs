//! `docker buildx build --call=check` (what `docker build --check` runs) through the real engine
//! with mstage: its text output, its `format=json` output and its exit status must be the
//! reference 1.26's, recorded in `tests/check_cases/<case>/` by `hack/record-check`.
//!
//! A case holds its own `Dockerfile` (and optional `context/`, `build-args`, `target`), or a `source` file naming
//! `lint_cases/<name>` (tests/lint_cases) or `corpus/<name>` (the conformance corpus, whose
//! Dockerfiles are read where the corpus is). Outputs are normalized as the recorder normalizes
//! them: the frontend on the syntax line and the temporary context's path are replaced, the
//! JSON's sources carry their text and no definition (it names the build's session), and what
//! the reference orders at random (the rules of a lint failure, base images resolving
//! concurrently) is sorted. Needs the engine and image; skips without them except under CI=true.

mod common;

use common::docker::{buildx_build, engine_ready, frontend_image, write_with_syntax};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Where a case's Dockerfile, context and build args are.
struct Inputs {
    dockerfile: PathBuf,
    context: Option<PathBuf>,
    build_args: BTreeMap<String, String>,
    target: Option<String>,
}

fn inputs(case_dir: &Path, corpus: Option<&Path>) -> Option<Inputs> {
    let base = match std::fs::read_to_string(case_dir.join("source")) {
        Err(_) => case_dir.to_path_buf(),
        Ok(source) => match source.trim().split_once('/') {
            Some(("lint_cases", name)) => case_dir.join("../../lint_cases").join(name),
            Some(("corpus", name)) => corpus?.join("cases").join(name),
            _ => panic!("{}: bad source {source:?}", case_dir.display()),
        },
    };
    let build_args = std::fs::read_to_string(base.join("build-args"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let context = Some(base.join("context")).filter(|c| c.is_dir());
    let target = std::fs::read_to_string(base.join("target"))
        .ok()
        .map(|t| t.trim().to_string());
    Some(Inputs {
        dockerfile: base.join("Dockerfile"),
        context,
        build_args,
        target,
    })
}

/// One `--call=` run: exit status, stdout, stderr.
fn call(inputs: &Inputs, ctx: &Path, call: &str) -> (i32, String, String) {
    let mut cmd = buildx_build();
    cmd.arg(format!("--call={call}"));
    if let Some(target) = &inputs.target {
        cmd.args(["--target", target]);
    }
    for (k, v) in &inputs.build_args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    let out = cmd.arg(ctx).output().expect("docker buildx");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The reference lists a lint failure's rules in Go's random map order.
fn sorted_rules(text: &str) -> String {
    const PREFIX: &str = "lint violation found for rules: ";
    text.lines()
        .map(|line| match line.split_once(PREFIX) {
            Some((head, rules)) => {
                let end = rules
                    .find(|c: char| !(c.is_ascii_alphabetic() || c == ',' || c == ' '))
                    .unwrap_or(rules.len());
                let mut names: Vec<&str> = rules[..end].split(", ").collect();
                names.sort_unstable();
                format!("{head}{PREFIX}{}{}", names.join(", "), &rules[end..])
            }
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

fn normalize_text(out: &str, ctx: &Path) -> String {
    let out = out.replace(&format!("{}/", ctx.display()), "CONTEXT/");
    sorted_rules(&out.replace(&frontend_image(), "FRONTEND"))
}

/// What buildx writes after the build's progress: an error and its Dockerfile excerpt.
fn stderr_tail(err: &str) -> String {
    let lines: Vec<&str> = err.lines().collect();
    let from = lines
        .iter()
        .rposition(|l| l.starts_with('#'))
        .map_or(0, |i| i + 1);
    format!("{}\n", lines[from..].join("\n").trim_matches('\n'))
}

fn decode_base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// A run of InvalidBaseImagePlatform warnings comes as base images resolve (concurrently in
/// the reference): ordered by line and message here.
fn sort_platform_runs(warnings: &mut [Value]) {
    let key = |w: &Value| {
        (
            w["location"]["ranges"][0]["start"]["line"].as_u64(),
            w["detail"].as_str().unwrap_or("").to_string(),
        )
    };
    let is_platform = |w: &Value| w["ruleName"] == "InvalidBaseImagePlatform";
    let mut start = 0;
    while start < warnings.len() {
        let len = warnings[start..]
            .iter()
            .take_while(|w| is_platform(w))
            .count();
        warnings[start..start + len].sort_by_key(key);
        start += len.max(1);
    }
}

fn normalize_json(out: &str) -> Value {
    let Ok(mut doc) = serde_json::from_str::<Value>(out) else {
        return Value::String(format!("not json: {out}"));
    };
    if let Some(warnings) = doc["warnings"].as_array_mut() {
        sort_platform_runs(warnings);
    }
    if let Some(message) = doc["buildError"]["message"].as_str() {
        doc["buildError"]["message"] = Value::String(sorted_rules(message));
    }
    if let Some(sources) = doc["sources"].as_array_mut() {
        for source in sources {
            if let Some(source) = source.as_object_mut() {
                source.remove("definition");
                if let Some(data) = source.get("data").and_then(Value::as_str) {
                    let text = String::from_utf8_lossy(&decode_base64(data))
                        .replace(&frontend_image(), "FRONTEND");
                    source.insert("data".into(), Value::String(text));
                }
            }
        }
    }
    doc
}

/// The case's differences from its recorded outputs, empty when it matches.
fn check_case(name: &str, case_dir: &Path, corpus: Option<&Path>) -> Vec<String> {
    let Some(inputs) = inputs(case_dir, corpus) else {
        return Vec::new();
    };
    let work = std::env::temp_dir().join(format!("mstage-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let ctx = work.join("ctx");
    std::fs::create_dir_all(&ctx).expect("ctx");
    if let Some(context) = &inputs.context {
        common::docker::copy_context(context, &ctx);
        let _ = Command::new("chmod").args(["-R", "u+w"]).arg(&ctx).status();
    }
    write_with_syntax(&inputs.dockerfile, &ctx, &frontend_image());
    let (text_status, text_out, text_err) = call(&inputs, &ctx, "check");
    let (json_status, json_out, _) = call(&inputs, &ctx, "check,format=json");
    let _ = std::fs::remove_dir_all(&work);
    let read = |file: &str| {
        std::fs::read_to_string(case_dir.join(file))
            .unwrap_or_else(|e| panic!("{name}/{file}: {e}"))
    };
    let mut problems = Vec::new();
    let mut compare = |file: &str, want: String, got: String| {
        if want != got {
            problems.push(format!("{name}/{file}:\n--- want\n{want}--- got\n{got}"));
        }
    };
    compare(
        "check.txt",
        read("check.txt"),
        normalize_text(&text_out, &ctx),
    );
    compare(
        "check.stderr",
        read("check.stderr"),
        stderr_tail(&normalize_text(&text_err, &ctx)),
    );
    compare(
        "status",
        read("status"),
        format!("text {text_status}\njson {json_status}\n"),
    );
    // A failed call prints no JSON; the recording then holds `not json: ` and what it printed.
    let recorded = read("check.json");
    let want: Value = serde_json::from_str(&recorded).unwrap_or(Value::String(recorded));
    let got = normalize_json(&json_out);
    if want != got {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        problems.push(format!(
            "{name}/check.json:\n--- want\n{}\n--- got\n{}\n",
            pretty(&want),
            pretty(&got)
        ));
    }
    problems
}

#[test]
fn check_matches_the_reference() {
    if !engine_ready() {
        return;
    }
    let corpus = common::conformance_dir();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/check_cases");
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(&root)
        .expect("tests/check_cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("status").is_file())
        .map(|p| {
            (
                p.file_name().unwrap_or_default().to_string_lossy().into(),
                p,
            )
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "too few check cases");
    // Four builds at a time: each waits mostly on the engine.
    let problems: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<_> = cases.chunks(cases.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let corpus = corpus.as_deref();
                scope.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|(name, dir)| check_case(name, dir, corpus))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("check thread"))
            .collect()
    });
    common::assert_no_problems(&problems);
}

//! The stage DAG, `--call=graph` (an mstage subrequest; the reference has none): each folder in
//! tests/graph_cases/ holds a Dockerfile whose first line is a `# syntax=` directive, `case.json`
//! (`target`, `build_args`, `build_contexts`, `platform`, all optional) and the answer printed as text
//! (`expected.txt`) and as JSON (`expected.json`). Both are checked offline through
//! `mstage graph --format text|json` and through the real engine with `docker buildx build
//! --call=graph[,format=json]` (the syntax line naming the image under test, so line numbers stay
//! the same): the CLI's JSON and the subrequest's are the same bytes. The engine half skips
//! without the engine and image, except under CI=true.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::docker::{buildx_build, engine_ready, frontend_image, tail};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[allow(dead_code)]
    notes: String,
    target: Option<String>,
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    platform: Option<String>,
    /// `--build-context NAME=VALUE`, given to both.
    #[serde(default)]
    build_contexts: BTreeMap<String, String>,
}

fn read_case(name: &str, dir: &Path) -> Case {
    let text = std::fs::read_to_string(dir.join("case.json")).expect("case.json");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}/case.json: {e}"))
}

/// The flags a case gives both `mstage graph` and `buildx build`.
fn flags(case: &Case) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(target) = &case.target {
        out.extend(["--target".to_string(), target.clone()]);
    }
    for (k, v) in &case.build_args {
        out.extend(["--build-arg".to_string(), format!("{k}={v}")]);
    }
    for (k, v) in &case.build_contexts {
        out.extend(["--build-context".to_string(), format!("{k}={v}")]);
    }
    if let Some(platform) = &case.platform {
        out.extend(["--platform".to_string(), platform.clone()]);
    }
    out
}

/// (format, expected file) pairs: what `--format` and `--call=graph[,format=json]` print.
const ANSWERS: [(&str, &str); 2] = [("text", "expected.txt"), ("json", "expected.json")];

fn expected(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", file))
}

#[test]
fn mstage_graph_prints_the_recorded_answers() {
    let mut problems = Vec::new();
    for (name, dir) in &common::case_dirs("graph_cases") {
        let case = read_case(name, dir);
        for (format, file) in ANSWERS {
            let out = Command::new(env!("CARGO_BIN_EXE_mstage"))
                .args(["graph", "--format", format, "-f"])
                .arg(dir.join("Dockerfile"))
                .args(flags(&case))
                .output()
                .expect("mstage graph");
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                problems.push(format!("{name} ({format}): failed: {stderr}"));
                continue;
            }
            if std::env::var_os("MSTAGE_RECORD").is_some() {
                std::fs::write(dir.join(file), &stdout).expect("record");
                continue;
            }
            let want = expected(dir, file);
            if stdout != want {
                problems.push(format!("{name} ({format}): got\n{stdout}\nwant\n{want}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The case's Dockerfile with its first line (the syntax directive) naming `frontend`.
fn with_frontend(dir: &Path, ctx: &Path, frontend: &str) {
    let text = std::fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    assert!(
        first.starts_with("# syntax="),
        "{}: no syntax line",
        dir.display()
    );
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("# syntax={frontend}\n{rest}"),
    )
    .expect("write Dockerfile");
}

fn buildx_call(ctx: &Path, call: &str, extra: &[String]) -> std::process::Output {
    buildx_build()
        .arg(format!("--call={call}"))
        .args(extra)
        .arg(ctx)
        .output()
        .expect("docker buildx")
}

fn scratch_context(name: &str) -> std::path::PathBuf {
    let ctx = std::env::temp_dir().join(format!("mstage-graph-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ctx);
    std::fs::create_dir_all(&ctx).expect("ctx");
    ctx
}

#[test]
fn call_graph_through_the_engine_prints_the_same() {
    if !engine_ready() {
        return;
    }
    let mut problems = Vec::new();
    for (name, dir) in &common::case_dirs("graph_cases") {
        let case = read_case(name, dir);
        let ctx = scratch_context(name);
        with_frontend(dir, &ctx, &frontend_image());
        for (format, file) in ANSWERS {
            let call = match format {
                "json" => "graph,format=json",
                _ => "graph",
            };
            let out = buildx_call(&ctx, call, &flags(&case));
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            if !out.status.success() {
                let stderr = tail(&String::from_utf8_lossy(&out.stderr));
                problems.push(format!("{name} (--call={call}): failed:\n{stderr}"));
                continue;
            }
            let want = expected(dir, file);
            if stdout != want {
                problems.push(format!(
                    "{name} (--call={call}): got\n{stdout}\nwant\n{want}"
                ));
            }
        }
        let _ = std::fs::remove_dir_all(&ctx);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// buildx lists what `frontend.subrequests.describe` answers; graph is there.
#[test]
fn describe_lists_graph_and_several_platforms_are_refused() {
    if !engine_ready() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/graph_cases/example");
    let ctx = scratch_context("describe");
    with_frontend(&root, &ctx, &frontend_image());
    let out = buildx_call(&ctx, "subrequests.describe", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("graph ") && l.contains("Show the stage graph")),
        "describe: {stdout}\n{}",
        tail(&String::from_utf8_lossy(&out.stderr))
    );
    let platforms = ["--platform".to_string(), "linux/amd64,linux/arm64".into()];
    let out = buildx_call(&ctx, "graph", &platforms);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&ctx);
    assert!(!out.status.success(), "several platforms answered");
    assert!(
        stderr.contains("--call=graph shows the stage graph of one platform"),
        "{}",
        tail(&stderr)
    );
}

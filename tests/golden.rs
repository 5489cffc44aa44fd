//! Golden LLB tests: each `tests/golden/<case>/` holds a Dockerfile, a `case.json` (target,
//! build args, platform, image configs, structural expectations) and `expected.txt`, the
//! compact rendering of the Definition (`mstage llb --text`). `MSTAGE_BLESS=1` rewrites the
//! expectations; review the diff before committing.
//!
//! Besides the text, each case checks structure independently of the rendering: how many
//! source ops there are, and that no op carries the name or a source line of a stage the target
//! does not reach.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mstage::cli::llb::{definition, FileResolver, MarshalArgs};
use mstage::cli::text::definition_text;
use mstage::convert::ConvertOptions;
use mstage::platform::Platform;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Case {
    /// What the case shows, for the reader.
    #[allow(dead_code)]
    notes: String,
    target: Option<String>,
    build_args: BTreeMap<String, String>,
    platform: Option<String>,
    /// Image name as written in the Dockerfile -> its image config.
    images: BTreeMap<String, serde_json::Value>,
    /// Number of source ops the Definition must have.
    source_ops: usize,
    /// Stages (by name) the target must not reach: no op may be named after them or point at
    /// one of their lines.
    unreachable: Vec<String>,
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/golden exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn read_case(dir: &Path) -> Case {
    let path = dir.join("case.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn render(dockerfile: &str, case: &Case) -> Result<String, String> {
    let opts = ConvertOptions {
        filename: "Dockerfile".into(),
        target: case.target.clone(),
        build_args: case.build_args.clone(),
        target_platform: case
            .platform
            .as_deref()
            .map(|p| Platform::parse(p).map_err(|e| e.to_string()))
            .transpose()?,
        // Fixed, so the expectations do not depend on the machine running the tests.
        build_platform: Platform::parse("linux/amd64").map_err(|e| e.to_string())?,
        ..Default::default()
    };
    let resolver = Arc::new(FileResolver::new(case.images.clone()));
    let def = definition(dockerfile, &opts, resolver, &MarshalArgs::default()).await?;
    definition_text(&def)
}

/// Line ranges (1-based, inclusive) of each named stage: from its FROM to the line before the
/// next FROM. Read from the text so the check does not trust the converter's stage graph.
fn stage_lines(dockerfile: &str) -> BTreeMap<String, (u32, u32)> {
    let lines: Vec<&str> = dockerfile.lines().collect();
    let froms: Vec<(u32, Option<String>)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let first = words.first()?;
            if !first.eq_ignore_ascii_case("FROM") {
                return None;
            }
            let name = match words.as_slice() {
                [.., as_kw, name] if as_kw.eq_ignore_ascii_case("AS") => Some(name.to_lowercase()),
                _ => None,
            };
            Some((i as u32 + 1, name))
        })
        .collect();
    let mut out = BTreeMap::new();
    for (k, (start, name)) in froms.iter().enumerate() {
        let end = froms
            .get(k + 1)
            .map(|(next, _)| next - 1)
            .unwrap_or(lines.len() as u32);
        if let Some(name) = name {
            out.insert(name.clone(), (*start, end));
        }
    }
    out
}

/// Structural checks on the rendering; each problem is one message.
fn check_structure(case: &Case, dockerfile: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let sources = text
        .lines()
        .filter(|l| l.starts_with('#') && l.split_whitespace().nth(1) == Some("source"))
        .count();
    if sources != case.source_ops {
        problems.push(format!(
            "{sources} source ops, expected {}",
            case.source_ops
        ));
    }
    let ranges = stage_lines(dockerfile);
    for stage in &case.unreachable {
        let prefix = format!("  name: [{stage} ");
        if let Some(l) = text.lines().find(|l| l.starts_with(&prefix)) {
            problems.push(format!("op of unreachable stage {stage}: {l}"));
        }
        let Some((start, end)) = ranges.get(stage) else {
            problems.push(format!(
                "unreachable stage {stage} has no FROM ... AS {stage}"
            ));
            continue;
        };
        for l in text.lines() {
            let Some(line) = l
                .strip_prefix("  loc: Dockerfile:")
                .and_then(|r| r.split('-').next())
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if (*start..=*end).contains(&line) {
                problems.push(format!("op located in unreachable stage {stage}: {l}"));
            }
        }
    }
    problems
}

/// The first differing line, with a little context, for the failure message.
fn first_difference(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let at = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = at.saturating_sub(3);
    let show = |v: &[&str]| {
        v.iter()
            .skip(from)
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "first difference at line {}\n--- expected\n{}\n--- actual\n{}",
        at + 1,
        show(&e),
        show(&a)
    )
}

#[tokio::test]
async fn golden_llb() {
    let bless = std::env::var("MSTAGE_BLESS").as_deref() == Ok("1");
    let dirs = case_dirs();
    assert!(!dirs.is_empty(), "no cases under {}", cases_dir().display());
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
        let case = read_case(dir);
        let text = match render(&dockerfile, &case).await {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{name}: conversion failed: {e}"));
                continue;
            }
        };
        for p in check_structure(&case, &dockerfile, &text) {
            failures.push(format!("{name}: {p}"));
        }
        let expected_path = dir.join("expected.txt");
        if bless {
            std::fs::write(&expected_path, &text).expect("write expected.txt");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != text {
            failures.push(format!(
                "{name}: rendering differs (MSTAGE_BLESS=1 rewrites it)\n{}",
                first_difference(&expected, &text)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn stage_lines_reads_named_stages() {
    let df = "ARG X\nFROM a AS one\nRUN x\nfrom b as Two\nFROM c\n";
    let r = stage_lines(df);
    assert_eq!(r.get("one"), Some(&(2, 3)));
    assert_eq!(r.get("two"), Some(&(4, 4)));
    assert_eq!(r.len(), 2);
}

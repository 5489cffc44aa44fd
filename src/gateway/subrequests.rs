//! Frontend subrequests (`--print` / `--call`): instead of building, the frontend answers a
//! question about the Dockerfile, named by the `requestid` option. Answers are result metadata
//! only, as the reference's dockerui `HandleSubrequest` returns them: `result.json` (Go's
//! indented JSON), `result.txt` (the table buildx would print) and `version`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::tabwriter::align;
use crate::convert::outline::{Outline, OutlineMount, Target};
use crate::llb::base64::encode as base64;
use crate::syntax::SourceRange;

/// The frontend option that names the subrequest.
pub const REQUEST_ID: &str = "requestid";

const DESCRIBE: &str = "frontend.subrequests.describe";
const OUTLINE: &str = "frontend.outline";
const TARGETS: &str = "frontend.targets";
const LINT: &str = "frontend.lint";
const CONVERT_LLB: &str = "frontend.convertllb";
/// mstage's own: the stage DAG (src/convert/graph).
const GRAPH: &str = "frontend.graph";
/// Every subrequest mstage answers has this version of its answer's layout.
const VERSION: &str = "1.0.0";

/// A subrequest mstage answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Describe,
    Outline,
    Targets,
    /// `--call=check`: the lint warnings (src/gateway/lint.rs writes the answer).
    Lint,
    /// `--call=convertllb`: the target's LLB as JSON (src/gateway/convertllb.rs).
    ConvertLlb,
    /// `--call=graph`: the stage DAG (src/gateway/graph.rs).
    Graph,
}

impl Request {
    /// The request an id names; any other is the reference's "unsupported request" error.
    pub fn from_id(id: &str) -> Result<Request, String> {
        match id {
            DESCRIBE => Ok(Request::Describe),
            OUTLINE => Ok(Request::Outline),
            TARGETS => Ok(Request::Targets),
            LINT => Ok(Request::Lint),
            CONVERT_LLB => Ok(Request::ConvertLlb),
            GRAPH => Ok(Request::Graph),
            other => Err(other.to_string()),
        }
    }
}

pub type Metadata = BTreeMap<String, Vec<u8>>;

fn metadata(json: String, txt: String) -> Metadata {
    BTreeMap::from([
        ("result.json".to_string(), json.into_bytes()),
        ("result.txt".to_string(), txt.into_bytes()),
        ("version".to_string(), VERSION.as_bytes().to_vec()),
    ])
}

/// Go's `json.MarshalIndent(v, "", "  ")`: serde's pretty output with Go's HTML-safe escapes
/// (these characters only occur inside strings, so replacing them everywhere is exact).
pub(super) fn go_json<T: Serialize>(value: &T) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

// --- describe ---

#[derive(Serialize)]
struct Named {
    name: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct RequestDefinition {
    name: &'static str,
    version: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    description: &'static str,
    opts: Option<Vec<Named>>,
    inputs: Option<Vec<Named>>,
    metadata: Option<Vec<Named>>,
    refs: Option<Vec<Named>>,
}

fn definition(
    name: &'static str,
    description: &'static str,
    opts: Option<Vec<Named>>,
) -> RequestDefinition {
    let result = |name| Named {
        name,
        description: "",
    };
    RequestDefinition {
        name,
        version: VERSION,
        kind: "rpc",
        description,
        opts,
        inputs: None,
        metadata: Some(vec![result("result.json"), result("result.txt")]),
        refs: None,
    }
}

/// The subrequests the reference lists, in its order and words (outline, targets, describe),
/// with mstage's own `graph` before describe. Like the reference, it leaves `frontend.lint` and
/// `frontend.convertllb` out although it answers them (clients ask for them directly, and buildx
/// falls back to another frontend only on an "unsupported request" error).
pub fn describe() -> Metadata {
    let all = [
        definition(
            OUTLINE,
            "List all parameters current build target supports",
            Some(vec![Named {
                name: "target",
                description: "Target build stage",
            }]),
        ),
        definition(
            TARGETS,
            "List all targets current build supports",
            Some(Vec::new()),
        ),
        definition(
            GRAPH,
            "Show the stage graph of the current build target",
            Some(vec![Named {
                name: "target",
                description: "Target build stage",
            }]),
        ),
        definition(DESCRIBE, "List available subrequest types", None),
    ];
    let mut txt = String::from("NAME\tVERSION\tDESCRIPTION\n");
    for r in &all {
        let name = r.name.strip_prefix("frontend.").unwrap_or(r.name);
        txt.push_str(&format!("{name}\t{}\t{}\n", r.version, r.description));
    }
    metadata(go_json(&all), align(&txt, 1))
}

// --- shared pieces ---

/// A `pb.Location` as Go's encoding/json writes it: zero fields left out.
#[derive(Serialize)]
struct Location {
    ranges: Vec<LocationRange>,
}

#[derive(Serialize)]
struct LocationRange {
    start: Position,
    end: Position,
}

#[derive(Serialize)]
struct Position {
    #[serde(skip_serializing_if = "is_zero")]
    line: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One range per line of the instruction, as the reference's `Node.Location()` gives them.
fn location(range: SourceRange) -> Location {
    Location {
        ranges: range
            .lines()
            .map(|line| LocationRange {
                start: Position { line },
                end: Position { line },
            })
            .collect(),
    }
}

// --- outline ---

#[derive(Serialize)]
struct OutlineJson<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<ArgJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<MountJson<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ssh: Vec<MountJson<'a>>,
    sources: [String; 1],
}

#[derive(Serialize)]
struct ArgJson<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    value: &'a str,
    location: Location,
}

#[derive(Serialize)]
struct MountJson<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "is_false")]
    required: bool,
    location: Location,
}

fn mounts(list: &[OutlineMount]) -> Vec<MountJson<'_>> {
    list.iter()
        .map(|m| MountJson {
            name: &m.name,
            required: m.required,
            location: location(m.range),
        })
        .collect()
}

/// `--print=outline`: the target's build args, secrets and ssh sockets.
pub fn outline(outline: &Outline, dockerfile: &[u8]) -> Metadata {
    let json = OutlineJson {
        name: &outline.name,
        description: &outline.description,
        args: outline
            .args
            .iter()
            .map(|a| ArgJson {
                name: &a.name,
                description: &a.description,
                value: &a.value,
                location: location(a.range),
            })
            .collect(),
        secrets: mounts(&outline.secrets),
        ssh: mounts(&outline.ssh),
        sources: [base64(dockerfile)],
    };
    metadata(go_json(&json), outline_text(outline))
}

/// The reference's `PrintOutline`: one table per section, each followed by a blank line.
fn outline_text(outline: &Outline) -> String {
    let mut out = String::new();
    if !outline.name.is_empty() || !outline.description.is_empty() {
        let name = if outline.name.is_empty() {
            "(default)"
        } else {
            &outline.name
        };
        let mut table = format!("TARGET:\t{name}\n");
        if !outline.description.is_empty() {
            table.push_str(&format!("DESCRIPTION:\t{}\n", outline.description));
        }
        out.push_str(&align(&table, 1));
        out.push('\n');
    }
    if !outline.args.is_empty() {
        let mut table = String::from("BUILD ARG\tVALUE\tDESCRIPTION\n");
        for a in &outline.args {
            table.push_str(&format!("{}\t{}\t{}\n", a.name, a.value, a.description));
        }
        out.push_str(&align(&table, 3));
        out.push('\n');
    }
    for (title, list) in [("SECRET", &outline.secrets), ("SSH", &outline.ssh)] {
        if list.is_empty() {
            continue;
        }
        let mut table = format!("{title}\tREQUIRED\n");
        for m in list {
            let required = if m.required { "true" } else { "" };
            table.push_str(&format!("{}\t{required}\n", m.name));
        }
        out.push_str(&align(&table, 3));
        out.push('\n');
    }
    out
}

// --- targets ---

#[derive(Serialize)]
struct TargetsJson<'a> {
    /// `null` when the Dockerfile has no stage, as Go writes a nil slice.
    targets: Option<Vec<TargetJson<'a>>>,
    sources: [String; 1],
}

#[derive(Serialize)]
struct TargetJson<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "is_false")]
    default: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    base: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    platform: &'a str,
    location: Location,
}

/// `--print=targets`: every stage, the last one marked as the default.
pub fn targets(targets: &[Target], dockerfile: &[u8]) -> Metadata {
    let list = targets
        .iter()
        .map(|t| TargetJson {
            name: &t.name,
            default: t.default,
            description: &t.description,
            base: &t.base,
            platform: &t.platform,
            location: location(t.range),
        })
        .collect::<Vec<_>>();
    let json = TargetsJson {
        targets: (!list.is_empty()).then_some(list),
        sources: [base64(dockerfile)],
    };
    let mut txt = String::from("TARGET\tDESCRIPTION\n");
    for t in targets {
        let name = match (t.name.is_empty(), t.default) {
            (true, true) => "(default)".to_string(),
            (false, true) => format!("{} (default)", t.name),
            _ => t.name.clone(),
        };
        txt.push_str(&format!("{name}\t{}\n", t.description));
    }
    metadata(go_json(&json), align(&txt, 1))
}

// --- graph ---

/// `--call=graph`: the stage DAG as `mstage graph --format json` and `--format text` print it.
pub fn graph(dag: &crate::convert::graph::StageDag) -> Metadata {
    metadata(dag.json(), dag.text())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: &Metadata, key: &str) -> String {
        String::from_utf8(m.get(key).cloned().unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn describe_lists_what_mstage_answers() {
        let m = describe();
        assert_eq!(
            text(&m, "result.txt"),
            "NAME                 VERSION DESCRIPTION\n\
             outline              1.0.0   List all parameters current build target supports\n\
             targets              1.0.0   List all targets current build supports\n\
             graph                1.0.0   Show the stage graph of the current build target\n\
             subrequests.describe 1.0.0   List available subrequest types\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&text(&m, "result.json")).unwrap_or_default();
        assert_eq!(json[1]["opts"], serde_json::json!([]));
        assert_eq!(json[2]["opts"][0]["name"], "target");
        assert_eq!(json[3]["opts"], serde_json::Value::Null);
        assert_eq!(text(&m, "version"), "1.0.0");
    }

    #[test]
    fn outline_text_has_a_table_per_section() {
        let range = SourceRange {
            start_line: 2,
            end_line: 2,
        };
        let outline = Outline {
            name: "t".into(),
            description: String::new(),
            args: vec![crate::convert::outline::OutlineArg {
                name: "A".into(),
                description: "is <a>".into(),
                value: "1".into(),
                range,
            }],
            secrets: vec![OutlineMount {
                name: "s".into(),
                required: true,
                range,
            }],
            ssh: Vec::new(),
        };
        let m = super::outline(&outline, b"x");
        assert_eq!(
            text(&m, "result.txt"),
            "TARGET: t\n\nBUILD ARG   VALUE   DESCRIPTION\nA           1       is <a>\n\n\
             SECRET   REQUIRED\ns        true\n\n"
        );
        assert!(text(&m, "result.json").contains("\"description\": \"is \\u003ca\\u003e\""));
    }
}

//! The `frontend.lint` subrequest's answer (`--call=check`), as the reference's
//! `subrequests/lint` package writes it: `result.json` (its `LintResults`: warnings in the order
//! found, the Dockerfile as source, the error that stopped the check), `result.txt` (the
//! warnings by line with their Dockerfile excerpts), `result.statuscode` (1 when anything was
//! found) and `version`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::errors::SourceFile;
use super::subrequests::go_json;
use crate::lint::Warning;
use crate::llb::base64::encode as base64;
use crate::proto::pb;
use crate::syntax::SourceRange;

const VERSION: &str = "1.0.0";

/// The error that ended a check: its message and the Dockerfile lines it concerns.
pub struct BuildError {
    pub message: String,
    pub ranges: Vec<SourceRange>,
}

/// The answer's metadata.
pub fn results(
    source: &SourceFile,
    warnings: &[Warning],
    error: Option<&BuildError>,
) -> BTreeMap<String, Vec<u8>> {
    let mut doc = Map::new();
    let list: Vec<Value> = warnings.iter().map(warning_json).collect();
    // Go's nil slice when nothing was found.
    doc.insert(
        "warnings".into(),
        if list.is_empty() {
            Value::Null
        } else {
            Value::Array(list)
        },
    );
    doc.insert("sources".into(), json!([source_json(source)]));
    if let Some(e) = error {
        doc.insert(
            "buildError".into(),
            json!({"message": e.message, "location": location_json(&merged(&e.ranges))}),
        );
    }
    let status = u8::from(!warnings.is_empty() || error.is_some());
    BTreeMap::from([
        (
            "result.json".into(),
            go_json(&Value::Object(doc)).into_bytes(),
        ),
        (
            "result.txt".into(),
            text_of(&source.filename, &source.data, warnings).into_bytes(),
        ),
        ("result.statuscode".into(), status.to_string().into_bytes()),
        ("version".into(), VERSION.as_bytes().to_vec()),
    ])
}

fn warning_json(w: &Warning) -> Value {
    let mut out = Map::new();
    out.insert("ruleName".into(), json!(w.rule));
    for (key, value) in [
        ("description", w.description),
        ("url", w.url),
        ("detail", w.message.as_str()),
    ] {
        if !value.is_empty() {
            out.insert(key.into(), json!(value));
        }
    }
    out.insert("location".into(), location_json(&w.ranges));
    Value::Object(out)
}

/// A `pb.Location` of source 0 (which Go leaves out, as any zero field).
fn location_json(ranges: &[SourceRange]) -> Value {
    let mut out = Map::new();
    if !ranges.is_empty() {
        let ranges: Vec<Value> = ranges
            .iter()
            .map(|r| json!({"start": position(r.start_line), "end": position(r.end_line)}))
            .collect();
        out.insert("ranges".into(), Value::Array(ranges));
    }
    Value::Object(out)
}

fn position(line: usize) -> Value {
    if line == 0 {
        json!({})
    } else {
        json!({ "line": line })
    }
}

/// The reference's `mergeLocations`: ranges by first line, overlapping ones joined.
fn merged(ranges: &[SourceRange]) -> Vec<SourceRange> {
    let mut all = ranges.to_vec();
    if all.len() < 2 {
        return all;
    }
    all.sort_by_key(|r| r.start_line);
    let mut out: Vec<SourceRange> = Vec::new();
    for r in all {
        match out.last_mut() {
            Some(current) if r.start_line <= current.end_line => {
                current.end_line = current.end_line.max(r.end_line);
            }
            _ => out.push(r),
        }
    }
    out
}

fn source_json(source: &SourceFile) -> Value {
    let mut out = Map::new();
    if !source.filename.is_empty() {
        out.insert("filename".into(), json!(source.filename));
    }
    if !source.data.is_empty() {
        out.insert("data".into(), json!(base64(&source.data)));
    }
    out.insert("definition".into(), definition_json(&source.definition));
    out.insert("language".into(), json!("Dockerfile"));
    Value::Object(out)
}

/// A `pb.Definition` as Go's encoding/json writes it (its source map field is `Source`).
fn definition_json(def: &pb::Definition) -> Value {
    let mut out = Map::new();
    if !def.def.is_empty() {
        let ops: Vec<Value> = def.def.iter().map(|op| json!(base64(op))).collect();
        out.insert("def".into(), Value::Array(ops));
    }
    if !def.metadata.is_empty() {
        let metadata: Map<String, Value> = def
            .metadata
            .iter()
            .map(|(digest, m)| (digest.clone(), op_metadata_json(m)))
            .collect();
        out.insert("metadata".into(), Value::Object(metadata));
    }
    if let Some(source) = &def.source {
        let mut s = Map::new();
        if !source.locations.is_empty() {
            let locations: Map<String, Value> = source
                .locations
                .iter()
                .map(|(digest, l)| (digest.clone(), locations_json(l)))
                .collect();
            s.insert("locations".into(), Value::Object(locations));
        }
        if !source.infos.is_empty() {
            let infos: Vec<Value> = source.infos.iter().map(source_info_json).collect();
            s.insert("infos".into(), Value::Array(infos));
        }
        out.insert("Source".into(), Value::Object(s));
    }
    Value::Object(out)
}

/// client/llb's `OpMetadata` (and pb's) as Go's encoding/json writes it.
pub(super) fn op_metadata_json(m: &pb::OpMetadata) -> Value {
    let mut out = Map::new();
    if m.ignore_cache {
        out.insert("ignore_cache".into(), json!(true));
    }
    if !m.description.is_empty() {
        out.insert("description".into(), json!(m.description));
    }
    if let Some(e) = &m.export_cache {
        out.insert("export_cache".into(), omit_false("Value", e.value));
    }
    if !m.caps.is_empty() {
        out.insert("caps".into(), json!(m.caps));
    }
    if let Some(g) = &m.progress_group {
        let mut group = Map::new();
        for (key, value) in [("id", &g.id), ("name", &g.name)] {
            if !value.is_empty() {
                group.insert(key.into(), json!(value));
            }
        }
        if g.weak {
            group.insert("weak".into(), json!(true));
        }
        out.insert("progress_group".into(), Value::Object(group));
    }
    if let Some(r) = &m.linux_resources {
        out.insert("linux_resources".into(), linux_resources_json(r));
    }
    Value::Object(out)
}

/// `pb.LinuxResources` through encoding/json: its fields' json tags, zero values left out.
fn linux_resources_json(r: &pb::LinuxResources) -> Value {
    let mut out = Map::new();
    for (key, value) in [("memory", r.memory), ("memorySwap", r.memory_swap)] {
        if value != 0 {
            out.insert(key.into(), json!(value));
        }
    }
    for (key, value) in [("cpuShares", r.cpu_shares), ("cpuPeriod", r.cpu_period)] {
        if value != 0 {
            out.insert(key.into(), json!(value));
        }
    }
    if r.cpu_quota != 0 {
        out.insert("cpuQuota".into(), json!(r.cpu_quota));
    }
    for (key, value) in [
        ("cpusetCpus", &r.cpuset_cpus),
        ("cpusetMems", &r.cpuset_mems),
    ] {
        if !value.is_empty() {
            out.insert(key.into(), json!(value));
        }
    }
    Value::Object(out)
}

fn omit_false(key: &str, value: bool) -> Value {
    let mut out = Map::new();
    if value {
        out.insert(key.into(), json!(true));
    }
    Value::Object(out)
}

fn locations_json(l: &pb::Locations) -> Value {
    let mut out = Map::new();
    if !l.locations.is_empty() {
        let list: Vec<Value> = l
            .locations
            .iter()
            .map(|loc| {
                let mut o = Map::new();
                if loc.source_index != 0 {
                    o.insert("sourceIndex".into(), json!(loc.source_index));
                }
                if !loc.ranges.is_empty() {
                    let ranges: Vec<Value> = loc.ranges.iter().map(range_json).collect();
                    o.insert("ranges".into(), Value::Array(ranges));
                }
                Value::Object(o)
            })
            .collect();
        out.insert("locations".into(), Value::Array(list));
    }
    Value::Object(out)
}

fn range_json(r: &pb::Range) -> Value {
    let pos = |p: &Option<pb::Position>| {
        let mut o = Map::new();
        if let Some(p) = p {
            if p.line != 0 {
                o.insert("line".into(), json!(p.line));
            }
            if p.character != 0 {
                o.insert("character".into(), json!(p.character));
            }
        }
        Value::Object(o)
    };
    json!({"start": pos(&r.start), "end": pos(&r.end)})
}

fn source_info_json(info: &pb::SourceInfo) -> Value {
    let mut out = Map::new();
    if !info.filename.is_empty() {
        out.insert("filename".into(), json!(info.filename));
    }
    if !info.data.is_empty() {
        out.insert("data".into(), json!(base64(&info.data)));
    }
    if let Some(d) = &info.definition {
        out.insert("definition".into(), definition_json(d));
    }
    if !info.language.is_empty() {
        out.insert("language".into(), json!(info.language));
    }
    Value::Object(out)
}

/// The reference's `PrintTo`: warnings by first line (those without a location first), each
/// with its rule, URL, message and Dockerfile excerpt. Go's sort is not stable past 12
/// elements; warnings on one line keep the order they were found in here.
fn text_of(filename: &str, data: &[u8], warnings: &[Warning]) -> String {
    let mut sorted: Vec<&Warning> = warnings.iter().collect();
    sorted.sort_by(|a, b| match (a.ranges.first(), b.ranges.first()) {
        (None, None) => a.rule.cmp(b.rule),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.start_line.cmp(&y.start_line),
    });
    let mut out = String::new();
    for w in sorted {
        out.push_str(&format!("\nWARNING: {}", w.rule));
        if !w.url.is_empty() {
            out.push_str(&format!(" - {}", w.url));
        }
        out.push_str(&format!("\n{}\n", w.message));
        out.push_str(&excerpt(filename, data, &w.ranges));
    }
    out
}

/// errdefs' `Source.Print`: the lines of `ranges` marked `>>>`, with up to two lines of context
/// around them (four for a single line, split between before and after).
pub fn excerpt(filename: &str, data: &[u8], ranges: &[SourceRange]) -> String {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(first) = ranges.first() else {
        return String::new();
    };
    let mut start = ranges
        .iter()
        .map(|r| r.start_line)
        .min()
        .unwrap_or(first.start_line);
    let mut end = ranges
        .iter()
        .map(|r| r.end_line.max(r.start_line))
        .max()
        .unwrap_or(0);
    if start > lines.len() || start < 1 {
        return String::new();
    }
    end = end.min(lines.len());
    let pad = if end == start { 4 } else { 2 };
    let shown_from = start;
    let mut p = 0;
    while p < pad {
        if start > 1 {
            start -= 1;
            p += 1;
        }
        if end != lines.len() {
            end += 1;
            p += 1;
        }
        p += 1;
    }
    let mut out = format!("{filename}:{shown_from}\n--------------------\n");
    for i in start..=end {
        let marked = ranges
            .iter()
            .any(|r| r.start_line <= i && r.end_line.max(r.start_line) >= i);
        let prefix = if marked { ">>>" } else { "   " };
        let line = lines.get(i - 1).copied().unwrap_or("");
        out.push_str(&format!(" {i:3} | {prefix} {line}\n"));
    }
    out.push_str("--------------------\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start_line: usize, end_line: usize) -> SourceRange {
        SourceRange {
            start_line,
            end_line,
        }
    }

    #[test]
    fn excerpt_pads_around_the_lines() {
        let data = b"a\nb\nc\nd\ne\n";
        assert_eq!(
            excerpt("Dockerfile", data, &[range(2, 2)]),
            "Dockerfile:2\n--------------------\n   1 |     a\n   2 | >>> b\n   3 |     c\n   4 |     d\n--------------------\n"
        );
        assert_eq!(excerpt("D", data, &[range(9, 9)]), "");
    }

    /// A recorded JSON warning back as a [`Warning`] (rule facts are leaked: test only).
    fn warning_of(w: &Value) -> Warning {
        let text = |k: &str| -> &'static str {
            Box::leak(w[k].as_str().unwrap_or("").to_string().into_boxed_str())
        };
        let line = |p: &Value| p["line"].as_u64().unwrap_or(0) as usize;
        Warning {
            rule: text("ruleName"),
            message: text("detail").to_string(),
            description: text("description"),
            url: text("url"),
            ranges: w["location"]["ranges"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| range(line(&r["start"]), line(&r["end"])))
                .collect(),
        }
    }

    /// `result.txt` is what buildx prints for `--call=check` after its first line (buildx
    /// prints it from `result.json` with the same code), for every recorded check case.
    #[test]
    fn text_is_what_the_reference_prints() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check_cases");
        let mut checked = 0;
        for dir in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let dir = dir.path();
            let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
            let Ok(doc) = serde_json::from_str::<Value>(&read("check.json")) else {
                continue;
            };
            let warnings: Vec<Warning> = doc["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(warning_of)
                .collect();
            let data = doc["sources"][0]["data"]
                .as_str()
                .unwrap_or("")
                .as_bytes()
                .to_vec();
            let mut printed = read("check.txt");
            // buildx leaves a line before the error it prints after the warnings.
            if !doc["buildError"].is_null() && printed.ends_with("\n\n") {
                printed.pop();
            }
            let want = printed
                .split_once('\n')
                .map_or("", |(_, rest)| rest)
                .replace("CONTEXT/Dockerfile", "Dockerfile");
            assert_eq!(
                text_of("Dockerfile", &data, &warnings),
                want,
                "{}",
                dir.display()
            );
            checked += 1;
        }
        assert!(checked > 50, "too few recorded check cases");
    }

    #[test]
    fn overlapping_error_ranges_merge() {
        assert_eq!(
            merged(&[range(5, 6), range(2, 2), range(6, 8)]),
            vec![range(2, 2), range(5, 8)]
        );
    }

    /// Op metadata as client/llb's `OpMetadata` goes through encoding/json, resource limits
    /// included: the reference's own, recorded for tests/linux_resources.rs.
    #[test]
    fn op_metadata_as_the_reference_writes_it() {
        let hex: String = include_str!("../../tests/linux_resources/definition.hex")
            .split_whitespace()
            .collect();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect();
        let def = crate::llb::read_definition(&bytes).expect("definition");
        let got: Map<String, Value> = def
            .metadata
            .iter()
            .map(|(digest, m)| (digest.clone(), op_metadata_json(m)))
            .collect();
        let want: Value =
            serde_json::from_str(include_str!("../../tests/linux_resources/metadata.json"))
                .expect("metadata.json");
        assert_eq!(Value::Object(got), want);
    }
}

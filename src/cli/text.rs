//! A compact, line-per-field rendering of a Definition for reviewing diffs (golden tests,
//! comparing with the reference): ops by position, inputs as `#index`, no digests, the progress
//! name and source-map lines next to each op.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::llb::{definition_to_json_lines, digest_of};
use crate::proto::pb;

/// The description key BuildKit shows as the op's progress name.
const CUSTOM_NAME: &str = "llb.customname";

/// One block per op in definition order, then the source-map files.
pub fn definition_text(def: &pb::Definition) -> Result<String, String> {
    let lines = definition_to_json_lines(def).map_err(|e| e.to_string())?;
    let positions: BTreeMap<String, usize> = def
        .def
        .iter()
        .enumerate()
        .map(|(i, bytes)| (digest_of(bytes), i))
        .collect();
    let mut out = String::new();
    for (i, (line, bytes)) in lines.iter().zip(&def.def).enumerate() {
        let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let locations = source_lines(def, &digest_of(bytes));
        render_op(&mut out, i, &v, &positions, &locations);
    }
    if let Some(source) = &def.source {
        for (i, info) in source.infos.iter().enumerate() {
            let _ = writeln!(
                out,
                "file {i}: {} language={:?} {} bytes{}",
                info.filename,
                info.language,
                info.data.len(),
                if info.definition.is_some() {
                    " with definition"
                } else {
                    ""
                }
            );
        }
    }
    Ok(out)
}

/// The op's kind: the name of the set `Op.Op` member, `terminal` for none.
fn op_kind(op: &Value) -> (&str, Option<&Value>) {
    match op
        .get("Op")
        .and_then(Value::as_object)
        .and_then(|m| m.iter().next())
    {
        Some((k, v)) => (k.as_str(), Some(v)),
        None => ("terminal", None),
    }
}

fn render_op(
    out: &mut String,
    i: usize,
    v: &Value,
    positions: &BTreeMap<String, usize>,
    locations: &[String],
) {
    let op = &v["Op"];
    let (kind, body) = op_kind(op);
    let inputs: Vec<String> = op["inputs"]
        .as_array()
        .map(|a| a.iter().map(|inp| input_ref(inp, positions)).collect())
        .unwrap_or_default();
    let _ = write!(out, "#{i} {kind}");
    if !inputs.is_empty() {
        let _ = write!(out, " <- {}", inputs.join(", "));
    }
    out.push('\n');
    let md = &v["OpMetadata"];
    if let Some(name) = md["description"][CUSTOM_NAME].as_str() {
        let _ = writeln!(out, "  name: {name}");
    }
    if let Some(body) = body {
        flatten(out, "", body);
    }
    if let Some(p) = op.get("platform") {
        let _ = writeln!(out, "  platform: {}", platform(p));
    }
    if let Some(c) = op
        .get("constraints")
        .filter(|c| c != &&Value::Object(Default::default()))
    {
        flatten(out, "constraints", c);
    }
    let mut md = md.clone();
    if let Some(d) = md.get_mut("description").and_then(Value::as_object_mut) {
        d.remove(CUSTOM_NAME);
        if d.is_empty() {
            md.as_object_mut().map(|m| m.remove("description"));
        }
    }
    if let Some(caps) = md.as_object_mut().and_then(|m| m.remove("caps")) {
        let names: Vec<&str> = caps
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let _ = writeln!(out, "  caps: {}", names.join(" "));
    }
    flatten(out, "meta", &md);
    for l in locations {
        let _ = writeln!(out, "  loc: {l}");
    }
}

/// `#position` of an input (with `:output` when not 0); `?digest` for one not in the definition.
fn input_ref(inp: &Value, positions: &BTreeMap<String, usize>) -> String {
    let digest = inp["digest"].as_str().unwrap_or("");
    let at = positions
        .get(digest)
        .map(|p| format!("#{p}"))
        .unwrap_or_else(|| format!("?{digest}"));
    match inp["index"].as_i64() {
        Some(n) if n != 0 => format!("{at}:{n}"),
        _ => at,
    }
}

fn platform(p: &Value) -> String {
    let mut s = String::new();
    for key in ["OS", "Architecture", "Variant"] {
        if let Some(part) = p[key].as_str() {
            if !s.is_empty() {
                s.push('/');
            }
            s.push_str(part);
        }
    }
    for key in ["OSVersion", "OSFeatures"] {
        if let Some(extra) = p.get(key) {
            let _ = write!(s, " {key}={extra}");
        }
    }
    s
}

/// One `path: value` line per leaf; arrays of scalars stay on one line.
fn flatten(out: &mut String, path: &str, v: &Value) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                flatten(out, &join(k), child);
            }
        }
        Value::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => {
            for (i, child) in a.iter().enumerate() {
                flatten(out, &format!("{path}[{i}]"), child);
            }
        }
        _ => {
            let _ = writeln!(out, "  {path}: {v}");
        }
    }
}

/// `FILE:LINE[-LINE]` for each range the source map gives the op.
fn source_lines(def: &pb::Definition, digest: &str) -> Vec<String> {
    let Some(source) = &def.source else {
        return Vec::new();
    };
    let Some(locs) = source.locations.get(digest) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for loc in &locs.locations {
        let file = usize::try_from(loc.source_index)
            .ok()
            .and_then(|i| source.infos.get(i))
            .map(|info| info.filename.as_str())
            .unwrap_or("?");
        for r in &loc.ranges {
            let start = r.start.map(|p| p.line).unwrap_or_default();
            let end = r.end.map(|p| p.line).unwrap_or_default();
            if start == end {
                out.push(format!("{file}:{start}"));
            } else {
                out.push(format!("{file}:{start}-{end}"));
            }
        }
    }
    out
}

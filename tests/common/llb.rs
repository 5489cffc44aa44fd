//! `--call=convertllb` answers made comparable across builds: what names the build (session
//! ids, buildx's OCI store id, progress group ids, the served sources' ports) is replaced by a
//! fixed word, and each op's digest by one computed from its content so rewritten, so two
//! conversions of the same input by two frontends compare equal exactly when their ops do.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// buildx prints the answer's metadata as a Go map: `… map[result.json:{…} version:0.1.0]`.
pub fn result_json(stdout: &str) -> Option<Value> {
    let start = stdout.find("result.json:")? + "result.json:".len();
    let end = stdout.rfind(" version:")?;
    serde_json::from_str(stdout.get(start..end)?).ok()
}

/// Attributes whose values are ids of the build's session or of buildx's OCI stores.
const PER_BUILD_ATTRS: &[&str] = &["local.session", "oci.session", "oci.store"];

/// `doc` canonicalized: each `(from, to)` of `replace` applied to its text first (ports, paths
/// and digests made at test time), per-build ids and progress groups fixed, the Dockerfile's
/// source-map info (its definition names the session) and empty source locations dropped, and
/// op digests replaced by `op:<hash of the op with its inputs renamed>`. Keys sorted.
pub fn canonical(doc: &Value, replace: &[(String, String)]) -> Value {
    let mut doc = with_replaced(doc, replace);
    fix_per_build_values(&mut doc);
    let names = canonical_names(&doc);
    sorted(with_replaced(&doc, &names))
}

/// `doc` with each `(from, to)` of `replace` applied to its text, in order.
pub fn with_replaced(doc: &Value, replace: &[(String, String)]) -> Value {
    let text = replace
        .iter()
        .fold(doc.to_string(), |text, (from, to)| text.replace(from, to));
    serde_json::from_str(&text).expect("still JSON")
}

fn fix_per_build_values(doc: &mut Value) {
    // `get_mut`, not `[]`: indexing a JSON object mutably inserts the key when absent.
    if let Some(ops) = doc.get_mut("def").and_then(Value::as_object_mut) {
        for op in ops.values_mut() {
            let attrs = op.get_mut("source").and_then(|s| s.get_mut("attrs"));
            if let Some(attrs) = attrs.and_then(Value::as_object_mut) {
                for key in PER_BUILD_ATTRS {
                    if let Some(v) = attrs.get_mut(*key) {
                        *v = Value::String("PER-BUILD".into());
                    }
                }
            }
        }
    }
    if let Some(metadata) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
        for m in metadata.values_mut() {
            if let Some(group) = m.get_mut("progress_group").and_then(Value::as_object_mut) {
                group.insert("id".into(), Value::String("GROUP".into()));
            }
        }
    }
    let source = doc.get_mut("source");
    if let Some(infos) = source
        .and_then(|s| s.get_mut("infos"))
        .and_then(Value::as_array_mut)
    {
        for info in infos.iter_mut().filter_map(Value::as_object_mut) {
            info.remove("definition");
            info.remove("data");
        }
    }
    // mstage leaves out source-map entries without locations, which mean nothing (and so the
    // map, or the whole source map, when nothing is left).
    if let Some(source) = doc.get_mut("source").and_then(Value::as_object_mut) {
        if let Some(locations) = source.get_mut("locations").and_then(Value::as_object_mut) {
            locations.retain(|_, v| v.as_object().is_none_or(|o| !o.is_empty()));
            if locations.is_empty() {
                source.remove("locations");
            }
        }
    }
    let empty_source = doc["source"].as_object().is_some_and(|s| s.is_empty());
    if let (true, Some(doc)) = (empty_source, doc.as_object_mut()) {
        doc.remove("source");
    }
}

/// Each op digest of `doc["def"]` with its content-derived name.
fn canonical_names(doc: &Value) -> Vec<(String, String)> {
    let Some(ops) = doc["def"].as_object() else {
        return Vec::new();
    };
    let mut names: Vec<(String, String)> = Vec::new();
    for digest in ops.keys() {
        name_of(digest, ops, &mut names, 0);
    }
    names
}

fn name_of(
    digest: &str,
    ops: &Map<String, Value>,
    names: &mut Vec<(String, String)>,
    depth: usize,
) -> String {
    if let Some((_, name)) = names.iter().find(|(d, _)| d == digest) {
        return name.clone();
    }
    let mut op = ops.get(digest).cloned().unwrap_or(Value::Null);
    if depth < 1000 {
        if let Some(inputs) = op.get_mut("inputs").and_then(Value::as_array_mut) {
            for input in inputs {
                let from = input["digest"].as_str().unwrap_or_default().to_string();
                input["digest"] = Value::String(name_of(&from, ops, names, depth + 1));
            }
        }
    }
    let hash = Sha256::digest(sorted(op).to_string().as_bytes());
    let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let name = format!("op:{hex}");
    names.push((digest.to_string(), name.clone()));
    name
}

/// `value` with every object's keys in order, so its text does not depend on how it was read.
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

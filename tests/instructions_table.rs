//! Data-table tests for `mstage::instructions`: every line of `tests/instructions_cases/*.jsonl`
//! is one case. Instruction cases give a node (`keyword`, `flags`, `args`, `json`, `heredocs`,
//! `nested`, `original`, `comments`) and either `error` (the exact message) or `expect` (a subset
//! of the serialized instruction). Mount cases give `mount` (and `expand`: false for the
//! parse-time pass); device cases give `device`; flag-set cases give `define` and `flags`.

use std::fs;
use std::path::PathBuf;

use mstage::instructions::{parse_device, parse_instruction, parse_mount, BFlags, Expander};
use mstage::syntax::{Heredoc, Node, SourceRange};
use serde_json::Value;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/instructions_cases")
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// A heredoc as the parser leaves it: `content` in the cases is the raw text (BuildKit's
/// `Heredoc.Content`), which the parser also keeps chomped when the heredoc is `<<-`.
fn heredoc(v: &Value) -> Heredoc {
    let raw = text(v, "content");
    let chomp = v.get("chomp").and_then(Value::as_bool).unwrap_or(false);
    Heredoc {
        name: text(v, "name"),
        content: if chomp {
            mstage::syntax::chomp_heredoc_content(&raw)
        } else {
            raw.clone()
        },
        raw_content: raw,
        expand: v.get("expand").and_then(Value::as_bool).unwrap_or(true),
        chomp,
        ..Default::default()
    }
}

fn node(v: &Value) -> Node {
    Node {
        keyword: text(v, "keyword"),
        flags: strings(v, "flags"),
        args: strings(v, "args"),
        nested: v.get("nested").map(|n| Box::new(node(n))),
        json: v.get("json").and_then(Value::as_bool).unwrap_or(false),
        heredocs: v
            .get("heredocs")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(heredoc).collect())
            .unwrap_or_default(),
        original: text(v, "original"),
        range: SourceRange {
            start_line: 7,
            end_line: 8,
        },
        comments: strings(v, "comments"),
        ..Default::default()
    }
}

/// True when every key in `expected` is in `actual` with a matching value; arrays match item by
/// item and must have the same length.
fn subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| subset(ev, av))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(ev, av)| subset(ev, av))
        }
        _ => expected == actual,
    }
}

/// The parse-time expander stand-in: replaces `$NAME` from the case's `vars`; `$FAIL` errors.
fn expander(vars: Value) -> impl Fn(&str) -> Result<String, String> {
    move |word: &str| {
        if word.contains("$FAIL") {
            return Err("expansion failed".to_string());
        }
        let mut out = word.to_string();
        if let Some(map) = vars.as_object() {
            for (k, v) in map {
                out = out.replace(&format!("${k}"), v.as_str().unwrap_or(""));
            }
        }
        Ok(out)
    }
}

/// Declares `define` (`[kind, name, default]`), parses `flags`, and reports every flag's value
/// and the names used: `{"values": {name: value}, "used": [..]}`.
fn bflags_case(defs: &[Value], flags: &[String]) -> Result<Value, String> {
    // BFlags keeps `&'static str` names, as instructions declare them as literals.
    let names: Vec<&'static str> = defs
        .iter()
        .map(|d| &*String::leak(d.get(1).and_then(Value::as_str).unwrap_or("").to_string()))
        .collect();
    let mut bf = BFlags::new();
    for (d, name) in defs.iter().zip(&names) {
        match (d.get(0).and_then(Value::as_str), d.get(2)) {
            (Some("bool"), Some(Value::Bool(b))) => bf.bool_flag(name, *b),
            (Some("string"), Some(Value::String(v))) => bf.string_flag(name, v),
            (Some("strings"), _) => bf.strings_flag(name),
            _ => return Err(format!("bad flag definition {d}")),
        };
    }
    bf.parse(flags)?;
    let values: serde_json::Map<String, Value> = names
        .iter()
        .map(|n| {
            let v = match defs
                .iter()
                .find(|d| d.get(1).and_then(Value::as_str) == Some(n))
            {
                Some(d) if d.get(0).and_then(Value::as_str) == Some("strings") => {
                    Value::from(bf.values(n))
                }
                _ => Value::from(bf.value(n)),
            };
            (n.to_string(), v)
        })
        .collect();
    Ok(serde_json::json!({"values": values, "used": bf.used()}))
}

/// Runs one case; returns a description of the mismatch, if any.
fn run_case(case: &Value) -> Option<String> {
    let result: Result<Value, String> = if let Some(m) = case.get("mount").and_then(Value::as_str) {
        let expand = expander(case.get("vars").cloned().unwrap_or(Value::Null));
        let with_expander = case.get("expand").and_then(Value::as_bool).unwrap_or(true);
        let ex: Option<Expander> = if with_expander { Some(&expand) } else { None };
        parse_mount(m, ex)
            .map_err(|e| e.to_string())
            .and_then(|m| serde_json::to_value(m).map_err(|e| e.to_string()))
    } else if let Some(defs) = case.get("define").and_then(Value::as_array) {
        bflags_case(defs, &strings(case, "flags"))
    } else if let Some(d) = case.get("device").and_then(Value::as_str) {
        parse_device(d).and_then(|d| serde_json::to_value(d).map_err(|e| e.to_string()))
    } else {
        let n = node(case);
        match parse_instruction(&n) {
            Ok(i) => {
                if i.range() != n.range {
                    return Some(format!("range not kept: {:?}", i.range()));
                }
                serde_json::to_value(&i).map_err(|e| e.to_string())
            }
            Err(e) => {
                if e.range != n.range {
                    return Some(format!("error range not kept: {:?}", e.range));
                }
                Err(e.to_string())
            }
        }
    };
    match (case.get("error").and_then(Value::as_str), result) {
        (Some(want), Err(got)) if want == got => None,
        (Some(want), other) => Some(format!("want error {want:?}, got {other:?}")),
        (None, Err(got)) => Some(format!("unexpected error {got:?}")),
        (None, Ok(got)) => {
            let want = case.get("expect").cloned().unwrap_or(Value::Null);
            (!subset(&want, &got)).then(|| format!("want {want}\n got {got}"))
        }
    }
}

#[test]
fn instruction_tables() {
    let mut files: Vec<PathBuf> = fs::read_dir(cases_dir())
        .expect("cases dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no case files");
    let (mut count, mut failures) = (0, Vec::new());
    for file in &files {
        let data = fs::read_to_string(file).expect("read cases");
        for (i, line) in data.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let where_ = format!("{}:{}", file.display(), i + 1);
            let case: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{where_}: bad case: {e}"));
                    continue;
                }
            };
            count += 1;
            if let Some(msg) = run_case(&case) {
                failures.push(format!("{where_}: {msg}"));
            }
        }
    }
    assert!(count > 0);
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

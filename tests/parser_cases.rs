//! Parser behaviour cases, one directory each under `tests/parser_cases/`: a `Dockerfile` and an
//! `expect` file holding the rendering below (dump lines, ranges, comments, heredocs, warnings,
//! directives, or the error with its location). Set `UPDATE_EXPECT=1` to write missing or changed
//! `expect` files (then review them).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use mstage::syntax::{dump_node, parse, Dockerfile};

fn render(df: &Dockerfile) -> String {
    let mut out = String::new();
    let d = &df.directives;
    if let Some(v) = &d.syntax {
        let _ = writeln!(out, "directive syntax@{} {v:?}", d.syntax_line);
    }
    if let Some(v) = &d.escape {
        let _ = writeln!(out, "directive escape@{} {v:?}", d.escape_line);
    }
    if let Some(v) = &d.check {
        let _ = writeln!(out, "directive check@{} {v:?}", d.check_line);
    }
    let _ = writeln!(out, "escape {:?}", df.escape);
    for node in &df.nodes {
        let r = node.range;
        let _ = writeln!(out, "{}-{} ({})", r.start_line, r.end_line, dump_node(node));
        if !node.comments.is_empty() {
            let _ = writeln!(out, "  comments {:?}", node.comments);
        }
        if node.json {
            let _ = writeln!(out, "  json");
        }
        for h in &node.heredocs {
            let _ = writeln!(
                out,
                "  heredoc {:?} expand={} chomp={} fd={} content={:?}",
                h.name, h.expand, h.chomp, h.file_descriptor, h.content
            );
            if h.raw_content != h.content {
                let _ = writeln!(out, "    raw={:?}", h.raw_content);
            }
        }
    }
    for w in &df.warnings {
        let _ = writeln!(
            out,
            "warning {}-{}: {}",
            w.range.start_line, w.range.end_line, w.message
        );
    }
    out
}

fn outcome(text: &str) -> String {
    match parse(text) {
        Ok(df) => render(&df),
        Err(e) => format!("error {}-{}: {e}\n", e.line, e.end_line),
    }
}

#[test]
fn parser_cases() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/parser_cases");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .expect("tests/parser_cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() > 20, "cases missing");
    let mut failures = Vec::new();
    for dir in &dirs {
        let text = read(&dir.join("Dockerfile"));
        let got = outcome(&text);
        let expect_path = dir.join("expect");
        let expected = fs::read_to_string(&expect_path).unwrap_or_default();
        if got != expected {
            if update {
                fs::write(&expect_path, &got).expect("writing expect");
            }
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}",
                dir.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn read(path: &Path) -> String {
    String::from_utf8(fs::read(path).expect("reading Dockerfile")).expect("UTF-8 Dockerfile")
}

//! Which words `expand_words`/`expand_raw` touch: every `$X` becomes `<X>` through a marking
//! expander, so a word left unexpanded keeps its `$`.

use mstage::instructions::{expand_arg_pairs, parse_instruction, Instruction};
use mstage::syntax::{Heredoc, Node};

fn mark(w: &str) -> Result<String, String> {
    if w.contains("$ERR") {
        return Err("bad".into());
    }
    Ok(w.replace("$X", "<X>"))
}

fn parsed(keyword: &str, flags: &[&str], args: &[&str]) -> Instruction {
    let node = Node {
        keyword: keyword.into(),
        flags: flags.iter().map(|s| s.to_string()).collect(),
        args: args.iter().map(|s| s.to_string()).collect(),
        heredocs: vec![
            Heredoc {
                name: "A".into(),
                content: "$X\n".into(),
                expand: true,
                chomp: false,
                ..Default::default()
            },
            Heredoc {
                name: "B".into(),
                content: "$X\n".into(),
                expand: false,
                chomp: false,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    match parse_instruction(&node) {
        Ok(i) => i,
        Err(e) => panic!("{keyword}: {e}"),
    }
}

#[test]
fn copy_expands_flags_sources_and_dest_but_not_from() {
    let mut i = parsed(
        "copy",
        &["--from=$X", "--chown=$X", "--chmod=$X"],
        &["$X", "<<A", "<<'B'", "/$X"],
    );
    i.expand_words(&mark).unwrap();
    i.expand_raw(&mark).unwrap();
    let Instruction::Copy(c) = i else {
        panic!("not copy")
    };
    assert_eq!(
        (c.from.as_str(), c.chown.as_str(), c.chmod.as_str()),
        ("$X", "<X>", "<X>")
    );
    assert_eq!(c.sources.source_paths, ["<X>"]);
    assert_eq!(c.sources.dest_path, "/<X>");
    let data: Vec<&str> = c
        .sources
        .source_contents
        .iter()
        .map(|s| s.data.as_str())
        .collect();
    assert_eq!(data, ["<X>\n", "$X\n"]);
}

#[test]
fn add_expands_checksum() {
    let mut i = parsed("add", &["--checksum=$X"], &["a", "b"]);
    i.expand_words(&mark).unwrap();
    let Instruction::Add(a) = i else {
        panic!("not add")
    };
    assert_eq!(a.checksum, "<X>");
}

#[test]
fn simple_instructions() {
    let cases: [(&str, &[&str]); 5] = [
        ("env", &["$X", "$X", "="]),
        ("workdir", &["$X"]),
        ("user", &["$X"]),
        ("volume", &["$X"]),
        ("stopsignal", &["$X"]),
    ];
    for (kw, args) in cases {
        let mut i = parsed(kw, &[], args);
        i.expand_words(&mark).unwrap();
        let dump = format!("{i:?}");
        assert!(
            dump.contains("<X>") && !dump.contains("\"$X\""),
            "{kw}: {dump}"
        );
    }
    // Not expanded here: EXPOSE (done in conversion), CMD, SHELL.
    let mut i = parsed("expose", &[], &["$X"]);
    i.expand_words(&mark).unwrap();
    assert!(!format!("{i:?}").contains("<X>"));
}

#[test]
fn errors_and_args() {
    let mut i = parsed("workdir", &[], &["$ERR"]);
    assert_eq!(i.expand_words(&mark), Err("bad".into()));
    let Instruction::Arg(mut a) = parsed("arg", &[], &["$X=$X", "b"]) else {
        panic!("not arg")
    };
    expand_arg_pairs(&mark, &mut a.args).unwrap();
    assert_eq!(
        (a.args[0].key.as_str(), a.args[0].value.as_deref()),
        ("<X>", Some("<X>"))
    );
    assert_eq!(a.args[1].value, None);
}

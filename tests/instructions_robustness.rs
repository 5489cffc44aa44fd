//! No input may make instruction parsing panic: every keyword meets awkward flags and arguments
//! (empty, multi-byte, quotes, heredoc markers, separators), and the mount, device, duration and
//! size parsers meet awkward values. Each result must keep the node's range and, when an error,
//! carry a message.

use mstage::instructions::goconv::{parse_go_duration, ram_in_bytes};
use mstage::instructions::{parse_device, parse_instruction, parse_mount, KEYWORDS};
use mstage::syntax::{Heredoc, Node, SourceRange};

const WORDS: [&str; 16] = [
    "", " ", "as", "AS", "é", "<<", "<<-", "<<'E'", "<<\"", "2<<E", "=", "a=b", "\"", "'", "--",
    "$",
];

const FLAGS: [&str; 16] = [
    "--",
    "--=",
    "--link",
    "--link=",
    "--from=",
    "--mount=",
    "--mount=\"",
    "--mount=type=secret",
    "--network=",
    "--interval=1µs",
    "--retries=-",
    "--platform",
    "-x",
    "x",
    "--é=é",
    "--device=,",
];

const VALUES: [&str; 14] = [
    "",
    ",",
    "\"",
    "\"\"",
    "\"a\"b",
    "=",
    "type=",
    "from=$",
    "a,b,c",
    "size=é",
    "mode=",
    "type=tmpfs,size=.",
    "ro=é",
    "é=é,é",
];

fn node(keyword: &str, flags: Vec<String>, args: Vec<String>, json: bool) -> Node {
    Node {
        keyword: keyword.to_string(),
        flags,
        args: args.clone(),
        nested: (keyword == "onbuild" && !json)
            .then(|| Box::new(node("run", Vec::new(), args.clone(), false))),
        json,
        heredocs: vec![Heredoc {
            name: "E".into(),
            content: "é\n".into(),
            expand: true,
            chomp: false,
            ..Default::default()
        }],
        original: format!("{keyword} {}", args.join(" ")),
        range: SourceRange {
            start_line: 3,
            end_line: 4,
        },
        comments: vec!["é".into(), String::new()],
        ..Default::default()
    }
}

#[test]
fn instructions_never_panic() {
    let mut checked = 0;
    for keyword in KEYWORDS.iter().copied().chain(["bogus", ""]) {
        for flag in FLAGS
            .iter()
            .map(|f| vec![f.to_string()])
            .chain([Vec::new()])
        {
            for n_args in 0..4 {
                for (i, w) in WORDS.iter().enumerate() {
                    let args: Vec<String> = (0..n_args)
                        .map(|k| WORDS[(i + k * 5) % WORDS.len()].to_string())
                        .chain((n_args > 0).then(|| w.to_string()))
                        .collect();
                    for json in [false, true] {
                        let n = node(keyword, flag.clone(), args.clone(), json);
                        let range = match parse_instruction(&n) {
                            Ok(inst) => inst.range(),
                            Err(e) => {
                                assert!(!e.message.is_empty(), "{n:?}");
                                e.range
                            }
                        };
                        assert_eq!(range, n.range);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000);
}

#[test]
fn value_parsers_never_panic() {
    let expand = |w: &str| Ok(w.to_string());
    for a in VALUES {
        for b in VALUES {
            let v = format!("{a},{b}");
            for value in [a, v.as_str()] {
                if let Err(e) = parse_mount(value, None) {
                    assert!(!e.message.is_empty());
                }
                if let Err(e) = parse_mount(value, Some(&expand)) {
                    assert!(!e.message.is_empty());
                }
                if let Err(e) = parse_device(value) {
                    assert!(!e.is_empty());
                }
                if let Err(e) = parse_go_duration(value) {
                    assert!(e.starts_with("time: "));
                }
                let _ = ram_in_bytes(value);
            }
        }
    }
    for d in [
        "9223372036854775807ns",
        "9223372036854775808ns",
        "-9223372036854775808ns",
        "1.e",
        ".5s",
        "1.0000000000000000000001h",
    ] {
        let _ = parse_go_duration(d);
    }
}

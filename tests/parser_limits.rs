//! Parser behaviours that need generated input: the reference scanner's line-length limit,
//! empty-continuation warnings as BuildKit's own test states them, and deep ONBUILD chains.

use mstage::syntax::{parse, SyntaxErrorKind};

#[test]
fn line_of_64k_is_rejected_like_bufio_scanner() {
    let label = "a".repeat(64 * 1024);
    let err = parse(&format!("\n\t\tFROM image\n\t\tLABEL test={label}\n")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dockerfile line greater than max allowed size of 65535"
    );
    assert_eq!(err.line, 2);

    // The longest line the reference accepts: 65535 bytes before the newline.
    let fits = format!("FROM x\nLABEL a={}\n", "b".repeat(65535 - "LABEL a=".len()));
    assert!(parse(&fits).is_ok());
    // Without instructions before it, the reference reports the empty file instead.
    let err = parse(&"x".repeat(70_000)).unwrap_err();
    assert_eq!(err.kind, SyntaxErrorKind::NoInstructions);
}

#[test]
fn empty_continuation_warnings_as_buildkit_tests_them() {
    let text = "\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n    following \\\n\n    more\n\nRUN another \\\n\n    thing\n\nRUN non-indented \\\n# this is a comment\n   after-comment\n\nRUN indented \\\n    # this is an indented comment\n    comment\n\t";
    let df = parse(text).expect("parses");
    let messages: Vec<&str> = df.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "Empty continuation line found in: RUN something     following     more",
            "Empty continuation line found in: RUN another     thing",
        ]
    );
    assert_eq!(df.warnings[0].range.start_line, 11);
    assert!(df.warnings[0]
        .detail
        .contains("will become errors in a future release"));
}

#[test]
fn onbuild_chains_nest_up_to_a_limit() {
    let chain = |depth: usize| format!("FROM x\n{}RUN y\n", "ONBUILD ".repeat(depth));
    let df = parse(&chain(32)).expect("32 levels parse");
    let mut node = &df.nodes[1];
    let mut depth = 0;
    while let Some(nested) = &node.nested {
        depth += 1;
        assert_eq!(nested.range, df.nodes[1].range);
        node = nested;
    }
    assert_eq!((depth, node.keyword.as_str()), (32, "run"));

    // Far deeper chains (continuation lines make them unbounded) fail cleanly, not by recursion.
    let deep = format!("FROM x\n{}RUN y\n", "ONBUILD \\\n".repeat(200_000));
    let err = parse(&deep).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    assert_eq!((err.line, err.end_line), (2, 200_002));
}

#[test]
fn deeply_nested_substitutions_do_not_exhaust_the_stack() {
    // Continuation lines make the logical line as long as needed.
    let nested = "${a:-\\\n".repeat(50_000);
    let line = format!("FROM x\nRUN cat <<EOF {nested}x\nbody\nEOF\n");
    let df = parse(&line).expect("parses");
    // Too deep to lex, so (as for any line the lexer rejects) no heredoc is read.
    assert!(df.nodes[1].heredocs.is_empty());
    assert_eq!(df.nodes.len(), 4);
}

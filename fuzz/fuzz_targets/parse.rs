//! Any UTF-8 text must parse or fail cleanly, never panic: the parser, the dump, typed
//! instructions, word expansion of every argument (both lexer modes), and the stage graph.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mstage::syntax::shell::Lexer;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(df) = mstage::syntax::parse(text) else {
        return;
    };
    let _ = mstage::syntax::dump(&df);
    let env = vec![
        ("A".to_string(), "a b".to_string()),
        ("EMPTY".to_string(), String::new()),
    ];
    let plain = Lexer::new(df.escape);
    let raw = Lexer::new(df.escape).raw_quotes(true).skip_unset_env(true);
    for node in &df.nodes {
        for arg in node.args.iter().chain(&node.flags) {
            let _ = plain.process_word(arg, &env);
            let _ = raw.process_word(arg, &env);
            let _ = plain.process_words(arg, &env);
        }
        let _ = mstage::instructions::parse_instruction(node);
    }
    let _ = mstage::convert::stage_graph(text, &mstage::convert::ConvertOptions::default());
});

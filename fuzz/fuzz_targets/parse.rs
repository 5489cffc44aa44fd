//! Any UTF-8 text must parse or fail cleanly, never panic; a parsed file must also dump.
//! `mstage::syntax::shell` (word expansion) is not fuzzed here yet: the lead adds it once the
//! shell lexer is merged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(df) = mstage::syntax::parse(text) {
        let _ = mstage::syntax::dump(&df);
    }
});

//! A bounded, deterministic stand-in for fuzzing that runs with plain `cargo test` (the real
//! fuzzer is `fuzz/`, nightly only): corpus files and the behaviour cases, mutated with the
//! characters the parser treats specially, must parse or fail without panicking.

mod common;

use std::fs;
use std::path::Path;

/// Fragments the parser reacts to: escapes, quotes, heredoc markers, JSON, directives, flags.
const FRAGMENTS: &[&str] = &[
    "\\",
    "`",
    "\\\n",
    "`\n",
    "\n",
    "\r\n",
    "\t",
    " ",
    "'",
    "\"",
    "<<",
    "<<-",
    "<<'E'",
    "E\n",
    "EOF\n",
    "[",
    "]",
    "[\"a\", 1]",
    "{",
    "\"\\ud800\"",
    "#",
    "# escape=`\n",
    "# syntax=x\n",
    "--",
    "--flag=\"a b\"",
    "=",
    "${",
    "${a:-",
    "}",
    "$",
    "ONBUILD ",
    "RUN ",
    "COPY ",
    "ENV ",
    "HEALTHCHECK ",
    "\u{feff}",
    "\u{a0}",
    "\u{85}",
    "é",
    "\0",
];

/// xorshift64*: a fixed sequence so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize
    }
}

fn mutate(seed: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..1 + rng.next() % 6 {
        let at = if chars.is_empty() {
            0
        } else {
            rng.next() % (chars.len() + 1)
        };
        match rng.next() % 3 {
            0 => {
                let fragment = FRAGMENTS[rng.next() % FRAGMENTS.len()];
                chars.splice(at..at, fragment.chars());
            }
            1 if at < chars.len() => {
                let end = (at + 1 + rng.next() % 8).min(chars.len());
                chars.drain(at..end);
            }
            _ if !chars.is_empty() => {
                let from = rng.next() % chars.len();
                let end = (from + 1 + rng.next() % 16).min(chars.len());
                let copy: Vec<char> = chars[from..end].to_vec();
                chars.splice(at..at, copy);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn seeds() -> Vec<String> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parser_cases")];
    if let Some(root) = common::conformance_dir() {
        dirs.push(root.join("parser/testfiles"));
        dirs.push(root.join("parser/testfiles-negative"));
    }
    let mut seeds = Vec::new();
    for dir in dirs {
        let mut cases: Vec<_> = fs::read_dir(&dir).expect("case dir").flatten().collect();
        cases.sort_by_key(|e| e.path());
        for case in cases {
            if let Ok(text) = fs::read_to_string(case.path().join("Dockerfile")) {
                seeds.push(text);
            }
        }
    }
    seeds
}

#[test]
fn mutated_inputs_never_panic() {
    let seeds = seeds();
    assert!(!seeds.is_empty());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = [0usize; 2];
    for round in 0..4000 {
        let input = mutate(&seeds[round % seeds.len()], &mut rng);
        let result = std::panic::catch_unwind(|| {
            mstage::syntax::parse(&input).map(|df| mstage::syntax::dump(&df))
        });
        match result {
            Ok(parsed) => outcomes[usize::from(parsed.is_ok())] += 1,
            Err(_) => panic!("parse panicked on {input:?}"),
        }
    }
    // Both paths are exercised, so the mutations are neither all-valid nor all-garbage.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "outcomes {outcomes:?}");
}

//! Unit tests: the table tests of BuildKit's lex_test.go and further behaviour cases, read from
//! `testdata/*.json`, plus a no-panic sweep over generated input.

use std::collections::BTreeSet;

use serde_json::Value;

use super::pattern::{self, Token};
use super::{EnvGetter, EnvList, KeyCase, Lexer};

fn load(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad test data: {e}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn lexer_from(options: &Value) -> Lexer {
    let flag = |name: &str| options.get(name).and_then(Value::as_bool).unwrap_or(false);
    let escape = options
        .get("escape")
        .and_then(Value::as_str)
        .and_then(|s| s.chars().next())
        .unwrap_or('\\');
    Lexer::new(escape)
        .raw_quotes(flag("raw_quotes"))
        .raw_escapes(flag("raw_escapes"))
        .skip_unset_env(flag("skip_unset_env"))
        .skip_process_quotes(flag("skip_process_quotes"))
}

/// Checks one case; returns a description of each mismatch.
fn check_case(case: &Value) -> Vec<String> {
    let Some(input) = case.get("input").and_then(Value::as_str) else {
        return Vec::new(); // a comment entry
    };
    let lexer = lexer_from(case.get("lexer").unwrap_or(&Value::Null));
    let env = EnvList::from_kv_strings(&strings(&case["env"]), KeyCase::Unix);
    let mut problems = Vec::new();
    let got = lexer.process_word(input, &env);
    let error = case.get("error").and_then(Value::as_str);
    let error_full = case.get("error_full").and_then(Value::as_str);
    match &got {
        Err(e) => {
            let wanted = error.map(|w| w == e.kind.to_string());
            let wanted_full = error_full.map(|w| w == e.to_string());
            if wanted.or(wanted_full) != Some(true) {
                problems.push(format!("unexpected error {:?}", e.to_string()));
            }
        }
        Ok(exp) => {
            if error.is_some() || error_full.is_some() {
                problems.push(format!("expected an error, got {:?}", exp.value));
            }
            if let Some(want) = case.get("expect").and_then(Value::as_str) {
                if exp.value != want {
                    problems.push(format!("value {:?}, want {want:?}", exp.value));
                }
            }
            for (field, set) in [("matched", &exp.matched), ("unmatched", &exp.unmatched)] {
                if let Some(want) = case.get(field) {
                    let want: BTreeSet<String> = strings(want).into_iter().collect();
                    if &want != set {
                        problems.push(format!("{field} {set:?}, want {want:?}"));
                    }
                }
            }
        }
    }
    if let Some(want) = case.get("words") {
        match lexer.process_words(input, &env) {
            Ok(words) if words == strings(want) => {}
            other => problems.push(format!("words {other:?}, want {want}")),
        }
    }
    problems
        .into_iter()
        .map(|p| format!("{input:?}: {p}"))
        .collect()
}

fn run_cases(text: &str) {
    let cases = load(text);
    let cases = cases.as_array().map(Vec::as_slice).unwrap_or_default();
    let checked = cases.iter().filter(|c| c.get("input").is_some()).count();
    let failures: Vec<String> = cases.iter().flat_map(check_case).collect();
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{} failure(s)", failures.len());
    assert!(checked > 10, "only {checked} cases");
}

#[test]
fn process_with_matches() {
    run_cases(include_str!("testdata/process_with_matches.json"));
}

#[test]
fn behaviour() {
    run_cases(include_str!("testdata/behaviour.json"));
}

#[test]
fn get_env() {
    let cases = load(include_str!("testdata/get_env.json"));
    for case in cases.as_array().map(Vec::as_slice).unwrap_or_default() {
        let Some(key) = case.get("key").and_then(Value::as_str) else {
            continue;
        };
        let windows = case
            .get("windows")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let case_rule = if windows {
            KeyCase::Windows
        } else {
            KeyCase::Unix
        };
        let env = EnvList::from_kv_strings(&strings(&case["env"]), case_rule);
        assert_eq!(env.get(key), case["value"].as_str(), "{case}");
    }
}

#[test]
fn keys_keep_definition_order_and_repeats() {
    let env = EnvList::from_kv_strings(&["b=1", "a=2", "b=3"], KeyCase::Unix);
    assert_eq!(env.keys(), ["b", "a", "b"]);
    assert!(KeyCase::Windows.equal("path", "PATH"));
    assert!(!KeyCase::Unix.equal("path", "PATH"));
}

/// A compiled pattern written as the reference's regular expression.
fn as_regex(tokens: &[Token], greedy: bool, anchored: bool) -> String {
    let mut out = String::from(if anchored { "^" } else { "" });
    for token in tokens {
        match *token {
            Token::Star => out.push_str(if greedy { ".*" } else { ".*?" }),
            Token::Any => out.push('.'),
            Token::Literal(c) => {
                if "[]{}.+()|^$*?\\".contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let s = strings(p);
            (
                s.first().cloned().unwrap_or_default(),
                s.get(1).cloned().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn patterns() {
    let data = load(include_str!("testdata/patterns.json"));
    for (input, want) in pairs(&data["convert"]) {
        let tokens = pattern::compile(&input).map_err(|e| e.to_string());
        assert_eq!(
            tokens.map(|t| as_regex(&t, true, true)),
            Ok(want),
            "{input:?}"
        );
    }
    for (input, want) in pairs(&data["convert_invalid"]) {
        let got = pattern::compile(&input).map_err(|e| e.to_string());
        assert_eq!(got, Err(want), "{input:?}");
    }
    for (input, want) in pairs(&data["reverse_string"]) {
        assert_eq!(pattern::reverse_string(&input), want);
    }
    for (input, want) in pairs(&data["reverse_pattern"]) {
        assert_eq!(pattern::reverse_pattern(&input), want, "{input:?}");
    }
    assert!(pairs(&data["convert"]).len() >= 4);
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

#[test]
fn no_panic_on_generated_words() {
    const ALPHABET: &[char] = &[
        '$', '{', '}', ':', '-', '+', '?', '#', '%', '/', '\\', '\'', '"', '`', '*', '[', '<', ' ',
        '\t', '\n', '0', '1', 'A', 'B', 'x', '_', 'é', '한', '🚀', '\u{FEFF}', '\u{0}',
    ];
    let env = EnvList::from_kv_strings(
        &["A=a b", "B=", "x=*?\\", "_=한🚀", "1=\\", "AB=$0${0}\n"],
        KeyCase::Unix,
    );
    let lexers = [
        Lexer::new('\\'),
        Lexer::new('`'),
        Lexer::new('\\').raw_quotes(true).skip_unset_env(true),
        Lexer::new('\\').raw_escapes(true).skip_process_quotes(true),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut ok, mut errors) = (0, 0);
    for i in 0..4000 {
        let len = rng.below(24);
        let word: String = (0..len)
            .map(|_| {
                ALPHABET
                    .get(rng.below(ALPHABET.len()))
                    .copied()
                    .unwrap_or('x')
            })
            .collect();
        let lexer = lexers.get(i % lexers.len()).cloned().unwrap_or_default();
        match lexer.process_word(&word, &env) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                errors += 1;
            }
        }
        let _ = lexer.process_words(&word, &env);
    }
    // Both outcomes must be exercised for the sweep to mean anything.
    assert!(ok > 100 && errors > 100, "ok {ok}, errors {errors}");
}

/// Deep `${` nesting is an error, not a stack overflow, even on a small (debug) thread stack.
#[test]
fn deep_nesting_is_an_error() {
    let limit = super::expand::MAX_NESTING;
    let word = |n: usize| "${a:-\"".repeat(n) + "x" + &"\"}".repeat(n);
    let run = move || {
        let lexer = Lexer::new('\\');
        let env = EnvList::default();
        let at_limit = lexer.process_word(&word(limit), &env).map(|e| e.value);
        let beyond = lexer
            .process_word(&word(limit + 1), &env)
            .map_err(|e| e.kind);
        let far = lexer
            .process_words(&word(100_000), &env)
            .map_err(|e| e.kind);
        (at_limit, beyond, far)
    };
    let joined = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(run)
        .map(|h| h.join());
    let Ok(Ok((at_limit, beyond, far))) = joined else {
        panic!("expansion thread failed");
    };
    assert_eq!(at_limit, Ok("x".to_string()));
    assert_eq!(beyond, Err(super::ShellErrorKind::TooDeep(limit)));
    assert_eq!(far, Err(super::ShellErrorKind::TooDeep(limit)));
}

//! BuildKit's word-expansion tables (`shell/envVarTest`, `shell/wordsTest`), read the way
//! lex_test.go's TestShellParser4EnvVars / TestShellParser4Words read them, plus
//! TestShellParserMandatoryEnvVars.

mod common;

use mstage::syntax::shell::{EnvList, KeyCase, Lexer};

fn read(rel: &str) -> Option<String> {
    let dir = common::conformance_dir()?;
    let path = dir.join(rel);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

fn fail_if_any(failures: &[String], file: &str) {
    for f in failures {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} failing line(s) in {file}",
        failures.len()
    );
}

/// Runs the `envVarTest` lines meant for one platform. Key `A` = all, `U` = unix, `W` = windows.
fn env_var_vectors(text: &str, case: KeyCase) -> (usize, Vec<String>) {
    let platform_key = if case == KeyCase::Windows { "W" } else { "U" };
    let envs =
        EnvList::from_kv_strings(&["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="], case);
    let lexer = Lexer::new('\\');
    let (mut ran, mut failures) = (0, Vec::new());
    for (idx, line) in text.lines().enumerate() {
        let n = idx + 1;
        if line.starts_with('#') {
            continue;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('|').collect();
        let [platform, source, expected] = cols.as_slice() else {
            failures.push(format!("line {n}: expected 3 columns: {line:?}"));
            continue;
        };
        let (platform, source, expected) = (platform.trim(), source.trim(), expected.trim());
        if !matches!(platform, "W" | "A" | "U") {
            failures.push(format!(
                "line {n}: invalid tag {platform}, must be W, A or U"
            ));
            continue;
        }
        if platform != "A" && platform != platform_key {
            continue;
        }
        ran += 1;
        match (lexer.process_word(source, &envs), expected) {
            (Err(_), "error") => {}
            (Ok(got), "error") => failures.push(format!(
                "line {n}: {source:?} should fail, got {:?}",
                got.value
            )),
            (Ok(got), _) if got.value == expected => {}
            (got, _) => failures.push(format!(
                "line {n}: {source:?} expected {expected:?}, got {got:?}"
            )),
        }
    }
    (ran, failures)
}

#[test]
fn env_var_test_unix() {
    let Some(text) = read("shell/envVarTest") else {
        return;
    };
    let (ran, failures) = env_var_vectors(&text, KeyCase::Unix);
    fail_if_any(&failures, "envVarTest");
    assert!(ran > 200, "only {ran} vectors ran");
}

/// Not run by the reference's Linux CI, but the `W` rows describe Windows key matching.
#[test]
fn env_var_test_windows_keys() {
    let Some(text) = read("shell/envVarTest") else {
        return;
    };
    let (ran, failures) = env_var_vectors(&text, KeyCase::Windows);
    fail_if_any(&failures, "envVarTest (windows keys)");
    assert!(ran > 200, "only {ran} vectors ran");
}

/// lex_test.go loops over two modes but hands the second one an already-read file, so only the
/// default mode ever checks these lines; so does this test.
#[test]
fn words_test() {
    let Some(text) = read("shell/wordsTest") else {
        return;
    };
    let lexer = Lexer::new('\\');
    let mut envs: Vec<String> = Vec::new();
    let (mut ran, mut failures) = (0, Vec::new());
    for (idx, line) in text.lines().enumerate() {
        let n = idx + 1;
        if line.starts_with('#') {
            continue;
        }
        if let Some(def) = line.strip_prefix("ENV ") {
            envs.push(def.trim_start_matches(' ').to_string());
            continue;
        }
        let cols: Vec<&str> = line.split('|').collect();
        let [test, expected] = cols.as_slice() else {
            failures.push(format!("line {n}: should be exactly one | in {line:?}"));
            continue;
        };
        let test = test.trim();
        let expected: Vec<&str> = expected.trim_start_matches(' ').split(',').collect();
        ran += 1;
        let env = EnvList::from_kv_strings(&envs, KeyCase::Unix);
        let got = lexer
            .process_words(test, &env)
            .unwrap_or_else(|_| vec!["error".to_string()]);
        if got != expected {
            failures.push(format!(
                "line {n}: {test:?} should give {expected:?}, got {got:?}"
            ));
        }
    }
    fail_if_any(&failures, "wordsTest");
    assert!(ran > 20, "only {ran} vectors ran");
}

#[test]
fn mandatory_env_vars() {
    let lexer = Lexer::new('\\');
    let set = EnvList::from_kv_strings(&["VAR=plain", "ARG=x"], KeyCase::Unix);
    let empty = EnvList::from_kv_strings(&["VAR=", "ARG=x"], KeyCase::Unix);
    let unset = EnvList::from_kv_strings(&["ARG=x"], KeyCase::Unix);
    let no_empty = "${VAR:?message here$ARG}";
    let no_unset = "${VAR?message here$ARG}";

    let value = |word: &str, env: &EnvList| lexer.process_word(word, env).map(|e| e.value);
    let error = |word: &str, env: &EnvList| match lexer.process_word(word, env) {
        Err(e) => e.to_string(),
        Ok(e) => format!("unexpected success: {:?}", e.value),
    };

    assert_eq!(value(no_empty, &set), Ok("plain".to_string()));
    assert!(error(no_empty, &empty).contains("message herex"));
    assert!(error(no_empty, &unset).contains("message herex"));

    assert_eq!(value(no_unset, &set), Ok("plain".to_string()));
    assert_eq!(value(no_unset, &empty), Ok(String::new()));
    assert_eq!(
        error(no_unset, &unset),
        "failed to process \"${VAR?message here$ARG}\": VAR: message herex"
    );
}

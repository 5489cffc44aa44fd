//! Heredoc markers (`<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`) and their bodies.

use super::error::SyntaxErrorKind;
use super::node::{Heredoc, Node};
use super::shell::{EnvList, Lexer};

/// Keywords whose arguments may carry heredocs (`heredocDirectives`).
fn allows_heredoc(keyword: &str) -> bool {
    matches!(keyword, "add" | "copy" | "run")
}

/// `canContainHeredoc`: RUN/COPY/ADD in shell form, directly or wrapped in ONBUILD.
pub(crate) fn can_contain_heredoc(node: &Node) -> bool {
    let node = match (&node.nested, node.keyword.as_str()) {
        (Some(nested), "onbuild") => nested,
        _ => node,
    };
    allows_heredoc(&node.keyword) && !node.json
}

/// Parses one word as a heredoc marker (BuildKit's `ParseHeredoc`): `Ok(None)` when it is not one.
/// The returned heredoc has no body yet.
pub fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, SyntaxErrorKind> {
    let Some(marker) = match_marker(word) else {
        return Ok(None);
    };
    if marker.rest.is_empty() {
        return Ok(None);
    }
    let lex_error = |message| SyntaxErrorKind::HeredocWord {
        word: marker.rest.to_string(),
        message,
    };
    let words = lex_words(marker.rest, false, false).map_err(lex_error)?;
    let [name] = words.as_slice() else {
        return Ok(None);
    };
    let raw = lex_words(marker.rest, true, false).map_err(lex_error)?;
    let [raw_name] = raw.as_slice() else {
        return Err(SyntaxErrorKind::HeredocInconsistent(
            marker.rest.to_string(),
        ));
    };
    // A quote removed by lexing means part of the delimiter was quoted: no expansion.
    let quotes = |s: &str| s.chars().filter(|c| matches!(c, '\'' | '"')).count();
    Ok(Some(Heredoc {
        name: name.clone(),
        content: String::new(),
        expand: quotes(name) == quotes(raw_name),
        chomp: marker.chomp,
        raw_content: String::new(),
        file_descriptor: marker.fd,
    }))
}

/// Words as the reference's parser lexes them to find heredocs: always `\` as the escape
/// (whatever the escape directive says), no variables set and unset ones kept as written;
/// `raw_quotes`/`raw_escapes` keep quote and escape characters in the words. Errors are the
/// lexer's message without the `failed to process` prefix.
fn lex_words(text: &str, raw_quotes: bool, raw_escapes: bool) -> Result<Vec<String>, String> {
    Lexer::new('\\')
        .raw_quotes(raw_quotes)
        .raw_escapes(raw_escapes)
        .skip_unset_env(true)
        .process_words(text, &EnvList::default())
        .map_err(|e| e.kind.to_string())
}

/// `heredocsFromLine`: every heredoc marker among the line's words, in order. A line the lexer
/// rejects has no heredocs (the reference ignores that error).
pub(crate) fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, SyntaxErrorKind> {
    let words = lex_words(line, true, true).unwrap_or_default();
    let mut docs = Vec::new();
    for word in &words {
        if let Some(doc) = parse_heredoc(word)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// Whether `line` (one physical line, ending kept) closes `doc`.
pub(crate) fn is_terminator(doc: &Heredoc, line: &str) -> bool {
    let line = super::lines::trim_newline(line);
    let line = if doc.chomp {
        line.trim_start_matches('\t')
    } else {
        line
    };
    line == doc.name
}

/// `ChompHeredocContent`: drops the leading tabs of every line.
pub fn chomp_heredoc_content(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| line.trim_start_matches('\t'))
        .collect()
}

struct Marker<'a> {
    fd: u64,
    chomp: bool,
    rest: &'a str,
}

/// The reference's ``^(\d*)<<(-?)\s*([^<]*)$``.
fn match_marker(word: &str) -> Option<Marker<'_>> {
    let digits_len = word
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(word.len());
    let (digits, rest) = word.split_at(digits_len);
    let rest = rest.strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches(['\t', '\n', '\u{c}', '\r', ' ']);
    if rest.contains('<') {
        return None;
    }
    Some(Marker {
        // Go's ParseUint error is ignored: empty gives 0, overflow gives the maximum.
        fd: if digits.is_empty() {
            0
        } else {
            digits.parse().unwrap_or(u64::MAX)
        },
        chomp,
        rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, raw: bool) -> Vec<String> {
        lex_words(text, raw, raw).unwrap_or_default()
    }

    #[test]
    fn splits_and_keeps_raw_quotes() {
        assert_eq!(words("RUN <<EOF cat", true), ["RUN", "<<EOF", "cat"]);
        assert_eq!(words("RUN << 'E O'", true), ["RUN", "<< 'E O'"]);
        assert_eq!(words("'E O'", false), ["E O"]);
        assert_eq!(words("\"E\\\"F\"", false), ["E\"F"]);
        assert_eq!(words("a\\ b", true), ["a\\ b"]);
        assert_eq!(words("$A ${B:-x y}", true), ["$A", "${B:-x", "y}"]);
    }

    #[test]
    fn nested_substitution_drops_word_prefix_like_reference() {
        assert_eq!(words("ab${x:-c}d", false), ["${x:-c}d"]);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("<<E {}", "${a:-".repeat(100_000));
        assert!(lex_words(&deep, true, true).is_err());
        let ok = format!("{}{}", "${a:-".repeat(50), "}".repeat(50));
        assert!(lex_words(&ok, true, true).is_ok());
    }

    #[test]
    fn errors() {
        assert!(lex_words("'abc", false, false).is_err());
        assert_eq!(
            lex_words("${", false, false),
            Err("syntax error: missing '}'".to_string())
        );
        assert_eq!(
            lex_words("${a!}", false, false),
            Err("unsupported modifier (!) in substitution".to_string())
        );
        assert_eq!(
            lex_words("${a", false, false),
            Err("unsupported modifier (\u{fffd}) in substitution".to_string())
        );
    }

    fn doc(word: &str) -> Option<(String, bool, bool, u64)> {
        parse_heredoc(word)
            .ok()
            .flatten()
            .map(|h| (h.name, h.expand, h.chomp, h.file_descriptor))
    }

    #[test]
    fn markers() {
        assert_eq!(doc("<<EOF"), Some(("EOF".into(), true, false, 0)));
        assert_eq!(doc("<<-EOF"), Some(("EOF".into(), true, true, 0)));
        assert_eq!(doc("<< EOF"), Some(("EOF".into(), true, false, 0)));
        assert_eq!(doc("<<'EOF'"), Some(("EOF".into(), false, false, 0)));
        assert_eq!(doc("<<E\"O\"F"), Some(("EOF".into(), false, false, 0)));
        assert_eq!(doc("2<<EOF"), Some(("EOF".into(), true, false, 2)));
        assert_eq!(doc("<<"), None);
        assert_eq!(doc("<<-"), None);
        assert_eq!(doc("a<<EOF"), None);
        assert_eq!(doc("<<E<F"), None);
        assert_eq!(doc("<<''"), None);
    }

    #[test]
    fn marker_lexing_error() {
        let err = parse_heredoc("<<${").map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("failed to process \"${\": syntax error: missing '}'".into())
        );
    }

    #[test]
    fn chomp() {
        assert_eq!(chomp_heredoc_content("\t\ta\n\tb\n c\n"), "a\nb\n c\n");
    }
}

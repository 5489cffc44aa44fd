//! Parser directives (`# syntax=`, `# escape=`, `# check=`): recognised only in the leading run of
//! lines that all look like directives; the first line that does not (blank, comment, instruction,
//! unknown key) ends the run, and later ones are plain comments.

use super::error::SyntaxErrorKind;

/// The parser directives found at the top of a Dockerfile. A `*_line` is the 1-based line of the
/// directive, 0 when absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directives {
    /// The whole value (`docker/dockerfile:1 extra` keeps its extra words).
    pub syntax: Option<String>,
    pub escape: Option<char>,
    pub check: Option<String>,
    pub syntax_line: usize,
    pub escape_line: usize,
    pub check_line: usize,
}

/// The reference's `DirectiveParser` fed every line in order, plus the current escape token.
pub(crate) struct DirectiveState {
    pub(crate) found: Directives,
    pub(crate) escape: char,
    line: usize,
    done: bool,
}

impl DirectiveState {
    pub(crate) fn new() -> Self {
        DirectiveState {
            found: Directives::default(),
            escape: '\\',
            line: 0,
            done: false,
        }
    }

    /// Looks at one line (newline and leading whitespace already trimmed). Returns whether it was
    /// a directive.
    pub(crate) fn feed(&mut self, line: &str) -> Result<bool, SyntaxErrorKind> {
        self.line += 1;
        if self.done {
            return Ok(false);
        }
        let Some((key, value)) = match_directive(line) else {
            self.done = true;
            return Ok(false);
        };
        let key = key.to_ascii_lowercase();
        let line = self.line;
        let found = &mut self.found;
        let (seen, slot_line) = match key.as_str() {
            "syntax" => (found.syntax.is_some(), &mut found.syntax_line),
            "escape" => (found.escape.is_some(), &mut found.escape_line),
            "check" => (found.check.is_some(), &mut found.check_line),
            _ => {
                self.done = true;
                return Ok(false);
            }
        };
        if seen {
            return Err(SyntaxErrorKind::DuplicateDirective(key));
        }
        *slot_line = line;
        match key.as_str() {
            "syntax" => found.syntax = Some(value.to_string()),
            "check" => found.check = Some(value.to_string()),
            _ => {
                let token = escape_token(value)?;
                found.escape = Some(token);
                self.escape = token;
            }
        }
        Ok(true)
    }
}

fn escape_token(value: &str) -> Result<char, SyntaxErrorKind> {
    match value {
        "`" => Ok('`'),
        "\\" => Ok('\\'),
        _ => Err(SyntaxErrorKind::InvalidEscapeToken(value.to_string())),
    }
}

/// RE2's `\s`: ASCII only, and without `\v`.
fn is_re_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0c}' | '\r' | ' ')
}

/// The reference's ``^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$``, with its backtracking:
/// a value of only whitespace still matches, as its last whitespace character.
fn match_directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start_matches(is_re_space);
    if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let key_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let (key, rest) = rest.split_at(key_len);
    let after_eq = rest.trim_start_matches(is_re_space).strip_prefix('=')?;
    if after_eq.is_empty() || after_eq.contains('\n') {
        return None;
    }
    let value = after_eq.trim_matches(is_re_space);
    if !value.is_empty() {
        return Some((key, value));
    }
    // All whitespace: `.+?` takes the last character back from the greedy `\s*`.
    let last = after_eq.chars().next_back()?;
    Some((key, &after_eq[after_eq.len() - last.len_utf8()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_regexp() {
        assert_eq!(match_directive("# syntax = a b "), Some(("syntax", "a b")));
        assert_eq!(match_directive("#escape=`"), Some(("escape", "`")));
        assert_eq!(match_directive("#escape= \t"), Some(("escape", "\t")));
        assert_eq!(match_directive("# es-cape=x"), None);
        assert_eq!(match_directive("# 1a=x"), None);
        assert_eq!(match_directive("# key="), None);
        assert_eq!(match_directive("# a\u{b}=x"), None);
        assert_eq!(match_directive("#a=\u{b}"), Some(("a", "\u{b}")));
    }

    #[test]
    fn directives_stop_at_first_other_line() {
        let mut d = DirectiveState::new();
        assert_eq!(d.feed("# Syntax=img"), Ok(true));
        assert_eq!(d.feed("# unknown=1"), Ok(false));
        assert_eq!(d.feed("# escape=`"), Ok(false));
        assert_eq!(d.escape, '\\');
        assert_eq!(d.found.syntax.as_deref(), Some("img"));
        assert_eq!(d.found.syntax_line, 1);
    }

    #[test]
    fn duplicate_and_invalid() {
        let mut d = DirectiveState::new();
        assert_eq!(d.feed("#check=skip=all"), Ok(true));
        assert_eq!(
            d.feed("#CHECK=x").map_err(|e| e.to_string()),
            Err("only one check parser directive can be used".to_string())
        );
        let mut d = DirectiveState::new();
        assert_eq!(
            d.feed("# escape=x").map_err(|e| e.to_string()),
            Err("invalid escape token 'x' does not match ` or \\".to_string())
        );
    }
}

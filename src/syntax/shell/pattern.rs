//! Shell patterns for `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}`.
//!
//! The reference turns a pattern into a Go regular expression (`*` -> `.*` or `.*?`, `?` -> `.`,
//! everything else literal) and lets RE2 find the leftmost-first match. The same answers come from
//! a small dynamic program here: `ends[s]` is the end of the match a backtracking matcher would
//! pick when starting at `s`. Like RE2's `.`, wildcards never match a newline.

use super::error::{PatternError, ShellErrorKind};
use super::unicode::{is_digit, is_letter};

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    Literal(char),
    /// `?`: any one character but a newline.
    Any,
    /// `*`: any run of non-newline characters, longest or shortest first.
    Star,
}

/// Compiles a pattern (`convertShellPatternToRegex`). The pattern escape is always `\`: `\*`,
/// `\?`, `\\` are literals, `\}` and `\/` drop the backslash, anything else is an error.
pub(super) fn compile(pattern: &str) -> Result<Vec<Token>, PatternError> {
    let mut chars = pattern.chars().peekable();
    // Go's text/scanner skips a byte order mark at the very start.
    chars.next_if_eq(&'\u{FEFF}');
    let mut tokens = Vec::new();
    while let Some(c) = chars.next() {
        let token = match c {
            '*' => Token::Star,
            '?' => Token::Any,
            '\\' => {
                if matches!(chars.peek(), Some('}' | '/')) {
                    continue;
                }
                match chars.next() {
                    Some(e @ ('*' | '?' | '\\')) => Token::Literal(e),
                    other => return Err(PatternError::InvalidEscape(other.unwrap_or('\u{FFFD}'))),
                }
            }
            _ => Token::Literal(c),
        };
        tokens.push(token);
    }
    Ok(tokens)
}

/// For every start position `s` in `text` (and its end), where the pattern's preferred match
/// from `s` ends, if it matches there at all.
fn match_ends(tokens: &[Token], text: &[char], greedy: bool) -> Vec<Option<usize>> {
    // After the whole pattern, a match ends wherever it stands.
    let mut next: Vec<Option<usize>> = (0..=text.len()).map(Some).collect();
    for token in tokens.iter().rev() {
        let mut cur = vec![None; text.len() + 1];
        match *token {
            Token::Literal(_) | Token::Any => {
                for ((slot, &c), &after) in cur.iter_mut().zip(text).zip(next.iter().skip(1)) {
                    let fits = match *token {
                        Token::Literal(l) => c == l,
                        _ => c != '\n',
                    };
                    if fits {
                        *slot = after;
                    }
                }
            }
            Token::Star => {
                // Scanning right to left, `best` is the preferred continuation among the
                // positions the star can reach from here (up to the next newline).
                let mut best = None;
                for (s, (slot, &after)) in cur.iter_mut().zip(&next).enumerate().rev() {
                    if text.get(s) == Some(&'\n') {
                        best = None;
                    }
                    if after.is_some() && (!greedy || best.is_none()) {
                        best = after;
                    }
                    *slot = best;
                }
            }
        }
        next = cur;
    }
    next
}

/// The compiled pattern, or the error naming it.
fn compile_checked(pattern: &str) -> Result<Vec<Token>, ShellErrorKind> {
    compile(pattern).map_err(|source| ShellErrorKind::InvalidPattern {
        pattern: pattern.to_string(),
        source,
    })
}

/// `value` without the match of `pattern` at its start (`trimPrefix`).
pub(super) fn trim_prefix(
    pattern: &str,
    value: &str,
    greedy: bool,
) -> Result<String, ShellErrorKind> {
    let tokens = compile_checked(pattern)?;
    let text: Vec<char> = value.chars().collect();
    match match_ends(&tokens, &text, greedy)
        .first()
        .copied()
        .flatten()
    {
        Some(end) => Ok(text.iter().skip(end).collect()),
        None => Ok(value.to_string()),
    }
}

/// `value` without the match of `pattern` at its end (`trimSuffix`): both are reversed so the
/// rightmost shortest match becomes a leftmost one. Errors name the reversed pattern, as the
/// reference's do.
pub(super) fn trim_suffix(
    pattern: &str,
    value: &str,
    greedy: bool,
) -> Result<String, ShellErrorKind> {
    let trimmed = trim_prefix(&reverse_pattern(pattern), &reverse_string(value), greedy)?;
    Ok(reverse_string(&trimmed))
}

/// `pattern` reversed, keeping each `\x` escape pair in order (`a\*c` -> `c\*a`).
pub(super) fn reverse_pattern(pattern: &str) -> String {
    let mut units: Vec<(char, Option<char>)> = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        // A trailing backslash has nothing to escape and stands alone.
        let escaped = if c == '\\' { chars.next() } else { None };
        units.push((c, escaped));
    }
    let mut out = String::with_capacity(pattern.len());
    for (c, escaped) in units.into_iter().rev() {
        out.push(c);
        out.extend(escaped);
    }
    out
}

pub(super) fn reverse_string(s: &str) -> String {
    s.chars().rev().collect()
}

/// `${VAR/pattern/replacement}` (first match, replacement literal) and `${VAR//...}` (every
/// match, replacement expanded as a Go regexp template: `$0` / `${0}` is the match, `$$` is `$`).
pub(super) fn replace(
    pattern: &str,
    value: &str,
    replacement: &str,
    all: bool,
) -> Result<String, ShellErrorKind> {
    let tokens = compile_checked(pattern)?;
    let text: Vec<char> = value.chars().collect();
    let ends = match_ends(&tokens, &text, true);
    let leftmost = |from: usize| {
        ends.iter()
            .enumerate()
            .skip(from)
            .find_map(|(s, end)| end.map(|e| (s, e)))
    };
    let slice = |a: usize, b: usize| -> String { text.iter().take(b).skip(a).collect() };
    if !all {
        return Ok(match leftmost(0) {
            Some((start, end)) => slice(0, start) + replacement + &slice(end, text.len()),
            None => value.to_string(),
        });
    }
    // Go's Regexp.ReplaceAllString loop, in characters rather than bytes.
    let mut out = String::with_capacity(value.len());
    let (mut last_end, mut search) = (0, 0);
    while search <= text.len() {
        let Some((start, end)) = leftmost(search) else {
            break;
        };
        out.push_str(&slice(last_end, start));
        // No replacement for an empty match right after the previous match.
        if end > last_end || start == 0 {
            expand_template(&mut out, replacement, &slice(start, end));
        }
        last_end = end;
        let width = usize::from(search < text.len());
        search = if search + width > end {
            search + width
        } else if search + 1 > end {
            search + 1
        } else {
            end
        };
    }
    out.push_str(&slice(last_end, text.len()));
    Ok(out)
}

/// Go's `Regexp.expand` for a pattern whose only group is the whole match.
fn expand_template(out: &mut String, template: &str, matched: &str) {
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('$') {
        out.push_str(before);
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        match template_reference(after) {
            Some((name, tail)) => {
                if group_number(name) == Some(0) {
                    out.push_str(matched);
                }
                rest = tail;
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// The name after a `$` (`name` or `{name}`, letters, digits, `_`) and the text after it.
fn template_reference(s: &str) -> Option<(&str, &str)> {
    let (body, braced) = match s.strip_prefix('{') {
        Some(b) => (b, true),
        None => (s, false),
    };
    let len = body
        .char_indices()
        .find(|&(_, c)| !(is_letter(c) || is_digit(c) || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if len == 0 {
        return None;
    }
    let (name, tail) = body.split_at(len);
    if braced {
        return tail.strip_prefix('}').map(|t| (name, t));
    }
    Some((name, tail))
}

/// A group number as Go reads one: ASCII digits, below 1e8 while reading, no leading zero.
fn group_number(name: &str) -> Option<u32> {
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    let mut num: u32 = 0;
    for c in name.chars() {
        let digit = c.to_digit(10).filter(|_| c.is_ascii_digit())?;
        if num >= 100_000_000 {
            return None;
        }
        num = num * 10 + digit;
    }
    Some(num)
}

//! The scanner-driven expansion of one word (the reference's `shellWord`).

use std::collections::BTreeSet;

use super::env::EnvGetter;
use super::error::ShellErrorKind;
use super::pattern;
use super::unicode::{is_digit, is_letter, is_space};
use super::Lexer;

/// How deeply `${...}` may nest: far beyond real Dockerfiles, well within a 2 MiB stack.
pub(super) const MAX_NESTING: usize = 100;

/// What one pass over a word produced.
pub(super) struct Outcome {
    pub value: String,
    pub words: Vec<String>,
    pub matched: BTreeSet<String>,
    pub unmatched: BTreeSet<String>,
}

/// Runs the lexer over `word`.
pub(super) fn expand(
    lexer: &Lexer,
    word: &str,
    env: &dyn EnvGetter,
    capture: bool,
) -> Result<Outcome, ShellErrorKind> {
    let chars: Vec<char> = word.chars().collect();
    // Go's text/scanner skips a byte order mark at the very start.
    let pos = usize::from(chars.first() == Some(&'\u{FEFF}'));
    let mut state = State {
        lexer,
        env,
        capture,
        chars,
        pos,
        depth: 0,
        raw_escapes: lexer.raw_escapes,
        words_buf: String::new(),
        matched: BTreeSet::new(),
        unmatched: BTreeSet::new(),
    };
    let (value, words) = state.process_stop_on(None, lexer.raw_escapes)?;
    Ok(Outcome {
        value,
        words,
        matched: state.matched,
        unmatched: state.unmatched,
    })
}

struct State<'a> {
    lexer: &'a Lexer,
    env: &'a dyn EnvGetter,
    capture: bool,
    chars: Vec<char>,
    pos: usize,
    /// Current `${` nesting.
    depth: usize,
    raw_escapes: bool,
    /// The word being split. Shared by nested scans, and cleared when one starts, exactly as
    /// the reference's single `wordsBuffer` is: `a${X:-b}c` splits to `["bc"]`.
    words_buf: String,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
}

/// Words completed so far by one scan; the word in progress lives in `State::words_buf`.
#[derive(Default)]
struct Words {
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    /// An unquoted character: white space ends the current word.
    fn add_char(&mut self, buf: &mut String, c: char) {
        if is_space(c) {
            if self.in_word && !buf.is_empty() {
                self.words.push(std::mem::take(buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(buf, c);
        }
    }

    fn add_raw_char(&mut self, buf: &mut String, c: char) {
        buf.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, buf: &mut String, s: &str) {
        for c in s.chars() {
            self.add_char(buf, c);
        }
    }

    fn add_raw_string(&mut self, buf: &mut String, s: &str) {
        buf.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self, buf: &mut String) -> Vec<String> {
        if !buf.is_empty() {
            self.words.push(std::mem::take(buf));
        }
        self.words
    }
}

/// `$@ $* $# $? $- $$ $! $0`: one-character names.
fn is_special_param(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}

/// The modifier characters as the reference prints them; the end of input prints as U+FFFD.
fn modifier_text(c: Option<char>) -> char {
    c.unwrap_or('\u{FFFD}')
}

impl State<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn at_end(&self) -> bool {
        self.peek().is_none()
    }

    /// Scans to `stop` (consumed) or the end of input; returns the expanded text and its words.
    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), ShellErrorKind> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let outcome = self.scan_until(stop);
        self.raw_escapes = saved;
        outcome
    }

    fn scan_until(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), ShellErrorKind> {
        // The rest of the input bounds the text unless a variable's value comes in.
        let mut result = String::with_capacity(self.chars.len() - self.pos);
        self.words_buf.clear();
        let mut words = Words::default();
        let quotes = !self.lexer.skip_process_quotes;
        while let Some(c) = self.peek() {
            if stop == Some(c) {
                self.next();
                return Ok((result, words.finish(&mut self.words_buf)));
            }
            let special = match c {
                '$' => Some(self.process_dollar()?),
                '<' => Some(self.process_possible_heredoc()),
                '\'' if quotes => Some(self.process_single_quote()?),
                '"' if quotes => Some(self.process_double_quote()?),
                _ => None,
            };
            if let Some(text) = special {
                result.push_str(&text);
                if c == '$' {
                    words.add_string(&mut self.words_buf, &text);
                } else {
                    words.add_raw_string(&mut self.words_buf, &text);
                }
                continue;
            }
            self.next();
            if c != self.lexer.escape {
                words.add_char(&mut self.words_buf, c);
                result.push(c);
                continue;
            }
            if self.raw_escapes {
                words.add_raw_char(&mut self.words_buf, c);
                result.push(c);
            }
            // An escape at the very end of the input is dropped.
            let Some(escaped) = self.next() else {
                break;
            };
            words.add_raw_char(&mut self.words_buf, escaped);
            result.push(escaped);
        }
        if let Some(stop) = stop {
            return Err(ShellErrorKind::UnexpectedEnd(stop));
        }
        Ok((result, words.finish(&mut self.words_buf)))
    }

    /// `'...'`: everything literal up to the next single quote.
    fn process_single_quote(&mut self) -> Result<String, ShellErrorKind> {
        let mut result = String::new();
        let open = self.next();
        if self.lexer.raw_quotes {
            result.extend(open);
        }
        loop {
            match self.next() {
                None => return Err(ShellErrorKind::UnterminatedSingleQuote),
                Some('\'') => {
                    if self.lexer.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    /// `"..."`: literal except `$` expansions; the escape only escapes `"`, `$` and itself.
    fn process_double_quote(&mut self) -> Result<String, ShellErrorKind> {
        let mut result = String::new();
        let open = self.next();
        if self.lexer.raw_quotes {
            result.extend(open);
        }
        loop {
            match self.peek() {
                None => return Err(ShellErrorKind::UnterminatedDoubleQuote),
                Some('"') => {
                    self.next();
                    if self.lexer.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => result.push_str(&self.process_dollar()?),
                Some(mut c) => {
                    self.next();
                    if c == self.lexer.escape {
                        if self.raw_escapes {
                            result.push(c);
                        }
                        match self.peek() {
                            // Loops back to the unterminated-quote error.
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.lexer.escape => {
                                self.next();
                                c = n;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(c);
                }
            }
        }
    }

    /// `<<` followed by blanks is kept whole, so heredoc markers stay one word.
    fn process_possible_heredoc(&mut self) -> String {
        self.next();
        if self.peek() != Some('<') {
            return "<".to_string();
        }
        self.next();
        let mut result = "<<".to_string();
        while let Some(c @ ('\t' | '\r' | ' ')) = self.peek() {
            result.push(c);
            self.next();
        }
        result
    }

    /// A variable name: letters, digits and `_`; a leading digit run or one special parameter.
    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && is_digit(c) {
                while let Some(d) = self.peek().filter(|&d| is_digit(d)) {
                    name.push(d);
                    self.next();
                }
                return name;
            }
            if name.is_empty() && is_special_param(c) {
                self.next();
                return c.to_string();
            }
            if !is_letter(c) && !is_digit(c) && c != '_' {
                break;
            }
            self.next();
            name.push(c);
        }
        name
    }

    fn get_env(&mut self, name: &str) -> Option<String> {
        let value = self.env.get(name).map(str::to_string);
        if self.capture {
            let set = if value.is_some() {
                &mut self.matched
            } else {
                &mut self.unmatched
            };
            set.insert(name.to_string());
        }
        value
    }

    /// `$NAME` or `${...}`, the scanner standing on the `$`.
    fn process_dollar(&mut self) -> Result<String, ShellErrorKind> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(match self.get_env(&name) {
                Some(value) => value,
                None if self.lexer.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.next();
        match self.peek() {
            None => return Err(ShellErrorKind::MissingBrace),
            Some('{' | '}' | ':') => return Err(ShellErrorKind::BadSubstitution),
            Some(_) => {}
        }
        if self.depth >= MAX_NESTING {
            return Err(ShellErrorKind::TooDeep(MAX_NESTING));
        }
        self.depth += 1;
        let expanded = self.process_braced();
        self.depth -= 1;
        expanded
    }

    /// `${...}` after the `{`.
    fn process_braced(&mut self) -> Result<String, ShellErrorKind> {
        let name = self.process_name();
        let modifier = self.next();
        match modifier {
            Some('}') => Ok(match self.get_env(&name) {
                Some(value) => value,
                None if self.lexer.skip_unset_env => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(':') => {
                let op = self.next();
                let text = format!(":{}", modifier_text(op));
                self.process_operator(&name, op, text, true)
            }
            Some('+' | '-' | '?' | '#' | '%') => {
                self.process_operator(&name, modifier, modifier_text(modifier).to_string(), false)
            }
            Some('/') => self.process_substitution(&name),
            other => Err(ShellErrorKind::UnsupportedModifier(
                modifier_text(other).to_string(),
            )),
        }
    }

    /// `${name<op>word}` after the operator; `null_is_unset` for the `:` forms.
    fn process_operator(
        &mut self,
        name: &str,
        op: Option<char>,
        op_text: String,
        null_is_unset: bool,
    ) -> Result<String, ShellErrorKind> {
        let trims = matches!(op, Some('#' | '%'));
        if null_is_unset && trims {
            return Err(ShellErrorKind::UnsupportedModifier(op_text));
        }
        let word = self.stop_on_brace(trims)?;
        let value = self.get_env(name);
        if value.is_none() && self.lexer.skip_unset_env {
            return Ok(format!("${{{name}{op_text}{word}}}"));
        }
        let null = match &value {
            None => true,
            Some(v) => null_is_unset && v.is_empty(),
        };
        match op {
            Some('-') => Ok(if null {
                word
            } else {
                value.unwrap_or_default()
            }),
            Some('+') => Ok(if null { String::new() } else { word }),
            Some('?') => match value {
                Some(v) if !null => Ok(v),
                _ => {
                    let message = if !word.is_empty() {
                        word
                    } else if value.is_none() {
                        "is not allowed to be unset".to_string()
                    } else {
                        "is not allowed to be empty".to_string()
                    };
                    Err(ShellErrorKind::Required {
                        name: name.to_string(),
                        message,
                    })
                }
            },
            Some(trim @ ('#' | '%')) => {
                // A doubled operator (`##`, `%%`) asks for the longest match.
                let (pattern, greedy) = match word.strip_prefix(trim) {
                    Some(rest) => (rest, true),
                    None => (word.as_str(), false),
                };
                let value = value.unwrap_or_default();
                if trim == '%' {
                    pattern::trim_suffix(pattern, &value, greedy)
                } else {
                    pattern::trim_prefix(pattern, &value, greedy)
                }
            }
            _ => Err(ShellErrorKind::UnsupportedModifier(op_text)),
        }
    }

    /// The operand of `${...}` up to its `}`.
    fn stop_on_brace(&mut self, raw_escapes: bool) -> Result<String, ShellErrorKind> {
        match self.process_stop_on(Some('}'), raw_escapes) {
            Ok((word, _)) => Ok(word),
            Err(_) if self.at_end() => Err(ShellErrorKind::MissingBrace),
            Err(e) => Err(e),
        }
    }

    /// `${name/pattern/replacement}` / `${name//pattern/replacement}` after the first `/`.
    fn process_substitution(&mut self, name: &str) -> Result<String, ShellErrorKind> {
        let all = self.peek() == Some('/');
        if all {
            self.next();
        }
        let pattern = match self.process_stop_on(Some('/'), true) {
            Ok((p, _)) => p,
            Err(_) if self.at_end() => return Err(ShellErrorKind::MissingSlash),
            Err(e) => return Err(e),
        };
        let replacement = self.stop_on_brace(true)?;
        let value = self.get_env(name);
        if value.is_none() && self.lexer.skip_unset_env {
            // The second `/` of `//` is not written back, as in the reference.
            return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
        }
        pattern::replace(&pattern, value.as_deref().unwrap_or(""), &replacement, all)
    }
}

//! The slice of BuildKit's shell lexer (`ProcessWords` with an empty environment and
//! `SkipUnsetEnv`) that the parser uses to find heredoc markers. Variable references are kept as
//! written, so only quoting, escapes, `${...}` syntax and `<<` matter. The escape character is
//! always `\` here, as in the reference, whatever the Dockerfile's escape directive says.
//!
//! Nested `${...}` recursion is capped at `MAX_NESTING` levels (the reference has no cap; its
//! goroutine stacks grow): deeper text fails to lex, which for a line means "no heredocs".
//!
//! One reference quirk is kept on purpose: every nested `${...}` word restarts the shared word
//! buffer, so text before a `${x:-...}` in the same word is dropped from the word list.

const ESCAPE: char = '\\';

/// Deepest `${...}` nesting lexed; far beyond any real Dockerfile.
const MAX_NESTING: usize = 100;

/// Splits `text` into words. `raw_quotes`/`raw_escapes` keep quote and escape characters in the
/// words. Errors carry the lexer's message (without the `failed to process` prefix).
pub(crate) fn process_words(
    text: &str,
    raw_quotes: bool,
    raw_escapes: bool,
) -> Result<Vec<String>, String> {
    let mut chars: Vec<char> = text.chars().collect();
    // Go's text/scanner skips a leading byte-order mark.
    if chars.first() == Some(&'\u{feff}') {
        chars.remove(0);
    }
    let mut lexer = Lexer {
        chars,
        pos: 0,
        raw_quotes,
        raw_escapes,
        buf: String::new(),
        depth: 0,
    };
    lexer.stop_on(None, raw_escapes).map(|(_, words)| words)
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    raw_quotes: bool,
    raw_escapes: bool,
    /// The word being built; shared by nested `stop_on` calls as in the reference.
    buf: String,
    /// Current `stop_on` nesting.
    depth: usize,
}

#[derive(Default)]
struct Words {
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, buf: &mut String, c: char) {
        if c.is_whitespace() {
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

    fn add_raw_str(&mut self, buf: &mut String, s: &str) {
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

impl Lexer {
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

    /// `processStopOn`: reads up to `stop` (or the end when `None`).
    fn stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        if self.depth >= MAX_NESTING {
            return Err("substitutions nested too deeply".into());
        }
        self.depth += 1;
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let result = self.stop_on_inner(stop);
        self.raw_escapes = saved;
        self.depth -= 1;
        result
    }

    fn stop_on_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        self.buf.clear();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.pos += 1;
                return Ok((result, words.finish(&mut self.buf)));
            }
            match c {
                '$' => {
                    let text = self.dollar()?;
                    result.push_str(&text);
                    for ch in text.chars() {
                        words.add_char(&mut self.buf, ch);
                    }
                }
                '<' | '\'' | '"' => {
                    let text = match c {
                        '<' => self.possible_heredoc(),
                        '\'' => self.single_quote()?,
                        _ => self.double_quote()?,
                    };
                    result.push_str(&text);
                    words.add_raw_str(&mut self.buf, &text);
                }
                _ => {
                    self.pos += 1;
                    if c != ESCAPE {
                        words.add_char(&mut self.buf, c);
                        result.push(c);
                        continue;
                    }
                    if self.raw_escapes {
                        words.add_raw_char(&mut self.buf, c);
                        result.push(c);
                    }
                    let Some(escaped) = self.next() else { break };
                    words.add_raw_char(&mut self.buf, escaped);
                    result.push(escaped);
                }
            }
        }
        if let Some(stop) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok((result, words.finish(&mut self.buf)))
    }

    fn single_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.next().unwrap_or('\'');
        if self.raw_quotes {
            out.push(open);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.next().unwrap_or('"');
        if self.raw_quotes {
            out.push(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.pos += 1;
                    if self.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.dollar()?),
                Some(mut c) => {
                    self.pos += 1;
                    if c == ESCAPE {
                        if self.raw_escapes {
                            out.push(c);
                        }
                        match self.peek() {
                            None => continue,
                            Some(n @ ('"' | '$' | ESCAPE)) => {
                                self.pos += 1;
                                c = n;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    /// `$name` or `${...}`, reproduced as written since no variable is set.
    fn dollar(&mut self) -> Result<String, String> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            return Ok(format!("${name}"));
        }
        self.pos += 1;
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        let first = self.next();
        let mut modifier = String::from(first.unwrap_or('\u{fffd}'));
        match first {
            Some('}') => Ok(format!("${{{name}}}")),
            Some(':') => {
                let op = self.next();
                modifier.push(op.unwrap_or('\u{fffd}'));
                if matches!(op, Some('#' | '%')) {
                    return Err(format!("unsupported modifier ({modifier}) in substitution"));
                }
                self.modifier_word(&name, &modifier, false)
            }
            Some(op @ ('+' | '-' | '?' | '#' | '%')) => {
                self.modifier_word(&name, &modifier, matches!(op, '#' | '%'))
            }
            Some('/') => self.replacement(&name),
            _ => Err(format!("unsupported modifier ({modifier}) in substitution")),
        }
    }

    fn modifier_word(
        &mut self,
        name: &str,
        modifier: &str,
        raw_escapes: bool,
    ) -> Result<String, String> {
        let word = self.until('}', raw_escapes, "syntax error: missing '}'")?;
        Ok(format!("${{{name}{modifier}{word}}}"))
    }

    fn replacement(&mut self, name: &str) -> Result<String, String> {
        if self.peek() == Some('/') {
            self.pos += 1;
        }
        let pattern = self.until('/', true, "syntax error: missing '/' in ${}")?;
        let replacement = self.until('}', true, "syntax error: missing '}'")?;
        Ok(format!("${{{name}/{pattern}/{replacement}}}"))
    }

    /// A nested `stop_on`; running off the end is reported as `at_end`.
    fn until(&mut self, stop: char, raw_escapes: bool, at_end: &str) -> Result<String, String> {
        match self.stop_on(Some(stop), raw_escapes) {
            Ok((word, _)) => Ok(word),
            Err(_) if self.peek().is_none() => Err(at_end.into()),
            Err(e) => Err(e),
        }
    }

    /// `processName`: digits, one special parameter, or letters/digits/underscores.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && c.is_numeric() {
                while let Some(d) = self.peek().filter(|d| d.is_numeric()) {
                    self.pos += 1;
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.pos += 1;
                return c.to_string();
            }
            if !c.is_alphanumeric() && c != '_' {
                break;
            }
            self.pos += 1;
            name.push(c);
        }
        name
    }

    fn possible_heredoc(&mut self) -> String {
        self.pos += 1;
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.pos += 1;
        let mut out = String::from("<<");
        while let Some(c) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            self.pos += 1;
            out.push(c);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, raw: bool) -> Vec<String> {
        process_words(text, raw, raw).unwrap_or_default()
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
        assert!(process_words(&deep, true, true).is_err());
        let ok = format!("{}{}", "${a:-".repeat(50), "}".repeat(50));
        assert!(process_words(&ok, true, true).is_ok());
    }

    #[test]
    fn errors() {
        assert!(process_words("'abc", false, false).is_err());
        assert_eq!(
            process_words("${", false, false),
            Err("syntax error: missing '}'".to_string())
        );
        assert_eq!(
            process_words("${a!}", false, false),
            Err("unsupported modifier (!) in substitution".to_string())
        );
        assert_eq!(
            process_words("${a", false, false),
            Err("unsupported modifier (\u{fffd}) in substitution".to_string())
        );
    }
}

//! Word expansion and splitting for Dockerfile instruction arguments: `$VAR`, `${VAR}`, the
//! `${VAR<op>word}` forms, quotes and the escape character, following BuildKit's
//! `frontend/dockerfile/shell` (lex.go) rule for rule, quirks included.

mod env;
mod error;
mod expand;
mod pattern;
mod unicode;

pub use unicode::{go_quote, go_quote_list};
mod unicode_tables;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

pub use env::{EmptyEnv, EnvGetter, EnvList, KeyCase};
pub use error::{PatternError, ShellError, ShellErrorKind};

/// Expands variables in words. Options mirror the reference's `Lex` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexer {
    escape: char,
    raw_quotes: bool,
    raw_escapes: bool,
    skip_unset_env: bool,
    skip_process_quotes: bool,
}

/// A word after expansion, with the variables it referred to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    /// The expanded text.
    pub value: String,
    /// Variables that were looked up and set.
    pub matched: BTreeSet<String>,
    /// Variables that were looked up and unset.
    pub unmatched: BTreeSet<String>,
}

impl Lexer {
    /// A lexer whose escape character is `escape` (`\`, or `` ` `` under `# escape=`).
    pub fn new(escape: char) -> Self {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset_env: false,
            skip_process_quotes: false,
        }
    }

    /// Keep quote characters in the output (`RawQuotes`).
    pub fn raw_quotes(mut self, on: bool) -> Self {
        self.raw_quotes = on;
        self
    }

    /// Keep escape characters in the output (`RawEscapes`).
    pub fn raw_escapes(mut self, on: bool) -> Self {
        self.raw_escapes = on;
        self
    }

    /// Leave references to unset variables as written (`SkipUnsetEnv`).
    pub fn skip_unset_env(mut self, on: bool) -> Self {
        self.skip_unset_env = on;
        self
    }

    /// Treat quotes as ordinary characters (`SkipProcessQuotes`).
    pub fn skip_process_quotes(mut self, on: bool) -> Self {
        self.skip_process_quotes = on;
        self
    }

    pub fn escape(&self) -> char {
        self.escape
    }

    /// Whether `word` has nothing to expand, unquote or unescape (most words in a Dockerfile):
    /// the scanner would copy it character by character, so it is taken as it is.
    fn is_plain(&self, word: &str) -> bool {
        !word
            .chars()
            .any(|c| matches!(c, '$' | '\'' | '"' | '<' | '\u{FEFF}') || c == self.escape)
    }

    /// Expands `word` as one word (`ProcessWordWithMatches`).
    pub fn process_word(&self, word: &str, env: &dyn EnvGetter) -> Result<Expanded, ShellError> {
        if self.is_plain(word) {
            return Ok(Expanded {
                value: word.to_string(),
                matched: Default::default(),
                unmatched: Default::default(),
            });
        }
        let outcome = expand::expand(self, word, env, true).map_err(|kind| wrap(word, kind))?;
        Ok(Expanded {
            value: outcome.value,
            matched: outcome.matched,
            unmatched: outcome.unmatched,
        })
    }

    /// Expands `word` and splits it at unquoted white space, including white space that came
    /// from `$VAR` values (`ProcessWords`).
    pub fn process_words(
        &self,
        word: &str,
        env: &dyn EnvGetter,
    ) -> Result<Vec<String>, ShellError> {
        if self.is_plain(word) {
            let words = word.split(unicode::is_space).filter(|w| !w.is_empty());
            return Ok(words.map(str::to_string).collect());
        }
        let outcome = expand::expand(self, word, env, false).map_err(|kind| wrap(word, kind))?;
        Ok(outcome.words)
    }
}

impl Default for Lexer {
    fn default() -> Self {
        Lexer::new('\\')
    }
}

fn wrap(word: &str, kind: ShellErrorKind) -> ShellError {
    ShellError {
        word: word.to_string(),
        kind,
    }
}

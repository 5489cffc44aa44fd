//! Word expansion errors, worded as BuildKit's `shell` package words them.

use super::unicode::go_quote;

/// A word that could not be expanded: `failed to process "<word>": <kind>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {}: {kind}", go_quote(.word))]
pub struct ShellError {
    /// The word as given to the lexer.
    pub word: String,
    /// What went wrong.
    pub kind: ShellErrorKind,
}

/// The reason a word could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellErrorKind {
    /// A nested scan reached the end before its stop character; callers turn it into
    /// `MissingBrace` / `MissingSlash`, as the reference does.
    #[error("unexpected end of statement while looking for matching {0}")]
    UnexpectedEnd(char),
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnterminatedSingleQuote,
    #[error("unexpected end of statement while looking for matching double-quote")]
    UnterminatedDoubleQuote,
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    /// `${...}` nested deeper than `MAX_NESTING`. The reference has no limit (Go stacks grow);
    /// here it keeps recursion within a thread's stack.
    #[error("syntax error: ${{}} nested more than {0} levels deep")]
    TooDeep(usize),
    /// `${VAR<modifier>...}` with a modifier the reference does not know (`:=`, `:#`, `.`...).
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${VAR?msg}` / `${VAR:?msg}` on an unset (or empty) variable.
    #[error("{name}: {message}")]
    Required { name: String, message: String },
    /// A `#`, `%` or `/` pattern with an escape other than `\*`, `\?`, `\\`, `\}`, `\/`.
    #[error("invalid pattern ({pattern}) in substitution: {source}")]
    InvalidPattern {
        pattern: String,
        source: PatternError,
    },
}

/// Why a shell pattern could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The reference prints the end of input as U+FFFD.
    #[error("invalid escape '\\{0}'")]
    InvalidEscape(char),
}

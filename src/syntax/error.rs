//! Parse errors, worded as BuildKit's parser words them.

use super::gostr::quote;

/// A Dockerfile the parser rejects, with the location the reference attaches to it.
///
/// `line..=end_line` is BuildKit's location verbatim. Note its one quirk, kept for fidelity: an
/// invalid or repeated parser directive is reported one line early (BuildKit uses the 0-based
/// index of the directive line there).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct SyntaxError {
    pub line: usize,
    pub end_line: usize,
    pub kind: SyntaxErrorKind,
}

impl SyntaxError {
    /// BuildKit's `withLocation(err, start, end)`: an end before the start collapses to the start.
    pub(crate) fn at(kind: SyntaxErrorKind, start: usize, end: usize) -> Self {
        SyntaxError {
            line: start,
            end_line: end.max(start),
            kind,
        }
    }

    /// The message without location.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxErrorKind {
    #[error("invalid escape token '{0}' does not match ` or \\")]
    InvalidEscapeToken(String),
    #[error("only one {0} parser directive can be used")]
    DuplicateDirective(String),
    #[error("when using JSON array syntax, arrays must be comprised of strings only")]
    NotStringArray,
    #[error("{0} must have two arguments")]
    MissingArguments(&'static str),
    #[error("Syntax error - can't find = in {}. Must be of the form: name=value", quote(.0))]
    MissingEquals(String),
    /// The heredoc delimiter word could not be lexed.
    #[error("failed to process {}: {message}", quote(word))]
    HeredocWord { word: String, message: String },
    #[error("internal lexing of heredoc produced inconsistent results: {0}")]
    HeredocInconsistent(String),
    /// Only past `MAX_ONBUILD_DEPTH` levels in the parser (see `parser.rs`).
    #[error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    OnbuildChain,
    #[error("unterminated heredoc")]
    UnterminatedHeredoc,
    #[error("file with no instructions")]
    NoInstructions,
    #[error("dockerfile line greater than max allowed size of {}", super::lines::MAX_LINE_LEN - 1)]
    LineTooLong,
}

//! Dockerfile syntax: parser directives, logical lines, heredocs and word expansion.
//! Knows nothing of BuildKit or of what instructions mean.

mod node;
pub mod shell;

pub use node::{Heredoc, Node, SourceRange};

//! Dockerfile syntax: parser directives, logical lines, heredocs and word expansion.
//! Knows nothing of BuildKit or of what instructions mean.

mod node;

pub use node::{Heredoc, Node, SourceRange};

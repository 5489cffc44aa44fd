//! Dockerfile syntax: parser directives, logical lines, heredocs and word expansion.
//! Knows nothing of BuildKit or of what instructions mean.

mod node;
pub mod shell;

pub use node::{Heredoc, Node, SourceRange};

mod args;
mod directives;
mod dump;
mod error;
mod gostr;
mod heredoc;
mod json;
mod lines;
mod parser;
mod split;

pub use directives::Directives;
pub use dump::{dump, dump_node};
pub use error::{SyntaxError, SyntaxErrorKind};
pub use gostr::{is_lower, is_upper};
pub use heredoc::{chomp_heredoc_content, parse_heredoc};
pub use parser::{parse, Dockerfile, Warning};

//! The stage graph: typed instructions grouped into stages, stage names and indexes resolved,
//! global ARGs applied to FROM lines, dependencies (FROM, COPY --from, RUN --mount from=) found,
//! ONBUILD triggers of base stages and images parsed (with their dependencies), cycles rejected,
//! and everything unreachable from the target dropped before anything is resolved.

mod graph;
pub mod hint;
mod onbuild;
mod resolve;
mod scope;
mod split;

pub use graph::{Base, Dependency, DependencyKind, Source, StageGraph};
pub use onbuild::{declared_triggers, parse_triggers};
pub use resolve::{resolve_all, ImageResolver, ResolveError, ResolveFuture, ResolvedImage};
pub use scope::NON_ENV_ARGS;
pub use split::{split_parsed, split_stages, Stage, Stages};

use crate::syntax::SourceRange;

/// A stage-graph error, pointing at the Dockerfile lines involved (first is the main one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StageError {
    pub message: String,
    pub ranges: Vec<SourceRange>,
}

impl StageError {
    pub fn new(message: impl Into<String>, ranges: Vec<SourceRange>) -> Self {
        StageError {
            message: message.into(),
            ranges,
        }
    }
}

/// The stage graph of `dockerfile` for unit tests: global ARGs and build args as given, the last
/// stage the target.
#[cfg(test)]
pub(crate) fn test_graph(
    dockerfile: &str,
    globals: &[(&str, &str)],
    build_args: &[(&str, &str)],
) -> Result<StageGraph, StageError> {
    use crate::syntax::shell::{EnvList, KeyCase, Lexer};
    let parsed = crate::syntax::parse(dockerfile).expect("parse");
    let instructions = parsed
        .nodes
        .into_iter()
        .map(crate::instructions::instruction_from_node)
        .collect::<Result<Vec<_>, _>>()
        .expect("instructions");
    let stages = split_stages(instructions).expect("stages");
    let globals = EnvList::from_pairs(globals.iter().copied(), KeyCase::Unix);
    let build_args = build_args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    StageGraph::build(stages, globals, build_args, None, &Lexer::new('\\'))
}

//! Conversion errors: every phase's error, kept with the Dockerfile lines it points at.

use crate::syntax::SourceRange;

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Syntax(#[from] crate::syntax::SyntaxError),
    /// The reference names the line for errors of this phase.
    #[error("dockerfile parse error on line {line}: {0}", line = .0.range.start_line)]
    Instruction(#[from] crate::instructions::InstructionError),
    #[error(transparent)]
    Stage(#[from] crate::stages::StageError),
    #[error(transparent)]
    Resolve(#[from] crate::stages::ResolveError),
    #[error(transparent)]
    Llb(#[from] crate::llb::LlbError),
    #[error(transparent)]
    Check(#[from] crate::lint::CheckError),
    /// `# check=error=true` and some rule fired: the reference names the rules, no line.
    #[error("{message}")]
    Lint {
        message: String,
        warnings: Vec<crate::lint::Warning>,
    },
    /// A conversion failure at some instruction (or none, for build-wide problems).
    #[error("{message}")]
    At {
        message: String,
        ranges: Vec<SourceRange>,
    },
}

impl ConvertError {
    pub fn at(message: impl Into<String>, range: SourceRange) -> Self {
        ConvertError::At {
            message: message.into(),
            ranges: vec![range],
        }
    }

    /// The Dockerfile lines the error is about, most relevant first.
    /// [`Self::ranges`] as the reference's lint result locates the error: a syntax error covers
    /// each of its lines apart (its parser's `toRanges`).
    pub fn line_ranges(&self) -> Vec<SourceRange> {
        match self {
            ConvertError::Syntax(e) => (e.line..=e.end_line.max(e.line))
                .map(|line| SourceRange {
                    start_line: line,
                    end_line: line,
                })
                .collect(),
            _ => self.ranges(),
        }
    }

    pub fn ranges(&self) -> Vec<SourceRange> {
        match self {
            ConvertError::Syntax(e) => vec![SourceRange {
                start_line: e.line,
                end_line: e.end_line,
            }],
            ConvertError::Instruction(e) => vec![e.range],
            ConvertError::Stage(e) => e.ranges.clone(),
            ConvertError::At { ranges, .. } => ranges.clone(),
            ConvertError::Resolve(_)
            | ConvertError::Llb(_)
            | ConvertError::Check(_)
            | ConvertError::Lint { .. } => Vec::new(),
        }
    }
}

//! Errors raised while building or marshalling LLB. Messages follow client/llb's wording.

/// An LLB construction or marshalling failure.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LlbError {
    /// An image reference that does not parse (message as distribution/reference words it).
    #[error("{0}")]
    InvalidReference(String),
    #[error("source identifier can't be empty")]
    EmptySourceIdentifier,
    #[error("arguments are required")]
    MissingArgs,
    #[error("working directory is required")]
    MissingWorkingDir,
    #[error("tmpfs mounts must use scratch")]
    TmpfsWithSource,
    #[error("tmpfs mount for {0} can't be used as a parent")]
    TmpfsAsParent(String),
    #[error("mount marked no-output and {0} can't be used as a parent")]
    NoOutputAsParent(String),
    #[error("invalid mount: {0}")]
    InvalidMount(String),
    #[error("merge must have at least 2 inputs")]
    MergeTooFewInputs,
    /// BuildKit would generate a random id here; mstage keeps marshalling deterministic instead.
    #[error("local source {0:?} needs a session id or MarshalOptions local_unique_id")]
    MissingLocalUniqueId(String),
    #[error("local source {0:?} was marshalled before its follow paths were set")]
    FollowPathsUnset(String),
    #[error("failed to parse op: {0}")]
    Decode(String),
    #[error("{0}")]
    Io(String),
}

//! mstage: a BuildKit frontend for the Dockerfile language.
//!
//! The modules follow the pipeline, each knowing only the ones before it:
//! `syntax` (text to nodes, word expansion) -> `instructions` (typed commands) -> `stages` (stage
//! graph, ARG scope, pruning) -> `convert` (LLB + image config, over the `llb` builder) ->
//! `gateway` (BuildKit) or `cli` (a person). See ARCHITECTURE.md.

pub mod cli;
pub mod convert;
pub mod gateway;
pub mod instructions;
pub mod lint;
pub mod llb;
pub mod platform;
pub mod proto;
pub mod stages;
pub mod syntax;

//! mstage: a BuildKit frontend for the Dockerfile language.
//!
//! The modules follow the pipeline, each knowing only the ones before it:
//! `syntax` (text to nodes, word expansion) -> `instructions` (typed commands) -> `stages` (stage
//! graph, ARG scope, pruning) -> `convert` (LLB + image config, over the `llb` builder) ->
//! `gateway` (BuildKit) or `cli` (a person). See ARCHITECTURE.md.

pub mod syntax;
pub mod instructions;
pub mod stages;
pub mod llb;
pub mod convert;
pub mod gateway;
pub mod cli;
pub mod platform;
pub mod proto;

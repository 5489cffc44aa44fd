//! Command-line entry points.

pub mod parse;

//! BuildKit's side: the gateway client that runs when BuildKit starts mstage as a frontend.

mod archive;
mod bridge;
mod contexts;
mod convertllb;
mod dockerignore;
mod epoch;
mod errors;
mod frontend;
mod graph;
mod lint;
mod main_context;
pub mod options;
pub mod request;
mod resolver;
mod resources;
mod result;
mod run_options;
mod sbom;
mod stdio;
mod subrequests;
mod tabwriter;
pub mod trace;
mod warn;

pub use frontend::run;

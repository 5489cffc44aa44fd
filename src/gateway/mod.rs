//! BuildKit's side: the gateway client that runs when BuildKit starts mstage as a frontend.

mod bridge;
mod frontend;
pub mod options;
mod stdio;

pub use frontend::run;

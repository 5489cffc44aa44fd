//! mstage: run by BuildKit it is a Dockerfile frontend (the gateway), run by a person it is a CLI.
//! Both go through the same pipeline: syntax -> instructions -> stages -> convert.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if mstage::gateway::options::started_by_buildkit() && std::env::args().len() == 1 {
        return match mstage::gateway::run().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("mstage: {err}");
                ExitCode::FAILURE
            }
        };
    }
    mstage::cli::main().await
}

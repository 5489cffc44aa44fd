//! mstage: run by BuildKit it is a Dockerfile frontend; run by a person it is a CLI.

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
    eprintln!("mstage: CLI not wired yet");
    ExitCode::FAILURE
}

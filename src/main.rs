//! mstage: run by BuildKit it is a Dockerfile frontend (the gateway), run by a person it is a CLI.
//! Both go through the same pipeline: syntax -> instructions -> stages -> convert.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if mstage::gateway::options::started_by_buildkit() && std::env::args().len() == 1 {
        let code = match mstage::gateway::run().await {
            Ok(()) => 0,
            Err(err) => {
                eprintln!("mstage: {err}");
                1
            }
        };
        // Exit at once, as the reference does: a graceful shutdown would close the connection
        // first (BuildKit then discards the returned result) and wait on the stdin reader.
        std::process::exit(code);
    }
    mstage::cli::main().await
}

//! mstage: run by BuildKit it is a Dockerfile frontend (the gateway), run by a person it is a CLI.
//! Both go through the same pipeline: syntax -> instructions -> stages -> convert.

use std::process::ExitCode;

fn main() -> ExitCode {
    if mstage::gateway::options::started_by_buildkit() && std::env::args().len() == 1 {
        mstage::gateway::trace::start();
        gateway()
    } else {
        cli()
    }
}

/// The frontend waits on BuildKit, one connection, nearly all the time: one thread does, with no
/// worker threads to start or hand wake-ups between.
fn gateway() -> ExitCode {
    let code = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => match runtime.block_on(mstage::gateway::run()) {
            Ok(()) => 0,
            Err(err) => {
                eprintln!("mstage: {err}");
                1
            }
        },
        Err(err) => {
            eprintln!("mstage: starting the runtime: {err}");
            1
        }
    };
    // Exit at once, as the reference does: a graceful shutdown would close the connection
    // first (BuildKit then discards the returned result) and wait on the stdin reader.
    std::process::exit(code);
}

/// The CLI reads local files and resolves images offline: no worker threads either.
fn cli() -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(mstage::cli::main()),
        Err(err) => {
            eprintln!("mstage: starting the runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

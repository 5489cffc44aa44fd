//! The command line: the same pipeline as the gateway, offline, printing what it builds.

pub mod graph;
pub mod llb;
pub mod parse;
pub mod text;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::convert::ConvertOptions;
use crate::platform::Platform;

#[derive(Parser)]
#[command(
    name = "mstage",
    version,
    about = "A BuildKit frontend for the Dockerfile language"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse a Dockerfile; with --dump print BuildKit's AST dump.
    Parse {
        #[arg(long)]
        dump: bool,
        file: PathBuf,
    },
    /// Convert a Dockerfile to LLB, written as `buildctl debug dump-llb` reads it.
    Llb {
        #[command(flatten)]
        build: BuildArgs,
        /// JSON file mapping image names to their image configs.
        #[arg(long)]
        image_config: Option<PathBuf>,
        /// Print the ops as readable JSON lines instead.
        #[arg(long)]
        json: bool,
        /// Print the compact per-op text rendering instead (op kind, inputs by position, fields).
        #[arg(long, conflicts_with = "json")]
        text: bool,
        #[command(flatten)]
        marshal: llb::MarshalArgs,
        /// Read a binary Definition (as `llb` writes it) from this file instead of converting.
        #[arg(long)]
        decode: Option<PathBuf>,
    },
    /// Print the stage graph; stages the target does not need are drawn as skipped.
    Graph {
        #[command(flatten)]
        build: BuildArgs,
        #[arg(long, value_enum, default_value = "dot")]
        format: graph::Format,
        /// NAME=VALUE as `buildx build --build-context` takes it, repeatable: the stage or
        /// image it replaces is marked.
        #[arg(long = "build-context", value_parser = key_value)]
        build_contexts: Vec<(String, String)>,
    },
}

/// The build options both `llb` and `graph` take.
#[derive(Args)]
pub struct BuildArgs {
    /// The Dockerfile.
    #[arg(short = 'f', long = "file", default_value = "Dockerfile")]
    pub file: PathBuf,
    #[arg(long)]
    pub target: Option<String>,
    /// KEY=VALUE, repeatable.
    #[arg(long = "build-arg", value_parser = key_value)]
    pub build_args: Vec<(String, String)>,
    #[arg(long)]
    pub platform: Option<String>,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))
}

impl BuildArgs {
    pub fn read(&self) -> Result<(String, ConvertOptions), String> {
        let text = std::fs::read_to_string(&self.file)
            .map_err(|e| format!("{}: {e}", self.file.display()))?;
        let target_platform = match &self.platform {
            Some(p) => Some(Platform::parse(p).map_err(|e| e.to_string())?),
            None => None,
        };
        let opts = ConvertOptions {
            filename: self.file.display().to_string(),
            target: self.target.clone(),
            build_args: self.build_args.iter().cloned().collect::<BTreeMap<_, _>>(),
            target_platform,
            // The CLI's build context is a local directory, of which BuildKit tells no date:
            // SOURCE_DATE_EPOCH=context gives none, as with the reference's converter.
            source_date: Some(crate::convert::epoch::SourceDate {
                value: "context".into(),
                seconds: None,
            }),
            ..Default::default()
        };
        Ok((text, opts))
    }
}

/// Runs the CLI; errors print as `FILE:LINE: message`.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match cli.command {
        Command::Parse { dump, file } => {
            parse::run(&file, dump).and_then(|text| llb::write_out(&mut out, text.as_bytes()))
        }
        Command::Llb {
            build,
            image_config,
            json,
            text,
            marshal,
            decode,
        } => {
            let format = match (json, text) {
                (true, _) => llb::Format::Json,
                (_, true) => llb::Format::Text,
                _ => llb::Format::Binary,
            };
            match decode {
                Some(path) => llb::decode(&path, format, &mut out),
                None => llb::run(&build, image_config.as_deref(), &marshal, format, &mut out).await,
            }
        }
        Command::Graph {
            build,
            format,
            build_contexts,
        } => graph::run(&build, format, &build_contexts)
            .and_then(|text| llb::write_out(&mut out, text.as_bytes())),
    };
    let result = result.and_then(|()| {
        use std::io::Write;
        out.flush().map_err(|e| format!("mstage: {e}"))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// `FILE:LINE: message` for a conversion error; a lint failure lists its warnings first.
pub fn located(file: &str, err: &crate::convert::ConvertError) -> String {
    if let crate::convert::ConvertError::Lint { message, warnings } = err {
        let mut out = lint_lines(file, warnings);
        out.push_str(&format!("{file}: {message}"));
        return out;
    }
    match err.ranges().first() {
        Some(r) if r.start_line > 0 => format!("{file}:{}: {err}", r.start_line),
        _ => format!("{file}: {err}"),
    }
}

/// One `FILE:LINE: Rule: message` line per lint warning.
pub fn lint_lines(file: &str, warnings: &[crate::lint::Warning]) -> String {
    let mut out = String::new();
    for w in warnings {
        match w.start_line() {
            0 => out.push_str(&format!("{file}: {}: {}\n", w.rule, w.message)),
            line => out.push_str(&format!("{file}:{line}: {}: {}\n", w.rule, w.message)),
        }
    }
    out
}

//! `mstage graph`: the stage DAG offline, as `--call=graph` answers it (text, JSON) or drawn
//! (Graphviz dot, Mermaid).

use super::BuildArgs;
use crate::convert::contexts::ContextSource;
use crate::convert::graph::stage_dag;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Dot,
    Mermaid,
    /// The tables `docker buildx build --call=graph` prints.
    Text,
    /// What `--call=graph,format=json` prints.
    Json,
}

pub fn run(
    build: &BuildArgs,
    format: Format,
    contexts: &[(String, String)],
) -> Result<String, String> {
    let (text, mut opts) = build.read()?;
    for (name, value) in contexts {
        let source = ContextSource::parse(name, value).map_err(|e| e.to_string())?;
        opts.named_contexts.0.insert(name.clone(), source);
    }
    let file = &opts.filename;
    let (dag, warnings) = stage_dag(&text, &opts).map_err(|e| super::located(file, &e))?;
    eprint!("{}", super::lint_lines(file, &warnings));
    Ok(match format {
        Format::Dot => dag.dot(),
        Format::Mermaid => dag.mermaid(),
        Format::Text => dag.text(),
        // buildx prints the answer's JSON with a newline after it.
        Format::Json => dag.json() + "\n",
    })
}

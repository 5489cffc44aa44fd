//! `mstage graph`: the stage DAG as Graphviz dot or Mermaid, edges labelled by what made them.

use super::BuildArgs;
use crate::convert;
use crate::stages::{Base, DependencyKind, Source, StageGraph};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Dot,
    Mermaid,
}

/// One edge: from the stage or image used, to the stage using it, with its label.
struct Edge {
    from: String,
    to: usize,
    label: &'static str,
}

pub fn run(build: &BuildArgs, format: Format) -> Result<String, String> {
    let (text, opts) = build.read()?;
    let file = &opts.filename;
    let (graph, lint) =
        convert::stage_graph_linted(&text, &opts).map_err(|e| super::located(file, &e))?;
    let lines = super::lint_lines(file, lint.warnings());
    if let Some(message) = lint.error() {
        return Err(format!("{lines}{file}: {message}"));
    }
    eprint!("{lines}");
    Ok(match format {
        Format::Dot => dot(&graph),
        Format::Mermaid => mermaid(&graph),
    })
}

fn node_id(source: &Source) -> String {
    match source {
        Source::Stage(i) => format!("stage{i}"),
        Source::Image(name) => format!("image:{name}"),
        Source::Scratch => "scratch".into(),
    }
}

fn edges(graph: &StageGraph) -> Vec<Edge> {
    let mut out = Vec::new();
    for (i, base) in graph.bases.iter().enumerate() {
        let from = match base {
            Base::Stage(s) => node_id(&Source::Stage(*s)),
            Base::Image(name) => node_id(&Source::Image(name.clone())),
            Base::Scratch => node_id(&Source::Scratch),
        };
        out.push(Edge {
            from,
            to: i,
            label: "FROM",
        });
        for dep in &graph.dependencies[i] {
            let label = match (dep.kind, dep.onbuild) {
                (DependencyKind::CopyFrom, false) => "COPY --from",
                (DependencyKind::Mount, false) => "RUN --mount",
                (DependencyKind::CopyFrom, true) => "ONBUILD COPY --from",
                (DependencyKind::Mount, true) => "ONBUILD RUN --mount",
            };
            out.push(Edge {
                from: node_id(&dep.source),
                to: i,
                label,
            });
        }
    }
    out
}

fn stage_label(graph: &StageGraph, i: usize) -> String {
    let stage = &graph.stages[i];
    let mut label = stage.display_name();
    if i == graph.target {
        label.push_str(" (target)");
    } else if !graph.reachable[i] {
        label.push_str(" (skipped)");
    }
    label
}

fn external_nodes(edges: &[Edge]) -> Vec<String> {
    let mut out: Vec<String> = edges
        .iter()
        .filter(|e| !e.from.starts_with("stage"))
        .map(|e| e.from.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn dot(graph: &StageGraph) -> String {
    let edges = edges(graph);
    let mut out = String::from("digraph stages {\n  rankdir=LR;\n");
    for i in 0..graph.stages.len() {
        let style = if graph.reachable[i] {
            "solid"
        } else {
            "dashed"
        };
        out.push_str(&format!(
            "  stage{i} [label={:?}, shape=box, style={style}];\n",
            stage_label(graph, i)
        ));
    }
    for ext in external_nodes(&edges) {
        let label = ext.strip_prefix("image:").unwrap_or(&ext);
        out.push_str(&format!(
            "  {:?} [label={:?}, shape=ellipse];\n",
            ext, label
        ));
    }
    for e in &edges {
        let style = if graph.reachable[e.to] {
            "solid"
        } else {
            "dashed"
        };
        out.push_str(&format!(
            "  {:?} -> stage{} [label={:?}, style={style}];\n",
            e.from, e.to, e.label
        ));
    }
    out.push_str("}\n");
    out
}

fn mermaid(graph: &StageGraph) -> String {
    let edges = edges(graph);
    let externals = external_nodes(&edges);
    let id = |node: &str| -> String {
        match externals.iter().position(|x| x == node) {
            Some(n) => format!("ext{n}"),
            None => node.to_string(),
        }
    };
    let mut out = String::from("flowchart LR\n");
    for i in 0..graph.stages.len() {
        out.push_str(&format!("  stage{i}[\"{}\"]\n", stage_label(graph, i)));
        if !graph.reachable[i] {
            out.push_str(&format!("  style stage{i} stroke-dasharray: 5 5\n"));
        }
    }
    for (n, ext) in externals.iter().enumerate() {
        out.push_str(&format!(
            "  ext{n}([\"{}\"])\n",
            ext.strip_prefix("image:").unwrap_or(ext)
        ));
    }
    for e in &edges {
        let arrow = if graph.reachable[e.to] { "-->" } else { "-.->" };
        out.push_str(&format!(
            "  {} {arrow}|{}| stage{}\n",
            id(&e.from),
            e.label,
            e.to
        ));
    }
    out
}

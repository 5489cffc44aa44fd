//! The stage DAG for people: aligned tables, Graphviz dot and Mermaid. Stages and edges the
//! target does not need are marked skipped (dashed in the drawings).

use super::{DagEdge, DagStage, EdgeKind, Node, StageDag};

/// Columns are padded to their widest cell and this many spaces, as the outline's tables.
const PADDING: usize = 3;

/// Rows of cells as columns aligned to the widest cell; no trailing spaces.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                let pad = widths[c] - cell.chars().count() + PADDING;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn node_label(dag: &StageDag, node: &Node) -> String {
    match node {
        Node::Stage { index } => dag.stage_name(*index),
        Node::Image { name, .. } => name.clone(),
        Node::Scratch => "scratch".into(),
    }
}

fn kind_label(edge: &DagEdge) -> String {
    let kind = match edge.kind {
        EdgeKind::From => "FROM",
        EdgeKind::CopyFrom => "COPY --from",
        EdgeKind::Mount => "RUN --mount",
    };
    if edge.onbuild {
        format!("ONBUILD {kind}")
    } else {
        kind.to_string()
    }
}

fn lines(edge: &DagEdge) -> String {
    let lines: Vec<String> = edge.lines.iter().map(usize::to_string).collect();
    lines.join(", ")
}

fn stage_status(dag: &StageDag, stage: &DagStage) -> String {
    let status = if stage.index == dag.target {
        "target"
    } else if stage.runs {
        "runs"
    } else {
        "skipped"
    };
    match (&stage.context, stage.runs) {
        (Some(context), true) if stage.index == dag.target => {
            format!("target, replaced by context {context}")
        }
        (Some(context), true) => format!("replaced by context {context}"),
        _ => status.to_string(),
    }
}

fn runs_or_skipped(runs: bool) -> String {
    if runs { "runs" } else { "skipped" }.to_string()
}

/// Three tables: stages, edges, external images.
pub(super) fn text(dag: &StageDag) -> String {
    let mut out = format!(
        "TARGET: {} (line {})\nPLATFORM: {}\n\n",
        dag.stage_name(dag.target),
        dag.stages.get(dag.target).map_or(0, |s| s.line),
        dag.platform
    );
    let mut stages = vec![vec![
        "STAGE".to_string(),
        "LINE".into(),
        "BASE".into(),
        "STATUS".into(),
    ]];
    for stage in &dag.stages {
        let mut base = node_label(dag, &stage.base);
        if let Some(platform) = &stage.platform {
            base.push_str(&format!(" --platform={platform}"));
        }
        stages.push(vec![
            dag.stage_name(stage.index),
            stage.line.to_string(),
            base,
            stage_status(dag, stage),
        ]);
    }
    out.push_str(&table(&stages));
    out.push('\n');
    let mut edges = vec![vec![
        "FROM".to_string(),
        "TO".into(),
        "KIND".into(),
        "LINES".into(),
        "STATUS".into(),
    ]];
    for edge in &dag.edges {
        edges.push(vec![
            node_label(dag, &edge.from),
            dag.stage_name(edge.to),
            kind_label(edge),
            lines(edge),
            runs_or_skipped(dag.edge_runs(edge)),
        ]);
    }
    out.push_str(&table(&edges));
    if !dag.images.is_empty() {
        out.push('\n');
        let mut images = vec![vec![
            "IMAGE".to_string(),
            "PLATFORM".into(),
            "STATUS".into(),
        ]];
        for image in &dag.images {
            let mut status = if image.needed { "needed" } else { "skipped" }.to_string();
            if let Some(context) = &image.context {
                status.push_str(&format!(", replaced by context {context}"));
            }
            images.push(vec![image.name.clone(), image.platform.clone(), status]);
        }
        out.push_str(&table(&images));
    }
    out
}

/// The label a drawing gives a stage: its name, marked when it is the target or skipped.
fn stage_label(dag: &StageDag, stage: &DagStage) -> String {
    let mut name = dag.stage_name(stage.index);
    if let Some(context) = &stage.context {
        name.push_str(&format!(" (context {context})"));
    }
    if stage.index == dag.target {
        format!("{name} (target)")
    } else if !stage.runs {
        format!("{name} (skipped)")
    } else {
        name
    }
}

fn edge_label(edge: &DagEdge) -> String {
    let word = if edge.lines.len() == 1 {
        "line"
    } else {
        "lines"
    };
    format!("{}, {word} {}", kind_label(edge), lines(edge))
}

/// External nodes (images, scratch) in order of first use, each drawn once.
fn externals(dag: &StageDag) -> Vec<&Node> {
    let mut out: Vec<&Node> = Vec::new();
    for edge in &dag.edges {
        if !matches!(edge.from, Node::Stage { .. }) && !out.contains(&&edge.from) {
            out.push(&edge.from);
        }
    }
    out
}

/// Node ids shared by dot and Mermaid: `stageN`, `imageN` (by first use), `scratch`.
fn node_id(externals: &[&Node], node: &Node) -> String {
    match node {
        Node::Stage { index } => format!("stage{index}"),
        Node::Scratch => "scratch".into(),
        Node::Image { .. } => {
            let n = externals.iter().position(|x| *x == node).unwrap_or(0);
            format!("image{n}")
        }
    }
}

fn external_label(node: &Node) -> String {
    match node {
        Node::Image { name, platform } => format!("{name}\n{platform}"),
        Node::Scratch => "scratch".into(),
        Node::Stage { .. } => String::new(),
    }
}

fn dot_quote(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

pub(super) fn dot(dag: &StageDag) -> String {
    let externals = externals(dag);
    let style = |runs: bool| if runs { "solid" } else { "dashed" };
    let mut out = String::from("digraph stages {\n  rankdir=LR;\n");
    for stage in &dag.stages {
        out.push_str(&format!(
            "  stage{} [label={}, shape=box, style={}];\n",
            stage.index,
            dot_quote(&stage_label(dag, stage)),
            style(stage.runs)
        ));
    }
    for node in &externals {
        out.push_str(&format!(
            "  {} [label={}, shape=ellipse];\n",
            node_id(&externals, node),
            dot_quote(&external_label(node))
        ));
    }
    for edge in &dag.edges {
        out.push_str(&format!(
            "  {} -> stage{} [label={}, style={}];\n",
            node_id(&externals, &edge.from),
            edge.to,
            dot_quote(&edge_label(edge)),
            style(dag.edge_runs(edge))
        ));
    }
    out.push_str("}\n");
    out
}

/// Mermaid labels are quoted strings; a quote inside is its `#quot;` entity.
fn mermaid_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "#quot;").replace('\n', "<br>"))
}

pub(super) fn mermaid(dag: &StageDag) -> String {
    let externals = externals(dag);
    let mut out = String::from("flowchart LR\n");
    for stage in &dag.stages {
        out.push_str(&format!(
            "  stage{}[{}]\n",
            stage.index,
            mermaid_quote(&stage_label(dag, stage))
        ));
        if !stage.runs {
            out.push_str(&format!(
                "  style stage{} stroke-dasharray: 5 5\n",
                stage.index
            ));
        }
    }
    for node in &externals {
        out.push_str(&format!(
            "  {}([{}])\n",
            node_id(&externals, node),
            mermaid_quote(&external_label(node))
        ));
    }
    for edge in &dag.edges {
        let arrow = if dag.edge_runs(edge) { "-->" } else { "-.->" };
        out.push_str(&format!(
            "  {} {arrow}|{}| stage{}\n",
            node_id(&externals, &edge.from),
            mermaid_quote(&edge_label(edge)),
            edge.to
        ));
    }
    out
}

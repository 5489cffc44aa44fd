//! The stage DAG of a build (`--call=graph`, `mstage graph`): each stage with its FROM line, base
//! and whether the target needs it, each use of a stage or image (FROM, `COPY --from`,
//! `RUN --mount from=`, the ONBUILD triggers of a base stage) as one edge with every line that
//! makes it, and the external images with the platform the build resolves them for.
//!
//! It is read from the Dockerfile alone: no image is resolved, so the ONBUILD triggers an
//! external image's config may hold are not part of it (they would need a registry, and the
//! offline CLI has none). The gateway and the CLI render this one model, so their JSON is equal.

mod render;

use std::collections::BTreeMap;

use serde::Serialize;

use super::{args, stage_platform, ConvertError, ConvertOptions};
use crate::lint::Warning;
use crate::platform::Platform;
use crate::stages::{Base, DependencyKind, Source, StageGraph};

/// The stage DAG for one target, build args and platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageDag {
    /// Index of the target stage.
    pub target: usize,
    /// The platform stages without `FROM --platform` build for.
    pub platform: String,
    pub stages: Vec<DagStage>,
    /// One per (from, to, kind, trigger): repeated uses only add lines.
    pub edges: Vec<DagEdge>,
    pub images: Vec<DagImage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DagStage {
    pub index: usize,
    /// The name after `AS`, as written; absent for an unnamed stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The FROM line.
    pub line: usize,
    pub base: Node,
    /// The expanded `FROM --platform`, when the stage has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Whether the build uses it: the target and what it needs (taken from its context when
    /// one replaces it).
    pub runs: bool,
    /// The named context (`--build-context`) that replaces the stage, if any: none of its
    /// steps run, so nothing it reads is needed through it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

impl DagStage {
    /// Whether the build runs the stage's own steps: it is used and no context replaces it.
    pub fn steps_run(&self) -> bool {
        self.runs && self.context.is_none()
    }
}

/// What an edge starts from, or what a stage is based on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Node {
    Stage { index: usize },
    Image { name: String, platform: String },
    Scratch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum EdgeKind {
    #[serde(rename = "FROM")]
    From,
    #[serde(rename = "COPY --from")]
    CopyFrom,
    #[serde(rename = "RUN --mount")]
    Mount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DagEdge {
    pub from: Node,
    /// The stage that uses `from`.
    pub to: usize,
    pub kind: EdgeKind,
    /// Made by an ONBUILD trigger of the stage's base (its lines are the stage's FROM).
    #[serde(skip_serializing_if = "is_false")]
    pub onbuild: bool,
    /// Every line that makes this edge, in order, once each.
    pub lines: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DagImage {
    pub name: String,
    /// The platform the build resolves the image for.
    pub platform: String,
    /// Whether the build resolves it: a stage it runs uses the image.
    pub needed: bool,
    /// The stages using it.
    pub used_by: Vec<usize>,
    /// The named context that replaces the image, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The Dockerfile's stage DAG with its parse-time lint warnings; a `# check=error=true`
/// violation fails it as it would fail the build.
pub fn stage_dag(
    text: &str,
    opts: &ConvertOptions,
) -> Result<(StageDag, Vec<Warning>), ConvertError> {
    let (graph, lint) = super::stage_graph_linted(text, opts)?;
    let warnings = lint.warnings().to_vec();
    if let Some(message) = lint.error() {
        return Err(ConvertError::Lint { message, warnings });
    }
    Ok((StageDag::new(&graph, opts), warnings))
}

impl StageDag {
    pub fn new(graph: &StageGraph, opts: &ConvertOptions) -> StageDag {
        let platforms = args::Platforms::new(opts);
        let mut builder = Builder::default();
        let stage_platforms: Vec<Platform> = (0..graph.stages.len())
            .map(|i| stage_platform(graph, i, &platforms))
            .collect();
        let contexts: Vec<Option<String>> = graph
            .stages
            .iter()
            .zip(&stage_platforms)
            .map(|(stage, platform)| Some(opts.named_contexts.lookup(stage.name()?, platform)?.key))
            .collect();
        let runs = running(graph, &contexts);
        let stages: Vec<DagStage> = graph
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let base = match &graph.bases[i] {
                    Base::Stage(s) => Node::Stage { index: *s },
                    Base::Image(name) => Node::Image {
                        name: name.clone(),
                        platform: stage_platforms[i].to_string(),
                    },
                    Base::Scratch => Node::Scratch,
                };
                let line = stage.from.range.start_line;
                builder.add(base.clone(), i, EdgeKind::From, false, line);
                for dep in &graph.dependencies[i] {
                    let from = match &dep.source {
                        Source::Stage(s) => Node::Stage { index: *s },
                        // Conversion resolves these for the target platform, as the reference.
                        Source::Image(name) => Node::Image {
                            name: name.clone(),
                            platform: platforms.target.to_string(),
                        },
                        Source::Scratch => Node::Scratch,
                    };
                    let kind = match dep.kind {
                        DependencyKind::CopyFrom => EdgeKind::CopyFrom,
                        DependencyKind::Mount => EdgeKind::Mount,
                    };
                    builder.add(from, i, kind, dep.onbuild, dep.range.start_line);
                }
                DagStage {
                    index: i,
                    name: stage.name().map(str::to_string),
                    line,
                    base,
                    platform: graph.platforms[i].clone(),
                    runs: runs[i],
                    context: contexts[i].clone(),
                }
            })
            .collect();
        let used: Vec<bool> = stages.iter().map(DagStage::steps_run).collect();
        let images = images(&builder.edges, &used, opts);
        StageDag {
            target: graph.target,
            platform: platforms.target.to_string(),
            stages,
            edges: builder.edges,
            images,
        }
    }

    /// Go-style indented JSON, as subrequests answer (no trailing newline).
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The tables people read (`--call=graph` without `format=json`).
    pub fn text(&self) -> String {
        render::text(self)
    }

    pub fn dot(&self) -> String {
        render::dot(self)
    }

    pub fn mermaid(&self) -> String {
        render::mermaid(self)
    }

    /// How people call stage `index`: its name or `stage-N`.
    pub fn stage_name(&self, index: usize) -> String {
        match self.stages.get(index).and_then(|s| s.name.as_deref()) {
            Some(name) => name.to_string(),
            None => format!("stage-{index}"),
        }
    }

    /// Whether the build follows an edge: the stage it leads to runs its own steps.
    pub fn edge_runs(&self, edge: &DagEdge) -> bool {
        self.stages.get(edge.to).is_some_and(DagStage::steps_run)
    }
}

/// The stages the build uses: what the target reaches, not through a stage a named context
/// replaces (as in the reference, whose replaced stages read nothing).
fn running(graph: &StageGraph, contexts: &[Option<String>]) -> Vec<bool> {
    if contexts.iter().all(Option::is_none) {
        return graph.reachable.clone();
    }
    graph.reachable_stopping(graph.target, |s| contexts[s].is_some())
}

/// Collects edges, merging repeats into one with every line.
#[derive(Default)]
struct Builder {
    edges: Vec<DagEdge>,
    index: BTreeMap<(Node, usize, EdgeKind, bool), usize>,
}

impl Builder {
    fn add(&mut self, from: Node, to: usize, kind: EdgeKind, onbuild: bool, line: usize) {
        let key = (from.clone(), to, kind, onbuild);
        match self.index.get(&key) {
            Some(&at) => {
                let lines = &mut self.edges[at].lines;
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
            None => {
                self.index.insert(key, self.edges.len());
                self.edges.push(DagEdge {
                    from,
                    to,
                    kind,
                    onbuild,
                    lines: vec![line],
                });
            }
        }
    }
}

/// Every external image the edges name, in order of first use, with the stages using it;
/// needed when a stage in `used` (one running its own steps) reads it.
fn images(edges: &[DagEdge], used: &[bool], opts: &ConvertOptions) -> Vec<DagImage> {
    let mut out: Vec<DagImage> = Vec::new();
    for edge in edges {
        let Node::Image { name, platform } = &edge.from else {
            continue;
        };
        let runs = used.get(edge.to).copied().unwrap_or(false);
        if let Some(image) = out
            .iter_mut()
            .find(|i| &i.name == name && &i.platform == platform)
        {
            image.needed |= runs;
            if !image.used_by.contains(&edge.to) {
                image.used_by.push(edge.to);
            }
            continue;
        }
        let context = Platform::parse(platform)
            .ok()
            .and_then(|p| opts.named_contexts.lookup(name, &p))
            .map(|c| c.key);
        out.push(DagImage {
            name: name.clone(),
            platform: platform.clone(),
            needed: runs,
            used_by: vec![edge.to],
            context,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dag(text: &str, target: Option<&str>) -> StageDag {
        let opts = ConvertOptions {
            target: target.map(str::to_string),
            build_platform: Platform::parse("linux/amd64").expect("platform"),
            ..Default::default()
        };
        stage_dag(text, &opts).expect("dag").0
    }

    #[test]
    fn repeated_uses_are_one_edge_with_their_lines() {
        let d = dag(
            "FROM busybox AS b\nFROM busybox\nCOPY --from=b /a /a\nCOPY --from=0 /b /b\n",
            None,
        );
        let copies: Vec<&DagEdge> = d
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::CopyFrom)
            .collect();
        assert_eq!(copies.len(), 1);
        assert_eq!(copies[0].lines, vec![3, 4]);
        assert_eq!(d.images.len(), 1);
        assert_eq!(d.images[0].used_by, vec![0, 1]);
    }

    #[test]
    fn a_stage_the_target_does_not_need_is_skipped() {
        let d = dag("FROM busybox AS b\nFROM alpine AS u\nFROM b\n", Some("b"));
        assert_eq!(d.target, 0);
        let runs: Vec<bool> = d.stages.iter().map(|s| s.runs).collect();
        assert_eq!(runs, vec![true, false, false]);
        assert!(!d.images[1].needed);
    }

    #[test]
    fn a_stage_a_context_replaces_reads_nothing() {
        let text = "FROM alpine AS a\nFROM busybox AS b\nCOPY --from=a / /\nFROM b\n";
        let source = crate::convert::contexts::ContextSource::parse("b", "docker-image://x")
            .expect("context");
        let opts = ConvertOptions {
            build_platform: Platform::parse("linux/amd64").expect("platform"),
            named_contexts: crate::convert::contexts::NamedContexts(BTreeMap::from([(
                "b".to_string(),
                source,
            )])),
            ..Default::default()
        };
        let d = stage_dag(text, &opts).expect("dag").0;
        let runs: Vec<bool> = d.stages.iter().map(|s| s.runs).collect();
        assert_eq!(runs, vec![false, true, true]);
        assert_eq!(d.stages[1].context.as_deref(), Some("b"));
        let needed: Vec<bool> = d.images.iter().map(|i| i.needed).collect();
        assert_eq!(needed, vec![false, false]);
        assert!(d
            .text()
            .contains("b         2      busybox   replaced by context b\n"));
    }

    #[test]
    fn base_stage_triggers_are_onbuild_edges_at_the_from_line() {
        let d = dag(
            "FROM busybox AS src\nFROM busybox AS t\nONBUILD COPY --from=src / /\nFROM t\n",
            None,
        );
        let edge = d.edges.iter().find(|e| e.onbuild).expect("onbuild edge");
        assert_eq!(edge.from, Node::Stage { index: 0 });
        assert_eq!(
            (edge.to, edge.kind, edge.lines.clone()),
            (2, EdgeKind::CopyFrom, vec![4])
        );
        assert!(d.stages[0].runs);
    }
}

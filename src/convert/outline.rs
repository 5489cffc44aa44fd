//! What `--print=outline` and `--print=targets` report, with the reference's semantics
//! (`Dockerfile2Outline` and `ListTargets` in dockerfile2llb).
//!
//! The outline is the build parameters the target depends on: the ARGs its stages use (global
//! ones through the FROM lines that expand them and the ARGs those depend on), and the secrets
//! and ssh sockets its RUN mounts ask for. ARG values and mount ids are only known once the
//! instructions are expanded, so conversion records them per stage in an [`OutlineCapture`];
//! the outline is put together from that record and the stage graph, never from LLB.

use std::collections::{BTreeMap, BTreeSet};

use super::args::{self, Platforms};
use super::{ConvertError, ConvertOptions};
use crate::instructions::{instruction_from_node, ArgInstruction, Instruction};
use crate::stages::{self, Base, Source, StageGraph};
use crate::syntax::shell::{EnvGetter, Lexer};
use crate::syntax::{self, SourceRange};

/// The parameters of the build of one target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outline {
    /// The target stage's name; empty when it has none.
    pub name: String,
    /// The target stage's description comment (`# name text` above its FROM).
    pub description: String,
    pub args: Vec<OutlineArg>,
    pub secrets: Vec<OutlineMount>,
    pub ssh: Vec<OutlineMount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineArg {
    pub name: String,
    pub description: String,
    /// The value the build uses (default or build arg); empty when unset.
    pub value: String,
    pub range: SourceRange,
}

/// A secret or an ssh socket a RUN mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineMount {
    pub name: String,
    pub required: bool,
    pub range: SourceRange,
}

/// One stage as `--print=targets` lists it, unexpanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    /// True for the last stage, which a build without `--target` builds.
    pub default: bool,
    pub description: String,
    pub base: String,
    pub platform: String,
    pub range: SourceRange,
}

/// An ARG definition as the outline reports it (the reference's `argInfo`).
#[derive(Debug, Clone)]
struct ArgInfo {
    name: String,
    value: String,
    comment: String,
    range: SourceRange,
    /// Global ARGs its default expanded (they count as used when it is).
    deps: BTreeSet<String>,
}

/// An ARG instruction's key as a stage declared it; `None` when it only took the global ARG's
/// value (the global definition then stays the one reported).
#[derive(Debug, Clone)]
struct ArgRecord {
    key: String,
    info: Option<ArgInfo>,
}

#[derive(Debug, Clone, Default)]
struct StageCapture {
    args: Vec<ArgRecord>,
    secrets: Vec<OutlineMount>,
    ssh: Vec<OutlineMount>,
}

/// What conversion saw of each stage that the outline needs.
#[derive(Debug, Clone, Default)]
pub struct OutlineCapture {
    stages: Vec<StageCapture>,
}

impl OutlineCapture {
    pub(super) fn new(stages: usize) -> Self {
        OutlineCapture {
            stages: vec![StageCapture::default(); stages],
        }
    }

    /// An ARG instruction after conversion; `values` ends with the values it gave its keys.
    pub(super) fn record_arg(
        &mut self,
        stage: usize,
        c: &ArgInstruction,
        values: &[(String, Option<String>)],
        build_args: &BTreeMap<String, String>,
    ) {
        let Some(capture) = self.stages.get_mut(stage) else {
            return;
        };
        let given = values.iter().rev().take(c.args.len()).rev();
        for (pair, (_, value)) in c.args.iter().zip(given) {
            let inherited =
                pair.value.is_none() && !build_args.contains_key(&pair.key) && value.is_some();
            let info = (!inherited).then(|| ArgInfo {
                name: pair.key.clone(),
                value: value.clone().unwrap_or_default(),
                comment: pair.comment.clone(),
                range: c.range,
                deps: BTreeSet::new(),
            });
            capture.args.push(ArgRecord {
                key: pair.key.clone(),
                info,
            });
        }
    }

    /// A secret mount; the first mount of an id in a stage is the one reported.
    pub(super) fn record_secret(
        &mut self,
        stage: usize,
        id: &str,
        required: bool,
        range: SourceRange,
    ) {
        if let Some(capture) = self.stages.get_mut(stage) {
            record_mount(&mut capture.secrets, id, required, range);
        }
    }

    /// An ssh mount (`id` already defaulted to `default`).
    pub(super) fn record_ssh(
        &mut self,
        stage: usize,
        id: &str,
        required: bool,
        range: SourceRange,
    ) {
        if let Some(capture) = self.stages.get_mut(stage) {
            record_mount(&mut capture.ssh, id, required, range);
        }
    }
}

fn record_mount(list: &mut Vec<OutlineMount>, id: &str, required: bool, range: SourceRange) {
    if !list.iter().any(|m| m.name == id) {
        list.push(OutlineMount {
            name: id.to_string(),
            required,
            range,
        });
    }
}

/// The outline of the graph's target, from what its conversion recorded.
pub(super) fn outline(
    graph: &StageGraph,
    capture: &OutlineCapture,
    opts: &ConvertOptions,
    platforms: &Platforms,
    lexer: &Lexer,
) -> Result<Outline, ConvertError> {
    let global = meta_arg_infos(graph, opts, platforms, lexer)?;
    let walk = Walk {
        graph,
        capture,
        lexer,
        global: &global,
    };
    let target = graph.target;
    let mut out = Outline::default();
    if let Some(stage) = graph.stages.get(target) {
        out.name = stage.from.name.clone();
        out.description = stage.from.comment.clone();
    }
    let mut args: Vec<&ArgInfo> = Vec::new();
    let (mut seen_args, mut seen_secrets, mut seen_ssh) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for stage in walk.stage_order(target) {
        let all = walk.all_args(stage);
        for key in walk.used_args(stage, &all) {
            if let Some(info) = all.get(key.as_str()) {
                if seen_args.insert(key) {
                    args.push(info);
                }
            }
        }
        if let Some(c) = capture.stages.get(stage) {
            take_new(&mut out.secrets, &c.secrets, &mut seen_secrets);
            take_new(&mut out.ssh, &c.ssh, &mut seen_ssh);
        }
    }
    // Stable, like the reference's sort of these short lists: ARGs of one line stay in the
    // order the walk met them.
    args.sort_by_key(|a| a.range.start_line);
    out.args = args
        .into_iter()
        .map(|a| OutlineArg {
            name: a.name.clone(),
            description: a.comment.clone(),
            value: a.value.clone(),
            range: a.range,
        })
        .collect();
    out.secrets.sort_by_key(|m| m.range.start_line);
    out.ssh.sort_by_key(|m| m.range.start_line);
    Ok(out)
}

fn take_new(out: &mut Vec<OutlineMount>, from: &[OutlineMount], seen: &mut BTreeSet<String>) {
    for m in from {
        if seen.insert(m.name.clone()) {
            out.push(m.clone());
        }
    }
}

/// The stage graph and the capture, walked from the target as the reference's outline does.
struct Walk<'a> {
    graph: &'a StageGraph,
    capture: &'a OutlineCapture,
    lexer: &'a Lexer,
    global: &'a BTreeMap<String, ArgInfo>,
}

impl<'a> Walk<'a> {
    /// The target, then depth first its base stage and the stages its instructions read, each
    /// once (the reference may visit a stage twice; a second visit adds nothing).
    fn stage_order(&self, target: usize) -> Vec<usize> {
        let mut order = Vec::new();
        let mut visited = BTreeSet::new();
        let mut stack = vec![target];
        while let Some(stage) = stack.pop() {
            if !visited.insert(stage) {
                continue;
            }
            order.push(stage);
            let deps = self.graph.dependencies.get(stage).into_iter().flatten();
            let mut next: Vec<usize> = deps
                .filter_map(|d| match d.source {
                    Source::Stage(s) => Some(s),
                    _ => None,
                })
                .collect();
            if let Some(Base::Stage(base)) = self.graph.bases.get(stage) {
                next.insert(0, *base);
            }
            stack.extend(next.into_iter().rev());
        }
        order
    }

    /// The ARG definitions a stage sees: the global ones, then its own in order.
    fn all_args(&self, stage: usize) -> BTreeMap<&'a str, &'a ArgInfo> {
        let mut all: BTreeMap<&str, &ArgInfo> =
            self.global.iter().map(|(k, v)| (k.as_str(), v)).collect();
        for record in self.records(stage) {
            if let Some(info) = &record.info {
                all.insert(record.key.as_str(), info);
            }
        }
        all
    }

    fn records(&self, stage: usize) -> &'a [ArgRecord] {
        self.capture
            .stages
            .get(stage)
            .map_or(&[], |c| c.args.as_slice())
    }

    /// The ARGs a stage uses: those its FROM line and its base stages' FROM lines expand, those
    /// it declares, and what their definitions depend on.
    fn used_args(&self, stage: usize, all: &BTreeMap<&str, &ArgInfo>) -> BTreeSet<String> {
        let mut used = BTreeSet::new();
        let mut chain = BTreeSet::new();
        let mut next = Some(stage);
        while let Some(s) = next.filter(|s| chain.insert(*s)) {
            used.extend(self.args_in_from_line(s));
            next = match self.graph.bases.get(s) {
                Some(Base::Stage(base)) => Some(*base),
                _ => None,
            };
        }
        used.extend(self.records(stage).iter().map(|r| r.key.clone()));
        let mut pending: Vec<String> = used.iter().cloned().collect();
        while let Some(key) = pending.pop() {
            for dep in all.get(key.as_str()).into_iter().flat_map(|a| &a.deps) {
                if used.insert(dep.clone()) {
                    pending.push(dep.clone());
                }
            }
        }
        used
    }

    /// The global ARGs a stage's FROM name and platform expand.
    fn args_in_from_line(&self, stage: usize) -> BTreeSet<String> {
        let Some(stage) = self.graph.stages.get(stage) else {
            return BTreeSet::new();
        };
        let mut used = BTreeSet::new();
        for word in [&stage.from.base_name, &stage.from.platform] {
            if let Ok(expanded) = self.lexer.process_word(word, &self.graph.global_args) {
                used.extend(expanded.matched);
            }
        }
        used
    }
}

/// The ARGs before the first FROM as the outline reports them (the reference's
/// `buildMetaArgs`): a build arg replaces the value, a default expands with what came before.
fn meta_arg_infos(
    graph: &StageGraph,
    opts: &ConvertOptions,
    platforms: &Platforms,
    lexer: &Lexer,
) -> Result<BTreeMap<String, ArgInfo>, ConvertError> {
    let target_name = super::target_name(opts, &graph.stages);
    let builtins = args::global_args(platforms, opts, &target_name, &[], lexer)?;
    let mut env: Vec<(String, String)> = Vec::new();
    for key in builtins.keys() {
        let value = builtins.get(&key).unwrap_or("").to_string();
        args::add_or_replace(&mut env, &key, &value);
    }
    let mut infos: BTreeMap<String, ArgInfo> = BTreeMap::new();
    for c in &graph.meta_args {
        for pair in &c.args {
            let mut deps = BTreeSet::new();
            let value = match (opts.build_args.get(&pair.key), &pair.value) {
                (Some(given), _) => Some(given.clone()),
                (None, Some(default)) => {
                    let expanded = lexer
                        .process_word(default, &env)
                        .map_err(|e| ConvertError::at(e.to_string(), c.range))?;
                    deps = expanded.matched;
                    if deps.remove(&pair.key) {
                        if let Some(old) = infos.get(&pair.key) {
                            deps.extend(old.deps.iter().cloned());
                        }
                    }
                    Some(expanded.value)
                }
                (None, None) => None,
            };
            if let Some(v) = &value {
                args::add_or_replace(&mut env, &pair.key, v);
            }
            let info = ArgInfo {
                name: pair.key.clone(),
                value: value.unwrap_or_default(),
                comment: pair.comment.clone(),
                range: c.range,
                deps,
            };
            infos.insert(pair.key.clone(), info);
        }
    }
    Ok(infos)
}

/// The stages as `--print=targets` lists them: parsed only, nothing expanded. A Dockerfile with
/// ARGs and no stage lists none (the build fails on it, listing does not).
pub fn list_targets(text: &str) -> Result<Vec<Target>, ConvertError> {
    let dockerfile = syntax::parse(text)?;
    let instructions: Vec<Instruction> = dockerfile
        .nodes
        .into_iter()
        .map(instruction_from_node)
        .collect::<Result<_, _>>()?;
    if instructions
        .iter()
        .all(|i| matches!(i, Instruction::Arg(_)))
    {
        return Ok(Vec::new());
    }
    let stages = stages::split_stages(instructions)?.stages;
    let last = stages.len().saturating_sub(1);
    Ok(stages
        .into_iter()
        .enumerate()
        .map(|(i, stage)| Target {
            name: stage.from.name,
            default: i == last,
            description: stage.from.comment,
            base: stage.from.base_name,
            platform: stage.from.platform,
            range: stage.from.range,
        })
        .collect())
}

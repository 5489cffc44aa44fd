//! Stage names, bases and dependencies, the target, and what is reachable from it.

use std::collections::{BTreeMap, BTreeSet};

use super::scope::{Scope, ScopeRules};
use super::{split::Stages, Stage, StageError};
use crate::instructions::{mount_from_reads_variables, suggest, Instruction};
use crate::llb::normalize_image_ref;
use crate::platform::Platform;
use crate::syntax::shell::{go_quote, EnvGetter, EnvList, Lexer};
use crate::syntax::SourceRange;

/// What a stage starts from, after its FROM line was expanded with the global ARGs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    Scratch,
    Stage(usize),
    Image(String),
}

/// Where a COPY --from or a RUN --mount from= reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Stage(usize),
    Image(String),
    Scratch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyKind {
    CopyFrom,
    Mount,
}

/// One instruction's use of another stage or image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub kind: DependencyKind,
    pub source: Source,
    /// The name the word expanded to when it read variables (None: taken as written, as the
    /// reference does); conversion must expand it to the same.
    pub expanded: Option<String>,
    /// Index of the step in its stage: its ONBUILD triggers first, then its instructions.
    pub instruction: usize,
    pub range: SourceRange,
    /// True when an ONBUILD trigger of the stage's base made the dependency.
    pub onbuild: bool,
}

#[derive(Debug, Clone)]
pub struct StageGraph {
    pub meta_args: Vec<crate::instructions::ArgInstruction>,
    pub stages: Vec<Stage>,
    pub bases: Vec<Base>,
    /// The expanded `FROM --platform` value of each stage, if it has one.
    pub platforms: Vec<Option<String>>,
    pub dependencies: Vec<Vec<Dependency>>,
    /// The ONBUILD triggers each stage runs before its instructions, parsed and located at its FROM.
    pub triggers: Vec<Vec<Instruction>>,
    /// Whether each stage has taken its base's triggers (each does once).
    pub(super) triggered: Vec<bool>,
    pub target: usize,
    pub reachable: Vec<bool>,
    /// Every stage counts as reachable (a lint with no target checks them all).
    all_stages: bool,
    /// Global ARGs (built-ins, build args, ARGs before the first FROM) after expansion.
    pub global_args: EnvList,
    /// The `--build-arg` values, which a stage's ARGs take.
    pub build_args: BTreeMap<String, String>,
}

const SCRATCH: &str = "scratch";

impl StageGraph {
    /// Resolves names and dependencies. `global_args` must already hold the meta ARGs' values.
    pub fn build(
        stages: Stages,
        global_args: EnvList,
        build_args: BTreeMap<String, String>,
        target: Option<&str>,
        lexer: &Lexer,
    ) -> Result<StageGraph, StageError> {
        let Stages { meta_args, stages } = stages;
        let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
        let mut bases = Vec::with_capacity(stages.len());
        let mut platforms = Vec::with_capacity(stages.len());
        for stage in &stages {
            bases.push(base_of(stage, &global_args, lexer, &by_name)?);
            platforms.push(platform_of(stage, &global_args, lexer)?);
            if let Some(name) = stage.name() {
                check_context_name(name)?;
                by_name.insert(name.to_ascii_lowercase(), stage.index);
            }
        }
        let target = match target.filter(|t| !t.is_empty()) {
            None => stages.len() - 1,
            Some(t) => stage_named(&by_name, t).ok_or_else(|| {
                let names: Vec<&str> = stages.iter().map(|s| s.name().unwrap_or("")).collect();
                let message = format!("target stage {t:?} could not be found");
                StageError::new(
                    suggest::with_suggestion(message, t, &names, true),
                    Vec::new(),
                )
            })?,
        };
        let naming = SourceNaming {
            by_name: &by_name,
            stage_count: stages.len(),
            rules: ScopeRules {
                build_args: &build_args,
                global_args: &global_args,
                lexer,
            },
        };
        let dependencies = stages
            .iter()
            .map(|stage| {
                let start = || Scope::at_start(&stages, &bases, stage.index, &naming.rules, true);
                dependencies_of(&stage.instructions, &naming, &start)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let count = stages.len();
        let mut graph = StageGraph {
            meta_args,
            stages,
            bases,
            platforms,
            dependencies,
            triggers: vec![Vec::new(); count],
            triggered: vec![false; count],
            target,
            reachable: Vec::new(),
            all_stages: false,
            global_args,
            build_args,
        };
        // As in the reference, only the instructions' own dependencies are checked for cycles.
        graph.check_cycles()?;
        check_base_names(&graph.stages, &graph.bases)?;
        graph.reachable = graph.reachable_from(target);
        graph.add_stage_triggers(lexer)?;
        Ok(graph)
    }

    /// Stages used by `stage` directly: its base and what its instructions read.
    pub fn direct_stage_uses(&self, stage: usize) -> impl Iterator<Item = usize> + '_ {
        let base = match self.bases[stage] {
            Base::Stage(b) => Some(b),
            _ => None,
        };
        let deps = self.dependencies[stage]
            .iter()
            .filter_map(|d| match d.source {
                Source::Stage(s) => Some(s),
                _ => None,
            });
        base.into_iter().chain(deps)
    }

    /// Makes every stage reachable, as the reference's `AllStages` dispatches them all (only
    /// those the target needs take their triggers).
    pub fn reach_all_stages(&mut self) {
        self.all_stages = true;
        self.reachable = self.reachability();
    }

    /// The stages that run their base's ONBUILD triggers: those the target needs, also when
    /// every stage is converted (the reference's `AllStages` dispatches the others without).
    pub(super) fn taking_triggers(&self) -> Vec<bool> {
        if self.all_stages {
            self.reachable_from(self.target)
        } else {
            self.reachable.clone()
        }
    }

    /// What is reachable: from the target, or everything.
    pub(super) fn reachability(&self) -> Vec<bool> {
        if self.all_stages {
            return vec![true; self.stages.len()];
        }
        self.reachable_from(self.target)
    }

    pub(super) fn reachable_from(&self, target: usize) -> Vec<bool> {
        self.reachable_stopping(target, |_| false)
    }

    /// The stages `target` reaches, not going on through a stage `stop` holds (which is reached
    /// itself).
    pub fn reachable_stopping(&self, target: usize, stop: impl Fn(usize) -> bool) -> Vec<bool> {
        let mut seen = vec![false; self.stages.len()];
        let mut todo = vec![target];
        while let Some(s) = todo.pop() {
            if std::mem::replace(&mut seen[s], true) || stop(s) {
                continue;
            }
            todo.extend(self.direct_stage_uses(s));
        }
        seen
    }

    /// The reference checks instruction dependencies only (a base is always an earlier stage).
    fn check_cycles(&self) -> Result<(), StageError> {
        let n = self.stages.len();
        let mut visited = vec![false; n];
        // A walk that finds no cycle leaves `on_path` all false and `path` empty, so both are
        // shared by every start (one allocation, not one per stage).
        let mut on_path = vec![false; n];
        let mut path = Vec::new();
        for start in 0..n {
            if self.cycle_from(start, &mut visited, &mut on_path, &mut path) {
                return Err(StageError::new(
                    format!(
                        "circular dependency detected on stage: {}",
                        self.stages[start].display_name()
                    ),
                    path,
                ));
            }
        }
        Ok(())
    }

    fn cycle_from(
        &self,
        stage: usize,
        visited: &mut [bool],
        on_path: &mut [bool],
        path: &mut Vec<SourceRange>,
    ) -> bool {
        if std::mem::replace(&mut visited[stage], true) {
            return false;
        }
        on_path[stage] = true;
        for dep in &self.dependencies[stage] {
            let Source::Stage(next) = dep.source else {
                continue;
            };
            path.push(dep.range);
            if on_path[next] || self.cycle_from(next, visited, on_path, path) {
                return true;
            }
            path.pop();
        }
        on_path[stage] = false;
        false
    }
}

fn expand_from_word(
    word: &str,
    stage: &Stage,
    args: &EnvList,
    lexer: &Lexer,
) -> Result<String, StageError> {
    lexer
        .process_word(word, args)
        .map(|e| e.value)
        .map_err(|e| StageError::new(e.to_string(), vec![stage.from.range]))
}

fn base_of(
    stage: &Stage,
    args: &EnvList,
    lexer: &Lexer,
    earlier: &BTreeMap<String, usize>,
) -> Result<Base, StageError> {
    let name = expand_from_word(&stage.from.base_name, stage, args, lexer)?;
    if name.is_empty() {
        return Err(StageError::new(
            format!("base name ({}) should not be blank", stage.from.base_name),
            vec![stage.from.range],
        ));
    }
    // Unlike --from, FROM matches stage names case-sensitively (names are kept lower-cased),
    // as the reference's `addState` does: `FROM Base` is an image even after `AS base`.
    if let Some(index) = earlier.get(&name) {
        return Ok(Base::Stage(*index));
    }
    if name.eq_ignore_ascii_case(SCRATCH) {
        return Ok(Base::Scratch);
    }
    Ok(Base::Image(name))
}

fn platform_of(stage: &Stage, args: &EnvList, lexer: &Lexer) -> Result<Option<String>, StageError> {
    let raw = &stage.from.platform;
    if raw.is_empty() {
        return Ok(None);
    }
    let error = |message: String| StageError::new(message, vec![stage.from.range]);
    // The reference reports what the failed expansion produced, which is always empty.
    let expanded = lexer
        .process_word(raw, args)
        .map_err(|e| error(format!("failed to process arguments for platform : {e}")))?;
    if expanded.value.is_empty() {
        let message = format!("empty platform value from expression {raw}");
        return Err(error(suggest_unmatched(message, &expanded.unmatched, args)));
    }
    // Every stage's platform must parse, reachable or not.
    if let Err(e) = Platform::parse(&expanded.value) {
        let message = suggest_unmatched(e.to_string(), &expanded.unmatched, args);
        return Err(error(format!("failed to parse platform {raw}: {message}")));
    }
    Ok(Some(expanded.value))
}

/// The reference's `wrapSuggestAny`: the first unset variable with a near miss among the
/// global ARGs (in definition order) adds its "did you mean" to `message`.
fn suggest_unmatched(message: String, unmatched: &BTreeSet<String>, args: &EnvList) -> String {
    let keys = args.keys();
    let options: Vec<&str> = keys.iter().map(String::as_str).collect();
    match unmatched
        .iter()
        .find_map(|var| suggest::search(var, &options, true))
    {
        Some(m) => format!("{message} (did you mean {m}?)"),
        None => message,
    }
}

/// A stage name could name a build context, so it must parse as an image reference; the
/// reference reports this without a line.
fn check_context_name(name: &str) -> Result<(), StageError> {
    let name = name.to_ascii_lowercase();
    normalize_image_ref(&name)
        .map(|_| ())
        .map_err(|e| StageError::new(format!("invalid context name {name}: {e}"), Vec::new()))
}

/// Every image a stage starts from must be a valid reference, even in stages the target does
/// not need (the reference parses them all before resolving).
fn check_base_names(stages: &[Stage], bases: &[Base]) -> Result<(), StageError> {
    for (stage, base) in stages.iter().zip(bases) {
        if let Base::Image(name) = base {
            normalize_image_ref(name).map_err(|e| {
                StageError::new(
                    format!("failed to parse stage name {}: {e}", go_quote(name)),
                    vec![stage.from.range],
                )
            })?;
        }
    }
    Ok(())
}

/// What `--from` names: a stage by index or name (any stage, earlier or later), else an image.
fn source_named(
    from: &str,
    by_name: &BTreeMap<String, usize>,
    stage_count: usize,
) -> Result<Source, String> {
    if let Ok(index) = from.parse::<i64>() {
        return usize::try_from(index)
            .ok()
            .filter(|&i| i < stage_count)
            .map(Source::Stage)
            .ok_or_else(|| format!("invalid stage index {index}"));
    }
    if let Some(i) = stage_named(by_name, from) {
        return Ok(Source::Stage(i));
    }
    if from.eq_ignore_ascii_case(SCRATCH) {
        return Ok(Source::Scratch);
    }
    Ok(Source::Image(from.to_string()))
}

/// The stage a name refers to, case-insensitively (names are stored lower-cased).
fn stage_named(by_name: &BTreeMap<String, usize>, name: &str) -> Option<usize> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        by_name.get(&name.to_ascii_lowercase()).copied()
    } else {
        by_name.get(name).copied()
    }
}

/// Stage names (lower-cased) to indexes; a later stage wins a repeated name.
pub(super) fn names_of(stages: &[Stage]) -> BTreeMap<String, usize> {
    stages
        .iter()
        .filter_map(|s| Some((s.name()?.to_ascii_lowercase(), s.index)))
        .collect()
}

/// How `--from` and `from=` words become sources: the stage names, and the rules that expand
/// the words that read variables.
pub(super) struct SourceNaming<'a> {
    pub by_name: &'a BTreeMap<String, usize>,
    pub stage_count: usize,
    pub rules: ScopeRules<'a>,
}

/// The scope at an instruction of a stage, followed from the stage's start only once a word
/// needs it (most Dockerfiles name their sources literally).
struct LazyScope<'a> {
    start: &'a dyn Fn() -> Scope,
    /// The scope before instruction `.1`.
    at: Option<(Scope, usize)>,
}

impl LazyScope<'_> {
    fn before(&mut self, instructions: &[Instruction], index: usize, rules: &ScopeRules) -> &Scope {
        let (scope, next) = self.at.get_or_insert_with(|| ((self.start)(), 0));
        for instruction in instructions.get(*next..index).unwrap_or_default() {
            scope.apply(instruction, rules);
        }
        *next = index.max(*next);
        scope
    }
}

/// What the instructions read from other stages and images, numbered from 0. `start` gives the
/// scope before the first instruction, which words reading variables are expanded in.
pub(super) fn dependencies_of(
    instructions: &[Instruction],
    naming: &SourceNaming,
    start: &dyn Fn() -> Scope,
) -> Result<Vec<Dependency>, StageError> {
    let lexer = naming.rules.lexer;
    let mut scope = LazyScope { start, at: None };
    let mut out = Vec::new();
    for (index, instruction) in instructions.iter().enumerate() {
        let range = instruction.range();
        let error = |message: String| StageError::new(message, vec![range]);
        match instruction {
            Instruction::Copy(copy) if !copy.from.is_empty() => {
                // The reference takes the word as written when it has nothing to expand, and
                // refuses it otherwise; mstage expands it in the stage's scope instead.
                let literal = lexer
                    .process_word(&copy.from, &EnvList::default())
                    .map_err(|e| error(e.to_string()))?;
                let expanded = if literal.value == copy.from {
                    None
                } else {
                    let scope = scope.before(instructions, index, &naming.rules);
                    Some(
                        scope
                            .source_name("--from", &copy.from, lexer)
                            .map_err(error)?,
                    )
                };
                let name = expanded.as_deref().unwrap_or(&copy.from);
                let source =
                    source_named(name, naming.by_name, naming.stage_count).map_err(|message| {
                        match expanded {
                            Some(_) => error(message),
                            // The reference reports a literal's bad index without a location.
                            None => StageError::new(message, Vec::new()),
                        }
                    })?;
                out.push(Dependency {
                    kind: DependencyKind::CopyFrom,
                    source,
                    expanded,
                    instruction: index,
                    range,
                    onbuild: false,
                });
            }
            Instruction::Run(run) => {
                for from in run.mount_from.iter().filter(|f| !f.is_empty()) {
                    let expanded = if mount_from_reads_variables(from) {
                        let scope = scope.before(instructions, index, &naming.rules);
                        Some(scope.source_name("from", from, lexer).map_err(error)?)
                    } else {
                        None
                    };
                    let name = expanded.as_deref().unwrap_or(from);
                    let source = match stage_named(naming.by_name, name) {
                        Some(i) => Source::Stage(i),
                        None if name.eq_ignore_ascii_case(SCRATCH) => Source::Scratch,
                        None => Source::Image(name.to_string()),
                    };
                    out.push(Dependency {
                        kind: DependencyKind::Mount,
                        source,
                        expanded,
                        instruction: index,
                        range,
                        onbuild: false,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

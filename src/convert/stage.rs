//! The conversion driver: each reachable stage, in Dockerfile order, starts from its base (a
//! resolved image, an earlier stage or scratch) and is then built instruction by instruction.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::args::Platforms;
use super::contexts::NamedContext;
use super::epoch::Stamp;
use super::image::{History, Image};
use super::names::{self, pb_platform, StepCounter};
use super::paths;
use super::sbom::{SbomTargets, StageScan};
use super::{ConvertError, ConvertOptions};
use crate::instructions::Instruction;
use crate::lint::stages::PlatformFields;
use crate::llb::{self, Constraints, SourceMap, State};
use crate::platform::Platform;
use crate::proto::pb;
use crate::stages::{Base, ResolvedImage, Source, StageGraph};
use crate::syntax::shell::Lexer;
use crate::syntax::SourceRange;

/// Shown in image history for every step, as the reference does.
const HISTORY_COMMENT: &str = "buildkit.dockerfile.v0";
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One stage while it is being converted (the reference's `dispatchState`).
#[derive(Debug, Clone)]
pub struct StageState {
    pub state: State,
    pub image: Image,
    pub platform: Platform,
    /// `platform` as ops carry it (normalized), made once per stage.
    pub op_platform: Arc<pb::Platform>,
    pub steps: StepCounter,
    /// ARGs declared in the stage, with their values (RUN's history shows them).
    pub build_args: Vec<(String, Option<String>)>,
    /// Whether CMD was set in this stage (ENTRYPOINT then keeps it).
    pub cmd_set: bool,
    /// Whether a WORKDIR ran in this stage or a base stage (WorkdirRelativePath).
    pub workdir_set: bool,
    /// Whether the image config leaves the converter (the target and the stages it is built
    /// on); history and labels are only recorded for those.
    pub record: bool,
    /// The config of the image the stage is built on, as resolved (none for scratch).
    pub base_image: Option<Image>,
    /// SOURCE_DATE_EPOCH, when the build sets it.
    pub epoch: Option<Stamp>,
    /// `--no-cache` or `--no-cache-filter` names this stage: its steps ignore the cache.
    pub ignore_cache: bool,
}

impl StageState {
    /// A stage starting from an image or scratch, before any instruction; the per-stage fields
    /// (`op_platform`, `record`) are filled in once its base is set up.
    fn fresh(state: State, image: Image, platform: Platform, steps: StepCounter) -> Self {
        StageState {
            state,
            image,
            platform,
            op_platform: Arc::default(),
            steps,
            build_args: Vec::new(),
            cmd_set: false,
            workdir_set: false,
            record: false,
            base_image: None,
            epoch: None,
            ignore_cache: false,
        }
    }

    /// Adds a history entry (only when the image config is recorded).
    pub fn commit(&mut self, mut created_by: String, with_layer: bool, buildkit_op: bool) {
        if !self.record {
            return;
        }
        if buildkit_op {
            created_by.push_str(" # buildkit");
        }
        self.image.history.push(History {
            created_by,
            comment: HISTORY_COMMENT.into(),
            empty_layer: !with_layer,
            created: self.epoch.as_ref().map(|e| e.created.clone()),
            ..Default::default()
        });
    }
}

/// What [`Converter::run`] produces.
pub struct Conversion {
    pub state: State,
    pub image: Image,
    pub base_image: Option<Image>,
    /// What an SBOM scanner scans besides the target.
    pub sbom: SbomTargets,
    /// Lint detections of the dispatched steps, keyed by step.
    pub findings: Vec<(crate::lint::stages::StepKey, crate::lint::Finding)>,
    pub outline: Option<super::outline::OutlineCapture>,
}

/// What every instruction's conversion may read.
pub struct Converter<'a> {
    pub opts: &'a ConvertOptions,
    /// Each stage's instructions are moved out as it is converted, so they are freed as the
    /// op graph grows instead of all staying alive to the end.
    pub graph: &'a mut StageGraph,
    pub resolved: &'a BTreeMap<(String, Platform), ResolvedImage>,
    pub platforms: Platforms,
    pub lexer: Lexer,
    pub source_map: Arc<SourceMap>,
    /// The build context, filtered to what the Dockerfile reads (set between passes).
    pub context: State,
    /// Each converted stage's filesystem, for COPY --from and RUN mounts.
    pub stages: Vec<Option<State>>,
    /// Each converted stage's whole state, kept only while a later stage still builds on it
    /// (the last one takes it) or when it is the target.
    kept: Vec<Option<StageState>>,
    /// For each stage, the last reachable stage built on it.
    last_child: Vec<Option<usize>>,
    /// Whether each stage's image config is part of the target's (`StageState::record`).
    records: Vec<bool>,
    /// The target platform as ops carry it, normalized once.
    target_op_platform: Arc<pb::Platform>,
    /// Paths of the build context that COPY and ADD read.
    pub context_paths: BTreeSet<String>,
    /// True when the Dockerfile has one stage and no image sources (no stage names in progress);
    /// as in the reference, sources that triggers add do not count.
    single_state: bool,
    /// Lint detections that need expanded words (EXPOSE, WORKDIR), of the current pass.
    pub lint_findings: Vec<(crate::lint::stages::StepKey, crate::lint::Finding)>,
    /// The `.dockerignore` patterns COPY and ADD sources are checked against (CopyIgnoredFile).
    pub ignore: Option<super::ignore::IgnoreMatcher>,
    /// The stage and step being dispatched (where a failed conversion stopped).
    pub reached: (usize, usize),
    /// What `--print=outline` needs of each stage, recorded only when asked for.
    pub outline: Option<super::outline::OutlineCapture>,
    /// SOURCE_DATE_EPOCH, when the build sets it.
    pub epoch: Option<Stamp>,
    /// The named context each stage is replaced by (dockerui looks stage names up first).
    replaced: Vec<Option<NamedContext>>,
    /// Paths read from each stage family (a stage and those built on it, keyed by the first),
    /// which is what a local named context at its root transfers (the reference's `ds.paths`).
    family_paths: BTreeMap<usize, BTreeSet<String>>,
    /// Local named contexts at a family's root, filled in with its paths once all is converted.
    family_follows: Vec<(usize, llb::DeferredPaths)>,
    /// What each converted stage asks an SBOM scanner to scan.
    sbom_scans: Vec<Option<StageScan>>,
}

impl<'a> Converter<'a> {
    pub fn new(
        text: &str,
        opts: &'a ConvertOptions,
        graph: &'a mut StageGraph,
        resolved: &'a BTreeMap<(String, Platform), ResolvedImage>,
        platforms: Platforms,
        lexer: Lexer,
    ) -> Self {
        let data = match &opts.dockerfile_data {
            Some(raw) => raw.to_vec(),
            None => text.as_bytes().to_vec(),
        };
        let source_map = SourceMap::new(
            &opts.filename,
            "Dockerfile",
            data,
            opts.dockerfile_source.clone(),
        );
        let single_state = graph.stages.len() + implicit_sources(graph) == 1;
        let target_op_platform = Arc::new(llb::normalize_platform(pb_platform(&platforms.target)));
        let last_child = last_children(graph);
        let records = recorded_stages(graph);
        Converter {
            opts,
            graph,
            resolved,
            platforms,
            lexer,
            source_map,
            context: llb::scratch(),
            stages: Vec::new(),
            kept: Vec::new(),
            last_child,
            records,
            target_op_platform,
            context_paths: BTreeSet::new(),
            single_state,
            lint_findings: Vec::new(),
            ignore: super::ignore::IgnoreMatcher::new(&opts.excludes),
            reached: (0, 0),
            outline: None,
            epoch: None,
            replaced: Vec::new(),
            family_paths: BTreeMap::new(),
            family_follows: Vec::new(),
            sbom_scans: Vec::new(),
        }
    }

    /// Converts the reachable stages; returns the target's state and image config. The build
    /// context's source lists the paths COPY and ADD read, known only once every stage is
    /// converted: they are filled in then, before anything is marshalled.
    pub fn run(&mut self) -> Result<Conversion, ConvertError> {
        let follow = llb::DeferredPaths::new();
        self.context = self.opts.main_context_state(Some(follow.clone()));
        self.replaced = self.replaced_stages()?;
        self.convert_stages()?;
        follow.set(follow_paths(&self.context_paths));
        let target = self.graph.target;
        // The whole target is the result (dockerfile2llb marks it read after dispatching).
        self.use_paths(target, ["/".to_string()]);
        for (root, follow) in std::mem::take(&mut self.family_follows) {
            let paths = self.family_paths.remove(&root).unwrap_or_default();
            follow.set(follow_paths(&paths));
        }
        let mut st = self
            .kept
            .get_mut(target)
            .and_then(Option::take)
            .ok_or_else(|| {
                ConvertError::at("target stage was not converted", SourceRange::default())
            })?;
        st.image.config.labels.extend(self.opts.labels.clone());
        if !self.platforms.implicit_target {
            let p = &self.platforms.target;
            st.image.os = p.os.clone();
            st.image.architecture = p.architecture.clone();
            st.image.variant = p.variant.clone();
        }
        let sbom = SbomTargets::collect(
            target,
            &self.sbom_scans,
            &self.stages,
            |index| self.graph.stages[index].name().unwrap_or("").to_string(),
            &self.context,
        );
        Ok(Conversion {
            state: st.state,
            image: st.image,
            base_image: st.base_image,
            sbom,
            findings: std::mem::take(&mut self.lint_findings),
            outline: self.outline.take(),
        })
    }

    /// For each stage, the named context its name (and platform) replaces it with.
    fn replaced_stages(&self) -> Result<Vec<Option<NamedContext>>, ConvertError> {
        let mut out = Vec::with_capacity(self.graph.stages.len());
        for index in 0..self.graph.stages.len() {
            let found = match self.graph.stages[index].name() {
                Some(name) if !self.opts.named_contexts.is_empty() => {
                    let platform = self.stage_platform(index)?;
                    self.opts.named_contexts.lookup(name, &platform)
                }
                _ => None,
            };
            out.push(found);
        }
        Ok(out)
    }

    /// The first stage of `stage`'s family: following FROM a stage up to one built on
    /// something else (or replaced by a context).
    fn family(&self, mut stage: usize) -> usize {
        while let (Some(Base::Stage(base)), None) = (
            self.graph.bases.get(stage),
            self.replaced.get(stage).and_then(Option::as_ref),
        ) {
            stage = *base;
        }
        stage
    }

    /// Records paths a stage's family is read at; only local named contexts use them.
    pub fn use_paths(&mut self, stage: usize, paths: impl IntoIterator<Item = String>) {
        if self.opts.named_contexts.is_empty() {
            return;
        }
        let root = self.family(stage);
        let entry = self.family_paths.entry(root).or_default();
        entry.extend(paths.into_iter().map(|p| paths::join("/", &p)));
    }

    /// A named context's state for a family rooted at `root`, or (`root` None) for one use
    /// reading `paths`, as an unnamed `COPY --from` or mount source is in the reference.
    fn named_context_state(
        &mut self,
        context: &NamedContext,
        platform: &Platform,
        root: Option<usize>,
        paths: &[String],
    ) -> Result<State, String> {
        let follow = llb::DeferredPaths::new();
        match root {
            Some(root) => self.family_follows.push((root, follow.clone())),
            None => {
                let paths: BTreeSet<String> = paths.iter().map(|p| paths::join("/", p)).collect();
                follow.set(follow_paths(&paths));
            }
        }
        let state = context.state(platform, &self.opts.session_id, Some(follow))?;
        Ok(state.platform(pb_platform(platform)))
    }

    fn convert_stages(&mut self) -> Result<(), ConvertError> {
        self.context_paths.clear();
        let count = self.graph.stages.len();
        if let Some(outline) = &mut self.outline {
            *outline = super::outline::OutlineCapture::new(count);
        }
        self.stages = vec![None; count];
        self.kept = vec![None; count];
        self.sbom_scans = vec![None; count];
        for index in 0..count {
            if !self.graph.reachable[index] {
                continue;
            }
            if let Some(context) = self.replaced[index].clone() {
                // dockerui: the context is the stage, taken as it is; none of its steps run.
                let st = self.replacing_context(index, &context)?;
                self.graph.take_steps(index);
                self.finish_stage(index, st);
                continue;
            }
            let mut st = self.start_stage(index)?;
            // Counted once the base is set up: the reference names an image's FROM before it
            // knows the image's triggers.
            st.steps.total += self.graph.triggers[index].len();
            for (i, (onbuild, instruction)) in self.graph.take_steps(index).into_iter().enumerate()
            {
                st.steps.onbuild = onbuild;
                if self.opts.multi_platform {
                    st.steps.platform = names::platform_label(&st.platform, Some(st.state.env()));
                }
                self.reached = (index, i);
                self.dispatch(index, i, &instruction, &mut st)
                    .map_err(|e| with_range(e, instruction.range()))?;
            }
            st.steps.onbuild = false;
            self.sbom_scans[index] = Some(StageScan::of(
                self.graph.stages[index].name().unwrap_or(""),
                &self.graph.global_args,
                &st.build_args,
                st.ignore_cache,
            ));
            self.finish_stage(index, st);
        }
        Ok(())
    }

    /// Keeps a converted stage's filesystem for later sources, and its whole state while a
    /// later stage still builds on it or when it is the target.
    fn finish_stage(&mut self, index: usize, st: StageState) {
        self.stages[index] = Some(st.state.clone());
        if self.last_child[index].is_some() || index == self.graph.target {
            self.kept[index] = Some(st);
        }
    }

    /// The stage's state before its first instruction (`dispatchState.init` and the base setup).
    fn start_stage(&mut self, index: usize) -> Result<StageState, ConvertError> {
        let stage = &self.graph.stages[index];
        let ignore_cache = self.opts.no_cache.applies_to(stage.name());
        let steps = StepCounter {
            stage_name: if self.single_state {
                String::new()
            } else {
                stage.display_name()
            },
            total: step_count(&self.graph.bases[index], &stage.instructions),
            index: 0,
            onbuild: false,
            platform: String::new(),
        };
        let base = self.graph.bases[index].clone();
        let mut st = match &base {
            Base::Stage(base) => {
                let from = stage.from.range;
                let mut st = self
                    .parent_state(*base, index)
                    .ok_or_else(|| ConvertError::at("base stage was not converted", from))?;
                st.image.config.on_build.clear();
                st.steps = steps;
                st.cmd_set = false;
                // Falls through: like the reference, the config's env is added again, which
                // moves those keys after the parent's ARG values in the exec env order.
                st
            }
            Base::Scratch => {
                // As in the reference, scratch is always the target platform's: a
                // `FROM --platform` on it is checked but does not change that.
                self.stage_platform(index)?;
                let platform = self.platforms.target.clone();
                let state = llb::scratch().platform(pb_platform(&platform));
                let image = empty_image(&platform);
                StageState::fresh(state, image, platform, steps)
            }
            Base::Image(name) => self.image_stage(index, name, steps)?,
        };
        if !st
            .image
            .config
            .env
            .iter()
            .any(|e| e.split('=').next() == Some("PATH"))
        {
            st.image.config.env.push(format!("PATH={DEFAULT_PATH}"));
        }
        for entry in &st.image.config.env {
            let (k, v) = entry.split_once('=').unwrap_or((entry, ""));
            st.state.set_env(k, v);
        }
        if !self.opts.run.hostname.is_empty() {
            st.state = st.state.hostname(&self.opts.run.hostname);
        }
        if !st.image.config.working_dir.is_empty() {
            let wd = paths::normalize_workdir("/", &st.image.config.working_dir);
            st.image.config.working_dir = wd.clone();
            st.state.set_dir(&wd);
        }
        if !st.image.config.user.is_empty() {
            st.state.set_user(&st.image.config.user);
        }
        st.state.set_network(self.opts.network);
        st.epoch = self.epoch.clone();
        st.record = self.records.get(index) == Some(&true);
        st.ignore_cache = ignore_cache;
        st.op_platform = if st.platform == self.platforms.target {
            self.target_op_platform.clone()
        } else {
            Arc::new(llb::normalize_platform(pb_platform(&st.platform)))
        };
        Ok(st)
    }

    /// The base stage's whole state for `child`: moved out on its last use, else copied.
    fn parent_state(&mut self, base: usize, child: usize) -> Option<StageState> {
        let last_use = self.last_child.get(base) == Some(&Some(child)) && base != self.graph.target;
        let slot = self.kept.get_mut(base)?;
        if last_use {
            slot.take()
        } else {
            slot.clone()
        }
    }

    fn stage_platform(&self, index: usize) -> Result<Platform, ConvertError> {
        match &self.graph.platforms[index] {
            None => Ok(self.platforms.target.clone()),
            Some(p) => Platform::parse(p).map_err(|e| {
                ConvertError::at(
                    format!("failed to parse platform {p}: {e}"),
                    self.graph.stages[index].from.range,
                )
            }),
        }
    }

    fn image_stage(
        &mut self,
        index: usize,
        name: &str,
        mut steps: StepCounter,
    ) -> Result<StageState, ConvertError> {
        let mut platform = self.stage_platform(index)?;
        let from = self.graph.stages[index].from.range;
        if let Some(context) = self.opts.named_contexts.lookup(name, &platform) {
            let image = self.context_image(name, &platform, from)?;
            let state = self
                .named_context_state(&context, &platform, Some(index), &[])
                .map_err(|m| ConvertError::at(m, from))?;
            return Ok(StageState::fresh(state, image, platform, steps));
        }
        let stage = &self.graph.stages[index];
        let resolved = self.resolved.get(&(name.to_string(), platform.clone()));
        let mut image = match resolved.filter(|r| !r.config.is_empty()) {
            Some(r) => Image::from_json(&r.config).map_err(|e| {
                ConvertError::at(
                    format!("failed to parse image config: {e}"),
                    stage.from.range,
                )
            })?,
            None => empty_image(&platform),
        };
        let base_image = resolved
            .filter(|r| !r.config.is_empty())
            .map(|_| image.clone());
        image.created = None;
        // The stage runs the image's triggers (`StageGraph::triggers`); they do not carry over.
        image.config.on_build.clear();
        if self.graph.platforms[index].is_none() {
            platform = detect_platform(&image, platform, &self.platforms);
        }
        let reference = pinned_reference(name, resolved);
        let is_scratch = resolved.is_some_and(|r| !r.config.is_empty()) && is_empty_image(&image);
        let state = if is_scratch {
            llb::scratch().platform(pb_platform(&platform))
        } else {
            if self.opts.multi_platform {
                steps.platform = names::platform_label(&platform, None);
            }
            let name = steps.next(&format!("FROM {reference}"), false);
            llb::image_with(
                &reference,
                llb::ImageOptions {
                    resolve_mode: self.opts.resolve_mode,
                    constraints: Constraints::new()
                        .platform(pb_platform(&platform))
                        .description("com.docker.dockerfile.v1.command", &stage.from.code)
                        .custom_name(name)
                        .location(&self.source_map, line_ranges(stage.from.range)),
                    ..Default::default()
                },
            )
        };
        let mut st = StageState::fresh(state, image, platform, steps);
        st.base_image = base_image;
        Ok(st)
    }

    /// A stage replaced by the named context of its name: the context's filesystem, and the
    /// config of an image context (its platform then the image's), else an empty one.
    fn replacing_context(
        &mut self,
        index: usize,
        context: &NamedContext,
    ) -> Result<StageState, ConvertError> {
        let from = self.graph.stages[index].from.range;
        let platform = self.stage_platform(index)?;
        let state = self
            .named_context_state(context, &platform, Some(index), &[])
            .map_err(|m| ConvertError::at(m, from))?;
        let name = self.graph.stages[index]
            .name()
            .unwrap_or_default()
            .to_string();
        let (image, platform) = match self.resolved_config(&name, &platform, from)? {
            Some(image) => {
                let own = Platform {
                    os: image.os.clone(),
                    architecture: image.architecture.clone(),
                    variant: image.variant.clone(),
                };
                let platform = match own.os.is_empty() || own.architecture.is_empty() {
                    true => platform,
                    false => own,
                };
                (image, platform)
            }
            None => (Image::default(), platform),
        };
        let mut st = StageState::fresh(state, image, platform, StepCounter::default());
        st.record = self.records.get(index) == Some(&true);
        Ok(st)
    }

    /// The config of the image context standing in for image `name`: its resolved config
    /// without `Created` (ONBUILD triggers run as `StageGraph::triggers` says), or the empty
    /// image of `platform` for `scratch`. The platform stays the one asked for.
    fn context_image(
        &self,
        name: &str,
        platform: &Platform,
        at: SourceRange,
    ) -> Result<Image, ConvertError> {
        let mut image = self
            .resolved_config(name, platform, at)?
            .unwrap_or_else(|| empty_image(platform));
        image.config.on_build.clear();
        Ok(image)
    }

    /// The config resolved for `name` on `platform`, without `Created`; `None` when there is
    /// none (scratch, or a context that is no image).
    fn resolved_config(
        &self,
        name: &str,
        platform: &Platform,
        at: SourceRange,
    ) -> Result<Option<Image>, ConvertError> {
        let resolved = self.resolved.get(&(name.to_string(), platform.clone()));
        let Some(r) = resolved.filter(|r| !r.config.is_empty()) else {
            return Ok(None);
        };
        let mut image = Image::from_json(&r.config)
            .map_err(|e| ConvertError::at(format!("failed to parse image config: {e}"), at))?;
        image.created = None;
        Ok(Some(image))
    }

    /// The state a COPY --from or RUN --mount from= reads. An image is an unnamed stage of its
    /// own in the reference: empty command text, located at the COPY that names it (`at`).
    pub fn source_state(
        &mut self,
        source: &Source,
        at: Option<SourceRange>,
        paths: &[String],
    ) -> Result<State, String> {
        match source {
            Source::Scratch => Ok(llb::scratch()),
            Source::Stage(i) => {
                self.use_paths(*i, paths.iter().cloned());
                self.stages
                    .get(*i)
                    .and_then(Option::as_ref)
                    .cloned()
                    .ok_or_else(|| format!("stage {i} is not converted yet"))
            }
            Source::Image(name) => {
                let platform = self.platforms.target.clone();
                if let Some(context) = self.opts.named_contexts.lookup(name, &platform) {
                    return self.named_context_state(&context, &platform, None, paths);
                }
                let resolved = self.resolved.get(&(name.clone(), platform.clone()));
                let reference = pinned_reference(name, resolved);
                let mut constraints = Constraints::new()
                    .platform(pb_platform(&platform))
                    .description("com.docker.dockerfile.v1.command", "")
                    .custom_name(format!("FROM {reference}"));
                if let Some(range) = at {
                    constraints = constraints.location(&self.source_map, line_ranges(range));
                }
                Ok(llb::image_with(
                    &reference,
                    llb::ImageOptions {
                        resolve_mode: self.opts.resolve_mode,
                        constraints,
                        ..Default::default()
                    },
                ))
            }
        }
    }

    /// Constraints every op of a step gets: its progress name, platform and source location.
    pub fn step_constraints(
        &self,
        st: &mut StageState,
        text: &str,
        range: SourceRange,
    ) -> Constraints {
        let name = st.steps.next(text, false);
        let mut c = Constraints::new()
            .custom_name(name)
            .location(&self.source_map, line_ranges(range));
        c.platform = Some(st.op_platform.clone());
        if st.ignore_cache {
            c = c.ignore_cache();
        }
        c
    }
}

/// For each stage, the last reachable stage whose base it is.
fn last_children(graph: &StageGraph) -> Vec<Option<usize>> {
    let mut last = vec![None; graph.stages.len()];
    for (child, base) in graph.bases.iter().enumerate() {
        if let Base::Stage(parent) = base {
            if graph.reachable.get(child) == Some(&true) {
                if let Some(slot) = last.get_mut(*parent) {
                    *slot = Some(child);
                }
            }
        }
    }
    last
}

/// The target and the stages it is built on, whose image configs make the target's.
fn recorded_stages(graph: &StageGraph) -> Vec<bool> {
    let mut records = vec![false; graph.stages.len()];
    let mut next = Some(graph.target);
    while let Some(stage) = next {
        match records.get_mut(stage) {
            Some(r) if !*r => *r = true,
            _ => break,
        }
        next = match graph.bases.get(stage) {
            Some(Base::Stage(base)) => Some(*base),
            _ => None,
        };
    }
    records
}

/// The reference's error location: the failing instruction, unless the error already has one.
fn with_range(err: ConvertError, range: SourceRange) -> ConvertError {
    match err {
        ConvertError::At { message, ranges } if ranges.is_empty() => ConvertError::At {
            message,
            ranges: vec![range],
        },
        other => other,
    }
}

/// An instruction's source-map location: one range a line, as the reference's `Location()`.
pub fn line_ranges(range: SourceRange) -> Vec<crate::proto::pb::Range> {
    let line = |l: usize| i32::try_from(l).unwrap_or(i32::MAX);
    range
        .lines()
        .map(|l| llb::line_range(line(l), line(l)))
        .collect()
}

/// The sources the reference counts as extra (unnamed) stages when deciding whether progress
/// names carry a stage name: each `COPY --from` that names no stage and each RUN mount that
/// names no stage, including mounts with no `from` at all (it counts those as `scratch`).
/// (Named ones are dependencies; unnamed mounts are not.)
fn implicit_sources(graph: &StageGraph) -> usize {
    let named = graph
        .dependencies
        .iter()
        .flatten()
        .filter(|d| !d.onbuild && !matches!(d.source, Source::Stage(_)))
        .count();
    let unnamed_mounts: usize = graph
        .stages
        .iter()
        .flat_map(|s| &s.instructions)
        .map(|i| match i {
            Instruction::Run(run) => run.mount_from.iter().filter(|f| f.is_empty()).count(),
            _ => 0,
        })
        .sum();
    named + unnamed_mounts
}

/// FROM (when it pulls) plus every step that makes a layer.
fn step_count(base: &Base, instructions: &[Instruction]) -> usize {
    let from = usize::from(matches!(base, Base::Image(_)));
    from + instructions
        .iter()
        .filter(|i| {
            matches!(
                i,
                Instruction::Add(_)
                    | Instruction::Copy(_)
                    | Instruction::Run(_)
                    | Instruction::Workdir(_)
            )
        })
        .count()
}

/// `name@digest` when the resolver pinned it, else the name.
fn pinned_reference(name: &str, resolved: Option<&ResolvedImage>) -> String {
    match resolved {
        Some(r) if !r.digest.is_empty() => {
            let base = if r.reference.is_empty() {
                name
            } else {
                &r.reference
            };
            let base = llb::normalize_image_ref(base).unwrap_or_else(|_| base.to_string());
            format!("{}@{}", base.split('@').next().unwrap_or(&base), r.digest)
        }
        _ => name.to_string(),
    }
}

/// An image without layers is built on as scratch.
fn is_empty_image(image: &Image) -> bool {
    image.rootfs.diff_ids.is_empty() && image.history.iter().all(|h| h.empty_layer)
}

/// The reference's `autoDetectPlatform`, for a stage without `--platform`: with no `--platform`
/// for the build either, an image of a build platform's OS and architecture is built for that
/// platform; anything else keeps the requested one.
fn detect_platform(image: &Image, requested: Platform, platforms: &Platforms) -> Platform {
    let same = |p: &Platform| p.os == image.os && p.architecture == image.architecture;
    if !platforms.implicit_target || same(&requested) {
        return requested;
    }
    if same(&platforms.build) {
        return platforms.build.clone();
    }
    requested
}

/// InvalidBaseImagePlatform for every reachable stage built on a resolved image with layers,
/// in stage order (the reference checks them as their configs arrive).
pub(super) fn base_platform_findings(
    graph: &StageGraph,
    resolved: &BTreeMap<(String, Platform), ResolvedImage>,
    platforms: &Platforms,
    contexts: &super::contexts::NamedContexts,
) -> Vec<crate::lint::Finding> {
    let mut out = Vec::new();
    for (index, stage) in graph.stages.iter().enumerate() {
        let Base::Image(name) = &graph.bases[index] else {
            continue;
        };
        if graph.reachable.get(index) != Some(&true) {
            continue;
        }
        let stage_platform = graph.platforms[index].as_deref();
        let requested = match stage_platform {
            Some(p) => match Platform::parse(p) {
                Ok(p) => p,
                Err(_) => continue,
            },
            None => platforms.target.clone(),
        };
        // dockerui's context images skip the platform check.
        if contexts.lookup(name, &requested).is_some() {
            continue;
        }
        let image = resolved
            .get(&(name.clone(), requested.clone()))
            .filter(|r| !r.config.is_empty())
            .and_then(|r| Image::from_json(&r.config).ok());
        let Some(image) = image.filter(|i| !is_empty_image(i)) else {
            continue;
        };
        let expected = match stage_platform {
            Some(_) => requested,
            None => detect_platform(&image, requested, platforms),
        };
        let fields = |os, os_version, architecture, variant| PlatformFields {
            os,
            os_version,
            architecture,
            variant,
        };
        out.extend(crate::lint::stages::base_image_platform(
            name,
            fields(&expected.os, "", &expected.architecture, &expected.variant),
            fields(
                &image.os,
                &image.os_version,
                &image.architecture,
                &image.variant,
            ),
            stage.from.range,
        ));
    }
    out
}

fn empty_image(platform: &Platform) -> Image {
    let mut image = Image {
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone(),
        ..Default::default()
    };
    image.config.working_dir = "/".into();
    image.config.env = vec![format!("PATH={DEFAULT_PATH}")];
    image
}

/// The context paths as `FollowPaths` takes them; none when the whole context is read.
fn follow_paths(paths: &BTreeSet<String>) -> Vec<String> {
    if paths.contains("/") {
        return Vec::new();
    }
    paths
        .iter()
        .map(|p| paths::clean(p.trim_start_matches('/')))
        .collect()
}

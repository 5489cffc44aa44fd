//! Dockerfile to LLB: every reachable stage becomes part of one LLB graph, and the target stage's
//! image config is built beside it, with the reference frontend's semantics (BuildKit's
//! `dockerfile2llb`). Pure apart from image resolution, which goes through `ImageResolver`.

mod args;
pub mod contexts;
pub(crate) mod copy;
mod dispatch;
pub mod epoch;
mod error;
mod expose;
pub mod git;
pub mod graph;
mod ignore;
pub mod image;
pub mod names;
pub mod outline;
pub mod paths;
mod run;
pub mod sbom;
mod stage;
mod words;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use error::ConvertError;
use image::Image;

use crate::instructions::instruction_from_node;
use crate::lint::{self, Linter};
use crate::llb::{self, State};
use crate::platform::Platform;
use crate::stages::{self, ImageResolver, StageGraph};
use crate::syntax::{self, shell::Lexer, SourceRange};
use stage::Converter;

/// Everything a build takes besides the Dockerfile text.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// The Dockerfile's name, for source maps and messages.
    pub filename: String,
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    /// `--label`s, added to the target's image config.
    pub labels: BTreeMap<String, String>,
    /// `--platform`; `None` builds for the build platform.
    pub target_platform: Option<Platform>,
    /// One of several platforms (or `BUILDKIT_MULTI_PLATFORM`): progress names carry the platform.
    pub multi_platform: bool,
    pub build_platform: Platform,
    /// The BuildKit session the local sources come from.
    pub session_id: String,
    /// Name of the build context's local source.
    pub context_name: String,
    /// `local-sessionid:` of the context directory, when it is not read through `session_id`.
    pub context_session_id: Option<String>,
    /// `.dockerignore` patterns applied to the build context.
    pub excludes: Vec<String>,
    /// `--no-cache` and its stage filter: which stages' steps ignore the cache.
    pub no_cache: NoCache,
    /// The network RUN gets unless it asks otherwise (`force-network-mode`).
    pub network: crate::proto::pb::NetMode,
    /// `image-resolve-mode`: `default`, `pull` or `local`.
    pub resolve_mode: llb::ResolveMode,
    /// LLB capabilities of the BuildKit that will solve the result; `None` offline.
    pub llb_caps: Option<BTreeSet<String>>,
    /// The source that produced the Dockerfile, recorded in the source map.
    pub dockerfile_source: Option<State>,
    /// The Dockerfile's bytes as read, for the source map when they are not UTF-8 (conversion
    /// reads them lossily; BuildKit shows excerpts from the source map).
    pub dockerfile_data: Option<std::sync::Arc<[u8]>>,
    /// The build context when it is not the client's directory `context_name`: a git
    /// repository, an http(s) file or archive, or a frontend input.
    pub context_source: Option<State>,
    /// Convert every stage, not only those the target needs (what a lint with no target
    /// checks, the reference's `AllStages`).
    pub all_stages: bool,
    /// Collect `Converted::stage_hints` (offline, where no image fails to resolve to tell them).
    pub stage_hints: bool,
    /// The `BUILDKIT_DOCKERFILE_CHECK` build arg's settings, which replace the Dockerfile's
    /// `# check=` directive.
    pub check: Option<lint::Config>,
    /// What every RUN gets from the build request (`--add-host`, `--shm-size`, ...).
    pub run: RunOptions,
    /// `--build-context NAME=...`: contexts that replace the images or stages named NAME.
    pub named_contexts: contexts::NamedContexts,
    /// The date BuildKit resolved for a SOURCE_DATE_EPOCH that names a source
    /// ([`Parsed::date_source`]).
    pub source_date: Option<epoch::SourceDate>,
}

/// Build-wide settings of every RUN step (dockerui's `ExtraHosts`, `Hostname`, `ShmSize`,
/// `Ulimits`, `CgroupParent`, `CacheIDNamespace`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// `add-hosts`: extra `/etc/hosts` entries, in the order given.
    pub extra_hosts: Vec<(String, std::net::IpAddr)>,
    /// `hostname` (or the `BUILDKIT_SANDBOX_HOSTNAME` build arg); empty leaves BuildKit's.
    pub hostname: String,
    /// `shm-size` in bytes; 0 leaves `/dev/shm` as BuildKit mounts it.
    pub shm_size: i64,
    /// `ulimit`: (name, soft, hard).
    pub ulimits: Vec<(String, i64, i64)>,
    /// `cgroup-parent`; empty leaves BuildKit's.
    pub cgroup_parent: String,
    /// `BUILDKIT_CACHE_MOUNT_NS`: put before every cache mount's id (`<ns>/<id>`).
    pub cache_id_namespace: String,
    /// `memory`, `memswap`, `cpu*`: `None` when none was asked for.
    pub resources: Option<LinuxResources>,
}

/// 1.25's resource limits of RUN steps, as the op metadata carries them; zero or empty is unset.
pub type LinuxResources = crate::proto::pb::LinuxResources;

impl ConvertOptions {
    /// The main build context, dockerui's `MainContext`: the remote or input context when one
    /// was given, else the local directory through its session, transferring only `follow`'s
    /// paths when given.
    pub fn main_context_state(&self, follow: Option<llb::DeferredPaths>) -> State {
        if let Some(remote) = &self.context_source {
            return remote.clone();
        }
        let session = self.context_session_id.as_ref().unwrap_or(&self.session_id);
        llb::local_with(
            &self.context_name,
            llb::LocalOptions {
                session_id: Some(session.clone()),
                exclude_patterns: self.excludes.clone(),
                deferred_follow_paths: follow,
                shared_key_hint: Some(self.context_name.clone()),
                constraints: llb::Constraints::new().custom_name("[internal] load build context"),
                ..Default::default()
            },
        )
    }
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            filename: "Dockerfile".into(),
            target: None,
            build_args: BTreeMap::new(),
            labels: BTreeMap::new(),
            target_platform: None,
            multi_platform: false,
            build_platform: Platform::host(),
            session_id: String::new(),
            context_name: "context".into(),
            context_session_id: None,
            excludes: Vec::new(),
            no_cache: NoCache::None,
            network: crate::proto::pb::NetMode::Unset,
            resolve_mode: llb::ResolveMode::Unset,
            llb_caps: None,
            dockerfile_source: None,
            dockerfile_data: None,
            context_source: None,
            all_stages: false,
            stage_hints: false,
            check: None,
            run: RunOptions::default(),
            named_contexts: contexts::NamedContexts::default(),
            source_date: None,
        }
    }
}

/// `--no-cache` (every stage) or `--no-cache-filter` (the stages named), as dockerui's
/// `IsNoCache` reads the `no-cache` option.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NoCache {
    #[default]
    None,
    All,
    /// Stage names, compared case-insensitively; an empty name matches unnamed stages.
    Stages(Vec<String>),
}

impl NoCache {
    pub fn applies_to(&self, stage_name: Option<&str>) -> bool {
        match self {
            NoCache::None => false,
            NoCache::All => true,
            NoCache::Stages(names) => {
                let name = stage_name.unwrap_or("");
                names.iter().any(|n| n.eq_ignore_ascii_case(name))
            }
        }
    }
}

/// The build: the target's filesystem as LLB and its image config.
#[derive(Debug, Clone)]
pub struct Converted {
    pub state: State,
    pub image: Image,
    /// The config of the image the target is built on, as resolved (none for scratch): the
    /// exporter keeps that image's history as it was.
    pub base_image: Option<Image>,
    /// SOURCE_DATE_EPOCH in seconds, when the build sets it.
    pub epoch: Option<i64>,
    /// What an SBOM scanner scans besides the target (`BUILDKIT_SBOM_SCAN_*`).
    pub sbom: sbom::SbomTargets,
    /// Lint warnings, in the order the reference reports them.
    pub warnings: Vec<crate::lint::Warning>,
    /// With `ConvertOptions::stage_hints`: images of the build whose names are close to a
    /// stage's, with the hint and the line that first reads them (the CLI warns with them).
    pub stage_hints: Vec<(SourceRange, String)>,
}

impl Converted {
    pub fn definition(
        &self,
        opts: &ConvertOptions,
    ) -> Result<crate::proto::pb::Definition, ConvertError> {
        let platform = opts
            .target_platform
            .clone()
            .unwrap_or_else(|| opts.build_platform.clone());
        let marshal = llb::MarshalOptions {
            constraints: llb::Constraints::new().platform(names::pb_platform(&platform)),
            caps: opts.llb_caps.clone(),
        };
        Ok(llb::marshal(&self.state, &marshal)?)
    }
}

/// Parses the Dockerfile into its stage graph (no image is resolved).
pub fn stage_graph(text: &str, opts: &ConvertOptions) -> Result<StageGraph, ConvertError> {
    Ok(parse_stages(text, opts)?.stages.graph)
}

/// The stage graph with the parse-time lint warnings (`# check=` applied).
pub fn stage_graph_linted(
    text: &str,
    opts: &ConvertOptions,
) -> Result<(StageGraph, Linter), ConvertError> {
    let parsed = parse_stages(text, opts)?;
    Ok((parsed.stages.graph, parsed.lint))
}

/// The stage graph, the escape character the Dockerfile's words use, and SOURCE_DATE_EPOCH.
fn parse_stages(text: &str, opts: &ConvertOptions) -> Result<Parsed, ConvertError> {
    let mut lint = Linter::default();
    let stages = parse_stages_linted(text, opts, &mut lint)?;
    Ok(Parsed { stages, lint })
}

/// [`parse_stages`] that leaves its lint warnings in `lint` also when it fails.
fn parse_stages_linted(
    text: &str,
    opts: &ConvertOptions,
    lint: &mut Linter,
) -> Result<ParsedStages, ConvertError> {
    let dockerfile = syntax::parse(text)?;
    *lint = match &opts.check {
        Some(config) => Linter::new(config.clone()),
        None => Linter::from_directive(dockerfile.directives.check.as_deref())?,
    };
    lint::parsed::empty_continuations(&dockerfile.warnings, lint);
    let mut previous_run_end = None;
    let escape = dockerfile.escape;
    let instructions = dockerfile.nodes.into_iter().map(|node| {
        let (line, comments) = (node.range.start_line, node.comments.clone());
        let run_end = (node.keyword == "run").then_some(node.range.end_line);
        let after_run = std::mem::replace(&mut previous_run_end, run_end);
        let instruction = instruction_from_node(node)
            .map_err(|e| crate::instructions::hint_missing_continuation(e, after_run, escape))?;
        lint.add_scope(line, &comments);
        lint::parsed::instruction(&instruction, &comments, lint);
        Ok::<_, crate::instructions::InstructionError>(instruction)
    });
    let stages = stages::split_parsed(instructions)??;
    lint::parsed::check_stages(&stages, lint);
    let lexer = Lexer::new(dockerfile.escape);
    let target_name = target_name(opts, &stages.stages);
    let platforms = args::Platforms::new(opts);
    // Without build args a base name must still be valid; a failure here is reported later.
    if let Ok(defaults) =
        args::default_global_args(&platforms, opts, &target_name, &stages.meta_args, &lexer)
    {
        lint::stages::check_default_base_names(&stages.stages, &defaults, &lexer, lint);
    }
    let mut globals =
        args::global_arg_pairs(&platforms, opts, &target_name, &stages.meta_args, &lexer)?;
    let mut build_args = opts.build_args.clone();
    let mut date_source = None;
    let epoch = source_date_epoch(
        &mut build_args,
        &mut globals,
        &stages.stages,
        &lexer,
        opts,
        &mut date_source,
    );
    let globals = syntax::shell::EnvList::from_pairs(globals, syntax::shell::KeyCase::Unix);
    lint::stages::check_from(&stages, &globals, &lexer, lint);
    let mut graph = StageGraph::build(stages, globals, build_args, opts.target.as_deref(), &lexer)?;
    if opts.all_stages {
        graph.reach_all_stages();
    }
    Ok(ParsedStages {
        graph,
        escape: dockerfile.escape,
        epoch,
        date_source,
    })
}

/// Resolves SOURCE_DATE_EPOCH and puts its seconds back where it was given (before stage names
/// are expanded, as in the reference). A value naming a source takes the date BuildKit gave it
/// (`opts.source_date`); until then the source is left in `pending`. A failure is the build's,
/// reported when converting.
fn source_date_epoch(
    build_args: &mut BTreeMap<String, String>,
    globals: &mut Vec<(String, String)>,
    stages: &[stages::Stage],
    lexer: &Lexer,
    opts: &ConvertOptions,
    pending: &mut Option<epoch::PendingDate>,
) -> Result<Option<epoch::Epoch>, ConvertError> {
    let Some(value) = epoch::requested(build_args, globals) else {
        return Ok(None);
    };
    let expand = |word: &str, env: &[(String, String)]| {
        let scope =
            syntax::shell::EnvList::from_pairs(env.iter().cloned(), syntax::shell::KeyCase::Unix);
        lexer
            .process_word(word, &scope)
            .map(|w| w.value)
            .map_err(|e| e.to_string())
    };
    let scope = epoch::StageScope {
        build_args,
        globals: globals
            .iter()
            .filter(|(k, _)| k != epoch::KEY)
            .cloned()
            .collect(),
        expand: &expand,
    };
    let resolved = match epoch::resolve(&value, stages, &scope, &opts.named_contexts)? {
        epoch::Resolution::Known(epoch) => epoch,
        epoch::Resolution::Source(source) => match &opts.source_date {
            Some(date) if date.value == value => {
                date.seconds.map(|seconds| epoch::Epoch { seconds })
            }
            _ => {
                let err = epoch::needs_buildkit(&value, &source);
                *pending = Some(epoch::PendingDate { value, source });
                return Err(err);
            }
        },
    };
    epoch::normalize(build_args, globals, resolved);
    Ok(resolved)
}

/// A Dockerfile parsed into its stage graph, ready to convert; no image resolved yet.
pub struct Parsed {
    stages: ParsedStages,
    lint: Linter,
}

/// What parsing gives besides its lint warnings.
struct ParsedStages {
    graph: StageGraph,
    escape: char,
    epoch: Result<Option<epoch::Epoch>, ConvertError>,
    /// The source a SOURCE_DATE_EPOCH names, whose date is still to be resolved.
    date_source: Option<epoch::PendingDate>,
}

impl Parsed {
    /// The source SOURCE_DATE_EPOCH names when its date is still unknown: the gateway resolves
    /// it and parses again with the date in [`ConvertOptions::source_date`].
    pub fn date_source(&self) -> Option<&epoch::PendingDate> {
        self.stages.date_source.as_ref()
    }

    /// The external images the target needs first, each with the platform conversion resolves
    /// it for (images that ONBUILD triggers make reachable come later).
    pub fn image_requests(&self, opts: &ConvertOptions) -> Vec<(String, Platform)> {
        image_requests(
            &self.stages.graph,
            &args::Platforms::new(opts),
            &opts.named_contexts,
        )
    }
}

impl Parsed {
    /// The keys of the named contexts the target reads, and the one SOURCE_DATE_EPOCH names
    /// (those loaded before converting).
    pub fn named_contexts_used(&self, opts: &ConvertOptions) -> BTreeSet<String> {
        let dated = match self.date_source().map(|p| &p.source) {
            Some(epoch::DateSource::NamedContext(c)) => Some(c.key.clone()),
            _ => None,
        };
        self.image_requests(opts)
            .into_iter()
            .filter_map(|(name, platform)| opts.named_contexts.lookup(&name, &platform))
            .map(|c| c.key)
            .chain(dated)
            .collect()
    }
}

/// Each external image the reachable stages use, with the platform it is resolved for: a FROM
/// image its stage's platform, a COPY --from or mount image the target platform. A stage a
/// named context replaces asks for its own name (the context's config) instead of its base.
fn image_requests(
    graph: &StageGraph,
    platforms: &args::Platforms,
    contexts: &contexts::NamedContexts,
) -> Vec<(String, Platform)> {
    let mut out: Vec<(String, Platform)> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |key: (String, Platform)| {
        if seen.insert(key.clone()) {
            out.push(key);
        }
    };
    for (index, reachable) in graph.reachable.iter().enumerate() {
        if !reachable {
            continue;
        }
        let platform = stage_platform(graph, index, platforms);
        let stage_name = graph.stages[index].name();
        if let Some(name) = stage_name.filter(|n| contexts.lookup(n, &platform).is_some()) {
            add((name.to_string(), platform));
        } else if let stages::Base::Image(name) = &graph.bases[index] {
            add((name.clone(), platform));
        }
        for dep in &graph.dependencies[index] {
            if let stages::Source::Image(name) = &dep.source {
                add((name.clone(), platforms.target.clone()));
            }
        }
    }
    out
}

/// Parses the Dockerfile into its stage graph (the first half of [`convert`]).
pub fn parse(text: &str, opts: &ConvertOptions) -> Result<Parsed, ConvertError> {
    parse_stages(text, opts)
}

/// `TARGETSTAGE`: the `--target` given, else the last stage's name ("" when unnamed).
fn target_name(opts: &ConvertOptions, stages: &[stages::Stage]) -> String {
    match opts.target.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => t.to_string(),
        None => stages
            .last()
            .and_then(|s| s.name())
            .unwrap_or("")
            .to_string(),
    }
}

/// Converts a Dockerfile: stage graph, concurrent image resolution, then LLB.
pub async fn convert(
    text: &str,
    opts: &ConvertOptions,
    resolver: Arc<dyn ImageResolver>,
) -> Result<Converted, ConvertError> {
    convert_parsed(text, parse(text, opts)?, opts, resolver).await
}

/// The stage graph once its images are resolved (their ONBUILD triggers, and what those read,
/// added), before conversion (which consumes the graph's instructions).
pub async fn resolved_graph(
    text: &str,
    opts: &ConvertOptions,
    resolver: Arc<dyn ImageResolver>,
) -> Result<StageGraph, ConvertError> {
    let ParsedStages {
        mut graph, escape, ..
    } = parse(text, opts)?.stages;
    let platforms = args::Platforms::new(opts);
    resolve_images(
        &mut graph,
        &platforms,
        &opts.named_contexts,
        resolver,
        &Lexer::new(escape),
    )
    .await?;
    Ok(graph)
}

/// What a lint (`--call=check`) finds: the warnings, and the error that stopped the
/// conversion, if any (the warnings found before it are kept, as the reference does).
pub async fn lint(
    text: &str,
    opts: &ConvertOptions,
    resolver: Arc<dyn ImageResolver>,
) -> (Vec<lint::Warning>, Option<ConvertError>) {
    let mut lint = Linter::default();
    let result = match parse_stages_linted(text, opts, &mut lint) {
        Ok(stages) => convert_linted(text, stages, &mut lint, opts, resolver, false).await,
        Err(e) => Err(e),
    };
    (lint.warnings().to_vec(), result.err())
}

/// [`convert`] for a Dockerfile [`parse`] already read; `text` is what it parsed.
pub async fn convert_parsed(
    text: &str,
    parsed: Parsed,
    opts: &ConvertOptions,
    resolver: Arc<dyn ImageResolver>,
) -> Result<Converted, ConvertError> {
    Ok(convert_inner(text, parsed, opts, resolver, false).await?.0)
}

/// The target's outline (`--print=outline`): the whole conversion runs, as in the reference, so
/// its failures and lint warnings are the build's.
pub async fn outline_parsed(
    text: &str,
    parsed: Parsed,
    opts: &ConvertOptions,
    resolver: Arc<dyn ImageResolver>,
) -> Result<(Converted, outline::Outline), ConvertError> {
    let (converted, outline) = convert_inner(text, parsed, opts, resolver, true).await?;
    Ok((converted, outline.unwrap_or_default()))
}

async fn convert_inner(
    text: &str,
    parsed: Parsed,
    opts: &ConvertOptions,
    resolver: Arc<dyn ImageResolver>,
    want_outline: bool,
) -> Result<(Converted, Option<outline::Outline>), ConvertError> {
    let Parsed { stages, mut lint } = parsed;
    convert_linted(text, stages, &mut lint, opts, resolver, want_outline).await
}

/// [`convert_inner`] that leaves its lint warnings in `lint` also when it fails.
async fn convert_linted(
    text: &str,
    stages: ParsedStages,
    lint: &mut Linter,
    opts: &ConvertOptions,
    resolver: Arc<dyn ImageResolver>,
    want_outline: bool,
) -> Result<(Converted, Option<outline::Outline>), ConvertError> {
    let ParsedStages {
        mut graph,
        escape,
        epoch,
        ..
    } = stages;
    let epoch = epoch?;
    // The build args with SOURCE_DATE_EPOCH as resolved.
    let opts = &ConvertOptions {
        build_args: graph.build_args.clone(),
        ..opts.clone()
    };
    let platforms = args::Platforms::new(opts);
    let lexer = Lexer::new(escape);
    let resolved = resolve_images(
        &mut graph,
        &platforms,
        &opts.named_contexts,
        resolver,
        &lexer,
    )
    .await?;
    lint.run_all(stage::base_platform_findings(
        &graph,
        &resolved,
        &platforms,
        &opts.named_contexts,
    ));
    let image_has_shell = |index: usize| image_sets_shell(&graph, index, &resolved, &platforms);
    let mut dispatched = lint::stages::check_dispatch(&graph, &image_has_shell);
    let mut converter = Converter::new(text, opts, &mut graph, &resolved, platforms.clone(), lexer);
    converter.epoch = match epoch {
        Some(e) => Some(epoch::Stamp::new(e).map_err(|message| ConvertError::At {
            message,
            ranges: Vec::new(),
        })?),
        None => None,
    };
    if want_outline {
        converter.outline = Some(outline::OutlineCapture::default());
    }
    let conversion = converter.run();
    // Each step's detections, the converter's and the rule walk's, in dispatch order; after a
    // failure, those the reference would have made before it stopped.
    let conversion = match conversion {
        Ok(mut c) => {
            dispatched.append(&mut c.findings);
            Ok(c)
        }
        Err(e) => {
            let (stage, step) = converter.reached;
            dispatched.retain(|(key, _)| *key < (stage, step, 1));
            dispatched.append(&mut converter.lint_findings);
            Err(e)
        }
    };
    dispatched.sort_by_key(|(key, _)| *key);
    lint.run_all(dispatched.into_iter().map(|(_, f)| f));
    let conversion = conversion?;
    if let Some(message) = lint.error() {
        let warnings = lint.warnings().to_vec();
        return Err(ConvertError::Lint { message, warnings });
    }
    let lexer = Lexer::new(escape);
    let outline = match &conversion.outline {
        Some(capture) => Some(outline::outline(&graph, capture, opts, &platforms, &lexer)?),
        None => None,
    };
    let converted = Converted {
        state: conversion.state,
        image: conversion.image,
        base_image: conversion.base_image,
        epoch: epoch.map(|e| e.seconds),
        sbom: conversion.sbom,
        warnings: lint.warnings().to_vec(),
        stage_hints: match opts.stage_hints {
            true => stages::hint::stage_like_images(&graph),
            false => Vec::new(),
        },
    };
    Ok((converted, outline))
}

type Resolved = BTreeMap<(String, Platform), stages::ResolvedImage>;

/// Resolves the images the reachable stages use, then gives each stage built on an image that
/// image's ONBUILD triggers; when triggers read more stages or images, resolves what became
/// reachable, as the reference's resolve loop does.
async fn resolve_images(
    graph: &mut StageGraph,
    platforms: &args::Platforms,
    contexts: &contexts::NamedContexts,
    resolver: Arc<dyn ImageResolver>,
    lexer: &Lexer,
) -> Result<Resolved, ConvertError> {
    let mut resolved = Resolved::new();
    loop {
        let requests: Vec<_> = image_requests(graph, platforms, contexts)
            .into_iter()
            .filter(|key| !resolved.contains_key(key))
            .collect();
        if !requests.is_empty() {
            let found = stages::resolve_all(resolver.clone(), requests).await;
            resolved.extend(found.map_err(|e| located_resolve_error(graph, e))?);
        }
        let mut added = false;
        for stage in graph.stages_awaiting_image_triggers() {
            let triggers = image_triggers(graph, stage, &resolved, platforms);
            added |= graph.add_triggers(stage, &triggers, lexer)?;
        }
        added |= graph.add_stage_triggers(lexer)?;
        if !added {
            return Ok(resolved);
        }
    }
}

/// A failed image resolution, at the line of the first instruction reading the image, with a
/// hint when the name looks like a stage of the Dockerfile (a typo, or a stage defined later).
fn located_resolve_error(graph: &StageGraph, e: stages::ResolveError) -> ConvertError {
    let Some((user, range, is_from)) = stages::hint::first_use(graph, &e.image) else {
        return ConvertError::Resolve(e);
    };
    let message = match stages::hint::stage_hint(graph, &e.image, user, is_from) {
        Some(hint) => format!("{e} ({hint})"),
        None => e.to_string(),
    };
    ConvertError::at(message, range)
}

/// The `OnBuild` entries of the resolved config of the image `stage` is built on. A config that
/// does not parse has none here; converting the stage reports it.
fn image_triggers(
    graph: &StageGraph,
    stage: usize,
    resolved: &Resolved,
    platforms: &args::Platforms,
) -> Vec<String> {
    let stages::Base::Image(name) = &graph.bases[stage] else {
        return Vec::new();
    };
    let platform = graph.platforms[stage]
        .as_deref()
        .and_then(|p| Platform::parse(p).ok())
        .unwrap_or_else(|| platforms.target.clone());
    resolved
        .get(&(name.clone(), platform))
        .filter(|r| !r.config.is_empty())
        .and_then(|r| Image::from_json(&r.config).ok())
        .map(|image| image.config.on_build)
        .unwrap_or_default()
}

/// Whether the resolved config of the image stage `index` is built on sets `Shell`
/// (JSONArgsRecommended then stays quiet, as the reference reads the shell from the stage's
/// config).
fn image_sets_shell(
    graph: &StageGraph,
    index: usize,
    resolved: &Resolved,
    platforms: &args::Platforms,
) -> bool {
    let Some(stages::Base::Image(name)) = graph.bases.get(index) else {
        return false;
    };
    let platform = stage_platform(graph, index, platforms);
    resolved
        .get(&(name.to_string(), platform))
        .filter(|r| !r.config.is_empty())
        .and_then(|r| Image::from_json(&r.config).ok())
        .is_some_and(|image| !image.config.shell.is_empty())
}

/// The platform stage `index` asks for: its `FROM --platform`, else the target platform.
fn stage_platform(graph: &StageGraph, index: usize, platforms: &args::Platforms) -> Platform {
    graph
        .platforms
        .get(index)
        .and_then(Option::as_deref)
        .and_then(|p| Platform::parse(p).ok())
        .unwrap_or_else(|| platforms.target.clone())
}

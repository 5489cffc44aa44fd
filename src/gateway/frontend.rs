//! The frontend's flow when BuildKit runs it: read the options and the Dockerfile, convert it
//! (resolving images through BuildKit, all at once), solve, and return the result with its image
//! config. Failures go back through Return with the Dockerfile lines they concern.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::bridge::{Bridge, BridgeError};
use super::errors::{status_for, SourceFile};
use super::options;
use super::request::{self, BuildRequest, RequestError};
use super::resolver::BridgeResolver;
use super::result::{self, PlatformResult};
use super::sbom::Scanner;
use super::subrequests::{self, Request};
use super::trace;
use crate::convert::{self, ConvertError, ConvertOptions};
use crate::llb::{self, Constraints, MarshalOptions};
use crate::platform::Platform;

#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error(transparent)]
    Bridge(#[from] BridgeError),
    #[error("failed to read dockerfile: {0}")]
    ReadDockerfile(BridgeError),
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Convert(#[from] ConvertError),
    #[error(transparent)]
    Llb(#[from] crate::llb::LlbError),
    #[error("{0}")]
    Dockerignore(String),
    /// The build context or Dockerfile could not be had from where the request says.
    #[error("{0}")]
    MainContext(String),
    /// The source SOURCE_DATE_EPOCH names could not be dated.
    #[error("{0}")]
    SourceDate(String),

    #[error("reading .dockerignore: {0}")]
    Task(String),
    #[error("a platform's build task failed: {0}")]
    PlatformTask(String),
    #[error(transparent)]
    Sbom(#[from] super::sbom::SbomError),
    /// A subrequest mstage does not answer (errdefs' `UnsupportedSubrequestError`).
    #[error("unsupported request {0}")]
    UnsupportedRequest(String),
}

/// Runs the frontend to completion: any build failure is reported to BuildKit through Return.
pub async fn run() -> Result<(), FrontendError> {
    let channel = super::stdio::connect().await.map_err(BridgeError::from)?;
    trace::mark("connected");
    let bridge = Bridge::new(channel);
    let raw = options::frontend_options(std::env::vars());
    trace::mark(format_args!("options {raw:?}"));
    let mut source = None;
    // The options are checked before anything is read, also for a subrequest.
    let request = BuildRequest::from_options(&raw).map(Arc::new);
    match request {
        Err(err) => {
            let err = FrontendError::from(err);
            bridge.return_error(status_for(&err, None)).await?
        }
        // Like the reference, answers carry no Dockerfile excerpt when they fail.
        Ok(request) => match request.subrequest.clone() {
            Some(id) => match answer(&bridge, &request, &id).await {
                Ok(metadata) => {
                    bridge
                        .return_result(None, metadata, Default::default())
                        .await?
                }
                Err(err) => bridge.return_error(status_for(&err, None)).await?,
            },
            None => match build(&bridge, &request, &mut source).await {
                Ok((refs, metadata, attestations)) => {
                    bridge
                        .return_result(Some(refs), metadata, attestations)
                        .await?
                }
                Err(err) => {
                    bridge
                        .return_error(status_for(&err, source.as_ref()))
                        .await?
                }
            },
        },
    }
    trace::mark("returned");
    Ok(())
}

/// Every requested platform converted and solved concurrently (images each resolved once per
/// platform they are needed for), returned as one result. The first failure ends the build.
async fn build(
    bridge: &Bridge,
    request: &Arc<BuildRequest>,
    source: &mut Option<SourceFile>,
) -> Result<result::Assembled, FrontendError> {
    let Prepared {
        dockerfile,
        text,
        builds,
        resolver,
    } = prepare(bridge, request, request.targets()).await?;
    *source = Some(dockerfile.clone());
    let scanner = match (&request.sbom, builds.first()) {
        (Some(sbom), Some(first)) => Some(Arc::new(
            Scanner::resolve(
                bridge,
                sbom,
                &first.opts.build_platform,
                request.resolve_mode_name(),
            )
            .await?,
        )),
        _ => None,
    };
    let shared = Arc::new(SharedBuild {
        bridge: bridge.clone(),
        dockerfile,
        text,
        resolver,
        scanner,
        request: request.clone(),
    });
    let mut done: Vec<Option<PlatformResult>> = builds.iter().map(|_| None).collect();
    let mut tasks = JoinSet::new();
    for (index, platform_build) in builds.into_iter().enumerate() {
        let task = build_platform(shared.clone(), platform_build, index == 0);
        tasks.spawn(async move { (index, task.await) });
    }
    // In the order they finish, so the first failure ends the build (the rest are dropped
    // with the set, which aborts them).
    while let Some(joined) = tasks.join_next().await {
        let (index, built) = joined.map_err(|e| FrontendError::PlatformTask(e.to_string()))?;
        if let Some(slot) = done.get_mut(index) {
            *slot = Some(built?);
        }
    }
    trace::mark("solved");
    Ok(result::assemble(
        done.into_iter().flatten().collect(),
        request.multi_platform,
    ))
}

/// What every platform's build shares.
struct SharedBuild {
    bridge: Bridge,
    dockerfile: SourceFile,
    text: Arc<str>,
    resolver: Arc<BridgeResolver>,
    scanner: Option<Arc<Scanner>>,
    request: Arc<BuildRequest>,
}

/// One platform's conversion and solve. Only the first platform's lint warnings are sent, as
/// the reference does, so each shows once.
async fn build_platform(
    shared: Arc<SharedBuild>,
    build: PlatformBuild,
    send_warnings: bool,
) -> Result<PlatformResult, FrontendError> {
    let SharedBuild {
        bridge,
        dockerfile,
        text,
        resolver,
        scanner,
        request,
    } = &*shared;
    let PlatformBuild { opts, parsed } = build;
    let converted = match parsed {
        Ok(parsed) => convert::convert_parsed(text, parsed, &opts, resolver.clone()).await,
        Err(e) => Err(e),
    };
    if send_warnings {
        super::warn::send(bridge, dockerfile, &converted).await;
    }
    let converted = converted?;
    trace::mark("converted (images resolved)");
    let definition = converted.definition(&opts)?;
    let solved = bridge
        .solve_with_caches(definition, &request.cache_imports)
        .await?;
    let platform = Platform::of_result(opts.target_platform.as_ref());
    let sbom = match scanner {
        Some(scanner) => {
            let scan = scanner.scan(&platform.to_string(), &converted.state, &converted.sbom)?;
            // As the reference marshals it: no caps, the frontend's own platform the default.
            Some(
                bridge
                    .solve(llb::marshal(&scan, &MarshalOptions::default())?)
                    .await?,
            )
        }
        None => None,
    };
    Ok(PlatformResult {
        platform,
        solved,
        image: converted.image,
        base_image: converted.base_image,
        epoch: converted.epoch,
        sbom,
    })
}

/// A subrequest's answer (result metadata, no result). The Dockerfile is read first, so a
/// missing one fails before an unknown request does, as in the reference; only the outline
/// needs more than the Dockerfile.
async fn answer(
    bridge: &Bridge,
    request: &Arc<BuildRequest>,
    id: &str,
) -> Result<BTreeMap<String, Vec<u8>>, FrontendError> {
    let kind = Request::from_id(id);
    match kind {
        Ok(Request::Outline) => return answer_outline(bridge, request).await,
        Ok(Request::Lint) => return answer_lint(bridge, request).await,
        Ok(Request::ConvertLlb) => return answer_convert_llb(bridge, request).await,
        _ => {}
    }
    let main = super::main_context::sources(bridge, request).await?;
    let (dockerfile, _) = read_dockerfile(bridge, request, &main).await?;
    match kind.map_err(FrontendError::UnsupportedRequest)? {
        Request::Describe => Ok(subrequests::describe()),
        Request::Targets => {
            let text = String::from_utf8_lossy(&dockerfile.data);
            let targets = convert::outline::list_targets(&text)?;
            Ok(subrequests::targets(&targets, &dockerfile.data))
        }
        Request::Graph => super::graph::answer(bridge, request, &dockerfile).await,
        Request::Outline => answer_outline(bridge, request).await,
        Request::Lint => answer_lint(bridge, request).await,
        Request::ConvertLlb => answer_convert_llb(bridge, request).await,
    }
}

/// The one conversion a subrequest reads: like the reference's, for the build platform
/// whatever `--platform` says.
async fn prepare_subrequest(
    bridge: &Bridge,
    request: &Arc<BuildRequest>,
) -> Result<(Prepared, PlatformBuild), FrontendError> {
    let mut prepared = prepare(bridge, request, vec![None]).await?;
    // `prepare` gives one build per target asked for, and one was asked for.
    let build = prepared.builds.remove(0);
    Ok((prepared, build))
}

/// `--call=convertllb`: the build's conversion (images resolved, warnings sent), its LLB
/// returned as JSON instead of solved.
async fn answer_convert_llb(
    bridge: &Bridge,
    request: &Arc<BuildRequest>,
) -> Result<BTreeMap<String, Vec<u8>>, FrontendError> {
    let (prepared, PlatformBuild { opts, parsed }) = prepare_subrequest(bridge, request).await?;
    let converted = match parsed {
        Ok(parsed) => {
            convert::convert_parsed(&prepared.text, parsed, &opts, prepared.resolver).await
        }
        Err(e) => Err(e),
    };
    super::warn::send(bridge, &prepared.dockerfile, &converted).await;
    let definition = converted?.definition(&opts)?;
    super::convertllb::result(&definition)
        .map_err(|e| FrontendError::Llb(crate::llb::LlbError::Decode(e.to_string())))
}

/// `--call=check`: the conversion runs with every stage when no target is given (images
/// resolved, nothing solved); what stops it is part of the answer, not a failure.
async fn answer_lint(
    bridge: &Bridge,
    request: &Arc<BuildRequest>,
) -> Result<BTreeMap<String, Vec<u8>>, FrontendError> {
    let (prepared, PlatformBuild { mut opts, .. }) = prepare_subrequest(bridge, request).await?;
    opts.all_stages = opts.target.as_deref().unwrap_or("").is_empty();
    let (warnings, error) = convert::lint(&prepared.text, &opts, prepared.resolver).await;
    let error = error.map(|e| super::lint::BuildError {
        ranges: e.line_ranges(),
        message: e.to_string(),
    });
    Ok(super::lint::results(
        &prepared.dockerfile,
        &warnings,
        error.as_ref(),
    ))
}

/// `--print=outline`: the build's conversion runs (images resolved, warnings sent), nothing is
/// solved. Like the reference, it converts for the build platform whatever `--platform` says.
async fn answer_outline(
    bridge: &Bridge,
    request: &Arc<BuildRequest>,
) -> Result<BTreeMap<String, Vec<u8>>, FrontendError> {
    let (prepared, PlatformBuild { opts, parsed }) = prepare_subrequest(bridge, request).await?;
    let Prepared {
        dockerfile,
        text,
        resolver,
        ..
    } = prepared;
    let result = match parsed {
        Ok(parsed) => convert::outline_parsed(&text, parsed, &opts, resolver).await,
        Err(e) => Err(e),
    };
    let (converted, outline) = match result {
        Ok((converted, outline)) => (Ok(converted), outline),
        Err(e) => (Err(e), Default::default()),
    };
    super::warn::send(bridge, &dockerfile, &converted).await;
    converted?;
    Ok(subrequests::outline(&outline, &dockerfile.data))
}

/// What conversion starts from: the Dockerfile read, one parse per platform with its options,
/// and the resolver already loading the images the parses named.
struct Prepared {
    dockerfile: SourceFile,
    text: Arc<str>,
    /// One per target platform, in the order asked; never empty.
    builds: Vec<PlatformBuild>,
    resolver: Arc<BridgeResolver>,
}

/// One platform's conversion options and the Dockerfile parsed with them (the platform's
/// built-in ARGs decide FROM lines).
struct PlatformBuild {
    opts: ConvertOptions,
    parsed: Result<convert::Parsed, ConvertError>,
}

/// Reads the inputs and parses the Dockerfile for each of `targets` (`None`: the build platform).
async fn prepare(
    bridge: &Bridge,
    request: &Arc<BuildRequest>,
    targets: Vec<Option<Platform>>,
) -> Result<Prepared, FrontendError> {
    let resolver = Arc::new(BridgeResolver::new(
        bridge.clone(),
        request.resolve_mode_name().to_string(),
        request.multi_platform,
        request.named_contexts.clone(),
        request.session_id.clone(),
    ));
    let Inputs {
        dockerfile,
        ignore,
        text,
        mut builds,
    } = read_inputs(bridge, request, targets, &resolver).await?;
    let excludes = super::dockerignore::parse_checked(&String::from_utf8_lossy(&ignore))
        .map_err(FrontendError::Dockerignore)?;
    let used = builds
        .iter()
        .filter_map(|b| {
            b.parsed
                .as_ref()
                .ok()
                .map(|p| p.named_contexts_used(&b.opts))
        })
        .flatten()
        .collect();
    let named_contexts = super::contexts::load(bridge, request, used).await?;
    for build in &mut builds {
        build.opts.excludes = excludes.clone();
        build.opts.dockerfile_source = Some(dockerfile.state.clone());
        if std::str::from_utf8(&dockerfile.data).is_err() {
            build.opts.dockerfile_data = Some(dockerfile.data.clone().into());
        }
        build.opts.named_contexts = named_contexts.clone();
    }
    let mut pending: Vec<_> = builds
        .iter_mut()
        .map(|b| (&mut b.opts, &mut b.parsed))
        .collect();
    super::epoch::resolve_pending(bridge, &text, &mut pending).await?;
    Ok(Prepared {
        dockerfile,
        text,
        builds,
        resolver,
    })
}

/// Ping, the Dockerfile and the ignore file that applies, with each platform's options
/// completed by Ping. Ping runs beside the reads; the Dockerfile's source is known first (a
/// remote context or an input, else the local directory). A local context's .dockerignore is
/// read beside the Dockerfile, before knowing whether `<Dockerfile>.dockerignore` (which wins)
/// exists: that file is rare, and waiting for it would cost a second transfer in turn.
/// Failures come in the order the reference meets them: Ping, the Dockerfile, then .dockerignore.
async fn read_inputs(
    bridge: &Bridge,
    request: &Arc<BuildRequest>,
    targets: Vec<Option<Platform>>,
    resolver: &BridgeResolver,
) -> Result<Inputs, FrontendError> {
    let reads = async {
        let main = super::main_context::sources(bridge, request).await?;
        let context_ignore = main
            .context
            .is_none()
            .then(|| tokio::spawn(read_context_dockerignore(bridge.clone(), request.clone())));
        let dockerfile = read_dockerfile(bridge, request, &main).await;
        Ok::<_, FrontendError>((main, context_ignore, dockerfile))
    };
    let (caps, reads) = tokio::join!(bridge.ping(), reads);
    let (main, context_ignore, dockerfile) = match reads {
        Ok(r) => r,
        Err(e) => {
            caps?;
            return Err(e);
        }
    };
    // The Dockerfile is parsed once per platform as soon as it is in: base image configs then
    // load while .dockerignore does. A parse error is kept and reported after the reads' errors.
    let read = match (caps, dockerfile) {
        (Err(e), _) => Err(FrontendError::from(e)),
        (_, Err(e)) => Err(e),
        (Ok(caps), Ok((dockerfile, own_ignore))) => {
            let text: Arc<str> = String::from_utf8_lossy(&dockerfile.data).into();
            let builds: Vec<PlatformBuild> = targets
                .into_iter()
                .map(|target| {
                    let mut opts =
                        request::with_capabilities(request.convert_options(target), &caps);
                    opts.context_source = main.context.clone();
                    if let Some(name) = &main.filename {
                        opts.filename = name.clone();
                    }
                    let parsed = convert::parse(&text, &opts);
                    if let Ok(parsed) = &parsed {
                        resolver.prefetch(parsed.image_requests(&opts));
                    }
                    PlatformBuild { opts, parsed }
                })
                .collect();
            Ok((dockerfile, own_ignore, text, builds))
        }
    };
    // Awaited on every path, so no read is left running when the frontend returns.
    let context_ignore = match context_ignore {
        Some(read) => Some(read.await),
        None => None,
    };
    trace::mark("pinged, dockerfile and .dockerignore read");
    let (dockerfile, own_ignore, text, builds) = read?;
    let ignore = match (own_ignore, context_ignore) {
        (Some(data), _) => data,
        (None, Some(Ok(read))) => read?,
        (None, Some(Err(join))) => return Err(FrontendError::Task(join.to_string())),
        // A remote or input context has no .dockerignore read (dockerui's DockerIgnorePatterns).
        (None, None) => Vec::new(),
    };
    Ok(Inputs {
        dockerfile,
        ignore,
        text,
        builds,
    })
}

/// What [`read_inputs`] gathers.
struct Inputs {
    dockerfile: SourceFile,
    ignore: Vec<u8>,
    /// The Dockerfile as text.
    text: Arc<str>,
    builds: Vec<PlatformBuild>,
}

/// The Dockerfile and its own ignore file (which comes back too when it exists): from the
/// remote context or input that holds it, else through a local source that transfers only
/// them (and `dockerfile`, which is read when `Dockerfile` is missing, moby/moby#10858).
async fn read_dockerfile(
    bridge: &Bridge,
    request: &BuildRequest,
    main: &super::main_context::MainSources,
) -> Result<(SourceFile, Option<Vec<u8>>), FrontendError> {
    let filename = main.filename.as_ref().unwrap_or(&request.filename);
    let own_ignore = format!("{filename}.dockerignore");
    let lowercase = lowercase_dockerfile(filename);
    let state = match &main.dockerfile {
        Some(state) => state.clone(),
        None => {
            let local = &request.dockerfile_key;
            let mut follow_paths = vec![filename.clone(), own_ignore.clone()];
            follow_paths.extend(lowercase.clone());
            llb::local_with(
                local,
                llb::LocalOptions {
                    session_id: Some(request.session_of(local).to_string()),
                    follow_paths,
                    shared_key_hint: Some(local.clone()),
                    differ: Some((llb::DiffType::None, false)),
                    constraints: Constraints::new()
                        .custom_name(format!("[internal] load build definition from {filename}")),
                    ..Default::default()
                },
            )
        }
    };
    let definition = llb::marshal(&state, &MarshalOptions::default())?;
    let solved = bridge.solve(definition).await?;
    let (data, ignore) = tokio::join!(
        bridge.read_file(&solved, filename, None),
        bridge.read_file(&solved, &own_ignore, None),
    );
    let data = match (data, &lowercase) {
        (Err(e), Some(lower)) => bridge.read_file(&solved, lower, None).await.map_err(|_| e),
        (data, _) => data,
    };
    trace::mark("dockerfile read");
    let data = data.map_err(FrontendError::ReadDockerfile)?;
    let source = SourceFile {
        filename: filename.clone(),
        data,
        state,
        definition: solved.definition,
    };
    Ok((source, ignore.ok()))
}

/// `dir/dockerfile` for a Dockerfile named `dir/Dockerfile`: the casing the reference also
/// accepts.
fn lowercase_dockerfile(filename: &str) -> Option<String> {
    let (dir, base) = match filename.rsplit_once('/') {
        Some((dir, base)) => (Some(dir), base),
        None => (None, filename),
    };
    (base == "Dockerfile").then(|| match dir {
        Some(dir) => format!("{dir}/dockerfile"),
        None => "dockerfile".to_string(),
    })
}

/// The context's `.dockerignore`, empty when there is none.
async fn read_context_dockerignore(
    bridge: Bridge,
    request: Arc<BuildRequest>,
) -> Result<Vec<u8>, FrontendError> {
    let context = &request.context_key;
    let data = super::dockerignore::read(
        &bridge,
        context,
        request.session_of(context),
        format!("{context}-.dockerignore"),
        "[internal] load .dockerignore".into(),
    )
    .await?;
    trace::mark(".dockerignore read");
    Ok(data)
}

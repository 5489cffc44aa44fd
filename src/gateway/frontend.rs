//! The frontend's flow when BuildKit runs it: read the options and the Dockerfile, convert it
//! (resolving images through BuildKit, all at once), solve, and return the result with its image
//! config. Failures go back through Return with the Dockerfile lines they concern.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::bridge::{Bridge, BridgeError, SolvedRef};
use super::errors::{status_for, SourceFile};
use super::options::{self, BuildOptions};
use super::resolver::BridgeResolver;
use super::subrequests::{self, Request};
use super::trace;
use crate::convert::{self, ConvertError};
use crate::llb::{self, Constraints, MarshalOptions};

const CONFIG_KEY: &str = "containerimage.config";
const PLATFORMS_KEY: &str = "refs.platforms";
const BASE_CONFIG_KEY: &str = "containerimage.base.config";
const EPOCH_KEY: &str = "source.date.epoch";

#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error(transparent)]
    Bridge(#[from] BridgeError),
    #[error("failed to read dockerfile: {0}")]
    ReadDockerfile(BridgeError),
    #[error(transparent)]
    Options(#[from] options::OptionError),
    #[error(transparent)]
    Convert(#[from] ConvertError),
    #[error(transparent)]
    Llb(#[from] crate::llb::LlbError),
    #[error("{0}")]
    Dockerignore(String),
    #[error("reading .dockerignore: {0}")]
    Task(String),
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
    let mut source = None;
    match raw.get(subrequests::REQUEST_ID) {
        // Like the reference, answers carry no Dockerfile excerpt when they fail.
        Some(id) => match answer(&bridge, &raw, id).await {
            Ok(metadata) => bridge.return_result(None, metadata).await?,
            Err(err) => bridge.return_error(status_for(&err, None)).await?,
        },
        None => match build(&bridge, &raw, &mut source).await {
            Ok((solved, metadata)) => bridge.return_result(Some(solved), metadata).await?,
            Err(err) => {
                bridge
                    .return_error(status_for(&err, source.as_ref()))
                    .await?
            }
        },
    }
    trace::mark("returned");
    Ok(())
}

type Built = (SolvedRef, BTreeMap<String, Vec<u8>>);

async fn build(
    bridge: &Bridge,
    raw: &BTreeMap<String, String>,
    source: &mut Option<SourceFile>,
) -> Result<Built, FrontendError> {
    let Prepared {
        convert_opts,
        dockerfile,
        text,
        parsed,
        resolver,
    } = prepare(bridge, raw).await?;
    *source = Some(dockerfile.clone());
    let converted = match parsed {
        Ok(parsed) => convert::convert_parsed(&text, parsed, &convert_opts, resolver).await,
        Err(e) => Err(e),
    };
    super::warn::send(bridge, &dockerfile, &converted).await;
    let converted = converted?;
    trace::mark("converted (images resolved)");
    let definition = converted.definition(&convert_opts)?;
    let solved = bridge.solve(definition).await?;
    trace::mark("solved");
    Ok((solved, result_metadata(&converted, &convert_opts)))
}

/// A subrequest's answer (result metadata, no result). The Dockerfile is read first, so a
/// missing one fails before an unknown request does, as in the reference; only the outline
/// needs more than the Dockerfile.
async fn answer(
    bridge: &Bridge,
    raw: &BTreeMap<String, String>,
    id: &str,
) -> Result<BTreeMap<String, Vec<u8>>, FrontendError> {
    let request = Request::from_id(id);
    if request == Ok(Request::Outline) {
        return answer_outline(bridge, raw).await;
    }
    let opts = BuildOptions::from_options(raw)?;
    let (dockerfile, _) = read_dockerfile(bridge, &opts).await?;
    match request.map_err(FrontendError::UnsupportedRequest)? {
        Request::Describe => Ok(subrequests::describe()),
        Request::Targets => {
            let text = String::from_utf8_lossy(&dockerfile.data);
            let targets = convert::outline::list_targets(&text)?;
            Ok(subrequests::targets(&targets, &dockerfile.data))
        }
        Request::Outline => answer_outline(bridge, raw).await,
    }
}

/// `--print=outline`: the build's conversion runs (images resolved, warnings sent), nothing
/// is solved.
async fn answer_outline(
    bridge: &Bridge,
    raw: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Vec<u8>>, FrontendError> {
    let Prepared {
        convert_opts,
        dockerfile,
        text,
        parsed,
        resolver,
    } = prepare(bridge, raw).await?;
    let result = match parsed {
        Ok(parsed) => convert::outline_parsed(&text, parsed, &convert_opts, resolver).await,
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

/// What conversion starts from: the checked options, the Dockerfile read and parsed, and the
/// resolver already loading the images the parse named.
struct Prepared {
    convert_opts: convert::ConvertOptions,
    dockerfile: SourceFile,
    text: String,
    parsed: Result<convert::Parsed, ConvertError>,
    resolver: Arc<BridgeResolver>,
}

async fn prepare(
    bridge: &Bridge,
    raw: &BTreeMap<String, String>,
) -> Result<Prepared, FrontendError> {
    let opts = BuildOptions::from_options(raw)?;
    let resolver = Arc::new(BridgeResolver::new(
        bridge.clone(),
        opts.resolve_mode.clone(),
    ));
    let Inputs {
        opts,
        dockerfile,
        ignore,
        text,
        parsed,
    } = read_inputs(bridge, opts, &resolver).await?;
    let mut convert_opts = opts.convert;
    convert_opts.excludes = super::dockerignore::parse_checked(&String::from_utf8_lossy(&ignore))
        .map_err(FrontendError::Dockerignore)?;
    convert_opts.dockerfile_source = Some(dockerfile.state.clone());
    Ok(Prepared {
        convert_opts,
        dockerfile,
        text,
        parsed,
        resolver,
    })
}

/// Ping, the Dockerfile and the ignore file that applies, with the options completed by Ping.
/// None of these needs another, so they share one round trip. The context's .dockerignore is
/// read before knowing whether `<Dockerfile>.dockerignore` (which wins) exists: that file is
/// rare, and waiting for it would cost a second transfer in turn. Failures come in the order
/// the reference meets them: Ping, the Dockerfile, then .dockerignore.
async fn read_inputs(
    bridge: &Bridge,
    opts: BuildOptions,
    resolver: &BridgeResolver,
) -> Result<Inputs, FrontendError> {
    let context_ignore = tokio::spawn(read_context_dockerignore(bridge.clone(), opts.clone()));
    let (caps, dockerfile) = tokio::join!(bridge.ping(), read_dockerfile(bridge, &opts));
    let opts = caps.map(|caps| opts.with_capabilities(&caps));
    // The Dockerfile is parsed once, as soon as it is in: base image configs then load while
    // .dockerignore does. A parse error is kept and reported after the reads' errors.
    let read = match (opts, dockerfile) {
        (Err(e), _) => Err(FrontendError::from(e)),
        (_, Err(e)) => Err(e),
        (Ok(opts), Ok((dockerfile, own_ignore))) => {
            let text = String::from_utf8_lossy(&dockerfile.data).into_owned();
            let parsed = convert::parse(&text, &opts.convert);
            if let Ok(parsed) = &parsed {
                resolver.prefetch(parsed.image_requests(&opts.convert));
            }
            Ok((opts, dockerfile, own_ignore, text, parsed))
        }
    };
    // Awaited on every path, so no read is left running when the frontend returns.
    let context_ignore = context_ignore.await;
    trace::mark("pinged, dockerfile and .dockerignore read");
    let (opts, dockerfile, own_ignore, text, parsed) = read?;
    let ignore = match (own_ignore, context_ignore) {
        (Some(data), _) => data,
        (None, Ok(read)) => read?,
        (None, Err(join)) => return Err(FrontendError::Task(join.to_string())),
    };
    Ok(Inputs {
        opts,
        dockerfile,
        ignore,
        text,
        parsed,
    })
}

/// What [`read_inputs`] gathers.
struct Inputs {
    opts: BuildOptions,
    dockerfile: SourceFile,
    ignore: Vec<u8>,
    /// The Dockerfile as text, and its parse.
    text: String,
    parsed: Result<convert::Parsed, convert::ConvertError>,
}

/// The exporter metadata: the image config, the platform it was built for, the base image's
/// config (whose history the exporter leaves as it was) and SOURCE_DATE_EPOCH (which the exporter
/// then applies, also when it came from an ARG default rather than a build arg).
fn result_metadata(
    converted: &convert::Converted,
    opts: &convert::ConvertOptions,
) -> BTreeMap<String, Vec<u8>> {
    let platform = crate::platform::Platform::of_result(opts.target_platform.as_ref());
    let platforms = serde_json::json!({"Platforms": [{
        "ID": platform.to_string(),
        "Platform": {"architecture": platform.architecture, "os": platform.os},
    }]});
    let mut metadata = BTreeMap::from([
        (CONFIG_KEY.to_string(), converted.image.to_json()),
        (
            PLATFORMS_KEY.to_string(),
            platforms.to_string().into_bytes(),
        ),
    ]);
    if let Some(base) = &converted.base_image {
        metadata.insert(BASE_CONFIG_KEY.to_string(), base.to_json());
    }
    if let Some(seconds) = converted.epoch {
        metadata.insert(EPOCH_KEY.to_string(), seconds.to_string().into_bytes());
    }
    metadata
}

/// The Dockerfile through a local source that transfers only it and its own ignore file, which
/// comes back too when it exists.
async fn read_dockerfile(
    bridge: &Bridge,
    opts: &BuildOptions,
) -> Result<(SourceFile, Option<Vec<u8>>), FrontendError> {
    let filename = &opts.filename;
    let own_ignore = format!("{filename}.dockerignore");
    let state = llb::local_with(
        &opts.dockerfile_key,
        llb::LocalOptions {
            session_id: Some(opts.convert.session_id.clone()),
            follow_paths: vec![filename.clone(), own_ignore.clone()],
            shared_key_hint: Some(opts.dockerfile_key.clone()),
            differ: Some((llb::DiffType::None, false)),
            constraints: Constraints::new()
                .custom_name(format!("[internal] load build definition from {filename}")),
            ..Default::default()
        },
    );
    let definition = llb::marshal(&state, &MarshalOptions::default())?;
    let solved = bridge.solve(definition).await?;
    let (data, ignore) = tokio::join!(
        bridge.read_file(&solved, filename, None),
        bridge.read_file(&solved, &own_ignore, None),
    );
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

/// The context's `.dockerignore`, empty when there is none.
async fn read_context_dockerignore(
    bridge: Bridge,
    opts: BuildOptions,
) -> Result<Vec<u8>, FrontendError> {
    let context = &opts.convert.context_name;
    let state = llb::local_with(
        context,
        llb::LocalOptions {
            session_id: Some(opts.convert.session_id.clone()),
            follow_paths: vec![".dockerignore".into()],
            shared_key_hint: Some(format!("{context}-.dockerignore")),
            differ: Some((llb::DiffType::None, false)),
            constraints: Constraints::new().custom_name("[internal] load .dockerignore"),
            ..Default::default()
        },
    );
    let solved = bridge
        .solve(llb::marshal(&state, &MarshalOptions::default())?)
        .await?;
    let data = bridge
        .read_file(&solved, ".dockerignore", None)
        .await
        .unwrap_or_default();
    trace::mark(".dockerignore read");
    Ok(data)
}

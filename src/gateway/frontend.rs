//! The frontend's flow when BuildKit runs it: read the options and the Dockerfile, convert it
//! (resolving images through BuildKit, all at once), solve, and return the result with its image
//! config. Failures go back through Return with the Dockerfile lines they concern.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::bridge::{Bridge, BridgeError, SolvedRef};
use super::errors::{status_for, SourceFile};
use super::options::{self, BuildOptions};
use super::resolver::BridgeResolver;
use crate::convert::{self, ConvertError};
use crate::llb::{self, Constraints, MarshalOptions};

const CONFIG_KEY: &str = "containerimage.config";
const PLATFORMS_KEY: &str = "refs.platforms";

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
}

/// Runs the frontend to completion: any build failure is reported to BuildKit through Return.
pub async fn run() -> Result<(), FrontendError> {
    let channel = super::stdio::connect().await.map_err(BridgeError::from)?;
    let bridge = Bridge::connect(channel).await?;
    let raw = options::frontend_options(std::env::vars());
    let mut source = None;
    match build(&bridge, &raw, &mut source).await {
        Ok((solved, metadata)) => bridge.return_result(Some(solved), metadata).await?,
        Err(err) => {
            bridge
                .return_error(status_for(&err, source.as_ref()))
                .await?
        }
    }
    Ok(())
}

type Built = (SolvedRef, BTreeMap<String, Vec<u8>>);

async fn build(
    bridge: &Bridge,
    raw: &BTreeMap<String, String>,
    source: &mut Option<SourceFile>,
) -> Result<Built, FrontendError> {
    let opts = BuildOptions::from_options(raw, bridge)?;
    let dockerfile = read_dockerfile(bridge, &opts).await?;
    let text = String::from_utf8_lossy(&dockerfile.data).into_owned();
    *source = Some(dockerfile.clone());
    let mut convert_opts = opts.convert.clone();
    convert_opts.excludes = dockerignore(bridge, &opts, &dockerfile).await?;
    convert_opts.dockerfile_source = Some(dockerfile.state.clone());
    let resolver = Arc::new(BridgeResolver::new(
        bridge.clone(),
        opts.resolve_mode.clone(),
    ));
    let converted = convert::convert(&text, &convert_opts, resolver).await;
    super::warn::send(bridge, &dockerfile, &converted).await;
    let converted = converted?;
    let definition = converted.definition(&convert_opts)?;
    let solved = bridge.solve(definition).await?;
    let platform = convert_opts
        .target_platform
        .clone()
        .unwrap_or_else(|| convert_opts.build_platform.clone());
    let platforms = serde_json::json!({"Platforms": [{
        "ID": platform.to_string(),
        "Platform": {"architecture": platform.architecture, "os": platform.os},
    }]});
    let metadata = BTreeMap::from([
        (CONFIG_KEY.to_string(), converted.image.to_json()),
        (
            PLATFORMS_KEY.to_string(),
            platforms.to_string().into_bytes(),
        ),
    ]);
    Ok((solved, metadata))
}

/// The Dockerfile through a local source that transfers only it and its own ignore file.
async fn read_dockerfile(
    bridge: &Bridge,
    opts: &BuildOptions,
) -> Result<SourceFile, FrontendError> {
    let filename = &opts.filename;
    let state = llb::local_with(
        &opts.dockerfile_key,
        llb::LocalOptions {
            session_id: Some(opts.convert.session_id.clone()),
            follow_paths: vec![filename.clone(), format!("{filename}.dockerignore")],
            shared_key_hint: Some(opts.dockerfile_key.clone()),
            differ: Some((llb::DiffType::None, false)),
            constraints: Constraints::new()
                .custom_name(format!("[internal] load build definition from {filename}")),
            ..Default::default()
        },
    );
    let definition = llb::marshal(&state, &MarshalOptions::default())?;
    let solved = bridge.solve(definition).await?;
    let data = bridge
        .read_file(&solved, filename, None)
        .await
        .map_err(FrontendError::ReadDockerfile)?;
    Ok(SourceFile {
        filename: filename.clone(),
        data,
        state,
        solved,
    })
}

/// `.dockerignore` patterns: `<Dockerfile>.dockerignore` beside the Dockerfile wins over the
/// context's `.dockerignore`.
async fn dockerignore(
    bridge: &Bridge,
    opts: &BuildOptions,
    dockerfile: &SourceFile,
) -> Result<Vec<String>, FrontendError> {
    let own = format!("{}.dockerignore", opts.filename);
    if let Ok(data) = bridge.read_file(&dockerfile.solved, &own, None).await {
        return super::dockerignore::parse_checked(&String::from_utf8_lossy(&data))
            .map_err(FrontendError::Dockerignore);
    }
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
    super::dockerignore::parse_checked(&String::from_utf8_lossy(&data))
        .map_err(FrontendError::Dockerignore)
}

//! The frontend's flow when BuildKit runs it: read the options and the Dockerfile, build, return.

use std::collections::BTreeMap;

use prost::Message;
use sha2::{Digest, Sha256};

use super::bridge::{Bridge, BridgeError, SolvedRef};
use super::options;
use crate::proto::google::rpc::Status;
use crate::proto::pb;

/// gRPC's UNKNOWN code: what the reference uses for errors that carry no code of their own.
const CODE_UNKNOWN: i32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error(transparent)]
    Bridge(#[from] BridgeError),
    #[error("failed to read dockerfile: {0}")]
    ReadDockerfile(BridgeError),
    #[error("{0}")]
    Build(String),
}

/// Runs the frontend to completion: any failure is reported to BuildKit through Return.
pub async fn run() -> Result<(), FrontendError> {
    let channel = super::stdio::connect().await.map_err(BridgeError::from)?;
    let bridge = Bridge::connect(channel).await?;
    let opts = options::frontend_options(std::env::vars());
    match build(&bridge, &opts).await {
        Ok((solved, metadata)) => bridge.return_result(Some(solved), metadata).await?,
        Err(err) => {
            let status = Status {
                code: CODE_UNKNOWN,
                message: err.to_string(),
                details: Vec::new(),
            };
            bridge.return_error(status).await?
        }
    }
    Ok(())
}

type Built = (SolvedRef, BTreeMap<String, Vec<u8>>);

async fn build(bridge: &Bridge, opts: &BTreeMap<String, String>) -> Result<Built, FrontendError> {
    let filename = opts.get("filename").map_or("Dockerfile", String::as_str);
    let text = read_dockerfile(bridge, opts, filename).await?;
    Err(FrontendError::Build(format!(
        "conversion is not implemented yet ({} bytes read from {filename})",
        text.len()
    )))
}

async fn read_dockerfile(
    bridge: &Bridge,
    opts: &BTreeMap<String, String>,
    filename: &str,
) -> Result<String, FrontendError> {
    let local_name = opts.get("dockerfilekey").map_or("dockerfile", String::as_str);
    let definition = dockerfile_source(local_name, filename);
    let solved = bridge.solve(definition).await?;
    let data = bridge
        .read_file(&solved, filename, None)
        .await
        .map_err(FrontendError::ReadDockerfile)?;
    Ok(String::from_utf8_lossy(&data).into_owned())
}

fn dockerfile_source(local_name: &str, filename: &str) -> pb::Definition {
    let follow = serde_json::json!([filename, format!("{filename}.dockerignore")]).to_string();
    let attrs = BTreeMap::from([
        ("local.differ".to_string(), "none".to_string()),
        ("local.followpaths".to_string(), follow),
        ("local.session".to_string(), options::session_id()),
        ("local.sharedkeyhint".to_string(), local_name.to_string()),
    ]);
    let op = pb::Op {
        op: Some(pb::op::Op::Source(pb::SourceOp {
            identifier: format!("local://{local_name}"),
            attrs,
        })),
        ..Default::default()
    };
    let bytes = op.encode_to_vec();
    let digest = format!("sha256:{:x}", Sha256::digest(&bytes));
    let terminal = pb::Op {
        inputs: vec![pb::Input {
            digest: digest.clone(),
            index: 0,
        }],
        ..Default::default()
    };
    let metadata = BTreeMap::from([(
        digest,
        pb::OpMetadata {
            description: BTreeMap::from([(
                "llb.customname".to_string(),
                format!("[internal] load build definition from {filename}"),
            )]),
            ..Default::default()
        },
    )]);
    pb::Definition {
        def: vec![bytes, terminal.encode_to_vec()],
        metadata,
        source: None,
    }
}

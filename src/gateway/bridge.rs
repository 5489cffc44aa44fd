//! A typed client of BuildKit's LLBBridge: the calls a frontend makes, and BuildKit's capabilities
//! as Ping reports them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::OnceCell;

use tonic::transport::Channel;

use super::request::CacheImport;
use crate::proto::fsutil::types::Stat;
use crate::proto::google::rpc::Status;
use crate::proto::moby::buildkit::v1::frontend::{
    llb_bridge_client::LlbBridgeClient, result, Attestations, CacheOptionsEntry, FileRange,
    InputsRequest, PingRequest, ReadDirRequest, ReadFileRequest, Ref, RefMap,
    ResolveImageConfigRequest, ResolveSourceGitRequest, ResolveSourceMetaRequest,
    ResolveSourceMetaResponse, Result as BridgeResult, ReturnRequest, SolveRequest,
    StatFileRequest,
};
use crate::proto::moby::buildkit::v1::types::WorkerRecord;
use crate::proto::pb;

/// gRPC messages may be large (definitions of big Dockerfiles, file reads): BuildKit allows 16 MiB.
const MAX_MESSAGE_BYTES: usize = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("connecting to BuildKit over stdio: {0}")]
    Connect(#[from] tonic::transport::Error),
    #[error("{call}: {status}", status = .status.message())]
    Call {
        call: &'static str,
        status: Box<tonic::Status>,
    },
    #[error("{0}: BuildKit returned no result reference")]
    NoRef(&'static str),
    #[error("{0}: BuildKit answered without the file's metadata")]
    NoStat(&'static str),
}

fn call_error(call: &'static str) -> impl FnOnce(tonic::Status) -> BridgeError {
    move |status| BridgeError::Call {
        call,
        status: Box::new(status),
    }
}

/// A solved result that BuildKit holds: files can be read from it and it can be returned.
#[derive(Debug, Clone)]
pub struct SolvedRef {
    pub id: String,
    pub definition: pb::Definition,
}

/// A result's refs: one, or one per platform keyed by the platform's ID (`linux/arm64`).
#[derive(Debug, Clone)]
pub enum Refs {
    Single(SolvedRef),
    PerPlatform(BTreeMap<String, SolvedRef>),
}

/// What BuildKit reported through Ping: its gateway and LLB features and its workers.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub frontend_caps: BTreeSet<String>,
    pub llb_caps: BTreeSet<String>,
    pub workers: Vec<WorkerRecord>,
}

impl Capabilities {
    pub fn has_frontend_cap(&self, cap: &str) -> bool {
        self.frontend_caps.contains(cap)
    }
}

#[derive(Clone)]
pub struct Bridge {
    pub(super) client: LlbBridgeClient<Channel>,
    /// The frontend inputs, asked for once: the main context and `input:` named contexts both
    /// read them.
    inputs: Arc<OnceCell<BTreeMap<String, pb::Definition>>>,
}

impl Bridge {
    /// A client over the channel. Calls that need no capability (reading the Dockerfile) may go
    /// out before `ping` answers.
    pub fn new(channel: Channel) -> Self {
        let client = LlbBridgeClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Bridge {
            client,
            inputs: Arc::default(),
        }
    }

    /// Asks BuildKit which gateway and LLB features it has.
    pub async fn ping(&self) -> Result<Capabilities, BridgeError> {
        let pong = self
            .client
            .clone()
            .ping(PingRequest {})
            .await
            .map_err(call_error("ping"))?
            .into_inner();
        let enabled = |caps: Vec<crate::proto::moby::buildkit::v1::apicaps::ApiCap>| {
            caps.into_iter()
                .filter(|cap| cap.enabled)
                .map(|cap| cap.id)
                .collect()
        };
        Ok(Capabilities {
            frontend_caps: enabled(pong.frontend_api_caps),
            llb_caps: enabled(pong.llb_caps),
            workers: pong.workers,
        })
    }

    /// Solves a definition and returns the reference to its result.
    pub async fn solve(&self, definition: pb::Definition) -> Result<SolvedRef, BridgeError> {
        self.solve_with_caches(definition, &[]).await
    }

    /// [`Self::solve`] importing the caches the build asked for (`--cache-from`).
    pub async fn solve_with_caches(
        &self,
        definition: pb::Definition,
        caches: &[CacheImport],
    ) -> Result<SolvedRef, BridgeError> {
        let request = SolveRequest {
            definition: Some(definition.clone()),
            allow_result_return: true,
            allow_result_array_ref: true,
            cache_imports: caches
                .iter()
                .map(|c| CacheOptionsEntry {
                    r#type: c.kind.clone(),
                    attrs: c.attrs.clone(),
                })
                .collect(),
            ..Default::default()
        };
        let response = self
            .client
            .clone()
            .solve(request)
            .await
            .map_err(call_error("solve"))?
            .into_inner();
        let id = match response.result.and_then(|r| r.result) {
            Some(result::Result::Ref(r)) => r.id,
            _ if !response.r#ref.is_empty() => response.r#ref,
            _ => return Err(BridgeError::NoRef("solve")),
        };
        Ok(SolvedRef { id, definition })
    }

    /// The definitions the client handed over as frontend inputs, by name (`Inputs`).
    pub async fn inputs(&self) -> Result<&BTreeMap<String, pb::Definition>, BridgeError> {
        self.inputs
            .get_or_try_init(|| async {
                let response = self
                    .client
                    .clone()
                    .inputs(InputsRequest {})
                    .await
                    .map_err(call_error("inputs"))?
                    .into_inner();
                Ok(response.definitions.into_iter().collect())
            })
            .await
    }

    pub async fn read_file(
        &self,
        solved: &SolvedRef,
        path: &str,
        range: Option<FileRange>,
    ) -> Result<Vec<u8>, BridgeError> {
        let request = ReadFileRequest {
            r#ref: solved.id.clone(),
            file_path: path.to_string(),
            range,
        };
        Ok(self
            .client
            .clone()
            .read_file(request)
            .await
            .map_err(call_error("read file"))?
            .into_inner()
            .data)
    }

    /// The entries of the directory `path` in the result, not descending (`ReadDir`).
    pub async fn read_dir(&self, solved: &SolvedRef, path: &str) -> Result<Vec<Stat>, BridgeError> {
        let request = ReadDirRequest {
            r#ref: solved.id.clone(),
            dir_path: path.to_string(),
            include_pattern: String::new(),
        };
        Ok(self
            .client
            .clone()
            .read_dir(request)
            .await
            .map_err(call_error("read dir"))?
            .into_inner()
            .entries)
    }

    /// The metadata of `path` in the result, a symlink not followed (`StatFile`).
    pub async fn stat_file(&self, solved: &SolvedRef, path: &str) -> Result<Stat, BridgeError> {
        let request = StatFileRequest {
            r#ref: solved.id.clone(),
            path: path.to_string(),
        };
        self.client
            .clone()
            .stat_file(request)
            .await
            .map_err(call_error("stat file"))?
            .into_inner()
            .stat
            .ok_or(BridgeError::NoStat("stat file"))
    }

    /// Resolves an image reference to its digest and config JSON.
    pub async fn resolve_image_config(
        &self,
        reference: &str,
        platform: Option<pb::Platform>,
        resolve_mode: &str,
        log_name: &str,
        oci_store: Option<&OciStore>,
    ) -> Result<(String, Vec<u8>), BridgeError> {
        let mut request = ResolveImageConfigRequest {
            r#ref: reference.to_string(),
            platform,
            resolve_mode: resolve_mode.to_string(),
            log_name: log_name.to_string(),
            ..Default::default()
        };
        if let Some(store) = oci_store {
            // sourceresolver's ResolverTypeOCILayout: the image is in the client's store.
            request.resolve_mode = String::new();
            request.resolver_type = 1;
            request.session_id = store.session_id.clone();
            request.store_id = store.store_id.clone();
        }
        let response = self
            .client
            .clone()
            .resolve_image_config(request)
            .await
            .map_err(call_error("resolve image config"))?
            .into_inner();
        Ok((response.digest, response.config))
    }

    /// Resolves an image through ResolveSourceMeta, as current clients do: its reference as
    /// BuildKit's source policies leave it, and its config JSON. `None` when this BuildKit does
    /// not have the call.
    pub async fn resolve_image_source(
        &self,
        reference: &str,
        platform: pb::Platform,
        resolve_mode: &str,
    ) -> Result<Option<(String, Vec<u8>)>, BridgeError> {
        const IMAGE_SCHEME: &str = "docker-image://";
        let request = ResolveSourceMetaRequest {
            source: Some(pb::SourceOp {
                identifier: format!("{IMAGE_SCHEME}{reference}"),
                attrs: Default::default(),
            }),
            platform: Some(platform),
            resolve_mode: resolve_mode.to_string(),
            ..Default::default()
        };
        let Some(response) = self.source_meta(request).await? else {
            return Ok(None);
        };
        let identifier = response.source.map(|s| s.identifier).unwrap_or_default();
        let resolved = identifier.strip_prefix(IMAGE_SCHEME).unwrap_or(reference);
        let config = response.image.map(|i| i.config).unwrap_or_default();
        Ok(Some((resolved.to_string(), config)))
    }

    /// What BuildKit tells of a source through ResolveSourceMeta (cap `source.metaresolver`):
    /// for git, with `git_object`, the commit object; for http, its Last-Modified. `None` when
    /// this BuildKit does not have the call.
    pub async fn resolve_source_meta(
        &self,
        source: pb::SourceOp,
        log_name: &str,
        git_object: bool,
    ) -> Result<Option<ResolveSourceMetaResponse>, BridgeError> {
        self.source_meta(ResolveSourceMetaRequest {
            source: Some(source),
            log_name: log_name.to_string(),
            git: git_object.then_some(ResolveSourceGitRequest {
                return_object: true,
            }),
            ..Default::default()
        })
        .await
    }

    async fn source_meta(
        &self,
        request: ResolveSourceMetaRequest,
    ) -> Result<Option<ResolveSourceMetaResponse>, BridgeError> {
        match self.client.clone().resolve_source_meta(request).await {
            Ok(response) => Ok(Some(response.into_inner())),
            Err(status) if status.code() == tonic::Code::Unimplemented => Ok(None),
            Err(status) => Err(call_error("resolve source metadata")(status)),
        }
    }

    /// Hands the build's result (its refs plus exporter metadata and each platform's
    /// attestations) back to BuildKit.
    pub async fn return_result(
        &self,
        refs: Option<Refs>,
        metadata: BTreeMap<String, Vec<u8>>,
        attestations: BTreeMap<String, Attestations>,
    ) -> Result<(), BridgeError> {
        let as_ref = |s: SolvedRef| Ref {
            id: s.id,
            def: Some(s.definition),
        };
        let result = BridgeResult {
            result: refs.map(|refs| match refs {
                Refs::Single(s) => result::Result::Ref(as_ref(s)),
                Refs::PerPlatform(map) => result::Result::Refs(RefMap {
                    refs: map.into_iter().map(|(k, s)| (k, as_ref(s))).collect(),
                }),
            }),
            metadata,
            attestations,
        };
        self.send_return(ReturnRequest {
            result: Some(result),
            error: None,
        })
        .await
    }

    /// Reports the build's failure to BuildKit, which shows it to the user.
    pub async fn return_error(&self, status: Status) -> Result<(), BridgeError> {
        self.send_return(ReturnRequest {
            result: None,
            error: Some(status),
        })
        .await
    }

    async fn send_return(&self, request: ReturnRequest) -> Result<(), BridgeError> {
        self.client
            .clone()
            .r#return(request)
            .await
            .map_err(call_error("return"))?;
        Ok(())
    }
}

/// A client-side OCI layout store an image config is read from (`oci-layout://` contexts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciStore {
    pub session_id: String,
    pub store_id: String,
}

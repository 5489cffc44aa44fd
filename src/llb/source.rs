//! Source ops (client/llb/source.go): docker images, local directories, HTTP files.
//! Git lives in `git.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::proto::pb;

use super::caps;
use super::constraints::Constraints;
use super::reference::normalize_image_ref;
use super::state::{Node, OpNode, Output, State};
use super::LlbError;

/// A source op: an identifier URL plus attributes.
#[derive(Debug)]
pub(crate) struct SourceNode {
    pub(crate) identifier: String,
    pub(crate) attrs: BTreeMap<String, String>,
    /// A construction error client/llb defers to marshal time (e.g. a bad image reference).
    pub(crate) error: Option<LlbError>,
    /// `local.followpaths` set after construction (see [`DeferredPaths`]).
    pub(crate) follow_paths: Option<DeferredPaths>,
}

impl SourceNode {
    /// Only image-like sources are platform specific; others drop the platform from the op.
    pub(crate) fn platform_specific(&self) -> bool {
        self.identifier.starts_with("docker-image://")
            || self.identifier.starts_with("oci-layout://")
    }
}

/// Builds the state on a new source op.
pub(crate) fn source_state(
    identifier: String,
    attrs: BTreeMap<String, String>,
    constraints: Constraints,
    error: Option<LlbError>,
) -> State {
    let source = SourceNode {
        identifier,
        attrs,
        error,
        follow_paths: None,
    };
    state_on(source, constraints)
}

/// `llb.NewSource`: a source op from its identifier and attributes as given.
pub fn source(
    identifier: &str,
    attrs: BTreeMap<String, String>,
    constraints: Constraints,
) -> State {
    source_state(identifier.to_string(), attrs, constraints, None)
}

fn state_on(source: SourceNode, constraints: Constraints) -> State {
    let platform = constraints.platform.clone();
    let node = Node {
        op: OpNode::Source(source),
        constraints,
    };
    State::from_output(Some(Output::new(node, platform)))
}

/// `image.resolvemode` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResolveMode {
    /// Attribute omitted.
    #[default]
    Unset,
    Default,
    ForcePull,
    PreferLocal,
}

impl ResolveMode {
    fn attr(self) -> Option<&'static str> {
        match self {
            ResolveMode::Unset => None,
            ResolveMode::Default => Some("default"),
            ResolveMode::ForcePull => Some("pull"),
            ResolveMode::PreferLocal => Some("local"),
        }
    }
}

/// Options for [`image_with`].
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    pub resolve_mode: ResolveMode,
    /// `image.recordtype`, e.g. "internal" (`MarkImageInternal`).
    pub record_type: Option<String>,
    pub layer_limit: Option<i32>,
    pub checksum: Option<String>,
    pub constraints: Constraints,
}

/// `llb.Image(ref)` with default options.
pub fn image(reference: &str) -> State {
    image_with(reference, ImageOptions::default())
}

/// `llb.Image`: a registry image, its reference normalized (`busybox` ->
/// `docker.io/library/busybox:latest`). A reference that does not parse is kept verbatim and
/// fails at marshal time, as in client/llb.
pub fn image_with(reference: &str, opts: ImageOptions) -> State {
    let (reference, error) = match normalize_image_ref(reference) {
        Ok(r) => (r, None),
        Err(e) => (reference.to_string(), Some(LlbError::InvalidReference(e))),
    };
    let mut c = opts.constraints;
    c.add_cap(caps::SOURCE_IMAGE);
    let mut attrs = BTreeMap::new();
    if let Some(mode) = opts.resolve_mode.attr() {
        attrs.insert("image.resolvemode".to_string(), mode.to_string());
        if opts.resolve_mode == ResolveMode::ForcePull {
            c.add_cap(caps::SOURCE_IMAGE_RESOLVE_MODE);
        }
    }
    if let Some(rt) = opts.record_type.filter(|r| !r.is_empty()) {
        attrs.insert("image.recordtype".to_string(), rt);
    }
    if let Some(limit) = opts.layer_limit {
        attrs.insert("image.layerlimit".to_string(), limit.to_string());
        c.add_cap(caps::SOURCE_IMAGE_LAYER_LIMIT);
    }
    if let Some(sum) = opts.checksum.filter(|s| !s.is_empty()) {
        attrs.insert("image.checksum".to_string(), sum);
        c.add_cap(caps::SOURCE_IMAGE_CHECKSUM);
    }
    source_state(format!("docker-image://{reference}"), attrs, c, error)
}

/// `local.differ` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffType {
    None,
    Metadata,
}

/// Options for [`local_with`]; pattern lists are JSON-encoded into the attrs as client/llb does.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    pub session_id: Option<String>,
    pub include_patterns: Vec<String>,
    pub exclude_patterns: Vec<String>,
    pub follow_paths: Vec<String>,
    /// Follow paths set after the source is built; marshalling before they are set fails.
    pub deferred_follow_paths: Option<DeferredPaths>,
    pub shared_key_hint: Option<String>,
    /// Differ type and whether it is required (only then is its cap recorded).
    pub differ: Option<(DiffType, bool)>,
    /// `MetadataOnlyTransfer`: `Some(exceptions)`.
    pub metadata_only: Option<Vec<String>>,
    pub constraints: Constraints,
}

/// Follow paths known only once the ops reading the source exist: the build context's, which
/// every stage's COPY and ADD add to (the reference builds on a mutable output for this).
#[derive(Debug, Clone, Default)]
pub struct DeferredPaths(Arc<OnceLock<Vec<String>>>);

impl DeferredPaths {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the paths once; a second call keeps the first paths and returns false.
    pub fn set(&self, paths: Vec<String>) -> bool {
        self.0.set(paths).is_ok()
    }
}

/// `llb.Local(name)` with default options.
pub fn local(name: &str) -> State {
    local_with(name, LocalOptions::default())
}

/// Go's `json.Marshal` of a string list, which escapes `<`, `>`, `&`, U+2028 and U+2029.
fn json_list(items: &[String]) -> String {
    serde_json::to_string(items)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// `llb.Local`: a directory the client sends over the session.
pub fn local_with(name: &str, opts: LocalOptions) -> State {
    let mut c = opts.constraints;
    let mut attrs = BTreeMap::new();
    if let Some(id) = opts.session_id.filter(|s| !s.is_empty()) {
        attrs.insert("local.session".to_string(), id);
        c.add_cap(caps::SOURCE_LOCAL_SESSION_ID);
    }
    if !opts.include_patterns.is_empty() {
        attrs.insert(
            "local.includepattern".to_string(),
            json_list(&opts.include_patterns),
        );
        c.add_cap(caps::SOURCE_LOCAL_INCLUDE_PATTERNS);
    }
    if !opts.follow_paths.is_empty() {
        attrs.insert(
            "local.followpaths".to_string(),
            json_list(&opts.follow_paths),
        );
        c.add_cap(caps::SOURCE_LOCAL_FOLLOW_PATHS);
    }
    if !opts.exclude_patterns.is_empty() {
        attrs.insert(
            "local.excludepatterns".to_string(),
            json_list(&opts.exclude_patterns),
        );
        c.add_cap(caps::SOURCE_LOCAL_EXCLUDE_PATTERNS);
    }
    if let Some(hint) = opts.shared_key_hint.filter(|s| !s.is_empty()) {
        attrs.insert("local.sharedkeyhint".to_string(), hint);
        c.add_cap(caps::SOURCE_LOCAL_SHARED_KEY_HINT);
    }
    if let Some((differ, required)) = opts.differ {
        let v = match differ {
            DiffType::None => "none",
            DiffType::Metadata => "metadata",
        };
        attrs.insert("local.differ".to_string(), v.to_string());
        if required {
            c.add_cap(caps::SOURCE_LOCAL_DIFFER);
        }
    }
    if let Some(exceptions) = opts.metadata_only {
        attrs.insert("local.metadatatransfer".to_string(), "true".to_string());
        if !exceptions.is_empty() {
            attrs.insert(
                "local.metadatatransferexclude".to_string(),
                json_list(&exceptions),
            );
        }
        c.add_cap(caps::SOURCE_METADATA_TRANSFER);
    }
    c.add_cap(caps::SOURCE_LOCAL);
    let source = SourceNode {
        identifier: format!("local://{name}"),
        attrs,
        error: None,
        follow_paths: opts.deferred_follow_paths,
    };
    state_on(source, c)
}

/// Options for [`http_with`].
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// `http.checksum`, a digest string.
    pub checksum: Option<String>,
    pub filename: Option<String>,
    /// Permission bits (`Chmod`); 0 leaves the attribute out.
    pub perm: u32,
    pub uid: i64,
    pub gid: i64,
    pub auth_header_secret: Option<String>,
    /// `Header`: Accept and User-Agent request headers.
    pub accept: Option<String>,
    pub user_agent: Option<String>,
    pub constraints: Constraints,
}

/// `llb.HTTP(url)` with default options.
pub fn http(url: &str) -> State {
    http_with(url, HttpOptions::default())
}

/// `llb.HTTP`: a file downloaded from `url` (the identifier is the URL itself).
pub fn http_with(url: &str, opts: HttpOptions) -> State {
    let mut c = opts.constraints;
    let mut attrs = BTreeMap::new();
    if let Some(sum) = opts.checksum.filter(|s| !s.is_empty()) {
        attrs.insert("http.checksum".to_string(), sum);
        c.add_cap(caps::SOURCE_HTTP_CHECKSUM);
    }
    if let Some(name) = opts.filename.filter(|s| !s.is_empty()) {
        attrs.insert("http.filename".to_string(), name);
    }
    let perm = opts.perm & 0o777;
    if perm != 0 {
        attrs.insert("http.perm".to_string(), format!("0{perm:o}"));
        c.add_cap(caps::SOURCE_HTTP_PERM);
    }
    if opts.uid != 0 {
        attrs.insert("http.uid".to_string(), opts.uid.to_string());
        c.add_cap(caps::SOURCE_HTTP_UID_GID);
    }
    if opts.gid != 0 {
        attrs.insert("http.gid".to_string(), opts.gid.to_string());
        c.add_cap(caps::SOURCE_HTTP_UID_GID);
    }
    if let Some(secret) = opts.auth_header_secret.filter(|s| !s.is_empty()) {
        attrs.insert("http.authheadersecret".to_string(), secret);
        c.add_cap(caps::SOURCE_HTTP_AUTH);
    }
    if opts.accept.is_some() || opts.user_agent.is_some() {
        if let Some(v) = opts.accept.filter(|s| !s.is_empty()) {
            attrs.insert("http.header.accept".to_string(), v);
        }
        if let Some(v) = opts.user_agent.filter(|s| !s.is_empty()) {
            attrs.insert("http.header.user-agent".to_string(), v);
        }
        c.add_cap(caps::SOURCE_HTTP_HEADER);
    }
    c.add_cap(caps::SOURCE_HTTP);
    source_state(url.to_string(), attrs, c, None)
}

/// `llb.OCILayout(ref)`: an image from a client-side OCI layout store.
pub fn oci_layout(
    reference: &str,
    session_id: &str,
    store_id: &str,
    constraints: Constraints,
) -> State {
    let mut c = constraints;
    let mut attrs = BTreeMap::new();
    if !session_id.is_empty() {
        attrs.insert("oci.session".to_string(), session_id.to_string());
    }
    if !store_id.is_empty() {
        attrs.insert("oci.store".to_string(), store_id.to_string());
    }
    c.add_cap(caps::SOURCE_OCI_LAYOUT);
    source_state(format!("oci-layout://{reference}"), attrs, c, None)
}

/// Encodes a source op (`SourceOp.Marshal`); `local.unique` is added here because it depends on
/// the marshal options.
pub(crate) fn marshal_source(
    src: &SourceNode,
    own: &Constraints,
    base: &Constraints,
) -> Result<(pb::Op, super::constraints::OpMetadata), LlbError> {
    if let Some(e) = &src.error {
        return Err(e.clone());
    }
    let mut attrs = src.attrs.clone();
    let mut follow_cap = false;
    if let Some(deferred) = &src.follow_paths {
        let paths = deferred
            .0
            .get()
            .ok_or_else(|| LlbError::FollowPathsUnset(src.identifier.clone()))?;
        if !paths.is_empty() {
            attrs.insert("local.followpaths".to_string(), json_list(paths));
            follow_cap = true;
        }
    }
    if src.identifier.is_empty() {
        return Err(LlbError::EmptySourceIdentifier);
    }
    let (mut op, mut md) =
        super::constraints::marshal_constraints(base, own, own.platform.as_deref());
    if follow_cap {
        md.add_cap(caps::SOURCE_LOCAL_FOLLOW_PATHS);
    }
    if src.identifier.starts_with("local://") && !attrs.contains_key("local.session") {
        let uid = own
            .local_unique_id
            .clone()
            .or_else(|| base.local_unique_id.clone())
            .ok_or_else(|| LlbError::MissingLocalUniqueId(src.identifier.clone()))?;
        attrs.insert("local.unique".to_string(), uid);
        md.add_cap(caps::SOURCE_LOCAL_UNIQUE);
    }
    op.op = Some(pb::op::Op::Source(pb::SourceOp {
        identifier: src.identifier.clone(),
        attrs,
    }));
    if !src.platform_specific() {
        op.platform = None;
    }
    Ok((op, md))
}

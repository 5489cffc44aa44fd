//! The build request: every frontend option read once into one typed value (dockerui's `Config`),
//! checked before anything is read. Conversion gets its options from here, one set per platform.

use std::collections::BTreeMap;

use crate::convert::contexts::{ContextError, ContextSource, NamedContexts};
use crate::convert::{ConvertOptions, NoCache};
use crate::llb::ResolveMode;
use crate::platform::Platform;
use crate::proto::pb::NetMode;

/// What the client asked for.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub filename: String,
    /// Local source names of the Dockerfile and the build context.
    pub dockerfile_key: String,
    pub context_key: String,
    pub session_id: String,
    pub target: Option<String>,
    /// `--platform`, normalized; empty builds for the build platform.
    pub platforms: Vec<Platform>,
    /// One ref per platform in the result, even for one (`multi-platform`,
    /// `BUILDKIT_MULTI_PLATFORM`); always so for several.
    pub multi_platform: bool,
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub no_cache: NoCache,
    pub network: NetMode,
    pub resolve_mode: ResolveMode,
    /// A subrequest's id (`frontend.outline`, ...); `None` for a build.
    pub subrequest: Option<String>,
    /// `BUILDKIT_DOCKERFILE_CHECK`: replaces the Dockerfile's `# check=` directive.
    pub check: Option<crate::lint::Config>,
    /// What every RUN gets: `add-hosts`, `hostname` (`BUILDKIT_SANDBOX_HOSTNAME`), `shm-size`,
    /// `ulimit`, `cgroup-parent`, `BUILDKIT_CACHE_MOUNT_NS`, resource limits.
    pub run: crate::convert::RunOptions,
    /// `context:NAME=...` options (`--build-context`, bake's `contexts`).
    pub named_contexts: NamedContexts,
    /// The value of the option named by `context_key`: a git or http(s) URL when the build
    /// context is remote (`docker build https://...`), else the local directory's name.
    pub main_context: String,
    /// `contextsubdir`: the directory of a remote (or input) context to build from.
    pub context_subdir: Option<String>,
    /// `BUILDKIT_CONTEXT_KEEP_GIT_DIR`: keep `.git` in a git context.
    pub keep_git_dir: bool,
    /// `dockerfilekey` was given: the Dockerfile is read from that local directory even when
    /// an input named `dockerfile` exists.
    pub force_local_dockerfile: bool,
    /// `local-sessionid:NAME`: the session a local directory is read through, when not the
    /// build's.
    pub local_sessions: BTreeMap<String, String>,
    /// `cache-imports` (and the older `cache-from`): caches the build's solve imports.
    pub cache_imports: Vec<CacheImport>,
    /// `attest:sbom`: the SBOM generator to run on the result.
    pub sbom: Option<super::sbom::SbomRequest>,
}

/// A cache to import: its type (`registry`, `local`, `gha`, ...) and attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheImport {
    pub kind: String,
    pub attrs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("failed to parse target platform {0}: {1}")]
    Platform(String, String),
    #[error("invalid image-resolve-mode: {0}")]
    ResolveMode(String),
    #[error("invalid netmode {0}")]
    NetMode(String),
    #[error("invalid boolean value for multi-platform: {0}")]
    MultiPlatform(String),
    #[error("conflicting config: returning multiple target platforms is not allowed")]
    MultiPlatformConflict,
    /// An option whose support BuildKit removed (dockerui's `validateMinCaps`).
    #[error("support for {0:?} was removed in BuildKit 0.11")]
    Removed(&'static str),
    #[error("support for {0:?} build-arg was removed in BuildKit 0.11")]
    RemovedArg(&'static str),
    /// `cache-imports` that is not the JSON list the client sends, in dockerui's words.
    #[error("failed to unmarshal cache-imports ({0:?}): {1}")]
    CacheImports(String, String),
    /// `input-metadata:NAME` that is not the JSON map of base64 values the client sends.
    #[error("{0}")]
    InputMetadata(String),
    /// A `context:NAME` value dockerui cannot read, in its words.
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("failed to parse {CHECK_ARG}: {0}")]
    Check(String),
    /// A bad value of an option RUN steps take, in the reference's words.
    #[error("{0}")]
    Run(String),
    /// A bad `attest:` option, in the reference's words.
    #[error("{0}")]
    Attestation(String),
}

/// The build arg whose value replaces the Dockerfile's `# check=` directive.
const CHECK_ARG: &str = "build-arg:BUILDKIT_DOCKERFILE_CHECK";

/// The option naming the session of a local directory (`local-sessionid:NAME`).
const LOCAL_SESSION_PREFIX: &str = "local-sessionid:";

/// The option prefix of named contexts.
const CONTEXT_PREFIX: &str = "context:";

/// The option that names a local context's shared key (`sharedkey:localdir:NAME`).
const SHARED_KEY_PREFIX: &str = "sharedkey:localdir:";

/// The option carrying a frontend input's result metadata (`input-metadata:NAME`).
const INPUT_METADATA_PREFIX: &str = "input-metadata:";

/// The metadata key of an image config (exptypes' `ExporterImageConfigKey`).
const IMAGE_CONFIG_KEY: &str = "containerimage.config";

impl BuildRequest {
    /// The session local directory `name` is read through.
    pub fn session_of(&self, name: &str) -> &str {
        self.local_sessions.get(name).unwrap_or(&self.session_id)
    }

    pub fn from_options(opts: &BTreeMap<String, String>) -> Result<BuildRequest, RequestError> {
        check_removed(opts)?;
        let get =
            |key: &str, default: &str| opts.get(key).map_or(default, String::as_str).to_string();
        let prefixed = |prefix: &str| -> BTreeMap<String, String> {
            opts.iter()
                .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
                .collect()
        };
        let platforms = parse_platforms(opts.get("platform").map_or("", String::as_str))?;
        let context_key = get("contextkey", "context");
        Ok(BuildRequest {
            main_context: get(&context_key, ""),
            context_subdir: opts.get("contextsubdir").cloned(),
            keep_git_dir: opts
                .get("build-arg:BUILDKIT_CONTEXT_KEEP_GIT_DIR")
                .and_then(|v| crate::instructions::goconv::parse_bool(v))
                .unwrap_or(false),
            force_local_dockerfile: opts.contains_key("dockerfilekey"),
            local_sessions: prefixed(LOCAL_SESSION_PREFIX),
            filename: get("filename", "Dockerfile"),
            dockerfile_key: get("dockerfilekey", "dockerfile"),
            context_key,
            session_id: super::options::session_id(),
            target: opts.get("target").filter(|t| !t.is_empty()).cloned(),
            multi_platform: multi_platform(opts, platforms.len())?,
            platforms,
            build_args: prefixed("build-arg:"),
            labels: prefixed("label:"),
            no_cache: match opts.get("no-cache") {
                None => NoCache::None,
                Some(v) if v.is_empty() => NoCache::All,
                Some(v) => NoCache::Stages(v.split(',').map(str::to_string).collect()),
            },
            network: parse_network(opts.get("force-network-mode"))?,
            resolve_mode: parse_resolve_mode(opts.get("image-resolve-mode"))?,
            subrequest: opts.get(super::subrequests::REQUEST_ID).cloned(),
            check: opts
                .get(CHECK_ARG)
                .map(|v| crate::lint::Config::parse(v))
                .transpose()
                .map_err(|e| RequestError::Check(e.reason()))?,
            run: super::run_options::parse(opts).map_err(RequestError::Run)?,
            named_contexts: named_contexts(opts)?,
            cache_imports: cache_imports(opts)?,
            sbom: super::sbom::parse_request(opts).map_err(RequestError::Attestation)?,
        })
    }

    /// `image-resolve-mode` as ResolveImageConfig takes it.
    pub fn resolve_mode_name(&self) -> &'static str {
        match self.resolve_mode {
            ResolveMode::ForcePull => "pull",
            ResolveMode::PreferLocal => "local",
            _ => "default",
        }
    }

    /// The platforms to convert, in the order asked; `None` is the build platform.
    pub fn targets(&self) -> Vec<Option<Platform>> {
        if self.platforms.is_empty() {
            return vec![None];
        }
        self.platforms.iter().cloned().map(Some).collect()
    }

    /// Conversion's options for one target platform, before Ping fills in the build platform
    /// and capabilities (`with_capabilities`).
    pub fn convert_options(&self, target_platform: Option<Platform>) -> ConvertOptions {
        ConvertOptions {
            filename: self.filename.clone(),
            target: self.target.clone(),
            build_args: self.build_args.clone(),
            labels: self.labels.clone(),
            target_platform,
            multi_platform: self.multi_platform,
            build_platform: Platform::host(),
            session_id: self.session_id.clone(),
            context_session_id: self.local_sessions.get(&self.context_key).cloned(),
            context_name: self.context_key.clone(),
            no_cache: self.no_cache.clone(),
            network: self.network,
            resolve_mode: self.resolve_mode,
            llb_caps: None,
            check: self.check.clone(),
            run: self.run.clone(),
            named_contexts: self.named_contexts.clone(),
            ..Default::default()
        }
    }
}

/// The build platform (the first worker's, as the reference takes it) and the LLB capabilities
/// conversion may use.
pub fn with_capabilities(
    mut opts: ConvertOptions,
    caps: &super::bridge::Capabilities,
) -> ConvertOptions {
    if let Some(p) = caps.workers.first().and_then(|w| w.platforms.first()) {
        opts.build_platform = Platform {
            os: p.os.clone(),
            architecture: p.architecture.clone(),
            variant: p.variant.clone(),
        };
    }
    opts.llb_caps = Some(caps.llb_caps.clone());
    opts
}

/// Options BuildKit no longer has, refused as dockerui refuses them.
fn check_removed(opts: &BTreeMap<String, String>) -> Result<(), RequestError> {
    if opts
        .get("override-copy-image")
        .is_some_and(|v| !v.is_empty())
    {
        return Err(RequestError::Removed("override-copy-image"));
    }
    let file_op_disabled = opts
        .get("build-arg:BUILDKIT_DISABLE_FILEOP")
        .and_then(|v| crate::instructions::goconv::parse_bool(v));
    if file_op_disabled == Some(true) {
        return Err(RequestError::RemovedArg("BUILDKIT_DISABLE_FILEOP"));
    }
    Ok(())
}

/// Empty values (and an empty list of cache imports) are what clients send for a flag that
/// was not given.
fn given(value: &str) -> bool {
    !matches!(value, "" | "[]" | "null")
}

/// The `context:NAME` options, each read as dockerui reads it (errors in its words), with the
/// shared key and input metadata the client sent beside them.
fn named_contexts(opts: &BTreeMap<String, String>) -> Result<NamedContexts, RequestError> {
    let mut out = BTreeMap::new();
    for (key, value) in opts {
        let Some(name) = key.strip_prefix(CONTEXT_PREFIX).filter(|_| given(value)) else {
            continue;
        };
        let mut source = ContextSource::parse(name, value)?;
        match &mut source {
            ContextSource::Local(local) => {
                local.shared_key = opts
                    .get(&format!("{SHARED_KEY_PREFIX}{name}"))
                    .cloned()
                    .unwrap_or_default();
                local.session_id = opts
                    .get(&format!("{LOCAL_SESSION_PREFIX}{}", local.name))
                    .cloned();
            }
            ContextSource::Input(input) => {
                let key = format!("{INPUT_METADATA_PREFIX}{}", input.name);
                if let Some(metadata) = opts.get(&key) {
                    input.config = input_image_config(metadata).map_err(|e| {
                        RequestError::InputMetadata(format!(
                            "failed to parse input metadata {metadata}: {e}"
                        ))
                    })?;
                }
            }
            _ => {}
        }
        out.insert(name.to_string(), source);
    }
    Ok(NamedContexts(out))
}

/// `cache-imports` (a JSON list of `{Type, Attrs}`, field names matched as Go's encoding/json
/// matches them, whatever their case), then each `cache-from` reference as a registry cache.
fn cache_imports(opts: &BTreeMap<String, String>) -> Result<Vec<CacheImport>, RequestError> {
    let mut out = Vec::new();
    if let Some(json) = opts.get("cache-imports").filter(|v| !v.is_empty()) {
        let fail = |e: String| RequestError::CacheImports(json.clone(), e);
        let entries: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str::<Option<_>>(json)
                .map_err(|e| fail(e.to_string()))?
                .unwrap_or_default();
        for entry in entries {
            let mut import = CacheImport::default();
            for (key, value) in entry {
                match key.to_ascii_lowercase().as_str() {
                    "type" => {
                        import.kind =
                            serde_json::from_value(value).map_err(|e| fail(e.to_string()))?
                    }
                    "attrs" => {
                        import.attrs = serde_json::from_value::<Option<_>>(value)
                            .map_err(|e| fail(e.to_string()))?
                            .unwrap_or_default()
                    }
                    _ => {}
                }
            }
            out.push(import);
        }
    }
    if let Some(refs) = opts.get("cache-from").filter(|v| !v.is_empty()) {
        out.extend(refs.split(',').map(|r| CacheImport {
            kind: "registry".into(),
            attrs: BTreeMap::from([("ref".to_string(), r.to_string())]),
        }));
    }
    Ok(out)
}

/// The image config in an input's metadata (a JSON object of base64 values, as Go encodes
/// `map[string][]byte`), if it has one.
fn input_image_config(metadata: &str) -> Result<Option<Vec<u8>>, String> {
    let map: BTreeMap<String, String> =
        serde_json::from_str(metadata).map_err(|e| e.to_string())?;
    map.get(IMAGE_CONFIG_KEY)
        .map(|v| {
            crate::llb::base64::decode(v).ok_or_else(|| format!("{IMAGE_CONFIG_KEY} is not base64"))
        })
        .transpose()
}

fn parse_platforms(value: &str) -> Result<Vec<Platform>, RequestError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Platform::parse(p).map_err(|e| RequestError::Platform(p.into(), e.to_string())))
        .collect()
}

/// dockerui: several platforms always give one ref each; `multi-platform` (or the
/// `BUILDKIT_MULTI_PLATFORM` build arg, which wins) asks for that shape explicitly.
fn multi_platform(opts: &BTreeMap<String, String>, platforms: usize) -> Result<bool, RequestError> {
    let several = platforms > 1;
    let asked = ["build-arg:BUILDKIT_MULTI_PLATFORM", "multi-platform"]
        .iter()
        .find_map(|key| opts.get(*key).filter(|v| !v.is_empty()));
    let Some(value) = asked else {
        return Ok(several);
    };
    let wanted = crate::instructions::goconv::parse_bool(value)
        .ok_or_else(|| RequestError::MultiPlatform(value.clone()))?;
    if !wanted && several {
        return Err(RequestError::MultiPlatformConflict);
    }
    Ok(wanted)
}

fn parse_network(value: Option<&String>) -> Result<NetMode, RequestError> {
    match value.map(String::as_str) {
        None | Some("") | Some("sandbox") => Ok(NetMode::Unset),
        Some("none") => Ok(NetMode::None),
        Some("host") => Ok(NetMode::Host),
        Some(other) => Err(RequestError::NetMode(other.to_string())),
    }
}

fn parse_resolve_mode(value: Option<&String>) -> Result<ResolveMode, RequestError> {
    match value.map(String::as_str) {
        None | Some("") | Some("default") => Ok(ResolveMode::Unset),
        Some("pull") => Ok(ResolveMode::ForcePull),
        Some("local") => Ok(ResolveMode::PreferLocal),
        Some(other) => Err(RequestError::ResolveMode(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&str, &str)]) -> Result<BuildRequest, RequestError> {
        let opts = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        BuildRequest::from_options(&opts)
    }

    #[test]
    fn several_platforms_are_multi_platform() {
        let r = request(&[("platform", "linux/amd64,linux/arm64/v8, linux/arm/v7")]).unwrap();
        let names: Vec<String> = r.platforms.iter().map(Platform::to_string).collect();
        assert_eq!(names, ["linux/amd64", "linux/arm64", "linux/arm/v7"]);
        assert!(r.multi_platform);
        assert_eq!(r.targets().len(), 3);
    }

    #[test]
    fn multi_platform_flag_for_one_platform_and_its_conflict() {
        assert!(!request(&[]).unwrap().multi_platform);
        assert_eq!(request(&[]).unwrap().targets(), vec![None]);
        assert!(
            request(&[("multi-platform", "true")])
                .unwrap()
                .multi_platform
        );
        let arg_wins = [
            ("multi-platform", "false"),
            ("build-arg:BUILDKIT_MULTI_PLATFORM", "1"),
        ];
        assert!(request(&arg_wins).unwrap().multi_platform);
        let conflict = [
            ("platform", "linux/amd64,linux/arm64"),
            ("multi-platform", "0"),
        ];
        assert_eq!(
            request(&conflict).unwrap_err(),
            RequestError::MultiPlatformConflict
        );
        assert_eq!(
            request(&[("multi-platform", "yes")])
                .unwrap_err()
                .to_string(),
            "invalid boolean value for multi-platform: yes"
        );
    }

    #[test]
    fn no_cache_all_or_named_stages() {
        assert_eq!(request(&[]).unwrap().no_cache, NoCache::None);
        assert_eq!(request(&[("no-cache", "")]).unwrap().no_cache, NoCache::All);
        let filter = request(&[("no-cache", "build,Test")]).unwrap().no_cache;
        assert!(filter.applies_to(Some("test")));
        assert!(!filter.applies_to(Some("other")));
        assert!(!filter.applies_to(None));
    }

    #[test]
    fn removed_options_fail_in_the_references_words() {
        let message = |k: &str, v: &str| request(&[(k, v)]).unwrap_err().to_string();
        assert_eq!(
            message("override-copy-image", "x"),
            "support for \"override-copy-image\" was removed in BuildKit 0.11"
        );
        assert_eq!(
            message("build-arg:BUILDKIT_DISABLE_FILEOP", "1"),
            "support for \"BUILDKIT_DISABLE_FILEOP\" build-arg was removed in BuildKit 0.11"
        );
        assert!(request(&[("build-arg:BUILDKIT_DISABLE_FILEOP", "false")]).is_ok());
    }

    #[test]
    fn cache_imports_from_both_options() {
        let r = request(&[
            (
                "cache-imports",
                r#"[{"Type":"local","Attrs":{"src":"/c"}},{"type":"gha"}]"#,
            ),
            ("cache-from", "a:1,b"),
        ])
        .unwrap();
        let kinds: Vec<&str> = r.cache_imports.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(kinds, ["local", "gha", "registry", "registry"]);
        assert_eq!(r.cache_imports[0].attrs["src"], "/c");
        assert_eq!(r.cache_imports[3].attrs["ref"], "b");
        assert!(request(&[("cache-imports", "[]")])
            .unwrap()
            .cache_imports
            .is_empty());
        assert!(request(&[("cache-imports", "{")])
            .unwrap_err()
            .to_string()
            .starts_with("failed to unmarshal cache-imports (\"{\"): "));
        // Empty values are what the client sends when the flag was not given.
        assert!(request(&[("cache-from", "")]).is_ok());
        // Provenance is BuildKit's, not the frontend's.
        assert!(request(&[("attest:provenance", "mode=min")]).is_ok());
    }

    #[test]
    fn named_contexts_are_read_with_their_shared_keys_and_input_metadata() {
        let message = |value: &str| request(&[("context:base", value)]).unwrap_err().to_string();
        let r = request(&[
            ("context:base", "docker-image://alpine:latest"),
            ("context:dir", "local:dir"),
            ("sharedkey:localdir:dir", "abc"),
        ])
        .unwrap();
        let contexts = &r.named_contexts.0;
        assert_eq!(
            contexts.get("base"),
            Some(&ContextSource::Image("alpine:latest".into()))
        );
        assert!(
            matches!(contexts.get("dir"), Some(ContextSource::Local(l)) if l.shared_key == "abc")
        );
        let input = request(&[
            ("context:base", "input:target1"),
            (
                "input-metadata:target1",
                r#"{"containerimage.config":"e30="}"#,
            ),
        ])
        .unwrap();
        assert!(matches!(
            input.named_contexts.0.get("base"),
            Some(ContextSource::Input(i)) if i.config.as_deref() == Some(b"{}".as_slice())
        ));
        let bad = request(&[("context:base", "input:t"), ("input-metadata:t", "nope")]);
        assert!(bad
            .unwrap_err()
            .to_string()
            .starts_with("failed to parse input metadata nope: "));
        assert_eq!(
            message("nokind"),
            "invalid context specifier nokind for base"
        );
        assert_eq!(
            message("ftp://x"),
            "unsupported context source ftp for base"
        );
        // An empty value is what clients send for no context.
        assert!(request(&[("context:base", "")]).is_ok());
    }

    #[test]
    fn bad_values_fail_in_the_references_words() {
        assert_eq!(
            request(&[("image-resolve-mode", "x")])
                .unwrap_err()
                .to_string(),
            "invalid image-resolve-mode: x"
        );
        assert_eq!(
            request(&[("force-network-mode", "x")])
                .unwrap_err()
                .to_string(),
            "invalid netmode x"
        );
        assert!(request(&[("platform", "linux/amd64,nope/x")])
            .unwrap_err()
            .to_string()
            .starts_with("failed to parse target platform nope/x: "));
    }
}

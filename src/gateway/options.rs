//! What BuildKit passes a frontend through its environment: the build options
//! (`BUILDKIT_FRONTEND_OPT_<n>=key=value`), the session id and the workers.

use std::collections::BTreeMap;

const OPTION_PREFIX: &str = "BUILDKIT_FRONTEND_OPT_";

/// Environment variables that mark a process started by BuildKit as a gateway frontend.
pub fn started_by_buildkit() -> bool {
    std::env::var_os("BUILDKIT_SESSION_ID").is_some()
}

/// The raw frontend options, keyed by option name (`filename`, `target`, `build-arg:FOO`, ...).
pub fn frontend_options(env: impl Iterator<Item = (String, String)>) -> BTreeMap<String, String> {
    env.filter(|(key, _)| key.starts_with(OPTION_PREFIX))
        .map(|(_, value)| match value.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (value, String::new()),
        })
        .collect()
}

pub fn session_id() -> String {
    std::env::var("BUILDKIT_SESSION_ID").unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_at_the_first_equals_sign() {
        let env = [
            ("BUILDKIT_FRONTEND_OPT_0", "filename=Dockerfile"),
            ("BUILDKIT_FRONTEND_OPT_1", "build-arg:A=b=c"),
            ("BUILDKIT_FRONTEND_OPT_2", "no-cache"),
            ("PATH", "/bin"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let opts = frontend_options(env.into_iter());
        assert_eq!(opts.get("filename").map(String::as_str), Some("Dockerfile"));
        assert_eq!(opts.get("build-arg:A").map(String::as_str), Some("b=c"));
        assert_eq!(opts.get("no-cache").map(String::as_str), Some(""));
        assert_eq!(opts.len(), 3);
    }
}

/// The options mstage understands, read from the raw ones (dockerui's `Config`).
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub filename: String,
    pub dockerfile_key: String,
    /// `image-resolve-mode` as ResolveImageConfig takes it.
    pub resolve_mode: String,
    pub convert: crate::convert::ConvertOptions,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("invalid platform {0:?}: {1}")]
    Platform(String, String),
    #[error("invalid image-resolve-mode: {0}")]
    ResolveMode(String),
    #[error("invalid netmode {0}")]
    NetMode(String),
    #[error("{0} is not supported by mstage yet")]
    Unsupported(String),
    #[error("failed to parse {CHECK_ARG}: {0}")]
    Check(String),
}

/// The build arg whose value replaces the Dockerfile's `# check=` directive.
const CHECK_ARG: &str = "build-arg:BUILDKIT_DOCKERFILE_CHECK";

impl BuildOptions {
    /// Reads and checks the options. What depends on BuildKit's answer to Ping (the build
    /// platform, the LLB capabilities) is filled in later by `with_capabilities`, so that a bad
    /// option fails before anything is read and the reads need not wait for Ping.
    pub fn from_options(opts: &BTreeMap<String, String>) -> Result<BuildOptions, OptionError> {
        use crate::llb::ResolveMode;
        use crate::platform::Platform;
        let get =
            |key: &str, default: &str| opts.get(key).map_or(default, String::as_str).to_string();
        let prefixed = |prefix: &str| -> BTreeMap<String, String> {
            opts.iter()
                .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
                .collect()
        };
        let targets: Vec<&str> = opts
            .get("platform")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let target_platform = match targets.as_slice() {
            [] => None,
            [one] => Some(
                Platform::parse(one)
                    .map_err(|e| OptionError::Platform(one.to_string(), e.to_string()))?,
            ),
            _ => {
                return Err(OptionError::Unsupported(
                    "building several platforms at once".into(),
                ))
            }
        };
        let (resolve_mode, llb_mode) = match opts.get("image-resolve-mode").map(String::as_str) {
            None | Some("") | Some("default") => ("default", ResolveMode::Unset),
            Some("pull") => ("pull", ResolveMode::ForcePull),
            Some("local") => ("local", ResolveMode::PreferLocal),
            Some(other) => return Err(OptionError::ResolveMode(other.to_string())),
        };
        let ignore_cache = match opts.get("no-cache").map(String::as_str) {
            None => false,
            Some("") => true,
            Some(_) => return Err(OptionError::Unsupported("--no-cache-filter".into())),
        };
        let network = match opts.get("force-network-mode").map(String::as_str) {
            None | Some("") | Some("sandbox") => crate::proto::pb::NetMode::Unset,
            Some("none") => crate::proto::pb::NetMode::None,
            Some("host") => crate::proto::pb::NetMode::Host,
            Some(other) => return Err(OptionError::NetMode(other.to_string())),
        };
        let check = opts
            .get(CHECK_ARG)
            .map(|v| crate::lint::Config::parse(v))
            .transpose()
            .map_err(|e| OptionError::Check(e.reason()))?;
        let filename = get("filename", "Dockerfile");
        let convert = crate::convert::ConvertOptions {
            filename: filename.clone(),
            target: opts.get("target").filter(|t| !t.is_empty()).cloned(),
            build_args: prefixed("build-arg:"),
            labels: prefixed("label:"),
            target_platform,
            build_platform: Platform::host(),
            session_id: session_id(),
            context_name: get("contextkey", "context"),
            ignore_cache,
            network,
            resolve_mode: llb_mode,
            llb_caps: None,
            check,
            ..Default::default()
        };
        Ok(BuildOptions {
            filename,
            dockerfile_key: get("dockerfilekey", "dockerfile"),
            resolve_mode: resolve_mode.to_string(),
            convert,
        })
    }

    /// The build platform (the first worker's, as the reference takes it) and the LLB
    /// capabilities conversion may use.
    pub fn with_capabilities(mut self, caps: &super::bridge::Capabilities) -> BuildOptions {
        if let Some(p) = caps.workers.first().and_then(|w| w.platforms.first()) {
            self.convert.build_platform = crate::platform::Platform {
                os: p.os.clone(),
                architecture: p.architecture.clone(),
                variant: p.variant.clone(),
            };
        }
        self.convert.llb_caps = Some(caps.llb_caps.clone());
        self
    }
}

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

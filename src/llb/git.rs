//! Git sources (client/llb `Git`): the identifier is `git://<host>/<path>[#ref[:subdir]]`, so
//! https and ssh URLs of one repository share a cache key; the full URL travels in an attr.

use std::collections::BTreeMap;

use super::caps;
use super::constraints::Constraints;
use super::giturl::{parse_git_url, GitUrlError};
use super::path;
use super::source::source_state;
use super::state::State;

/// Options for [`git_with`].
#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    pub keep_git_dir: bool,
    /// Secret names for HTTP auth; `None` keeps BuildKit's defaults (`GIT_AUTH_TOKEN`,
    /// `GIT_AUTH_HEADER`), `Some` also records the http-auth cap.
    pub auth_token_secret: Option<String>,
    pub auth_header_secret: Option<String>,
    /// Known hosts for SSH remotes. BuildKit's client falls back to running ssh-keyscan; mstage
    /// does no network access at build-graph time, so without this the attr is absent.
    pub known_ssh_hosts: Option<String>,
    pub mount_ssh_sock: Option<String>,
    pub checksum: Option<String>,
    pub skip_submodules: bool,
    /// `GitFetchByCommit`: trust `checksum` as the commit and fetch it directly.
    pub fetch_by_commit: bool,
    /// `GitMTime`: `checkout` or `commit` file times; empty leaves BuildKit's default.
    pub mtime: String,
    /// `GitRef` and `GitSubDir`: set after the fragment is read, so they override it.
    pub git_ref: Option<String>,
    pub subdir: Option<String>,
    pub constraints: Constraints,
}

/// `llb.Git(url, "ref[:subdir]")` with default options.
pub fn git(url: &str, fragment: &str) -> State {
    git_with(url, fragment, GitOptions::default())
}

/// `llb.Git`. URLs without a known scheme that are not scp-style get `https://` prepended.
pub fn git_with(url: &str, fragment: &str, opts: GitOptions) -> State {
    let mut url = url.to_string();
    let mut parsed = parse_git_url(&url);
    if parsed == Err(GitUrlError::UnknownProtocol) {
        url = format!("https://{url}");
        parsed = parse_git_url(&url);
    }
    let remote = parsed.ok();
    if let Some(r) = &remote {
        url = r.remote.clone();
    }
    let (fragment_ref, fragment_subdir) = fragment.split_once(':').unwrap_or((fragment, ""));
    let git_ref = opts.git_ref.as_deref().unwrap_or(fragment_ref);
    let subdir = opts.subdir.as_deref().unwrap_or(fragment_subdir);
    let id = match &remote {
        None => url.clone(),
        Some(r) => {
            let mut id = format!("{}{}", r.host, path::join(&["/", &r.path]));
            if !git_ref.is_empty() || !subdir.is_empty() {
                id.push('#');
                id.push_str(git_ref);
                if !subdir.is_empty() {
                    id.push(':');
                    id.push_str(subdir);
                }
            }
            id
        }
    };
    let mut c = opts.constraints;
    let mut attrs = BTreeMap::new();
    if opts.keep_git_dir {
        attrs.insert("git.keepgitdir".to_string(), "true".to_string());
        c.add_cap(caps::SOURCE_GIT_KEEP_DIR);
    }
    if !url.is_empty() {
        attrs.insert("git.fullurl".to_string(), url.clone());
        c.add_cap(caps::SOURCE_GIT_FULL_URL);
    }
    let add_auth_cap = opts.auth_token_secret.is_some() || opts.auth_header_secret.is_some();
    let token = opts
        .auth_token_secret
        .unwrap_or_else(|| "GIT_AUTH_TOKEN".to_string());
    let header = opts
        .auth_header_secret
        .unwrap_or_else(|| "GIT_AUTH_HEADER".to_string());
    for (key, secret) in [
        ("git.authtokensecret", token),
        ("git.authheadersecret", header),
    ] {
        if !secret.is_empty() {
            attrs.insert(key.to_string(), secret);
            if add_auth_cap {
                c.add_cap(caps::SOURCE_GIT_HTTP_AUTH);
            }
        }
    }
    if remote.as_ref().is_some_and(|r| r.scheme == "ssh") {
        if let Some(hosts) = opts.known_ssh_hosts.filter(|h| !h.is_empty()) {
            attrs.insert("git.knownsshhosts".to_string(), hosts);
        }
        c.add_cap(caps::SOURCE_GIT_KNOWN_SSH_HOSTS);
        let sock = opts.mount_ssh_sock.filter(|s| !s.is_empty());
        attrs.insert(
            "git.mountsshsock".to_string(),
            sock.unwrap_or_else(|| "default".to_string()),
        );
        c.add_cap(caps::SOURCE_GIT_MOUNT_SSH_SOCK);
    }
    if let Some(sum) = opts.checksum.filter(|s| !s.is_empty()) {
        attrs.insert("git.checksum".to_string(), sum);
        c.add_cap(caps::SOURCE_GIT_CHECKSUM);
    }
    if opts.skip_submodules {
        attrs.insert("git.skipsubmodules".to_string(), "true".to_string());
        c.add_cap(caps::SOURCE_GIT_SKIP_SUBMODULES);
    }
    if opts.fetch_by_commit {
        attrs.insert("git.fetchbycommit".to_string(), "true".to_string());
        c.add_cap(caps::SOURCE_GIT_FETCH_BY_COMMIT);
    }
    if !opts.mtime.is_empty() {
        attrs.insert("git.mtime".to_string(), opts.mtime);
        c.add_cap(caps::SOURCE_GIT_MTIME);
    }
    c.add_cap(caps::SOURCE_GIT);
    source_state(format!("git://{id}"), attrs, c, None)
}

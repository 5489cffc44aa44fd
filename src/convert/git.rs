//! ADD of a git repository (the frontend's dfgitutil `ParseGitRef` and the git branch of
//! `dispatchCopy`). A source is a git ref when it is a git, ssh or scp-style remote, or an
//! http(s) URL whose path ends in `.git`; its query may set `ref`, `tag`, `branch`, `subdir`,
//! `checksum` (or `commit`), `keep-git-dir`, `submodules`, `mtime` and `fetch-by-commit`.

use crate::instructions::goconv::go_quote;
use crate::llb::giturl::{parse_git_url, parse_go_url, GitUrl, QueryValues};
use crate::llb::{self, Constraints, GitOptions, State};

/// A source read as a git ref.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct GitRef {
    pub remote: String,
    pub git_ref: String,
    pub checksum: String,
    pub subdir: String,
    /// `github.com/x/y`: a git ref only for build contexts; ADD reads it as a local path.
    pub indistinguishable_from_local: bool,
    pub keep_git_dir: Option<bool>,
    pub submodules: Option<bool>,
    /// `checkout` or `commit`. Validated, but as in the reference only a git build context
    /// applies it; ADD's source keeps BuildKit's default (checkout time).
    pub mtime: String,
    /// Fetch the commit `checksum` names without resolving the ref against the remote.
    pub fetch_by_commit: bool,
}

/// How [`parse_git_ref`] reads a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum GitSource {
    NotGit,
    Git(GitRef),
    /// A git remote whose query is wrong: the reference's error.
    Invalid(String),
}

impl GitSource {
    /// `isGitSource`: a ref that parsed, including the local-looking `github.com/` form.
    pub fn is_git(&self) -> bool {
        matches!(self, GitSource::Git(_))
    }
}

/// dfgitutil `ParseGitRef`.
pub(super) fn parse_git_ref(src: &str) -> GitSource {
    if src.starts_with("./") || src.starts_with("../") {
        return GitSource::NotGit;
    }
    let indistinguishable = src.starts_with("github.com/");
    let parsed = if indistinguishable {
        parse_go_url(src)
    } else {
        parse_git_url(src).ok()
    };
    let Some(url) = parsed else {
        return GitSource::NotGit;
    };
    if matches!(url.scheme.as_str(), "http" | "https") && !url.path.ends_with(".git") {
        return GitSource::NotGit;
    }
    match git_ref_from(url, indistinguishable) {
        Ok(r) => GitSource::Git(r),
        Err(e) => GitSource::Invalid(e),
    }
}

fn git_ref_from(url: GitUrl, indistinguishable: bool) -> Result<GitRef, String> {
    let (git_ref, subdir) = url.opts.unwrap_or_default();
    let mut r = GitRef {
        remote: url.remote,
        git_ref,
        subdir,
        indistinguishable_from_local: indistinguishable,
        ..Default::default()
    };
    if let Some(query) = &url.query {
        load_query(&mut r, query)?;
    }
    Ok(r)
}

/// `GitRef.loadQuery`. Keys are read in sorted order (the reference's order is Go's random map
/// order, which only matters for which of several bad keys is reported, and for whether
/// `checksum` or `commit` wins when both are given).
fn load_query(r: &mut GitRef, query: &QueryValues) -> Result<(), String> {
    let (mut tag, mut branch) = (String::new(), String::new());
    for (k, values) in query {
        let value = match values.as_slice() {
            [] => None,
            [v] if v.is_empty() => None,
            [v] => Some(v.clone()),
            _ => return Err(format!("query {} has multiple values", go_quote(k))),
        };
        let flag = |name: &str| -> Result<Option<bool>, String> {
            match value.as_deref() {
                None => Ok(Some(true)),
                Some(v) => crate::instructions::goconv::parse_bool(v)
                    .map(Some)
                    .ok_or_else(|| format!("invalid {name} value: {}", go_quote(v))),
            }
        };
        match k.as_str() {
            "submodules" => r.submodules = flag("submodules")?,
            "keep-git-dir" => r.keep_git_dir = flag("keep-git-dir")?,
            "fetch-by-commit" => r.fetch_by_commit = flag("fetch-by-commit")? == Some(true),
            _ => {
                let Some(v) = value else {
                    return Err(format!("query {} has no value", go_quote(k)));
                };
                match k.as_str() {
                    "ref" => r.git_ref = merge("ref", &r.git_ref, v)?,
                    "tag" => tag = v,
                    "branch" => branch = v,
                    "subdir" => r.subdir = merge("subdir", &r.subdir, v)?,
                    "checksum" | "commit" => r.checksum = v,
                    "mtime" if v == "checkout" || v == "commit" => r.mtime = v,
                    "mtime" => {
                        return Err(format!(
                            "invalid mtime value: {} (must be \"checkout\" or \"commit\")",
                            go_quote(&v)
                        ))
                    }
                    _ => return Err(format!("unexpected query {}", go_quote(k))),
                }
            }
        }
    }
    if !tag.is_empty() {
        r.git_ref = merge("ref", &r.git_ref, with_prefix("refs/tags/", tag.clone()))?;
    }
    if !branch.is_empty() {
        if !tag.is_empty() {
            return Err("branch conflicts with tag".into());
        }
        r.git_ref = merge("ref", &r.git_ref, with_prefix("refs/heads/", branch))?;
    }
    Ok(())
}

fn merge(what: &str, current: &str, new: String) -> Result<String, String> {
    if !current.is_empty() && current != new {
        return Err(format!(
            "{what} conflicts: {} vs {}",
            go_quote(current),
            go_quote(&new)
        ));
    }
    Ok(new)
}

fn with_prefix(prefix: &str, name: String) -> String {
    if name.starts_with(prefix) {
        name
    } else {
        format!("{prefix}{name}")
    }
}

/// What the ADD instruction adds to a git ref: `--keep-git-dir` and `--checksum`. A query value
/// found in one source carries over to the sources after it, as in the reference.
pub(super) struct GitSettings {
    pub keep_git_dir: Option<bool>,
    pub checksum: String,
}

/// The git source state for one ADD source (the reference's `llb.Git(remote, "", ...)`).
pub(super) fn git_state(
    r: &GitRef,
    settings: &mut GitSettings,
    step_name: &str,
) -> Result<State, String> {
    if let (Some(flag), Some(query)) = (settings.keep_git_dir, r.keep_git_dir) {
        if flag != query {
            return Err("inconsistent keep-git-dir configuration".into());
        }
    }
    if r.keep_git_dir.is_some() {
        settings.keep_git_dir = r.keep_git_dir;
    }
    if !settings.checksum.is_empty() && !r.checksum.is_empty() && settings.checksum != r.checksum {
        return Err(format!(
            "checksum mismatch {} != {}",
            go_quote(&settings.checksum),
            go_quote(&r.checksum)
        ));
    }
    if !r.checksum.is_empty() {
        settings.checksum = r.checksum.clone();
    }
    // For ssh remotes the reference's client runs ssh-keyscan on the host now and records the
    // result in `git.knownsshhosts` when it succeeds; mstage does no network access while
    // converting, so that attr is absent (BuildKit then checks the host keys as git does).
    let keep_git_dir = settings.keep_git_dir == Some(true);
    Ok(llb::git_with(
        &r.remote,
        "",
        GitOptions {
            fetch_by_commit: r.fetch_by_commit,
            constraints: Constraints::new().custom_name(step_name),
            ..ref_options(r, keep_git_dir, &settings.checksum)
        },
    ))
}

/// What every git source of a ref carries: its ref, subdir, submodules, and the keep-git-dir
/// and checksum the caller settled on.
fn ref_options(r: &GitRef, keep_git_dir: bool, checksum: &str) -> GitOptions {
    GitOptions {
        git_ref: Some(r.git_ref.clone()),
        subdir: Some(r.subdir.clone()).filter(|s| !s.is_empty()),
        keep_git_dir,
        checksum: Some(checksum.to_string()).filter(|c| !c.is_empty()),
        skip_submodules: r.submodules == Some(false),
        ..Default::default()
    }
}

/// The git source whose commit dates SOURCE_DATE_EPOCH (`sourceDateEpochAddSource`): the
/// remote with its ref, subdir, checksum (`--checksum` first) and keep-git-dir (flag or query).
pub(super) fn epoch_source_state(r: &GitRef, keep_git_dir: Option<bool>, checksum: &str) -> State {
    let checksum = if checksum.is_empty() {
        &r.checksum
    } else {
        checksum
    };
    let keep_git_dir = keep_git_dir == Some(true) || r.keep_git_dir == Some(true);
    llb::git_with(&r.remote, "", ref_options(r, keep_git_dir, checksum))
}

/// dockerui's `DetectGitContext`: a build context (or named context) read as a git repository,
/// `None` when `src` is not a git ref. Unlike ADD, the query's `mtime` applies, over `mtime`.
pub fn context_state(
    src: &str,
    keep_git_dir: bool,
    mtime: &str,
    name: &str,
) -> Option<Result<State, String>> {
    let r = match parse_git_ref(src) {
        GitSource::NotGit => return None,
        GitSource::Invalid(e) => return Some(Err(e)),
        GitSource::Git(r) => r,
    };
    let keep_git_dir = keep_git_dir || r.keep_git_dir == Some(true);
    Some(Ok(llb::git_with(
        &r.remote,
        "",
        GitOptions {
            mtime: if r.mtime.is_empty() { mtime } else { &r.mtime }.to_string(),
            fetch_by_commit: r.fetch_by_commit,
            constraints: Constraints::new().custom_name(name),
            ..ref_options(&r, keep_git_dir, &r.checksum)
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(src: &str) -> GitRef {
        match parse_git_ref(src) {
            GitSource::Git(r) => r,
            other => panic!("{src}: {other:?}"),
        }
    }

    #[test]
    fn which_sources_are_git() {
        assert_eq!(parse_git_ref("https://example.com/foo"), GitSource::NotGit);
        assert_eq!(parse_git_ref("./x.git"), GitSource::NotGit);
        assert_eq!(parse_git_ref("dir/file"), GitSource::NotGit);
        assert!(parse_git_ref("git://h/x").is_git());
        assert!(parse_git_ref("ssh://git@h/x").is_git());
        assert!(parse_git_ref("me@host:repo").is_git());
        assert!(git("github.com/x/y").indistinguishable_from_local);
    }

    #[test]
    fn fragment_and_query() {
        let r = git("https://github.com/x/y.git#v1:sub");
        assert_eq!(
            (r.remote.as_str(), r.git_ref.as_str(), r.subdir.as_str()),
            ("https://github.com/x/y.git", "v1", "sub")
        );
        let r = git("https://h/y.git?tag=v2&keep-git-dir&submodules=false&commit=abc");
        assert_eq!(r.git_ref, "refs/tags/v2");
        assert_eq!(r.keep_git_dir, Some(true));
        assert_eq!(r.submodules, Some(false));
        assert_eq!(r.checksum, "abc");
        assert_eq!(
            parse_git_ref("https://h/y.git?foo=1"),
            GitSource::Invalid("unexpected query \"foo\"".into())
        );
        assert_eq!(
            parse_git_ref("https://h/y.git#a?ref=b"),
            GitSource::Git(GitRef {
                remote: "https://h/y.git".into(),
                git_ref: "a?ref=b".into(),
                ..Default::default()
            })
        );
        assert_eq!(
            parse_git_ref("https://h/y.git?ref=b#a"),
            GitSource::Invalid("ref conflicts: \"a\" vs \"b\"".into())
        );
        assert_eq!(
            parse_git_ref("https://h/y.git?tag=a&branch=b"),
            GitSource::Invalid("branch conflicts with tag".into())
        );
    }

    #[test]
    fn mtime_and_fetch_by_commit() {
        let r = git("https://h/y.git?mtime=commit&fetch-by-commit&commit=abc");
        assert_eq!((r.mtime.as_str(), r.fetch_by_commit), ("commit", true));
        let r = git("https://h/y.git?fetch-by-commit=0&mtime=checkout");
        assert_eq!((r.mtime.as_str(), r.fetch_by_commit), ("checkout", false));
        assert_eq!(
            parse_git_ref("https://h/y.git?mtime=now"),
            GitSource::Invalid(
                "invalid mtime value: \"now\" (must be \"checkout\" or \"commit\")".into()
            )
        );
        assert_eq!(
            parse_git_ref("https://h/y.git?mtime="),
            GitSource::Invalid("query \"mtime\" has no value".into())
        );
        assert_eq!(
            parse_git_ref("https://h/y.git?fetch-by-commit=yes"),
            GitSource::Invalid("invalid fetch-by-commit value: \"yes\"".into())
        );
    }
}

//! Unix path handling as the reference does it (`system.NormalizePath`, `NormalizeWorkdir`).

/// Go's `path.Clean`.
pub use crate::llb::path::clean;

/// Go's `path.Join` of two elements.
pub fn join(a: &str, b: &str) -> String {
    crate::llb::path::join(&[a, b])
}

/// `system.NormalizePath(parent, p, "linux", keepSlash)`: absolute and cleaned; with keep_slash a
/// trailing `/` (or `/.`) of `p` survives.
pub fn normalize(parent: &str, p: &str, keep_slash: bool) -> String {
    let parent = match parent {
        "" => "/".to_string(),
        p if p.starts_with('/') => p.to_string(),
        p => join("/", p),
    };
    let mut out = match p {
        "" => parent.clone(),
        p if p.starts_with('/') => p.to_string(),
        p => join(&parent, p),
    };
    if keep_slash {
        crate::llb::path::keep_dir_suffix(p, &mut out);
    }
    out
}

/// `NormalizeWorkdir`: a WORKDIR relative to the current one.
pub fn normalize_workdir(current: &str, requested: &str) -> String {
    normalize(current, requested, false)
}

/// A COPY/ADD destination relative to the working directory (`pathRelativeToWorkingDir`).
pub fn relative_to_workdir(workdir: &str, dest: &str) -> String {
    if dest.starts_with('/') {
        return normalize("/", dest, true);
    }
    let dest = if dest.is_empty() || dest == "." {
        "./"
    } else {
        dest
    };
    normalize(workdir, dest, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_resolve_like_the_reference() {
        let cases = [
            ("/", "foo", "/foo"),
            ("/app", "foo/", "/app/foo/"),
            ("/app", ".", "/app/"),
            ("/app", "", "/app/"),
            ("/app", "/abs/../x", "/abs/../x"),
            ("/app", "../up/", "/up/"),
        ];
        for (wd, dest, want) in cases {
            assert_eq!(relative_to_workdir(wd, dest), want, "{wd} + {dest}");
        }
    }

    #[test]
    fn workdirs_nest() {
        assert_eq!(normalize_workdir("/", "a"), "/a");
        assert_eq!(normalize_workdir("/a", "b/../c"), "/a/c");
        assert_eq!(normalize_workdir("/a", "/x/"), "/x/");
        assert_eq!(normalize_workdir("", ""), "/");
    }
}

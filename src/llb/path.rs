//! Go's `path` package semantics (Clean, Join), which BuildKit applies to every path it stores in
//! an op; the bytes, and so the digests, depend on matching them exactly.

/// `path.Base`: the last element, trailing slashes ignored; "" gives "." and all slashes "/".
pub fn base(p: &str) -> &str {
    if p.is_empty() {
        return ".";
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// `path.Clean`: lexical shortest form; "" becomes ".".
pub fn clean(p: &str) -> String {
    if is_clean(p) {
        return p.to_string();
    }
    clean_parts(p)
}

/// [`clean`]'s work, element by element.
fn clean_parts(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let mut out = String::with_capacity(p.len());
    if rooted {
        out.push('/');
    }
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(part);
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// Whether [`clean`] leaves `p` as it is (most paths), checked without allocating.
fn is_clean(p: &str) -> bool {
    if p == "/" || p == "." {
        return true;
    }
    let body = p.strip_prefix('/').unwrap_or(p);
    !body.is_empty() && body.split('/').all(|part| !matches!(part, "" | "." | ".."))
}

/// `path.Join`: joins the non-empty elements with "/" and cleans; all empty gives "".
pub fn join(elems: &[&str]) -> String {
    let parts: Vec<&str> = elems.iter().copied().filter(|e| !e.is_empty()).collect();
    if parts.is_empty() {
        return String::new();
    }
    clean(&parts.join("/"))
}

/// Puts back the trailing "/" or "/." of `original` that cleaning `out` from it dropped: both
/// BuildKit's `normalizePath` and the frontend's `NormalizePath` keep it, since it tells copy
/// "into this directory".
pub fn keep_dir_suffix(original: &str, out: &mut String) {
    if original.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    } else if original.ends_with("/.") {
        if out != "/" {
            out.push('/');
        }
        out.push('.');
    }
}

pub(crate) fn is_abs(p: &str) -> bool {
    p.starts_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        let cases = [
            ("", "."),
            ("/", "/"),
            ("a/b/../c", "a/c"),
            ("/../a", "/a"),
            ("../../a", "../../a"),
            ("a/../..", ".."),
            ("//a//b/./", "/a/b"),
            ("./", "."),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    /// The shortcut only takes paths that cleaning leaves alone: every path of up to four
    /// elements from "", ".", "..", "a", rooted or not.
    #[test]
    fn clean_shortcut_agrees() {
        let elems = ["", ".", "..", "a"];
        let mut paths = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = paths
                .iter()
                .flat_map(|p| elems.iter().map(move |e| format!("{p}/{e}")))
                .collect();
            paths.extend(longer);
        }
        for p in paths
            .iter()
            .flat_map(|p| [p.clone(), p.trim_start_matches('/').to_string()])
        {
            assert_eq!(clean(&p), clean_parts(&p), "clean({p:?})");
        }
    }

    #[test]
    fn join_matches_go() {
        assert_eq!(join(&["/", "a", "b/"]), "/a/b");
        assert_eq!(join(&["", ""]), "");
        assert_eq!(join(&["/x", "../y"]), "/y");
    }
}

#[cfg(test)]
mod base_tests {
    use super::base;

    #[test]
    fn base_matches_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("///", "/"),
            ("/etc/", "etc"),
            ("/run/secrets/token", "token"),
            ("name", "name"),
            ("a//b//", "b"),
        ] {
            assert_eq!(base(input), want, "{input:?}");
        }
    }
}

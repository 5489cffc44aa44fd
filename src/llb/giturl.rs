//! Git remotes as BuildKit reads them (util/gitutil `ParseURL`): a URL with a scheme (http,
//! https, ssh or git), read with Go's net/url rules because the remote BuildKit passes on is
//! net/url's re-encoding of it, or an scp-style `user@host:path`. Either may carry a query and a
//! `#ref[:subdir]` fragment, which the remote leaves out.

use std::collections::BTreeMap;

/// Query values by key, as Go's `url.Values`.
pub type QueryValues = BTreeMap<String, Vec<String>>;

/// A parsed remote (gitutil `GitURL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitUrl {
    /// Lowercase; `ssh` for scp-style remotes.
    pub scheme: String,
    /// Host with its port, decoded.
    pub host: String,
    /// Path, decoded for URLs, as written for scp-style remotes.
    pub path: String,
    /// `None` when the query is absent or empty.
    pub query: Option<QueryValues>,
    /// Ref and subdir from the fragment; `None` when the fragment is empty.
    pub opts: Option<(String, String)>,
    /// The remote for the git CLI: the URL without query and fragment.
    pub remote: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitUrlError {
    /// Neither a URL with a scheme nor scp-style.
    UnknownProtocol,
    /// A scheme other than http, https, ssh and git.
    InvalidProtocol(String),
    /// net/url rejects the URL (or it decodes to bytes that are not UTF-8, which the reference
    /// would only reject when marshalling the op).
    Invalid,
}

const SUPPORTED: [&str; 4] = ["http", "https", "ssh", "git"];

/// gitutil `ParseURL`.
pub fn parse_git_url(remote: &str) -> Result<GitUrl, GitUrlError> {
    if let Some(scheme) = proto_prefix(remote) {
        let scheme = scheme.to_ascii_lowercase();
        if !SUPPORTED.contains(&scheme.as_str()) {
            return Err(GitUrlError::InvalidProtocol(scheme));
        }
        return parse_go_url(remote).ok_or(GitUrlError::Invalid);
    }
    parse_scp(remote).ok_or(GitUrlError::UnknownProtocol)
}

/// `^[a-zA-Z0-9]+://`: the scheme when the remote starts with one.
fn proto_prefix(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once("://")?;
    (!scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(scheme)
}

/// `^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:\?(.*?))?(?:#(.*))?$`; the query must parse.
fn parse_scp(raw: &str) -> Option<GitUrl> {
    let (user, rest) = raw.split_once('@')?;
    let (host, rest) = rest.split_once(':')?;
    let user_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let host_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    if user.is_empty()
        || !user.bytes().all(user_ok)
        || host.is_empty()
        || !host.bytes().all(host_ok)
    {
        return None;
    }
    // `.` does not match a newline.
    if rest.contains('\n') {
        return None;
    }
    let (before, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, raw_query) = before.split_once('?').unwrap_or((before, ""));
    let query = if raw_query.is_empty() {
        QueryValues::new()
    } else {
        let (values, ok) = parse_query(raw_query);
        if !ok {
            return None;
        }
        values
    };
    Some(GitUrl {
        scheme: "ssh".into(),
        host: host.into(),
        path: path.into(),
        query: Some(query).filter(|q| !q.is_empty()),
        opts: parse_opts(fragment),
        remote: format!("{user}@{host}:{path}"),
    })
}

fn parse_opts(fragment: &str) -> Option<(String, String)> {
    if fragment.is_empty() {
        return None;
    }
    let (r, subdir) = fragment.split_once(':').unwrap_or((fragment, ""));
    Some((r.into(), subdir.into()))
}

/// Go's `url.Parse` for `scheme://authority/path?query#fragment` and for schemeless paths, then
/// gitutil `FromURL`. `None` where url.Parse fails.
pub(crate) fn parse_go_url(raw: &str) -> Option<GitUrl> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return None;
    }
    let (u, frag) = raw.split_once('#').unwrap_or((raw, ""));
    let fragment = unescape(frag, Mode::Fragment)?;
    let (scheme, rest) = match proto_prefix(u) {
        Some(s) => (s.to_ascii_lowercase(), &u[s.len() + 1..]),
        None => (String::new(), u),
    };
    let (rest, raw_query, force_query) = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        (&rest[..rest.len() - 1], "", true)
    } else {
        let (r, q) = rest.split_once('?').unwrap_or((rest, ""));
        (r, q, false)
    };
    let (user, host, raw_path) = match rest.strip_prefix("//").filter(|_| !scheme.is_empty()) {
        Some(after) => {
            let (authority, p) = match after.find('/') {
                Some(i) => after.split_at(i),
                None => (after, ""),
            };
            let (user, host) = parse_authority(authority)?;
            (user, host, p)
        }
        None => {
            if rest.split('/').next().is_some_and(|seg| seg.contains(':')) {
                return None;
            }
            (None, String::new(), rest)
        }
    };
    let path = unescape(raw_path, Mode::Path)?;
    let mut remote = String::new();
    if !scheme.is_empty() {
        remote.push_str(&scheme);
        remote.push(':');
    }
    if !scheme.is_empty() || !host.is_empty() || user.is_some() {
        if !host.is_empty() || !path.is_empty() || user.is_some() {
            remote.push_str("//");
        }
        if let Some(u) = &user {
            remote.push_str(u);
            remote.push('@');
        }
        remote.push_str(&escape(&host, Mode::Host));
    }
    let escaped_path = if valid_encoded(raw_path) {
        raw_path.to_string()
    } else {
        escape(&path, Mode::Path)
    };
    if !escaped_path.is_empty() && !escaped_path.starts_with('/') && !host.is_empty() {
        remote.push('/');
    }
    remote.push_str(&escaped_path);
    if force_query {
        remote.push('?');
    }
    let query = parse_query(raw_query).0;
    Some(GitUrl {
        scheme,
        host,
        path,
        query: Some(query).filter(|q| !q.is_empty()),
        opts: parse_opts(&fragment),
        remote,
    })
}

/// `user[:password]@host`: the user info as `Userinfo.String()` writes it back, and the host.
fn parse_authority(authority: &str) -> Option<(Option<String>, String)> {
    let Some(at) = authority.rfind('@') else {
        return Some((None, parse_host(authority)?));
    };
    let host = parse_host(&authority[at + 1..])?;
    let userinfo = &authority[..at];
    let valid = |c: char| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c);
    if !userinfo.chars().all(valid) {
        return None;
    }
    let user = match userinfo.split_once(':') {
        None => escape(&unescape(userinfo, Mode::UserPassword)?, Mode::UserPassword),
        Some((name, password)) => format!(
            "{}:{}",
            escape(&unescape(name, Mode::UserPassword)?, Mode::UserPassword),
            escape(&unescape(password, Mode::UserPassword)?, Mode::UserPassword)
        ),
    };
    Some((Some(user), host))
}

/// `parseHost`: an optional `:port` of digits after the host (or after `[ipv6]`). IPv6 zones
/// are decoded like the rest of the host, not with net/url's laxer zone rules.
fn parse_host(host: &str) -> Option<String> {
    let port_ok = |p: &str| {
        p.is_empty()
            || p.strip_prefix(':')
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
    };
    if host.starts_with('[') {
        let close = host.rfind(']')?;
        if !port_ok(&host[close + 1..]) {
            return None;
        }
    } else if let Some(colon) = host.rfind(':') {
        if !port_ok(&host[colon..]) {
            return None;
        }
    }
    unescape(host, Mode::Host)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    UserPassword,
    QueryComponent,
    Fragment,
}

/// net/url `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::QueryComponent => return true,
            Mode::Fragment => return false,
            Mode::Host => {}
        },
        _ => {}
    }
    !(mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*'))
}

/// net/url `validEncoded` for paths.
fn valid_encoded(s: &str) -> bool {
    s.bytes()
        .all(|c| b"!$&'()*+,;=:@[]%".contains(&c) || !should_escape(c, Mode::Path))
}

fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if !should_escape(c, mode) {
            out.push(char::from(c));
        } else if c == b' ' && mode == Mode::QueryComponent {
            out.push('+');
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// net/url `unescape`; `None` on a bad escape, a byte a host may not hold, or a result that is
/// not UTF-8.
fn unescape(s: &str, mode: Mode) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(unhex)?;
                let lo = bytes.get(i + 2).copied().and_then(unhex)?;
                if mode == Mode::Host && hi < 8 && !(hi == 2 && lo == 5) {
                    return None;
                }
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if mode == Mode::QueryComponent => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                if mode == Mode::Host && c < 0x80 && should_escape(c, mode) {
                    return None;
                }
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn unhex(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// `url.ParseQuery`: the values, and whether every pair parsed (a `;` or a bad escape drops
/// the pair and makes ParseQuery fail).
fn parse_query(query: &str) -> (QueryValues, bool) {
    let mut values = QueryValues::new();
    let mut ok = true;
    for pair in query.split('&') {
        if pair.contains(';') {
            ok = false;
            continue;
        }
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match (
            unescape(k, Mode::QueryComponent),
            unescape(v, Mode::QueryComponent),
        ) {
            (Some(k), Some(v)) => values.entry(k).or_default().push(v),
            _ => ok = false,
        }
    }
    (values, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> GitUrl {
        match parse_git_url(s) {
            Ok(u) => u,
            Err(e) => panic!("{s}: {e:?}"),
        }
    }

    #[test]
    fn urls_keep_their_encoding_in_the_remote() {
        let u = parsed("HTTPS://user@github.com:443/a%20b/c.git?ref=x#v1:sub/dir");
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host, "github.com:443");
        assert_eq!(u.path, "/a b/c.git");
        assert_eq!(u.remote, "https://user@github.com:443/a%20b/c.git");
        assert_eq!(u.opts, Some(("v1".into(), "sub/dir".into())));
        assert_eq!(u.query.map(|q| q.len()), Some(1));
        assert_eq!(parsed("git://h/a b.git").remote, "git://h/a%20b.git");
        assert_eq!(parsed("ssh://h/x.git?").remote, "ssh://h/x.git?");
    }

    #[test]
    fn scp_style_remotes() {
        let u = parsed("git@github.com:x/y.git?keep-git-dir=1#main:d");
        assert_eq!(u.scheme, "ssh");
        assert_eq!(u.host, "github.com");
        assert_eq!(u.path, "x/y.git");
        assert_eq!(u.remote, "git@github.com:x/y.git");
        assert_eq!(u.opts, Some(("main".into(), "d".into())));
        assert_eq!(
            parse_git_url("git@github.com:x?a;b"),
            Err(GitUrlError::UnknownProtocol)
        );
    }

    #[test]
    fn rejected_urls() {
        assert_eq!(parse_git_url("foo/bar"), Err(GitUrlError::UnknownProtocol));
        assert_eq!(
            parse_git_url("ftp://h/x.git"),
            Err(GitUrlError::InvalidProtocol("ftp".into()))
        );
        assert_eq!(
            parse_git_url("https://h:x/y.git"),
            Err(GitUrlError::Invalid)
        );
        assert_eq!(
            parse_git_url("https://h/%zz.git"),
            Err(GitUrlError::Invalid)
        );
        assert_eq!(parse_git_url("https://h^/y.git"), Err(GitUrlError::Invalid));
    }
}

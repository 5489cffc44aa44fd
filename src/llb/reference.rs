//! Image reference normalization as distribution/reference's `ParseNormalizedNamed` followed by
//! `TagNameOnly` does it: `busybox` -> `docker.io/library/busybox:latest`. The grammar is matched
//! by hand (no regex engine) component by component.

use std::borrow::Cow;

const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// The fully qualified form of `reference`, or the reference library's error message.
pub fn normalize_image_ref(reference: &str) -> Result<String, String> {
    if reference.len() == 64 && reference.bytes().all(is_lower_hex) {
        return Err(format!(
            "invalid repository name ({reference}), cannot specify 64-byte hexadecimal strings"
        ));
    }
    let (domain, remainder) = split_docker_domain(reference);
    let remote = remainder.split(':').next().unwrap_or("");
    if has_upper(remote) {
        return Err(format!(
            "invalid reference format: repository name ({remote}) must be lowercase"
        ));
    }
    let mut full = String::with_capacity(domain.len() + remainder.len() + 1 + ":latest".len());
    full.push_str(domain);
    full.push('/');
    full.push_str(&remainder);
    let parsed = parse(&full)?;
    // Without a tag or digest the name is all of `full`.
    if parsed.tag.is_none() && parsed.digest.is_none() {
        full.push_str(":latest");
    }
    Ok(full)
}

/// distribution/reference's `FamiliarString` of a normalized reference, without a `:latest`
/// tag (how dockerui names contexts): `docker.io/library/busybox:latest` -> `busybox`.
pub fn familiar_name(normalized: &str) -> String {
    let short = match normalized.strip_prefix("docker.io/") {
        Some(rest) => match rest.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(official)
                if !official
                    .split([':', '@'])
                    .next()
                    .unwrap_or("")
                    .contains('/') =>
            {
                official
            }
            _ => rest,
        },
        None => normalized,
    };
    short.strip_suffix(":latest").unwrap_or(short).to_string()
}

/// Whether lowercasing would change `s` (Go's `strings.ToLower(s) != s`).
fn has_upper(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        s.to_lowercase() != s
    }
}

struct Parsed<'a> {
    name: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

fn split_docker_domain(name: &str) -> (&str, Cow<'_, str>) {
    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        return (
            DEFAULT_DOMAIN,
            Cow::Owned(format!("{OFFICIAL_REPO_PREFIX}{name}")),
        );
    };
    let (domain, remote) = if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, maybe_remote)
    } else if maybe_domain == "localhost"
        || maybe_domain.contains(['.', ':'])
        || has_upper(maybe_domain)
    {
        (maybe_domain, maybe_remote)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        return (
            domain,
            Cow::Owned(format!("{OFFICIAL_REPO_PREFIX}{remote}")),
        );
    }
    (domain, Cow::Borrowed(remote))
}

/// `reference.Parse` over `name[:tag][@digest]`.
fn parse(s: &str) -> Result<Parsed<'_>, String> {
    let parsed = match_reference(s).ok_or_else(|| {
        if s.is_empty() {
            "repository name must have at least one component".to_string()
        } else if match_reference(&s.to_lowercase()).is_some() {
            "repository name must be lowercase".to_string()
        } else {
            "invalid reference format".to_string()
        }
    })?;
    let path_len = match parsed.name.split_once('/') {
        Some((first, rest)) if is_domain_and_port(first) && is_remote_name(rest) => rest.len(),
        _ => parsed.name.len(),
    };
    if path_len > NAME_TOTAL_LENGTH_MAX {
        return Err(format!(
            "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        ));
    }
    if let Some(d) = parsed.digest {
        validate_digest(d)?;
    }
    Ok(parsed)
}

fn match_reference(s: &str) -> Option<Parsed<'_>> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        if !is_digest_pattern(d) {
            return None;
        }
    }
    let (name, tag) = match rest.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t)),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        if !is_tag(t) {
            return None;
        }
    }
    is_name(name).then_some(Parsed { name, tag, digest })
}

fn is_name(s: &str) -> bool {
    if let Some((first, rest)) = s.split_once('/') {
        if is_domain_and_port(first) && is_remote_name(rest) {
            return true;
        }
    }
    is_remote_name(s)
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && is_alnum_lower(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        let sep_start = i;
        while i < b.len() && !is_alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &s[sep_start..i];
        let ok =
            matches!(sep, "." | "_" | "__") || (!sep.is_empty() && sep.bytes().all(|c| c == b'-'));
        if !ok {
            return false;
        }
    }
}

fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

fn is_domain_component(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        }
        _ => false,
    }
}

fn is_domain_and_port(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return false;
        };
        if inner.is_empty() || !inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
            return false;
        }
        ("", after)
    } else {
        match s.split_once(':') {
            Some((h, _)) => (h, &s[h.len()..]),
            None => (s, ""),
        }
    };
    if !s.starts_with('[') && !host.split('.').all(is_domain_component) {
        return false;
    }
    match port.strip_prefix(':') {
        Some(digits) => !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()),
        None => port.is_empty(),
    }
}

/// `[\w][\w.-]{0,127}`
fn is_tag(s: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|c| word(*c) || *c == b'.' || *c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
fn is_digest_pattern(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|part| {
        let b = part.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(|c| c.is_ascii_alphanumeric())
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

/// go-digest's `Digest.Validate` for the algorithms BuildKit links in.
fn validate_digest(d: &str) -> Result<(), String> {
    let (alg, hex) = d
        .split_once(':')
        .ok_or_else(|| "invalid checksum digest format".to_string())?;
    let want = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err("unsupported digest algorithm".to_string()),
    };
    if hex.len() != want {
        return Err("invalid checksum digest length".to_string());
    }
    if !hex.bytes().all(is_lower_hex) {
        return Err("invalid checksum digest format".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{familiar_name, normalize_image_ref};

    #[test]
    fn familiar_names_drop_the_default_domain_library_and_latest() {
        for (name, familiar) in [
            ("busybox", "busybox"),
            ("busybox:1.36", "busybox:1.36"),
            ("docker.io/library/busybox:latest", "busybox"),
            ("user/app", "user/app"),
            ("docker.io/library/a/b", "library/a/b"),
            ("ghcr.io/o/r:latest", "ghcr.io/o/r"),
        ] {
            let normalized = normalize_image_ref(name).unwrap();
            assert_eq!(familiar_name(&normalized), familiar, "{name}");
        }
    }

    #[test]
    fn normalizes_like_distribution_reference() {
        let cases = [
            ("busybox", "docker.io/library/busybox:latest"),
            ("busybox:1.36", "docker.io/library/busybox:1.36"),
            ("library/busybox", "docker.io/library/busybox:latest"),
            ("index.docker.io/foo/bar", "docker.io/foo/bar:latest"),
            ("ghcr.io/a/b:v1", "ghcr.io/a/b:v1"),
            ("localhost/x", "localhost/x:latest"),
            ("localhost:5000/x:t", "localhost:5000/x:t"),
            ("[::1]:5000/x", "[::1]:5000/x:latest"),
            ("user/repo", "docker.io/user/repo:latest"),
            (
                "alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "docker.io/library/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_image_ref(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn rejects_like_distribution_reference() {
        let cases = [
            (
                "Busybox",
                "invalid reference format: repository name (library/Busybox) must be lowercase",
            ),
            ("busybox:", "invalid reference format"),
            ("a..b", "invalid reference format"),
            ("alpine@sha256:abc", "invalid reference format"),
            (
                "alpine@sha256:00000000000000000000000000000000",
                "invalid checksum digest length",
            ),
            ("", "invalid reference format"),
        ];
        for (input, want) in cases {
            assert_eq!(
                normalize_image_ref(input),
                Err(want.to_string()),
                "{input:?}"
            );
        }
    }
}

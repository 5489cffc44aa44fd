//! Named contexts (`--build-context NAME=VALUE`, option `context:NAME`): they stand in for the
//! image or stage a FROM, `COPY --from` or `RUN --mount from=` names, as dockerui's
//! `NamedContext` does. A context is an image (`docker-image://`), a client directory
//! (`local:`), a git repository, an http(s) file, an image in a client OCI layout
//! (`oci-layout://`) or a frontend input (`input:`, what bake's `target:` contexts send).

use std::collections::BTreeMap;

use crate::llb::{self, familiar_name, normalize_image_ref, Constraints, DeferredPaths, State};
use crate::platform::Platform;

use super::names::pb_platform;

/// dockerui's `EmptyImageName`: a context of this image is scratch.
const EMPTY_IMAGE: &str = "scratch";

/// dockerui's `DefaultDockerignoreName`.
pub const DOCKERIGNORE: &str = ".dockerignore";

/// What a `context:NAME` value names.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextSource {
    /// `docker-image://REF`: REF.
    Image(String),
    /// `local:NAME`: the client directory sent as NAME.
    Local(LocalContext),
    /// A git remote (`git://`, `git@`, an http(s) URL of a repository): the whole value.
    Git(String),
    /// An http(s) URL that is not a repository, fetched as the file `context`.
    Http(String),
    /// `oci-layout://STORE@DIGEST` (or `STORE:TAG@DIGEST`): the store and digest.
    OciLayout { store: String, digest: String },
    /// `input:NAME`: the frontend input NAME, with its image config when the client sent
    /// `input-metadata:NAME`.
    Input(InputContext),
}

/// A client directory context and what the frontend learned of it before converting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalContext {
    /// The directory's local name in the session.
    pub name: String,
    /// `sharedkey:localdir:NAME`, put after `context:NAME-` in the shared key hint.
    pub shared_key: String,
    /// `local-sessionid:NAME`: the session the directory is read through, when not the build's.
    pub session_id: Option<String>,
    /// Its `.dockerignore` patterns, read by the gateway (`None` until read).
    pub excludes: Option<Vec<String>>,
}

/// A frontend input: its LLB and the image config sent with it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputContext {
    pub name: String,
    /// The input's definition, fetched by the gateway (`None` until fetched).
    pub definition: Option<crate::proto::pb::Definition>,
    /// `containerimage.config` of `input-metadata:NAME`, when sent.
    pub config: Option<Vec<u8>>,
}

/// A `context:NAME` value that does not say what it is, in dockerui's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("invalid context specifier {value} for {name}")]
    Specifier { name: String, value: String },
    #[error("unsupported context source {kind} for {name}")]
    Kind { name: String, kind: String },
    #[error("could not parse oci-layout reference {0:?}")]
    OciLayout(String),
    #[error("oci-layout reference {0:?} has no digest")]
    OciLayoutDigest(String),
}

impl ContextSource {
    /// Reads a `context:NAME` value as dockerui's `NamedContext.load` does.
    pub fn parse(name: &str, value: &str) -> Result<ContextSource, ContextError> {
        let Some((kind, rest)) = value.split_once(':') else {
            return Err(ContextError::Specifier {
                name: name.to_string(),
                value: value.to_string(),
            });
        };
        // `git@host:repo` without a scheme is git, for backwards compatibility.
        let kind = if kind.starts_with("git@") {
            "git"
        } else {
            kind
        };
        Ok(match kind {
            "docker-image" => ContextSource::Image(rest.trim_start_matches("//").to_string()),
            "git" => ContextSource::Git(value.to_string()),
            // dockerui's DetectGitContext: a repository URL (even one whose query is wrong,
            // which loading reports) is git.
            "http" | "https" => match super::git::parse_git_ref(value) {
                super::git::GitSource::NotGit => ContextSource::Http(value.to_string()),
                _ => ContextSource::Git(value.to_string()),
            },
            "oci-layout" => oci_layout(rest.trim_start_matches("//"))?,
            "local" => ContextSource::Local(LocalContext {
                name: rest.to_string(),
                ..Default::default()
            }),
            "input" => ContextSource::Input(InputContext {
                name: rest.to_string(),
                ..Default::default()
            }),
            _ => {
                return Err(ContextError::Kind {
                    name: name.to_string(),
                    kind: kind.to_string(),
                })
            }
        })
    }

    /// The image whose config ResolveImageConfig gives, for the kinds that have one.
    pub fn has_image_config(&self) -> bool {
        match self {
            ContextSource::Image(r) => r != EMPTY_IMAGE,
            ContextSource::OciLayout { .. } => true,
            ContextSource::Input(i) => i.config.is_some(),
            _ => false,
        }
    }
}

/// `STORE[:TAG]@DIGEST`: the store is the reference's name, the digest is required.
fn oci_layout(spec: &str) -> Result<ContextSource, ContextError> {
    let (named, digest) = spec
        .rsplit_once('@')
        .ok_or_else(|| ContextError::OciLayoutDigest(spec.to_string()))?;
    let valid_digest = digest
        .split_once(':')
        .is_some_and(|(alg, hex)| !alg.is_empty() && !hex.is_empty());
    if named.is_empty() || !valid_digest {
        return Err(ContextError::OciLayout(spec.to_string()));
    }
    // A tag after the last path component is not part of the store's name.
    let store = match named.rsplit_once(':') {
        Some((store, tag)) if !tag.contains('/') => store,
        _ => named,
    };
    Ok(ContextSource::OciLayout {
        store: store.to_string(),
        digest: digest.to_string(),
    })
}

/// The named contexts of a build by the name given (`NAME` or `NAME::os/arch[/variant]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NamedContexts(pub BTreeMap<String, ContextSource>);

/// The context that replaces an image or stage: the name it was given under and its source.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedContext {
    pub key: String,
    pub source: ContextSource,
}

impl NamedContexts {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The context standing in for `name` (an image or a stage name) on `platform`: dockerui
    /// looks the familiar name up with the platform (`NAME::linux/amd64`) first, then without.
    /// `scratch` and `context` are never replaced.
    pub fn lookup(&self, name: &str, platform: &Platform) -> Option<NamedContext> {
        if self.0.is_empty()
            || name.eq_ignore_ascii_case("scratch")
            || name.eq_ignore_ascii_case("context")
        {
            return None;
        }
        let familiar = familiar_name(&normalize_image_ref(name).ok()?);
        [format!("{familiar}::{platform}"), familiar]
            .into_iter()
            .find_map(|key| {
                let source = self.0.get(&key)?.clone();
                Some(NamedContext { key, source })
            })
    }
}

impl NamedContext {
    /// The reference's image is no image at all.
    pub fn is_scratch(&self) -> bool {
        matches!(&self.source, ContextSource::Image(r) if r == EMPTY_IMAGE)
    }

    /// The name ResolveImageConfig gets: the image, or for an OCI layout the context's own
    /// name pinned to the digest (dockerui's "dummy ref").
    pub fn image_ref(&self) -> Result<String, String> {
        match &self.source {
            ContextSource::Image(r) => normalize_image_ref(r),
            ContextSource::OciLayout { digest, .. } => {
                let name = self.key.split("::").next().unwrap_or(&self.key);
                let named = normalize_image_ref(name)?;
                // The tag dockerui's ParseNormalizedNamed does not add: only the digest pins it.
                let bare = named.strip_suffix(":latest").unwrap_or(&named);
                Ok(format!("{bare}@{digest}"))
            }
            _ => Err(format!("named context {} is not an image", self.key)),
        }
    }

    /// `[context NAME] load metadata for REF`.
    pub fn log_name(&self, reference: &str) -> String {
        format!("[context {}] load metadata for {reference}", self.key)
    }

    /// The context's filesystem as seen from `platform`. A local directory reads the paths its
    /// users read (`follow`, set once they are all converted) minus its `.dockerignore`.
    pub fn state(
        &self,
        platform: &Platform,
        session_id: &str,
        follow: Option<DeferredPaths>,
    ) -> Result<State, String> {
        let named =
            |text: &str| Constraints::new().custom_name(format!("[context {}] {text}", self.key));
        Ok(match &self.source {
            ContextSource::Image(r) if r == EMPTY_IMAGE => llb::scratch(),
            ContextSource::Image(r) => llb::image_with(
                r,
                llb::ImageOptions {
                    constraints: named(r).platform(pb_platform(platform)),
                    ..Default::default()
                },
            ),
            ContextSource::Git(url) => {
                let name = format!("[internal] load git source {url}");
                match super::git::context_state(url, false, "", &name) {
                    Some(state) => state?,
                    None => return Err(format!("invalid git context {url}")),
                }
            }
            ContextSource::Http(url) => llb::http_with(
                url,
                llb::HttpOptions {
                    filename: Some("context".into()),
                    constraints: named(url),
                    ..Default::default()
                },
            ),
            ContextSource::OciLayout { store, .. } => llb::oci_layout(
                &self.image_ref()?,
                session_id,
                store,
                named("OCI load from client").platform(pb_platform(platform)),
            ),
            ContextSource::Local(local) => llb::local_with(
                &local.name,
                llb::LocalOptions {
                    session_id: Some(local.session_id.as_deref().unwrap_or(session_id).into()),
                    exclude_patterns: local.excludes.clone().unwrap_or_default(),
                    deferred_follow_paths: follow,
                    shared_key_hint: Some(format!("context:{}-{}", self.key, local.shared_key)),
                    constraints: named("load from client"),
                    ..Default::default()
                },
            ),
            ContextSource::Input(input) => match &input.definition {
                Some(def) => llb::from_definition(def)
                    .map_err(|e| format!("invalid input {} for {}: {e}", input.name, self.key))?,
                None => return Err(format!("invalid input {} for {}", input.name, self.key)),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contexts(pairs: &[(&str, &str)]) -> NamedContexts {
        NamedContexts(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), ContextSource::parse(k, v).unwrap()))
                .collect(),
        )
    }

    #[test]
    fn looks_up_the_familiar_name_with_the_platform_first() {
        let amd64 = Platform::parse("linux/amd64").unwrap();
        let c = contexts(&[
            ("busybox", "docker-image://alpine:latest"),
            ("busybox::linux/amd64", "docker-image://x"),
        ]);
        let found = c.lookup("busybox", &amd64).unwrap();
        assert_eq!(found.source, ContextSource::Image("x".into()));
        let arm = Platform::parse("linux/arm64").unwrap();
        let found = c.lookup("docker.io/library/busybox:latest", &arm).unwrap();
        assert_eq!(found.key, "busybox");
        assert!(c.lookup("busybox:1.36", &arm).is_none());
        assert!(contexts(&[("scratch", "local:x")])
            .lookup("scratch", &arm)
            .is_none());
    }

    #[test]
    fn kinds_are_read_as_dockerui_reads_them() {
        let parse = |v: &str| ContextSource::parse("n", v);
        assert_eq!(
            parse("docker-image://alpine").unwrap(),
            ContextSource::Image("alpine".into())
        );
        assert!(matches!(parse("local:dir").unwrap(), ContextSource::Local(l) if l.name == "dir"));
        assert!(matches!(
            parse("git@h:r.git").unwrap(),
            ContextSource::Git(_)
        ));
        assert!(matches!(
            parse("https://h/r.git").unwrap(),
            ContextSource::Git(_)
        ));
        assert!(matches!(
            parse("https://h/file.tar").unwrap(),
            ContextSource::Http(_)
        ));
        assert_eq!(
            parse("oci-layout://store:v1@sha256:abc").unwrap(),
            ContextSource::OciLayout {
                store: "store".into(),
                digest: "sha256:abc".into()
            }
        );
        assert!(
            matches!(parse("input:base").unwrap(), ContextSource::Input(i) if i.name == "base")
        );
        assert_eq!(
            parse("nokind").unwrap_err().to_string(),
            "invalid context specifier nokind for n"
        );
        assert_eq!(
            parse("ftp://x").unwrap_err().to_string(),
            "unsupported context source ftp for n"
        );
        assert!(parse("oci-layout://store:v1").is_err());
    }

    #[test]
    fn an_oci_layout_is_resolved_under_the_contexts_own_name() {
        let c = contexts(&[("base::linux/amd64", "oci-layout://st@sha256:abc")]);
        let found = c
            .lookup("base", &Platform::parse("linux/amd64").unwrap())
            .unwrap();
        assert_eq!(
            found.image_ref().unwrap(),
            "docker.io/library/base@sha256:abc"
        );
    }
}

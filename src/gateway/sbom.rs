//! SBOM attestations (`attest:sbom`, `docker buildx build --sbom`), as the reference makes them:
//! the generator image is resolved once for the build platform, then run on each platform's
//! result by BuildKit's scanner protocol (`docs/attestations/sbom-protocol.md`): the result
//! mounted read-only at `$BUILDKIT_SCAN_SOURCE`, the stages and context that
//! `BUILDKIT_SBOM_SCAN_*` enable under `$BUILDKIT_SCAN_SOURCE_EXTRAS`, and the in-toto SPDX
//! statements it writes to `$BUILDKIT_SCAN_DESTINATION` returned as one bundle attestation.

use std::collections::BTreeMap;

use super::bridge::{Bridge, BridgeError, SolvedRef};
use crate::convert::image::{Image, ImageConfig};
use crate::convert::names::pb_platform;
use crate::convert::sbom::SbomTargets;
use crate::llb::{self, Constraints, Exec, LlbError, Mount, State};
use crate::platform::Platform;
use crate::proto::moby::buildkit::v1::frontend::{Attestation, AttestationKind, Ref};

const OPTION_PREFIX: &str = "attest:";
const BUILD_ARG_PREFIX: &str = "build-arg:BUILDKIT_ATTEST_";
const SBOM: &str = "sbom";
const PROVENANCE: &str = "provenance";
const GENERATOR: &str = "generator";
/// What `attest:sbom` runs when it names no generator.
const DEFAULT_GENERATOR: &str = "docker/buildkit-syft-scanner:stable-1";

/// The core scan's name: the last part of `$BUILDKIT_SCAN_SOURCE`.
const CORE_NAME: &str = "sbom";
const SOURCE_DIR: &str = "/run/src/";
const OUT_DIR: &str = "/run/out/";
const SPDX_PREDICATE: &str = "https://spdx.dev/Document";

/// The generator image an `attest:sbom` option asks for, and the parameters it passes on (each
/// as `BUILDKIT_SCAN_<KEY>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomRequest {
    /// Normalized (`docker.io/library/NAME:latest`).
    pub generator: String,
    pub params: BTreeMap<String, String>,
}

/// Reads the attestation options (`attest:TYPE`, `build-arg:BUILDKIT_ATTEST_TYPE`) as dockerui
/// does: CSV `key=value` fields, unknown types refused, errors in its words. Provenance is
/// BuildKit's to make; only the SBOM request is returned.
pub fn parse_request(opts: &BTreeMap<String, String>) -> Result<Option<SbomRequest>, String> {
    let mut kinds = BTreeMap::new();
    for (key, value) in opts {
        let kind = key
            .strip_prefix(OPTION_PREFIX)
            .or_else(|| key.strip_prefix(BUILD_ARG_PREFIX));
        if let Some(kind) = kind {
            kinds.insert(kind.to_lowercase(), value.as_str());
        }
    }
    let mut sbom = None;
    for (kind, value) in kinds {
        match kind.as_str() {
            SBOM => sbom = Some(value),
            PROVENANCE => {}
            _ => return Err(format!("unknown attestation type {kind:?}")),
        }
    }
    sbom.map(parse_sbom).transpose()
}

fn parse_sbom(value: &str) -> Result<SbomRequest, String> {
    let mut attrs = BTreeMap::from([(GENERATOR.to_string(), DEFAULT_GENERATOR.to_string())]);
    if !value.is_empty() {
        let fields = crate::instructions::csv::csv_fields(value)
            .map_err(|e| format!("failed to parse {SBOM}: {e}"))?;
        for field in fields {
            let (key, value) = field.split_once('=').unwrap_or((&field, ""));
            attrs.insert(key.to_string(), value.to_string());
        }
    }
    let generator = attrs.remove(GENERATOR).unwrap_or_default();
    let generator = llb::normalize_image_ref(&generator)
        .map_err(|e| format!("failed to parse sbom scanner {generator}: {e}"))?;
    Ok(SbomRequest {
        generator,
        params: attrs,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// Resolving the generator image failed: BuildKit's message, as the reference shows it.
    #[error("{0}")]
    Resolve(String),
    #[error("failed to parse sbom scanner config: {0}")]
    Config(String),
    #[error("scanner {0} does not have cmd")]
    NoCommand(String),
    #[error(transparent)]
    Llb(#[from] LlbError),
    #[error(transparent)]
    Bridge(#[from] BridgeError),
}

/// A resolved generator image, ready to run on each platform's result.
#[derive(Debug, Clone)]
pub struct Scanner {
    image: String,
    platform: Platform,
    config: ImageConfig,
    params: BTreeMap<String, String>,
}

impl Scanner {
    /// Resolves the generator's config for `platform` (the build platform), as the reference
    /// does once per build: through ResolveSourceMeta where BuildKit has it (whose errors are
    /// BuildKit's own words; ResolveImageConfig wraps them).
    pub async fn resolve(
        bridge: &Bridge,
        request: &SbomRequest,
        platform: &Platform,
        resolve_mode: &str,
    ) -> Result<Scanner, SbomError> {
        let pb_platform = pb_platform(platform);
        let call_failed = |e| match e {
            BridgeError::Call { status, .. } => SbomError::Resolve(status.message().into()),
            other => SbomError::Bridge(other),
        };
        let resolved = bridge
            .resolve_image_source(&request.generator, pb_platform.clone(), resolve_mode)
            .await
            .map_err(call_failed)?;
        let (reference, config) = match resolved {
            Some(resolved) => resolved,
            None => {
                let (_, config) = bridge
                    .resolve_image_config(
                        &request.generator,
                        Some(pb_platform),
                        resolve_mode,
                        "",
                        None,
                    )
                    .await
                    .map_err(call_failed)?;
                (request.generator.clone(), config)
            }
        };
        let image = Image::from_json(&config).map_err(|e| SbomError::Config(e.to_string()))?;
        let config = image.config;
        if command(&config).is_empty() {
            return Err(SbomError::NoCommand(request.generator.clone()));
        }
        Ok(Scanner {
            image: reference,
            platform: platform.clone(),
            config,
            params: request.params.clone(),
        })
    }

    /// The scan of one platform's result (`name` is its platform ID): the generator run with
    /// the result and the extras mounted, its output directory as a state.
    pub fn scan(&self, name: &str, core: &State, targets: &SbomTargets) -> Result<State, LlbError> {
        let platform = pb_platform(&self.platform);
        let image = llb::image_with(
            &self.image,
            llb::ImageOptions {
                constraints: Constraints::new().platform(platform.clone()),
                ..Default::default()
            },
        );
        let mut constraints = Constraints::new()
            .platform(platform)
            .custom_name(format!("[{name}] generating sbom using {}", self.image));
        if targets.ignore_cache {
            constraints = constraints.ignore_cache();
        }
        let mut exec = Exec::new(command(&self.config))
            .constraints(constraints)
            .dir(&self.config.working_dir);
        for (key, value) in self.env(!targets.extras.is_empty()) {
            exec = exec.env(&key, &value);
        }
        exec = exec
            .mount(Mount::tmpfs("/tmp", 0))
            .mount(Mount::bind(&core_path(), core).readonly());
        for (extra, state) in &targets.extras {
            let target = format!("{SOURCE_DIR}extras/{CORE_NAME}-{extra}");
            exec = exec.mount(Mount::bind(&target, state).readonly());
        }
        let exec = exec.mount(Mount::bind(OUT_DIR, &llb::scratch()));
        image.run(exec).mount(OUT_DIR)
    }

    /// The image's environment, then the protocol's variables and the parameters.
    fn env(&self, with_extras: bool) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .config
            .env
            .iter()
            .map(|e| {
                let (k, v) = e.split_once('=').unwrap_or((e, ""));
                (k.to_string(), v.to_string())
            })
            .collect();
        env.push(("BUILDKIT_SCAN_DESTINATION".into(), OUT_DIR.into()));
        env.push(("BUILDKIT_SCAN_SOURCE".into(), core_path()));
        if with_extras {
            env.push((
                "BUILDKIT_SCAN_SOURCE_EXTRAS".into(),
                format!("{SOURCE_DIR}extras"),
            ));
        }
        for (key, value) in &self.params {
            env.push((format!("BUILDKIT_SCAN_{key}"), value.clone()));
        }
        env
    }
}

fn core_path() -> String {
    format!("{SOURCE_DIR}core/{CORE_NAME}")
}

/// The generator's command: its entrypoint, then its cmd.
fn command(config: &ImageConfig) -> Vec<String> {
    let mut args = config.entrypoint.clone().unwrap_or_default();
    args.extend(config.cmd.clone().unwrap_or_default());
    args
}

/// The attestation a solved scan gives: a bundle of SPDX statements, the core one named.
pub fn attestation(bundle: SolvedRef) -> Attestation {
    Attestation {
        kind: AttestationKind::Bundle as i32,
        metadata: BTreeMap::from([
            ("reason".to_string(), SBOM.as_bytes().to_vec()),
            ("sbom-core".to_string(), CORE_NAME.as_bytes().to_vec()),
        ]),
        r#ref: Some(Ref {
            id: bundle.id,
            def: Some(bundle.definition),
        }),
        path: String::new(),
        in_toto_predicate_type: SPDX_PREDICATE.to_string(),
        in_toto_subjects: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<SbomRequest>, String> {
        let opts = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_request(&opts)
    }

    #[test]
    fn generator_and_parameters() {
        let request = parse(&[("attest:sbom", "generator=scanner:1,\"EXTRA=a,b\",flag")])
            .unwrap()
            .unwrap();
        assert_eq!(request.generator, "docker.io/library/scanner:1");
        let params: Vec<(&str, &str)> = request
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(params, [("EXTRA", "a,b"), ("flag", "")]);
    }

    #[test]
    fn an_empty_or_disabled_value_runs_the_default_generator() {
        for value in ["", "disabled=true"] {
            let request = parse(&[("attest:sbom", value)]).unwrap().unwrap();
            assert_eq!(
                request.generator,
                "docker.io/docker/buildkit-syft-scanner:stable-1"
            );
        }
        let by_arg = parse(&[(
            "build-arg:BUILDKIT_ATTEST_SBOM",
            "generator=127.0.0.1:5000/s",
        )]);
        assert_eq!(
            by_arg.unwrap().unwrap().generator,
            "127.0.0.1:5000/s:latest"
        );
        assert_eq!(parse(&[("attest:provenance", "mode=max")]), Ok(None));
    }

    #[test]
    fn errors_in_the_references_words() {
        assert_eq!(
            parse(&[("attest:Foo", "")]),
            Err("unknown attestation type \"foo\"".into())
        );
        assert_eq!(
            parse(&[("attest:sbom", "generator=Bad")]),
            Err("failed to parse sbom scanner Bad: invalid reference format: repository name (library/Bad) must be lowercase".into())
        );
        assert!(parse(&[("attest:sbom", "a\"b")])
            .unwrap_err()
            .starts_with("failed to parse sbom: parse error on line 1"));
    }

    #[test]
    fn the_scan_mounts_the_result_and_extras_and_outputs_its_directory() {
        let scanner = Scanner {
            image: "docker.io/library/scanner:1".into(),
            platform: Platform::parse("linux/amd64").unwrap(),
            config: ImageConfig {
                entrypoint: Some(vec!["/bin/scan".into()]),
                env: vec!["PATH=/bin".into()],
                ..Default::default()
            },
            params: BTreeMap::from([("EXTRA".to_string(), "x".to_string())]),
        };
        let env = scanner.env(true);
        let keys: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "PATH",
                "BUILDKIT_SCAN_DESTINATION",
                "BUILDKIT_SCAN_SOURCE",
                "BUILDKIT_SCAN_SOURCE_EXTRAS",
                "BUILDKIT_SCAN_EXTRA"
            ]
        );
        let mut targets = SbomTargets::default();
        targets.extras.insert("build".into(), llb::scratch());
        let out = scanner
            .scan("linux/amd64", &llb::image("busybox"), &targets)
            .unwrap();
        let def = llb::marshal(&out, &llb::MarshalOptions::default()).unwrap();
        let json = llb::definition_to_json_lines(&def).unwrap().join("\n");
        for expected in [
            "/run/src/core/sbom",
            "/run/src/extras/sbom-build",
            "/run/out/",
            "generating sbom using docker.io/library/scanner:1",
        ] {
            assert!(json.contains(expected), "{expected} missing from {json}");
        }
    }
}

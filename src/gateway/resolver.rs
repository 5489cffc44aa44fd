//! Image configs from BuildKit (ResolveImageConfig), for the stage graph's concurrent resolution.
//! Each (image, platform) is resolved once per build, however many platforms' conversions ask
//! for it; the frontend may start resolutions early (`prefetch`), while other reads are under way.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::bridge::{Bridge, OciStore};
use crate::convert::contexts::{ContextSource, NamedContext, NamedContexts};
use crate::convert::names::pb_platform;
use crate::llb::normalize_image_ref;
use crate::platform::Platform;
use crate::stages::{ImageResolver, ResolveError, ResolveFuture, ResolvedImage};

type Resolution = Arc<OnceCell<Result<ResolvedImage, ResolveError>>>;

pub struct BridgeResolver {
    bridge: Bridge,
    /// `default`, `pull` or `local`.
    resolve_mode: String,
    /// Progress names carry the platform (`[linux/arm64 internal] load metadata for ...`).
    multi_platform: bool,
    /// `--build-context NAME=...`: resolved in place of the images they name.
    contexts: NamedContexts,
    /// The session OCI layout contexts are read through.
    session_id: String,
    /// Every resolution asked for, done or under way.
    resolutions: Mutex<BTreeMap<(String, Platform), Resolution>>,
}

impl BridgeResolver {
    pub fn new(
        bridge: Bridge,
        resolve_mode: String,
        multi_platform: bool,
        contexts: NamedContexts,
        session_id: String,
    ) -> Self {
        BridgeResolver {
            bridge,
            resolve_mode,
            multi_platform,
            contexts,
            session_id,
            resolutions: Mutex::new(BTreeMap::new()),
        }
    }

    /// Starts resolving `requests` (image, platform) before conversion asks for them.
    pub fn prefetch(&self, requests: Vec<(String, Platform)>) {
        for (image, platform) in requests {
            let resolving = self.resolve(&image, &platform);
            tokio::spawn(resolving);
        }
    }

    /// The shared resolution of `image` for `platform`, made on first use.
    fn resolution(&self, image: &str, platform: &Platform) -> Resolution {
        let key = (image.to_string(), platform.clone());
        match self.resolutions.lock() {
            Ok(mut all) => all.entry(key).or_default().clone(),
            // A poisoned lock only loses the sharing, never the answer.
            Err(_) => Resolution::default(),
        }
    }

    fn fetch(&self, image: &str, platform: &Platform) -> ResolveFuture {
        let bridge = self.bridge.clone();
        let mode = self.resolve_mode.clone();
        let original = image.to_string();
        let context = self.contexts.lookup(image, platform);
        let internal = match self.multi_platform {
            true => format!("[{platform} internal]"),
            false => "[internal]".to_string(),
        };
        let oci_store = match context.as_ref().map(|c| &c.source) {
            Some(ContextSource::OciLayout { store, .. }) => Some(OciStore {
                session_id: self.session_id.clone(),
                store_id: store.clone(),
            }),
            _ => None,
        };
        let platform = pb_platform(platform);
        Box::pin(async move {
            let fail = |message: String| ResolveError {
                image: original.clone(),
                message,
            };
            let (reference, log_name) = match &context {
                // dockerui's empty image, and contexts that are no image: no config to resolve.
                Some(c) if !c.source.has_image_config() => return Ok(ResolvedImage::default()),
                // A frontend input's config came with the request.
                Some(NamedContext {
                    source: ContextSource::Input(input),
                    ..
                }) => {
                    return Ok(ResolvedImage {
                        config: input.config.clone().unwrap_or_default(),
                        ..Default::default()
                    })
                }
                Some(c) => {
                    let reference = c.image_ref().map_err(fail)?;
                    let log_name = c.log_name(&reference);
                    (reference, log_name)
                }
                None => {
                    let reference = normalize_image_ref(&original).map_err(fail)?;
                    let log_name = format!("{internal} load metadata for {reference}");
                    (reference, log_name)
                }
            };
            super::trace::mark(format_args!("resolve {reference} start"));
            let (digest, config) = bridge
                .resolve_image_config(
                    &reference,
                    Some(platform),
                    &mode,
                    &log_name,
                    oci_store.as_ref(),
                )
                .await
                .map_err(|e| fail(e.to_string()))?;
            super::trace::mark(format_args!("resolve {reference} done"));
            Ok(ResolvedImage {
                reference,
                digest,
                config,
            })
        })
    }
}

impl ImageResolver for BridgeResolver {
    fn resolve(&self, image: &str, platform: &Platform) -> ResolveFuture {
        let resolution = self.resolution(image, platform);
        let fetch = self.fetch(image, platform);
        Box::pin(async move { resolution.get_or_init(|| fetch).await.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::ConvertOptions;

    fn platforms_for(dockerfile: &str, target: Option<&str>) -> Vec<(String, String)> {
        let opts = ConvertOptions {
            build_platform: Platform::parse("linux/amd64").unwrap_or_default(),
            target_platform: target.and_then(|t| Platform::parse(t).ok()),
            ..Default::default()
        };
        let parsed = crate::convert::parse(dockerfile, &opts).expect("parse");
        parsed
            .image_requests(&opts)
            .into_iter()
            .map(|(image, platform)| (image, platform.to_string()))
            .collect()
    }

    #[test]
    fn prefetch_platform_is_the_stage_platform_else_the_target() {
        let dockerfile = "FROM --platform=$BUILDPLATFORM tool AS t\nFROM --platform=linux/arm64 a AS x\nFROM b\nCOPY --from=t / /\nCOPY --from=x / /\n";
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let mut got = platforms_for(dockerfile, None);
        got.sort();
        let want = [
            ("a", "linux/arm64"),
            ("b", "linux/amd64"),
            ("tool", "linux/amd64"),
        ];
        assert_eq!(got, pairs(&want));
        let mut got = platforms_for(dockerfile, Some("linux/riscv64"));
        got.sort();
        let want = [
            ("a", "linux/arm64"),
            ("b", "linux/riscv64"),
            ("tool", "linux/amd64"),
        ];
        assert_eq!(got, pairs(&want));
    }
}

//! Image configs from BuildKit (ResolveImageConfig), for the stage graph's concurrent resolution.

use super::bridge::Bridge;
use crate::convert::names::pb_platform;
use crate::llb::normalize_image_ref;
use crate::platform::Platform;
use crate::stages::{ImageResolver, ResolveError, ResolveFuture, ResolvedImage};

pub struct BridgeResolver {
    bridge: Bridge,
    /// `default`, `pull` or `local`.
    resolve_mode: String,
}

impl BridgeResolver {
    pub fn new(bridge: Bridge, resolve_mode: String) -> Self {
        BridgeResolver {
            bridge,
            resolve_mode,
        }
    }
}

impl ImageResolver for BridgeResolver {
    fn resolve(&self, image: &str, platform: &Platform) -> ResolveFuture {
        let bridge = self.bridge.clone();
        let mode = self.resolve_mode.clone();
        let original = image.to_string();
        let platform = pb_platform(platform);
        Box::pin(async move {
            let fail = |message: String| ResolveError {
                image: original.clone(),
                message,
            };
            let reference = normalize_image_ref(&original).map_err(fail)?;
            let log_name = format!("[internal] load metadata for {reference}");
            super::trace::mark(&format!("resolve {reference} start"));
            let (digest, config) = bridge
                .resolve_image_config(&reference, Some(platform), &mode, &log_name)
                .await
                .map_err(|e| fail(e.to_string()))?;
            super::trace::mark(&format!("resolve {reference} done"));
            Ok(ResolvedImage {
                reference,
                digest,
                config,
            })
        })
    }
}

//! Base image configs, fetched for every external image the reachable stages use, all at once.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::platform::Platform;

/// What a resolver learned of an image: its pinned reference, digest and config JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResolvedImage {
    /// The reference to build from; the resolver may have canonicalized it.
    pub reference: String,
    /// `sha256:...` of the manifest, empty when the resolver does not know it.
    pub digest: String,
    /// The image config JSON; empty when the resolver knows no config.
    pub config: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{image}: {message}")]
pub struct ResolveError {
    pub image: String,
    pub message: String,
}

pub type ResolveFuture = Pin<Box<dyn Future<Output = Result<ResolvedImage, ResolveError>> + Send>>;

/// Where image configs come from: BuildKit through the gateway, or a file or nothing offline.
pub trait ImageResolver: Send + Sync {
    fn resolve(&self, image: &str, platform: &Platform) -> ResolveFuture;
}

/// Resolves every image concurrently; the first failure (in request order) is returned.
pub async fn resolve_all(
    resolver: Arc<dyn ImageResolver>,
    requests: Vec<(String, Platform)>,
) -> Result<BTreeMap<(String, Platform), ResolvedImage>, ResolveError> {
    let pending: Vec<_> = requests
        .into_iter()
        .map(|(image, platform)| {
            let future = resolver.resolve(&image, &platform);
            (image, platform, tokio::spawn(future))
        })
        .collect();
    let mut out = BTreeMap::new();
    for (image, platform, handle) in pending {
        let resolved = handle.await.map_err(|e| ResolveError {
            image: image.clone(),
            message: format!("resolver task failed: {e}"),
        })??;
        out.insert((image, platform), resolved);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    struct SlowResolver;

    impl ImageResolver for SlowResolver {
        fn resolve(&self, image: &str, _: &Platform) -> ResolveFuture {
            let image = image.to_string();
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if image == "missing" {
                    return Err(ResolveError {
                        image,
                        message: "not found".into(),
                    });
                }
                Ok(ResolvedImage {
                    reference: image,
                    ..Default::default()
                })
            })
        }
    }

    fn requests(names: &[&str]) -> Vec<(String, Platform)> {
        names
            .iter()
            .map(|n| (n.to_string(), Platform::host()))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn eight_slow_images_resolve_in_about_one_delay() {
        let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let started = Instant::now();
        let resolved = resolve_all(Arc::new(SlowResolver), requests(&names)).await;
        let elapsed = started.elapsed();
        assert_eq!(resolved.map(|r| r.len()), Ok(8));
        assert!(elapsed < Duration::from_millis(400), "took {elapsed:?}");
    }

    #[tokio::test]
    async fn a_failure_names_the_image() {
        let err = resolve_all(Arc::new(SlowResolver), requests(&["ok", "missing"])).await;
        assert_eq!(
            err.map(|_| ()).map_err(|e| e.to_string()),
            Err("missing: not found".into())
        );
    }
}

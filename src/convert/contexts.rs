//! Named image contexts (`--build-context NAME=docker-image://REF`): they stand in for the image
//! a FROM, COPY --from or RUN --mount from= names, as dockerui's `NamedContext` does.

use std::collections::BTreeMap;

use crate::llb::{self, familiar_name, normalize_image_ref, Constraints, State};
use crate::platform::Platform;

use super::names::pb_platform;

/// dockerui's `EmptyImageName`: a context of this image is scratch.
const EMPTY_IMAGE: &str = "scratch";

/// Image contexts by name as given (`NAME` or `NAME::os/arch[/variant]`), each the reference
/// after `docker-image://`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageContexts(pub BTreeMap<String, String>);

/// The context that replaces an image: the name it was given under and its reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageContext {
    pub key: String,
    pub reference: String,
}

impl ImageContext {
    /// The reference's image is no image at all.
    pub fn is_scratch(&self) -> bool {
        self.reference == EMPTY_IMAGE
    }

    /// The name ResolveImageConfig gets and the source op reads.
    pub fn normalized(&self) -> Result<String, String> {
        normalize_image_ref(&self.reference)
    }

    /// `[context NAME] load metadata for REF`.
    pub fn log_name(&self) -> String {
        format!(
            "[context {}] load metadata for {}",
            self.key, self.reference
        )
    }

    /// The source op: named after the context, on `platform`, with none of a FROM's
    /// description, location or resolve mode (dockerui's `llb.Image` options).
    pub fn state(&self, platform: &Platform) -> State {
        if self.is_scratch() {
            return llb::scratch();
        }
        llb::image_with(
            &self.reference,
            llb::ImageOptions {
                constraints: Constraints::new()
                    .platform(pb_platform(platform))
                    .custom_name(format!("[context {}] {}", self.key, self.reference)),
                ..Default::default()
            },
        )
    }
}

impl ImageContexts {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The context standing in for image `name` on `platform`: dockerui looks the familiar name
    /// up with the platform (`NAME::linux/amd64`) first, then without. `scratch` and `context`
    /// are never replaced.
    pub fn lookup(&self, name: &str, platform: &Platform) -> Option<ImageContext> {
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
                let reference = self.0.get(&key)?.clone();
                Some(ImageContext { key, reference })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contexts(pairs: &[(&str, &str)]) -> ImageContexts {
        ImageContexts(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn looks_up_the_familiar_name_with_the_platform_first() {
        let amd64 = Platform::parse("linux/amd64").unwrap();
        let c = contexts(&[("busybox", "alpine:latest"), ("busybox::linux/amd64", "x")]);
        assert_eq!(c.lookup("busybox", &amd64).unwrap().reference, "x");
        let arm = Platform::parse("linux/arm64").unwrap();
        let found = c.lookup("docker.io/library/busybox:latest", &arm).unwrap();
        assert_eq!(
            (found.key.as_str(), found.reference.as_str()),
            ("busybox", "alpine:latest")
        );
        assert!(c.lookup("busybox:1.36", &arm).is_none());
        assert!(contexts(&[("scratch", "alpine")])
            .lookup("scratch", &arm)
            .is_none());
    }
}

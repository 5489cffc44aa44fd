//! The build's result as BuildKit's exporters read it (dockerui's `Build` and `Finalize`): one
//! ref with `containerimage.config`, or, for a multi-platform request, a ref and a
//! `containerimage.config/<platform>` per platform; `refs.platforms` lists the platforms either way.
//! The base image's config (whose history the exporter keeps as it was) and SOURCE_DATE_EPOCH
//! (which the exporter applies, also when it came from an ARG default) go beside each config.
//! An SBOM scan's bundle is attached as the platform's attestation, keyed by the platform's ID.

use std::collections::BTreeMap;

use super::bridge::{Refs, SolvedRef};
use crate::convert::image::Image;
use crate::platform::Platform;
use crate::proto::moby::buildkit::v1::frontend::Attestations;

const CONFIG_KEY: &str = "containerimage.config";
const PLATFORMS_KEY: &str = "refs.platforms";
const BASE_CONFIG_KEY: &str = "containerimage.base.config";
const EPOCH_KEY: &str = "source.date.epoch";

/// One platform's solved build.
pub struct PlatformResult {
    pub platform: Platform,
    pub solved: SolvedRef,
    pub image: Image,
    /// The config of the image the target is built on, as resolved (none for scratch).
    pub base_image: Option<Image>,
    /// SOURCE_DATE_EPOCH in seconds, when the build sets it.
    pub epoch: Option<i64>,
    /// The solved SBOM scan of the result, when `attest:sbom` asked for one.
    pub sbom: Option<SolvedRef>,
}

/// What Return sends: the refs, the exporter metadata and each platform's attestations.
pub type Assembled = (
    Refs,
    BTreeMap<String, Vec<u8>>,
    BTreeMap<String, Attestations>,
);

/// Puts the platforms' results together, in the order they were asked for.
pub fn assemble(results: Vec<PlatformResult>, multi_platform: bool) -> Assembled {
    let mut metadata = BTreeMap::new();
    let mut attestations = BTreeMap::new();
    let mut per_platform = BTreeMap::new();
    let mut single = None;
    let mut listed = Vec::new();
    for result in results {
        let id = result.platform.to_string();
        listed.push(export_platform(&id, &result.platform));
        // dockerui's keys: plain for one platform, `/<platform>` after each for several.
        let key = |name: &str| {
            if multi_platform {
                format!("{name}/{id}")
            } else {
                name.to_string()
            }
        };
        metadata.insert(key(CONFIG_KEY), result.image.to_json());
        if let Some(base) = &result.base_image {
            metadata.insert(key(BASE_CONFIG_KEY), base.to_json());
        }
        if let Some(seconds) = result.epoch {
            metadata.insert(key(EPOCH_KEY), seconds.to_string().into_bytes());
        }
        if let Some(bundle) = result.sbom {
            let attestation = super::sbom::attestation(bundle);
            attestations.insert(
                id.clone(),
                Attestations {
                    attestation: vec![attestation],
                },
            );
        }
        if multi_platform {
            per_platform.insert(id, result.solved);
        } else {
            single = Some(result.solved);
        }
    }
    let platforms = serde_json::json!({ "Platforms": listed });
    metadata.insert(
        PLATFORMS_KEY.to_string(),
        platforms.to_string().into_bytes(),
    );
    let refs = match single {
        Some(solved) if !multi_platform => Refs::Single(solved),
        _ => Refs::PerPlatform(per_platform),
    };
    (refs, metadata, attestations)
}

/// exptypes' `Platform`: the ID and the OCI platform, fields in Go's order.
fn export_platform(id: &str, platform: &Platform) -> serde_json::Value {
    let mut oci = serde_json::Map::new();
    oci.insert("architecture".into(), platform.architecture.clone().into());
    oci.insert("os".into(), platform.os.clone().into());
    if !platform.variant.is_empty() {
        oci.insert("variant".into(), platform.variant.clone().into());
    }
    serde_json::json!({ "ID": id, "Platform": oci })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::pb;

    fn result(platform: &str, id: &str) -> PlatformResult {
        let platform = Platform::parse(platform).unwrap();
        PlatformResult {
            image: Image {
                architecture: platform.architecture.clone(),
                os: platform.os.clone(),
                ..Default::default()
            },
            platform,
            base_image: None,
            epoch: None,
            sbom: None,
            solved: SolvedRef {
                id: id.into(),
                definition: pb::Definition::default(),
            },
        }
    }

    fn text(metadata: &BTreeMap<String, Vec<u8>>, key: &str) -> String {
        String::from_utf8_lossy(&metadata[key]).into_owned()
    }

    #[test]
    fn one_platform_gives_one_ref_and_one_config() {
        let (refs, metadata, _) = assemble(vec![result("linux/amd64", "r1")], false);
        assert!(matches!(refs, Refs::Single(ref s) if s.id == "r1"));
        let keys: Vec<&str> = metadata.keys().map(String::as_str).collect();
        assert_eq!(keys, [CONFIG_KEY, PLATFORMS_KEY]);
        assert_eq!(
            text(&metadata, PLATFORMS_KEY),
            r#"{"Platforms":[{"ID":"linux/amd64","Platform":{"architecture":"amd64","os":"linux"}}]}"#
        );
    }

    #[test]
    fn base_config_and_epoch_follow_the_config_key() {
        let with_extras = |platform, id| PlatformResult {
            base_image: Some(Image::default()),
            epoch: Some(17),
            ..result(platform, id)
        };
        let (_, one, _) = assemble(vec![with_extras("linux/amd64", "r1")], false);
        assert_eq!(text(&one, EPOCH_KEY), "17");
        assert!(one.contains_key(BASE_CONFIG_KEY));
        let two = vec![
            with_extras("linux/amd64", "r1"),
            with_extras("linux/arm64", "r2"),
        ];
        let (_, two, _) = assemble(two, true);
        assert_eq!(text(&two, "source.date.epoch/linux/arm64"), "17");
        assert!(two.contains_key("containerimage.base.config/linux/amd64"));
        assert!(!two.contains_key(EPOCH_KEY) && !two.contains_key(BASE_CONFIG_KEY));
    }

    #[test]
    fn multi_platform_gives_a_ref_and_a_config_per_platform() {
        let results = vec![result("linux/arm/v7", "r1"), result("linux/amd64", "r2")];
        let (refs, metadata, _) = assemble(results, true);
        let Refs::PerPlatform(map) = refs else {
            panic!("expected a ref per platform");
        };
        assert_eq!(map["linux/arm/v7"].id, "r1");
        assert_eq!(map["linux/amd64"].id, "r2");
        assert!(text(&metadata, "containerimage.config/linux/arm/v7").contains(r#""arm""#));
        assert!(text(&metadata, "containerimage.config/linux/amd64").contains(r#""amd64""#));
        assert!(!metadata.contains_key(CONFIG_KEY));
        // The order asked for is kept in the list.
        assert_eq!(
            text(&metadata, PLATFORMS_KEY),
            concat!(
                r#"{"Platforms":[{"ID":"linux/arm/v7","Platform":{"architecture":"arm","os":"linux","variant":"v7"}},"#,
                r#"{"ID":"linux/amd64","Platform":{"architecture":"amd64","os":"linux"}}]}"#
            )
        );
    }

    #[test]
    fn multi_platform_shape_for_one_platform() {
        let (refs, metadata, _) = assemble(vec![result("linux/amd64", "r1")], true);
        assert!(matches!(refs, Refs::PerPlatform(ref m) if m.len() == 1));
        assert!(metadata.contains_key("containerimage.config/linux/amd64"));
    }

    #[test]
    fn an_sbom_scan_is_the_platforms_bundle_attestation() {
        let scanned = |platform, id| PlatformResult {
            sbom: Some(SolvedRef {
                id: format!("{id}-sbom"),
                definition: pb::Definition::default(),
            }),
            ..result(platform, id)
        };
        let results = vec![scanned("linux/amd64", "r1"), result("linux/arm64", "r2")];
        let (_, _, attestations) = assemble(results, true);
        let keys: Vec<&str> = attestations.keys().map(String::as_str).collect();
        assert_eq!(keys, ["linux/amd64"]);
        let bundle = &attestations["linux/amd64"].attestation[0];
        assert_eq!(
            bundle.r#ref.as_ref().map(|r| r.id.as_str()),
            Some("r1-sbom")
        );
        assert_eq!(bundle.in_toto_predicate_type, "https://spdx.dev/Document");
        assert_eq!(bundle.metadata["sbom-core"], b"sbom");
        // One platform's result is keyed by its platform too.
        let (_, _, one) = assemble(vec![scanned("linux/amd64", "r1")], false);
        assert!(one.contains_key("linux/amd64"));
    }
}

//! Named image contexts in conversion, without the engine: what mstage does not do yet fails
//! naming the context instead of building something else (tests/named_contexts.rs builds the
//! rest through the real engine).

use std::collections::BTreeMap;
use std::sync::Arc;

use mstage::cli::llb::FileResolver;
use mstage::convert::contexts::ImageContexts;
use mstage::convert::{self, ConvertOptions};
use mstage::platform::Platform;

async fn convert_error(dockerfile: &str, build_args: &[(&str, &str)]) -> String {
    let opts = ConvertOptions {
        build_platform: Platform::parse("linux/amd64").expect("platform"),
        build_args: build_args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        image_contexts: ImageContexts(BTreeMap::from([(
            "busybox".to_string(),
            "alpine:latest".to_string(),
        )])),
        ..Default::default()
    };
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    match convert::convert(dockerfile, &opts, resolver).await {
        Ok(_) => "converted".to_string(),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_context_named_as_a_stage_is_refused() {
    let err = convert_error("FROM alpine AS busybox\nFROM busybox\n", &[]).await;
    assert!(
        err.contains(
            "named context busybox replacing stage busybox is not supported by mstage yet"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn source_date_epoch_from_a_context_is_refused() {
    let err = convert_error("FROM busybox\n", &[("SOURCE_DATE_EPOCH", "busybox")]).await;
    assert!(
        err.contains("SOURCE_DATE_EPOCH from named context busybox is not supported by mstage yet"),
        "{err}"
    );
    // Seconds stay seconds, whatever contexts there are.
    assert_eq!(
        convert_error("FROM busybox\n", &[("SOURCE_DATE_EPOCH", "10")]).await,
        "converted"
    );
}

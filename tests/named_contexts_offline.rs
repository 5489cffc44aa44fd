//! Named contexts in conversion, without the engine: a context named as a stage replaces it,
//! and what mstage does not do yet fails naming the context instead of building something else
//! (tests/named_contexts.rs builds the rest through the real engine).

use std::collections::BTreeMap;
use std::sync::Arc;

use mstage::cli::llb::FileResolver;
use mstage::convert::contexts::{ContextSource, NamedContexts};
use mstage::convert::{self, ConvertOptions};
use mstage::platform::Platform;

fn options(build_args: &[(&str, &str)]) -> ConvertOptions {
    ConvertOptions {
        build_platform: Platform::parse("linux/amd64").expect("platform"),
        build_args: build_args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        named_contexts: NamedContexts(BTreeMap::from([(
            "busybox".to_string(),
            ContextSource::Image("alpine:latest".to_string()),
        )])),
        ..Default::default()
    }
}

async fn convert_error(dockerfile: &str, build_args: &[(&str, &str)]) -> String {
    let opts = options(build_args);
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    match convert::convert(dockerfile, &opts, resolver).await {
        Ok(_) => "converted".to_string(),
        Err(e) => e.to_string(),
    }
}

/// The ops' bytes of a conversion, where source identifiers and progress names can be found.
async fn definition_text(dockerfile: &str) -> String {
    let opts = options(&[]);
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    let converted = convert::convert(dockerfile, &opts, resolver)
        .await
        .expect("converts");
    let definition = converted.definition(&opts).expect("marshals");
    let bytes: Vec<u8> = definition.def.concat();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn a_context_named_as_a_stage_replaces_it_and_its_steps() {
    let text =
        definition_text("FROM debian AS busybox\nRUN never-run\nFROM busybox\nRUN echo built\n")
            .await;
    assert!(
        text.contains("docker-image://docker.io/library/alpine:latest"),
        "{text}"
    );
    assert!(
        !text.contains("debian"),
        "the replaced stage's base: {text}"
    );
    assert!(
        !text.contains("never-run"),
        "the replaced stage's step: {text}"
    );
    assert!(text.contains("echo built"), "{text}");
}

#[tokio::test]
async fn source_date_epoch_from_a_context_takes_the_date_buildkit_gave() {
    let dockerfile = "FROM busybox\nWORKDIR /w\n";
    let args = [("SOURCE_DATE_EPOCH", "busybox")];
    let parsed = convert::parse(dockerfile, &options(&args)).expect("parses");
    let pending = parsed.date_source().expect("a date to resolve");
    assert_eq!(pending.value, "busybox");
    assert_eq!(
        pending.source.log_name(),
        "[internal] resolve SOURCE_DATE_EPOCH named context busybox"
    );
    // Without BuildKit (the CLI), the date cannot be had.
    let err = convert_error(dockerfile, &args).await;
    assert!(err.contains("SOURCE_DATE_EPOCH=busybox takes the date of named context busybox, which only BuildKit can resolve"), "{err}");
    // With the date the gateway resolved, it is the build's epoch.
    let mut opts = options(&args);
    opts.source_date = Some(convert::epoch::SourceDate {
        value: "busybox".into(),
        seconds: Some(1_651_820_889),
    });
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    let converted = convert::convert(dockerfile, &opts, resolver)
        .await
        .expect("converts");
    assert_eq!(converted.epoch, Some(1_651_820_889));
    // A source with no date sets none.
    opts.source_date = Some(convert::epoch::SourceDate {
        value: "busybox".into(),
        seconds: None,
    });
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    let converted = convert::convert(dockerfile, &opts, resolver)
        .await
        .expect("converts");
    assert_eq!(converted.epoch, None);
    // Seconds stay seconds, whatever contexts there are.
    assert_eq!(
        convert_error("FROM busybox\n", &[("SOURCE_DATE_EPOCH", "10")]).await,
        "converted"
    );
}

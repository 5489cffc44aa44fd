//! A Dockerfile that is not UTF-8 is converted from its lossy text, but the source map BuildKit
//! shows excerpts from carries its bytes as read, as the reference's does.

use std::collections::BTreeMap;
use std::sync::Arc;

use mstage::cli::llb::FileResolver;
use mstage::convert::{self, ConvertOptions};

#[tokio::test]
async fn the_source_map_keeps_the_bytes_read() {
    let raw: &[u8] = b"FROM scratch\nLABEL a=\xff\xfe\nRUN echo \xc3\x28\n";
    let text = String::from_utf8_lossy(raw);
    let opts = ConvertOptions {
        dockerfile_data: Some(raw.into()),
        ..Default::default()
    };
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    let converted = convert::convert(&text, &opts, resolver)
        .await
        .expect("converts");
    let definition = converted.definition(&opts).expect("marshals");
    let infos = definition.source.expect("source map").infos;
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].data, raw);
    // Without the bytes, the text is what the map holds.
    let plain = ConvertOptions::default();
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    let converted = convert::convert(&text, &plain, resolver)
        .await
        .expect("converts");
    let infos = converted
        .definition(&plain)
        .expect("marshals")
        .source
        .expect("map")
        .infos;
    assert_eq!(infos[0].data, text.as_bytes());
}

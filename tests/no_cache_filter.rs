//! `--no-cache-filter`: only the steps of the stages named ignore the cache (dockerui's
//! `IsNoCache`, names compared case-insensitively); `--no-cache` makes every step ignore it.

use std::collections::BTreeMap;
use std::sync::Arc;

use mstage::cli::llb::FileResolver;
use mstage::convert::{self, ConvertOptions, NoCache};
use mstage::platform::Platform;

const DOCKERFILE: &str = "FROM scratch AS build\nCOPY a.txt /a\nWORKDIR /w\n\
FROM scratch AS other\nCOPY b.txt /b\n\
FROM scratch\nCOPY --from=build /a /a\nCOPY --from=other /b /b\n";

/// Each named step (`[build 1/2] COPY a.txt /a`) and whether it ignores the cache.
async fn steps(no_cache: NoCache) -> BTreeMap<String, bool> {
    let opts = ConvertOptions {
        build_platform: Platform::parse("linux/amd64").expect("platform"),
        no_cache,
        // A session names the context source, as in a gateway build.
        session_id: "session".into(),
        ..Default::default()
    };
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    let converted = convert::convert(DOCKERFILE, &opts, resolver)
        .await
        .expect("convert");
    let definition = converted.definition(&opts).expect("definition");
    definition
        .metadata
        .values()
        .filter_map(|m| {
            let name = m.description.get("llb.customname")?;
            let step = name.starts_with('[') && !name.starts_with("[internal]");
            step.then(|| (name.clone(), m.ignore_cache))
        })
        .collect()
}

fn ignoring(steps: &BTreeMap<String, bool>) -> Vec<&str> {
    steps
        .iter()
        .filter(|(_, ignores)| **ignores)
        .map(|(name, _)| name.as_str())
        .collect()
}

#[tokio::test]
async fn only_the_named_stages_ignore_the_cache() {
    let filtered = steps(NoCache::Stages(vec!["BUILD".into()])).await;
    assert_eq!(
        ignoring(&filtered),
        ["[build 1/2] COPY a.txt /a", "[build 2/2] WORKDIR /w"]
    );
    assert_eq!(filtered.len(), 5, "{filtered:?}");
    let all = steps(NoCache::All).await;
    assert_eq!(ignoring(&all).len(), all.len());
    assert!(ignoring(&steps(NoCache::None).await).is_empty());
}

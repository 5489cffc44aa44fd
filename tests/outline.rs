//! `--print=outline` and `--print=targets`, offline: every `tests/outline_cases/*.json` holds a
//! Dockerfile, its target list and outlines for some targets and build args, recorded with the
//! reference frontend (images resolve to no config here, as busybox's adds nothing they show).
//! Lines are compact: a target is `LINE NAME FROM BASE[ --platform=P][ (default)][ # DESC]`
//! (`-` for no name), an ARG `LINE NAME=VALUE[ # DESC]`, a secret or ssh `LINE ID[ required]`.
//! The conformance cases check the same answers through BuildKit.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use mstage::convert::outline::{list_targets, Outline, OutlineMount};
use mstage::convert::{self, ConvertOptions};
use mstage::platform::Platform;
use mstage::stages::{ImageResolver, ResolveError, ResolveFuture, ResolvedImage};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[allow(dead_code)]
    notes: String,
    dockerfile: String,
    targets: Vec<String>,
    outlines: Vec<ExpectedOutline>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedOutline {
    target: Option<String>,
    build_args: BTreeMap<String, String>,
    name: String,
    description: String,
    args: Vec<String>,
    secrets: Vec<String>,
    ssh: Vec<String>,
}

/// Every image resolves, without a config.
struct NoConfig;

impl ImageResolver for NoConfig {
    fn resolve(&self, image: &str, _: &Platform) -> ResolveFuture {
        let reference = image.to_string();
        Box::pin(async move {
            Ok::<_, ResolveError>(ResolvedImage {
                reference,
                digest: String::new(),
                config: Vec::new(),
            })
        })
    }
}

fn mounts(list: &[OutlineMount]) -> Vec<String> {
    list.iter()
        .map(|m| {
            let required = if m.required { " required" } else { "" };
            format!("{} {}{required}", m.range.start_line, m.name)
        })
        .collect()
}

fn args(outline: &Outline) -> Vec<String> {
    outline
        .args
        .iter()
        .map(|a| {
            let mut line = format!("{} {}={}", a.range.start_line, a.name, a.value);
            if !a.description.is_empty() {
                line.push_str(&format!(" # {}", a.description));
            }
            line
        })
        .collect()
}

fn targets(text: &str) -> Vec<String> {
    let list = list_targets(text).unwrap_or_else(|e| panic!("listing targets: {e}"));
    list.iter()
        .map(|t| {
            let name = if t.name.is_empty() { "-" } else { &t.name };
            let mut line = format!("{} {name} FROM {}", t.range.start_line, t.base);
            if !t.platform.is_empty() {
                line.push_str(&format!(" --platform={}", t.platform));
            }
            if t.default {
                line.push_str(" (default)");
            }
            if !t.description.is_empty() {
                line.push_str(&format!(" # {}", t.description));
            }
            line
        })
        .collect()
}

async fn check(name: &str, case: &Case) {
    assert_eq!(targets(&case.dockerfile), case.targets, "{name}: targets");
    for expected in &case.outlines {
        let opts = ConvertOptions {
            target: expected.target.clone(),
            build_args: expected.build_args.clone(),
            build_platform: Platform::parse("linux/amd64").expect("platform"),
            ..Default::default()
        };
        let label = format!("{name} (target {:?})", expected.target);
        let parsed = convert::parse(&case.dockerfile, &opts)
            .unwrap_or_else(|e| panic!("{label}: parse: {e}"));
        let (_, outline) =
            convert::outline_parsed(&case.dockerfile, parsed, &opts, Arc::new(NoConfig))
                .await
                .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(outline.name, expected.name, "{label}: name");
        assert_eq!(outline.description, expected.description, "{label}");
        assert_eq!(args(&outline), expected.args, "{label}: args");
        assert_eq!(
            mounts(&outline.secrets),
            expected.secrets,
            "{label}: secrets"
        );
        assert_eq!(mounts(&outline.ssh), expected.ssh, "{label}: ssh");
    }
}

#[tokio::test]
async fn outline_cases() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/outline_cases");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/outline_cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no outline cases");
    for path in paths {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let text = fs::read_to_string(&path).expect("case file");
        let case: Case =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: bad case: {e}"));
        check(&name, &case).await;
    }
}

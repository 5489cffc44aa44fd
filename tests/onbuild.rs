//! ONBUILD triggers, case by case: every `tests/onbuild_cases/*.json` converts a Dockerfile
//! offline (image configs from the case, `images`) and checks what the triggers did to the stage
//! graph and the LLB. Fields, all optional but `dockerfile`:
//! - `target`: the target stage.
//! - `reachable`: display names of the stages the build converts, in order.
//! - `edges`: every instruction dependency, `"<source> -> <stage>: <step>"`, the step found
//!   through the dependency's index into the stage's steps, `ONBUILD ` before a trigger.
//! - `triggers`: stage display name to the keywords of the triggers it runs.
//! - `resolved`: the images asked of the resolver, sorted.
//! - `steps`: progress names to the Dockerfile line their op points at; each must be in the LLB.
//! - `on_build`: the target image config's `OnBuild`.
//! - `history`: the target image config's history, `created_by` of each entry.
//! - `error` and `error_lines`: the conversion must fail with this message at these lines.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mstage::convert::{self, ConvertOptions};
use mstage::platform::Platform;
use mstage::stages::{
    ImageResolver, ResolveError, ResolveFuture, ResolvedImage, Source, StageGraph,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    dockerfile: String,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    images: BTreeMap<String, serde_json::Value>,
    reachable: Option<Vec<String>>,
    edges: Option<Vec<String>>,
    triggers: Option<BTreeMap<String, Vec<String>>>,
    resolved: Option<Vec<String>>,
    steps: Option<BTreeMap<String, i32>>,
    on_build: Option<Vec<String>>,
    history: Option<Vec<String>>,
    error: Option<String>,
    error_lines: Option<Vec<usize>>,
}

/// Image configs from the case; remembers what was asked.
struct CaseResolver {
    configs: BTreeMap<String, serde_json::Value>,
    asked: Mutex<Vec<String>>,
}

impl ImageResolver for CaseResolver {
    fn resolve(&self, image: &str, _: &Platform) -> ResolveFuture {
        if let Ok(mut asked) = self.asked.lock() {
            asked.push(image.to_string());
        }
        let config = self
            .configs
            .get(image)
            .map(|v| serde_json::to_vec(v).unwrap_or_default())
            .unwrap_or_default();
        let reference = image.to_string();
        Box::pin(async move {
            Ok::<_, ResolveError>(ResolvedImage {
                reference,
                digest: String::new(),
                config,
            })
        })
    }
}

fn source_name(graph: &StageGraph, source: &Source) -> String {
    match source {
        Source::Stage(i) => graph.stages[*i].display_name(),
        Source::Image(name) => name.clone(),
        Source::Scratch => "scratch".into(),
    }
}

/// Each dependency with the step that makes it, found through its index into the stage's steps.
fn edges(graph: &StageGraph) -> Vec<String> {
    let mut out = Vec::new();
    for (i, deps) in graph.dependencies.iter().enumerate() {
        for d in deps {
            let step = graph.steps(i).nth(d.instruction);
            let code = step.map_or("<no step>", |(_, s)| s.code());
            let onbuild = match step {
                Some((true, _)) if d.onbuild => "ONBUILD ",
                Some((false, _)) if !d.onbuild => "",
                _ => "<mismatched trigger flag> ",
            };
            out.push(format!(
                "{} -> {}: {onbuild}{code}",
                source_name(graph, &d.source),
                graph.stages[i].display_name()
            ));
        }
    }
    out
}

/// Progress name of every op to the first line its source location points at (0 when none).
fn step_lines(def: &mstage::proto::pb::Definition) -> BTreeMap<String, i32> {
    let locations = def.source.as_ref().map(|s| &s.locations);
    def.metadata
        .iter()
        .filter_map(|(digest, meta)| {
            let name = meta.description.get("llb.customname")?;
            let line = locations
                .and_then(|l| l.get(digest))
                .and_then(|l| l.locations.first())
                .and_then(|l| l.ranges.first())
                .and_then(|r| r.start)
                .map_or(0, |p| p.line);
            Some((name.clone(), line))
        })
        .collect()
}

async fn check(name: &str, case: Case) {
    let opts = ConvertOptions {
        target: case.target.clone(),
        build_platform: Platform::parse("linux/amd64").expect("platform"),
        ..Default::default()
    };
    let resolver = Arc::new(CaseResolver {
        configs: case.images.clone(),
        asked: Mutex::new(Vec::new()),
    });
    let result = convert::convert(&case.dockerfile, &opts, resolver.clone()).await;
    if let Some(expected) = &case.error {
        let err = result.err().unwrap_or_else(|| panic!("{name}: converted"));
        assert_eq!(&err.to_string(), expected, "{name}: error");
        if let Some(lines) = &case.error_lines {
            let got: Vec<usize> = err.ranges().iter().map(|r| r.start_line).collect();
            assert_eq!(&got, lines, "{name}: error lines");
        }
        return;
    }
    let converted = result.unwrap_or_else(|e| panic!("{name}: {e}"));
    let graph_resolver = Arc::new(CaseResolver {
        configs: case.images.clone(),
        asked: Mutex::new(Vec::new()),
    });
    let graph = &convert::resolved_graph(&case.dockerfile, &opts, graph_resolver)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    if let Some(expected) = &case.reachable {
        let got: Vec<String> = (0..graph.stages.len())
            .filter(|&i| graph.reachable[i])
            .map(|i| graph.stages[i].display_name())
            .collect();
        assert_eq!(&got, expected, "{name}: reachable");
    }
    if let Some(expected) = &case.edges {
        assert_eq!(&edges(graph), expected, "{name}: edges");
    }
    if let Some(expected) = &case.triggers {
        let got: BTreeMap<String, Vec<String>> = (0..graph.stages.len())
            .filter(|&i| !graph.triggers[i].is_empty())
            .map(|i| {
                let keywords = graph.triggers[i].iter().map(|t| t.code().to_string());
                (graph.stages[i].display_name(), keywords.collect())
            })
            .collect();
        assert_eq!(&got, expected, "{name}: triggers");
    }
    if let Some(expected) = &case.resolved {
        let mut asked = resolver.asked.lock().map(|a| a.clone()).unwrap_or_default();
        asked.sort();
        assert_eq!(&asked, expected, "{name}: resolved images");
    }
    if let Some(expected) = &case.steps {
        let def = converted.definition(&opts).expect("marshal");
        let got = step_lines(&def);
        for (step, line) in expected {
            assert_eq!(
                got.get(step),
                Some(line),
                "{name}: step {step:?} in {got:#?}"
            );
        }
    }
    if let Some(expected) = &case.on_build {
        assert_eq!(
            &converted.image.config.on_build, expected,
            "{name}: OnBuild"
        );
    }
    if let Some(expected) = &case.history {
        let got: Vec<&str> = converted
            .image
            .history
            .iter()
            .map(|h| h.created_by.as_str())
            .collect();
        assert_eq!(&got, expected, "{name}: history");
    }
}

#[test]
fn onbuild_cases() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/onbuild_cases");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("cases dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no cases in {}", dir.display());
    let mut failed = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        let data = fs::read_to_string(&path).expect("read case");
        let case: Case = serde_json::from_str(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(check(&name, case))
        }));
        if outcome.is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:#?}");
}

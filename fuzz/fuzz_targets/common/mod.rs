//! What the conversion targets share: a runtime, a fixed image resolver, the option pieces the
//! gateway fills in after reading the request, and the marshal check.

pub mod configs;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use mstage::convert::contexts::ContextSource;
use mstage::convert::{self, ConvertOptions};
use mstage::llb::{self, Constraints, MarshalOptions};
use mstage::platform::Platform;
use mstage::stages::{ImageResolver, ResolveError, ResolveFuture, ResolvedImage};

/// Runs `future` to completion on this thread (conversion spawns image resolutions).
pub fn block_on<F: Future>(future: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
    }
    RUNTIME.with(|rt| rt.block_on(future))
}

/// FNV-1a: a stable hash of the input, whose bits choose the option variants, so the same input
/// always takes the same path.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Image configs by a hash of the image's name (some by a word in it); names containing
/// `missing` fail to resolve.
pub struct FixedResolver;

impl ImageResolver for FixedResolver {
    fn resolve(&self, image: &str, _: &Platform) -> ResolveFuture {
        let image = image.to_string();
        let result = if image.contains("missing") {
            Err(ResolveError {
                message: format!("{image}: not found"),
                image,
            })
        } else {
            let h = fnv1a(image.as_bytes());
            let config = configs::BY_NAME
                .iter()
                .find(|(key, _)| image.contains(key))
                .map_or(
                    configs::ALL[(h % configs::ALL.len() as u64) as usize],
                    |(_, c)| c,
                );
            let digest = match h & 0x100 {
                0 => String::new(),
                _ => format!("sha256:{:064x}", u128::from(h) * 3),
            };
            Ok(ResolvedImage {
                reference: image,
                digest,
                config: config.as_bytes().to_vec(),
            })
        };
        Box::pin(async move { result })
    }
}

pub fn resolver() -> Arc<dyn ImageResolver> {
    Arc::new(FixedResolver)
}

/// Every LLB capability mstage knows (the string constants of `src/llb/caps.rs`), as a current
/// BuildKit's Ping reports them.
pub fn all_caps() -> BTreeSet<String> {
    static CAPS: OnceLock<BTreeSet<String>> = OnceLock::new();
    CAPS.get_or_init(|| {
        include_str!("../../../src/llb/caps.rs")
            .lines()
            .filter(|l| l.starts_with("pub const") && l.contains(": &str"))
            .filter_map(|l| l.split('"').nth(1))
            .map(str::to_string)
            .collect()
    })
    .clone()
}

/// The definition a frontend input (`input:NAME`) carries: a small image graph.
fn input_definition() -> mstage::proto::pb::Definition {
    let mkdir = llb::mkdir("/out", 0o755, Default::default());
    let state = llb::image("docker.io/library/alpine:3.20").file(&mkdir, Constraints::new());
    llb::marshal(&state, &MarshalOptions::default()).expect("the input definition marshals")
}

/// What the gateway learns of the named contexts before converting: a local directory's
/// `.dockerignore`, an input's definition (missing when `drop_inputs`).
pub fn load_contexts(opts: &mut ConvertOptions, drop_inputs: bool) {
    for source in opts.named_contexts.0.values_mut() {
        match source {
            ContextSource::Local(local) => {
                local.excludes = Some(vec!["*.md".into(), "!README.md".into(), "tmp/".into()])
            }
            ContextSource::Input(input) if !drop_inputs => {
                input.definition = Some(input_definition())
            }
            _ => {}
        }
    }
}

/// The marshal options `mstage llb` and the gateway use for `opts`' target platform.
pub fn marshal_options(opts: &ConvertOptions) -> MarshalOptions {
    let platform = opts
        .target_platform
        .clone()
        .unwrap_or_else(|| opts.build_platform.clone());
    MarshalOptions {
        constraints: Constraints::new()
            .platform(convert::names::pb_platform(&platform))
            .local_unique_id("fuzz"),
        caps: opts.llb_caps.clone(),
    }
}

/// Marshals the converted target both ways, which must give the same bytes; with `render`, also
/// as the JSON lines `frontend.convertllb` and `mstage llb --json` print.
pub fn check_marshal(converted: &convert::Converted, opts: &ConvertOptions, render: bool) {
    let marshal = marshal_options(opts);
    let whole = llb::marshal(&converted.state, &marshal);
    let mut streamed = Vec::new();
    let written = llb::write_marshalled(&converted.state, &marshal, &mut streamed);
    match (whole, written) {
        (Ok(def), Ok(())) => {
            let mut bytes = Vec::new();
            llb::write_definition(&def, &mut bytes).expect("writing to a Vec");
            assert!(
                bytes == streamed,
                "write_marshalled differs from marshal ({} vs {} bytes)",
                streamed.len(),
                bytes.len()
            );
            if render {
                let _ = llb::definition_to_json_lines(&def);
            }
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "marshal errors differ"),
        (a, b) => panic!(
            "marshal and write_marshalled disagree: {:?} vs {:?}",
            a.err(),
            b.err()
        ),
    }
    let _ = converted.image.to_json();
}

/// Converts `text` with `opts` the way the gateway does (parse, a date for a SOURCE_DATE_EPOCH
/// naming a source, conversion) and checks the marshalled result.
pub fn convert_checked(text: &str, opts: &mut ConvertOptions, render: bool) {
    let parsed = convert::parse(text, opts);
    let pending = parsed
        .as_ref()
        .ok()
        .and_then(|p| p.date_source())
        .map(|p| p.value.clone());
    let parsed = match pending {
        Some(value) => {
            opts.source_date = Some(convert::epoch::SourceDate {
                value,
                seconds: Some(1_700_000_000),
            });
            convert::parse(text, opts)
        }
        None => parsed,
    };
    let Ok(parsed) = parsed else { return };
    let _ = parsed.named_contexts_used(opts);
    let _ = parsed.image_requests(opts);
    if let Ok(converted) = block_on(convert::convert_parsed(text, parsed, opts, resolver())) {
        check_marshal(&converted, opts, render);
    }
}

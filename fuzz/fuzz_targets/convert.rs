//! Any UTF-8 text converted as a Dockerfile must convert or fail cleanly, never panic: as
//! `mstage llb` converts it offline, and as the gateway does with frontend options a client could
//! send for the names the Dockerfile uses (target, build args, platforms, named contexts of each
//! kind, no-cache filter, RUN options), with a fixed image resolver whose configs carry ONBUILD
//! triggers, env, workdir, user and shell. The result is marshalled whole and streamed, which must
//! agree byte for byte; sometimes also rendered as JSON, linted, outlined and drawn as a graph.
#![no_main]

mod common;

use std::collections::BTreeMap;

use common::{block_on, convert_checked, load_contexts, resolver};
use libfuzzer_sys::fuzz_target;
use mstage::convert::{self, ConvertOptions};
use mstage::gateway::request::BuildRequest;
use mstage::platform::Platform;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut choices = Choices::new(common::fnv1a(data));
    if choices.one_in(2) {
        let mut offline = ConvertOptions {
            build_platform: amd64(),
            ..Default::default()
        };
        convert_checked(text, &mut offline, false);
    }
    let names = Names::of(text);
    let options = frontend_options(&names, &mut choices);
    let Ok(request) = BuildRequest::from_options(&options) else {
        return;
    };
    for target in request.targets().into_iter().take(2) {
        let mut opts = engine_options(request.convert_options(target), &mut choices);
        load_contexts(&mut opts, choices.one_in(8));
        convert_checked(text, &mut opts, choices.one_in(4));
        other_paths(text, &opts, &mut choices);
    }
});

fn amd64() -> Platform {
    Platform::parse("linux/amd64").expect("a valid platform")
}

/// What Ping tells the gateway: the build platform, and the engine's LLB capabilities (all of
/// them usually, none from an old engine); the context sometimes a git repository.
fn engine_options(mut opts: ConvertOptions, choices: &mut Choices) -> ConvertOptions {
    opts.build_platform = amd64();
    opts.llb_caps = Some(match choices.one_in(6) {
        true => Default::default(),
        false => common::all_caps(),
    });
    opts.excludes = vec!["node_modules".into(), "**/*.log".into(), "!keep.log".into()];
    if choices.one_in(8) {
        let url = "https://github.com/moby/buildkit.git#v0.25.0:frontend";
        opts.context_source =
            convert::git::context_state(url, false, "", "context").and_then(Result::ok);
    }
    opts
}

/// Lint of every stage (`--call=check`), outline (`--print=outline`) and the stage graph
/// (`--call=graph`), now and then.
fn other_paths(text: &str, opts: &ConvertOptions, choices: &mut Choices) {
    if choices.one_in(8) {
        let mut all = ConvertOptions {
            all_stages: true,
            ..opts.clone()
        };
        all.target = None;
        let _ = block_on(convert::lint(text, &all, resolver()));
    }
    if choices.one_in(8) {
        if let Ok(parsed) = convert::parse(text, opts) {
            let _ = block_on(convert::outline_parsed(text, parsed, opts, resolver()));
        }
    }
    if choices.one_in(4) {
        if let Ok((dag, _)) = convert::graph::stage_dag(text, opts) {
            let _ = (dag.json(), dag.text(), dag.dot(), dag.mermaid());
        }
    }
}

/// The names a Dockerfile uses, which the options refer to.
#[derive(Default)]
struct Names {
    stages: Vec<String>,
    /// FROM images and `--from`/`from=` names that are not stages.
    images: Vec<String>,
    args: Vec<String>,
}

impl Names {
    fn of(text: &str) -> Names {
        let mut names = Names::default();
        let Ok(df) = mstage::syntax::parse(text) else {
            return names;
        };
        for node in &df.nodes {
            match node.keyword.as_str() {
                "from" => {
                    names.images.extend(node.args.first().cloned());
                    if node.args.len() >= 3 && node.args[1].eq_ignore_ascii_case("as") {
                        names.stages.push(node.args[2].clone());
                    }
                }
                "arg" => names.args.extend(
                    node.args
                        .iter()
                        .map(|a| a.split('=').next().unwrap_or(a).to_string()),
                ),
                _ => {}
            }
            let froms = node
                .flags
                .iter()
                .flat_map(|f| f.split(','))
                .filter_map(|f| {
                    f.strip_prefix("--from=")
                        .or_else(|| f.strip_prefix("from="))
                        .or_else(|| f.strip_prefix("--mount=from="))
                });
            names.images.extend(froms.map(str::to_string));
        }
        names.images.retain(|i| !names.stages.contains(i));
        names
    }

    /// Every name a named context can replace.
    fn replaceable(&self) -> Vec<&String> {
        self.stages.iter().chain(&self.images).collect()
    }
}

const PLATFORMS: &[&str] = &[
    "",
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v7",
    "linux/amd64,linux/arm64",
    "windows/amd64",
    "linux/riscv64,linux/s390x,linux/ppc64le",
];

const ARG_VALUES: &[&str] = &[
    "",
    "1",
    "a value with spaces",
    "linux/arm64",
    "$OTHER${OTHER:-x}",
    "busybox:latest",
    "stage0",
    "1700000000",
];

/// `--build-context NAME=...` of each kind dockerui reads.
const CONTEXTS: &[&str] = &[
    "docker-image://busybox:latest",
    "docker-image://scratch",
    "docker-image://alpine@sha256:3edc77524a508f93afbb1b7847a0283b4a1ce20ea17cac10f005aec9ecead595",
    "local:dir",
    "https://github.com/moby/buildkit.git#v0.25.0:frontend",
    "git@github.com:moby/buildkit.git",
    "https://example.com/files/context.tar.gz",
    "oci-layout://store:v1@sha256:3edc77524a508f93afbb1b7847a0283b4a1ce20ea17cac10f005aec9ecead595",
    "input:in",
];

/// Build args the frontend itself reads.
const SPECIAL_ARGS: &[(&str, &str)] = &[
    ("build-arg:SOURCE_DATE_EPOCH", "1700000000"),
    ("build-arg:BUILDKIT_SBOM_SCAN_STAGE", "true"),
    ("build-arg:BUILDKIT_SBOM_SCAN_CONTEXT", "true"),
    ("build-arg:BUILDKIT_MULTI_PLATFORM", "1"),
    ("build-arg:BUILDKIT_SANDBOX_HOSTNAME", "fuzzhost"),
    ("build-arg:BUILDKIT_CACHE_MOUNT_NS", "ns"),
    ("build-arg:BUILDKIT_DOCKERFILE_CHECK", "skip=all"),
    ("build-arg:BUILDKIT_DOCKERFILE_CHECK", "error=true"),
    ("build-arg:HTTP_PROXY", "http://proxy:3128"),
    ("build-arg:TARGETPLATFORM", "linux/arm64"),
];

/// RUN options a client may send.
const RUN_OPTIONS: &[(&str, &str)] = &[
    ("add-hosts", "db=10.0.0.2,cache=::1"),
    ("ulimit", "nofile=1024:2048,nproc=-1"),
    ("shm-size", "134217728"),
    ("hostname", "builder"),
    ("cgroup-parent", "parent"),
    ("memory", "268435456"),
    ("cpu-shares", "512"),
    ("force-network-mode", "none"),
    ("force-network-mode", "host"),
    ("image-resolve-mode", "pull"),
    ("label:org.example", "v"),
];

/// Frontend options for this Dockerfile, chosen by the input's hash.
fn frontend_options(names: &Names, choices: &mut Choices) -> BTreeMap<String, String> {
    let mut opts = BTreeMap::from([
        ("filename".to_string(), "Dockerfile".to_string()),
        ("context".to_string(), "context".to_string()),
    ]);
    let mut set = |k: &str, v: &str| opts.insert(k.to_string(), v.to_string());
    if !names.stages.is_empty() && choices.one_in(2) {
        set("target", choices.pick(&names.stages));
    }
    set("platform", choices.pick(PLATFORMS));
    for arg in &names.args {
        if choices.one_in(2) {
            set(&format!("build-arg:{arg}"), choices.pick(ARG_VALUES));
        }
    }
    if choices.one_in(3) {
        let (k, v) = choices.pick(SPECIAL_ARGS);
        set(k, v);
    }
    for name in names.replaceable() {
        if choices.one_in(3) {
            let key = match choices.one_in(4) {
                true => format!("context:{name}::linux/arm64"),
                false => format!("context:{name}"),
            };
            set(&key, choices.pick(CONTEXTS));
        }
    }
    if choices.one_in(2) {
        set("sharedkey:localdir:dir", "key");
        set("input-metadata:in", r#"{"containerimage.config":"e30="}"#);
    }
    match choices.below(4) {
        0 => set("no-cache", ""),
        1 if !names.stages.is_empty() => set("no-cache", choices.pick(&names.stages)),
        _ => None,
    };
    for _ in 0..choices.below(3) {
        let (k, v) = choices.pick(RUN_OPTIONS);
        set(k, v);
    }
    opts
}

/// Choices drawn from a hash, a few bits at a time (rehashed when used up).
pub struct Choices(u64, u32);

impl Choices {
    pub fn new(seed: u64) -> Self {
        Choices(seed, 64)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        let bits = usize::BITS - (n.max(2) - 1).leading_zeros();
        if self.1 < bits {
            self.0 = common::fnv1a(&self.0.to_le_bytes());
            self.1 = 64;
        }
        let v = (self.0 & ((1u64 << bits) - 1)) as usize;
        self.0 >>= bits;
        self.1 -= bits;
        v % n
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

//! Resource limits of RUN steps (1.25's `memory`, `memswap`, `cpu*` options) as op metadata:
//! the Definition mstage marshals for tests/linux_resources/Dockerfile on a worker with every
//! LLB cap equals, byte for byte, the one the reference's `dockerfile2llb` gives with the same
//! limits (both its in-memory form and the streamed one), and its metadata reads as BuildKit's
//! JSON. The expectations were recorded with tests/linux_resources/record/main.go (see there).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mstage::cli::llb::FileResolver;
use mstage::convert::{self, ConvertOptions, LinuxResources, RunOptions};
use mstage::llb;
use mstage::platform::Platform;
use prost::Message;
use serde_json::Value;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/linux_resources")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(data(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The limits record/main.go gives the reference.
fn limits() -> LinuxResources {
    LinuxResources {
        memory: 268435456,
        memory_swap: -1,
        cpu_shares: 512,
        cpu_period: 100000,
        cpu_quota: 50000,
        cpuset_cpus: "0-1".into(),
        cpuset_mems: "0".into(),
    }
}

fn options(caps: BTreeSet<String>) -> ConvertOptions {
    ConvertOptions {
        build_platform: Platform::parse("linux/amd64").expect("platform"),
        llb_caps: Some(caps),
        run: RunOptions {
            resources: Some(limits()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Every cap the reference's converter was given (`pb.Caps.All()`).
fn all_caps() -> BTreeSet<String> {
    read("caps.txt").lines().map(str::to_string).collect()
}

async fn converted(opts: &ConvertOptions) -> convert::Converted {
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    convert::convert(&read("Dockerfile"), opts, resolver)
        .await
        .expect("convert")
}

fn expected_bytes() -> Vec<u8> {
    let hex: String = read("definition.hex").split_whitespace().collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test]
async fn definition_equals_the_references() {
    let opts = options(all_caps());
    let converted = converted(&opts).await;
    let def = converted.definition(&opts).expect("marshal");
    let want = expected_bytes();
    assert_eq!(def.encode_to_vec(), want, "in-memory definition");

    let marshal = llb::MarshalOptions {
        constraints: llb::Constraints::new().platform(llb::platform("linux", "amd64", "")),
        caps: opts.llb_caps.clone(),
    };
    let mut streamed = Vec::new();
    llb::write_marshalled(&converted.state, &marshal, &mut streamed).expect("stream");
    assert_eq!(streamed, want, "streamed definition");
}

/// What `buildctl debug dump-llb` (and mstage llb --json) shows of each op's metadata, against
/// encoding/json of the reference's.
#[tokio::test]
async fn metadata_json_equals_the_references() {
    let def = llb::read_definition(&expected_bytes()).expect("decode");
    let want: BTreeMap<String, Value> =
        serde_json::from_str(&read("metadata.json")).expect("metadata.json");
    let lines = llb::definition_to_json_lines(&def).expect("json");
    let got: BTreeMap<String, Value> = lines
        .iter()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("line");
            let digest = v["Digest"].as_str().expect("digest").to_string();
            (digest, v["OpMetadata"].clone())
        })
        .collect();
    assert_eq!(got, want);
}

/// Without the cap the limits are left out, as the reference leaves them, and nothing else
/// about the ops changes: metadata is not part of their digests.
#[tokio::test]
async fn without_the_cap_limits_are_dropped_and_digests_kept() {
    let with = options(all_caps());
    let mut caps = all_caps();
    caps.remove(llb::caps::EXEC_META_LINUX_RESOURCES);
    let without = options(caps);
    let def_with = converted(&with).await.definition(&with).expect("marshal");
    let def_without = converted(&without)
        .await
        .definition(&without)
        .expect("marshal");
    assert_eq!(def_with.def, def_without.def);
    let resources = |def: &mstage::proto::pb::Definition| {
        def.metadata
            .values()
            .filter(|m| {
                m.linux_resources.is_some()
                    || m.caps.contains_key(llb::caps::EXEC_META_LINUX_RESOURCES)
            })
            .count()
    };
    assert_eq!(resources(&def_with), 2, "both RUN steps carry the limits");
    assert_eq!(resources(&def_without), 0);
}

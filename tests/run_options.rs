//! The build's RUN options meet the worker's caps as in the reference's `dispatchRun`: ulimits,
//! the `/dev/shm` size and the cgroup parent only with their caps, extra hosts and hostname
//! always; resource limits only with `exec.meta.linux.resources` (as op metadata, checked byte
//! for byte in tests/linux_resources.rs). What they do in a real build is checked by
//! tests/e2e/run-options, tests/convertllb_cases/run-options and tests/resource_limits.rs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use mstage::cli::llb::FileResolver;
use mstage::convert::{self, ConvertOptions, LinuxResources, RunOptions};
use mstage::platform::Platform;

const DOCKERFILE: &str = "FROM scratch\nRUN true\n";

fn run_options() -> RunOptions {
    RunOptions {
        extra_hosts: vec![("h".into(), "10.0.0.1".parse().expect("ip"))],
        hostname: "box".into(),
        shm_size: 1 << 20,
        ulimits: vec![("nofile".into(), 10, 20)],
        cgroup_parent: "parent".into(),
        ..Default::default()
    }
}

fn options(run: RunOptions, caps: &[&str]) -> ConvertOptions {
    ConvertOptions {
        build_platform: Platform::parse("linux/amd64").expect("platform"),
        llb_caps: Some(caps.iter().map(|c| c.to_string()).collect::<BTreeSet<_>>()),
        run,
        ..Default::default()
    }
}

async fn definition(opts: &ConvertOptions) -> Result<mstage::proto::pb::Definition, String> {
    let resolver = Arc::new(FileResolver::new(BTreeMap::new()));
    let converted = convert::convert(DOCKERFILE, opts, resolver)
        .await
        .map_err(|e| e.to_string())?;
    converted.definition(opts).map_err(|e| e.to_string())
}

async fn exec_meta(
    run: RunOptions,
    caps: &[&str],
) -> Result<(mstage::proto::pb::Meta, usize), String> {
    let definition = definition(&options(run, caps)).await?;
    for bytes in &definition.def {
        let op: mstage::proto::pb::Op = prost::Message::decode(bytes.as_slice()).expect("op");
        if let Some(mstage::proto::pb::op::Op::Exec(exec)) = op.op {
            return Ok((exec.meta.expect("meta"), exec.mounts.len()));
        }
    }
    Err("no exec op".into())
}

#[tokio::test]
async fn capped_options_need_their_caps() {
    let (meta, mounts) = exec_meta(run_options(), &[]).await.expect("convert");
    assert_eq!(meta.hostname, "box");
    assert_eq!(meta.extra_hosts.len(), 1);
    assert!(meta.ulimit.is_empty());
    assert!(meta.cgroup_parent.is_empty());
    assert_eq!(mounts, 1, "no /dev/shm mount without exec.mount.tmpfs.size");

    let caps = [
        "exec.meta.ulimit",
        "exec.mount.tmpfs.size",
        "exec.meta.cgroup.parent",
    ];
    let (meta, mounts) = exec_meta(run_options(), &caps).await.expect("convert");
    assert_eq!(meta.ulimit.len(), 1);
    assert_eq!(meta.cgroup_parent, "parent");
    assert_eq!(mounts, 2);
}

#[tokio::test]
async fn resource_limits_need_their_cap() {
    let run = RunOptions {
        resources: Some(LinuxResources {
            memory: 1 << 30,
            ..Default::default()
        }),
        ..Default::default()
    };
    let limits = |caps: &'static [&'static str]| {
        let run = run.clone();
        async move {
            let opts = options(run, caps);
            let def = definition(&opts).await.expect("convert");
            def.metadata
                .values()
                .filter_map(|m| m.linux_resources.as_ref().map(|r| r.memory))
                .collect::<Vec<_>>()
        }
    };
    assert!(limits(&["exec.meta.ulimit"]).await.is_empty());
    assert_eq!(limits(&["exec.meta.linux.resources"]).await, vec![1 << 30]);
}

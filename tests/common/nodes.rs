//! Standalone BuildKit nodes, as clusters run them: buildkitd (MSTAGE_BUILDKITD, a current
//! BuildKit that CI cannot build) started by `hack/remote-buildkit-up`, mirroring docker.io to the
//! local registry (hack/registry-up) and pulling the frontends from it. Without MSTAGE_BUILDKITD
//! the tests print why they skip.

use std::path::Path;
use std::process::Command;

use super::builder::{image_present, Through, REFERENCE};
use super::docker::{docker, engine_ready, frontend_image, run, succeeds, MULTI_PLATFORM_BASE};

/// Local images pushed as the docker.io images `FROM` and `docker-image://` contexts name, which
/// the nodes pull through their mirror (`busybox` is `docker.io/library/busybox`), when the engine
/// has them (busybox:multi-platform is hack/emulation-up's; the cases using it skip without it).
const MIRRORED: &[(&str, &str)] = &[
    ("busybox:latest", "library/busybox:latest"),
    ("alpine:latest", "library/alpine:latest"),
    (MULTI_PLATFORM_BASE, "library/busybox:multi-platform"),
];

/// What builds on the nodes need, pushed to the registry.
pub struct Setup {
    pub registry: String,
    /// `REGISTRY/mstage-nodes:latest@digest`.
    pub mstage: String,
    /// `REGISTRY/dockerfile-nodes:latest@digest`, when the reference is in the engine.
    pub reference: Option<String>,
}

impl Setup {
    /// Builds through `builder` with the pushed frontends, compared with `expected/<prefix>*`.
    pub fn through(&self, builder: String, expected_prefix: &'static str) -> Through {
        Through {
            builder: Some(builder),
            mstage: self.mstage.clone(),
            reference: self.reference.clone(),
            expected_prefix,
        }
    }
}

/// The registry with the frontends and the mirrored base images pushed, or None (printed why)
/// when MSTAGE_BUILDKITD is unset or the engine lacks the frontend image.
pub fn setup() -> Option<Setup> {
    if std::env::var_os("MSTAGE_BUILDKITD").is_none() {
        eprintln!(
            "skipping: MSTAGE_BUILDKITD is not set (a current buildkitd binary; see \
             hack/remote-buildkit-up); CI cannot build one"
        );
        return None;
    }
    if !engine_ready() {
        return None;
    }
    let registry = super::registry::address()
        .or_else(registry_up)
        .expect("MSTAGE_BUILDKITD is set but no registry answers (hack/registry-up)");
    for (image, path) in MIRRORED {
        if image_present(image) {
            push(image, &registry, path);
        }
    }
    let mstage = push(&frontend_image(), &registry, "mstage-nodes:latest");
    // Recording runs the reference as MSTAGE_IMAGE, alone.
    let record = std::env::var_os("MSTAGE_RECORD").is_some();
    let reference = if record {
        None
    } else if image_present(REFERENCE) {
        Some(push(REFERENCE, &registry, "dockerfile-nodes:latest"))
    } else {
        eprintln!("{REFERENCE} is not in the engine: mstage is checked on its own");
        None
    };
    Some(Setup {
        registry,
        mstage,
        reference,
    })
}

/// Starts the registry the nodes mirror docker.io to (`hack/registry-up`, which reuses a running
/// one; the nodes' script starts it too, but the images are pushed before); its address.
fn registry_up() -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("hack/registry-up");
    let out = Command::new(script).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("REGISTRY="))
        .map(str::to_string)
}

/// Pushes a local image (every platform it holds) as `REGISTRY/path` (`repo:tag`); returns that
/// reference with its digest, so the nodes pull exactly it.
pub fn push(image: &str, registry: &str, path: &str) -> String {
    let remote = format!("{registry}/{path}");
    run(&["tag", image, &remote]);
    run(&["push", "--quiet", &remote]);
    let raw = run(&[
        "buildx",
        "imagetools",
        "inspect",
        "--format",
        "{{json .Manifest}}",
        &remote,
    ]);
    run(&["image", "rm", &remote]);
    let manifest: serde_json::Value = serde_json::from_str(&raw).expect("manifest JSON");
    let digest = manifest["digest"].as_str().expect("pushed digest");
    format!("{remote}@{digest}")
}

/// A node, started if it is not running: for `platform` alone, or (None) the default node of
/// every platform the machine runs; `env` sets more of the script's variables. Its
/// `tcp://127.0.0.1:PORT`.
pub fn node(platform: Option<&str>, env: &[(&str, String)]) -> String {
    let mut cmd =
        Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("hack/remote-buildkit-up"));
    match platform {
        Some(platform) => cmd.env("MSTAGE_BUILDKIT_PLATFORM", platform),
        None => cmd.env_remove("MSTAGE_BUILDKIT_PLATFORM"),
    };
    let out = cmd
        // The native node's emulator and state are its own (`env`), not every node's.
        .env_remove("MSTAGE_BUILDKITD_QEMU")
        .env_remove("MSTAGE_BUILDKIT_DIR")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("hack/remote-buildkit-up");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "hack/remote-buildkit-up for {platform:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("MSTAGE_REMOTE_BUILDKIT="))
        .expect("no MSTAGE_REMOTE_BUILDKIT line")
        .to_string()
}

pub fn port(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap_or_default()
}

/// A buildx builder of `nodes` (address, the platform it declares, if any), created once.
pub fn builder(nodes: &[(&str, Option<&str>)]) -> String {
    let ports: Vec<&str> = nodes.iter().map(|(addr, _)| port(addr)).collect();
    let name = match nodes {
        [(_, None)] => format!("mstage-remote-{}", ports[0]),
        _ => format!("mstage-nodes-{}", ports.join("-")),
    };
    if succeeds(&docker().args(["buildx", "inspect", &name]).output()) {
        return name;
    }
    for (index, (addr, platform)) in nodes.iter().enumerate() {
        let mut args = vec!["buildx", "create", "--name", &name, "--driver", "remote"];
        if index > 0 {
            args.push("--append");
        }
        if let Some(platform) = platform {
            args.extend(["--platform", platform]);
        }
        args.push(addr);
        run(&args);
    }
    name
}

/// The platforms build `id` ran for on the node at `addr` (its own history); none when the
/// node has no such build.
pub fn node_platforms(addr: &str, id: &str) -> Vec<String> {
    let name = builder(&[(addr, None)]);
    let out = docker()
        .args([
            "buildx",
            "history",
            "inspect",
            "--builder",
            &name,
            "--format",
            "json",
            id,
        ])
        .output()
        .expect("docker buildx history");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("no record found") {
        return Vec::new();
    }
    assert!(
        out.status.success(),
        "docker buildx history inspect {id}: {stderr}"
    );
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).expect("history JSON");
    serde_json::from_value(record["Platform"].clone()).expect("history platforms")
}

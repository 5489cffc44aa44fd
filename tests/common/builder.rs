//! Where a case is built: the engine's own BuildKit or a buildx builder of remote nodes, with the
//! frontends its `# syntax=` line names there (local images on the engine; `REGISTRY/repo@digest`
//! on remote nodes, which pull the frontend as a cluster does).

use std::path::Path;
use std::process::Command;

use super::docker::{buildx_build, docker, frontend_image, succeeds, tail};

pub const REFERENCE: &str = "peer/dockerfile:1.26.0";

pub struct Through {
    /// `--builder NAME`, or None for the engine's default builder.
    pub builder: Option<String>,
    /// The frontend under test, as `# syntax=` names it.
    pub mstage: String,
    /// The reference as `# syntax=` names it, when it is there to run too and must agree.
    pub reference: Option<String>,
    /// What the results are compared with: `expected/<prefix><output>.json` of a case.
    pub expected_prefix: &'static str,
}

impl Through {
    /// The engine's default builder and the local images: MSTAGE_IMAGE, and the reference when
    /// it is in the engine and `MSTAGE_RECORD` is unset (recording runs the reference as
    /// MSTAGE_IMAGE).
    pub fn local_engine() -> Through {
        let record = std::env::var_os("MSTAGE_RECORD").is_some();
        let reference = (!record && image_present(REFERENCE)).then(|| REFERENCE.to_string());
        if !record && reference.is_none() {
            eprintln!("note: {REFERENCE} is not in the engine; mstage is checked on its own");
        }
        Through {
            builder: None,
            mstage: frontend_image(),
            reference,
            expected_prefix: "",
        }
    }

    /// `docker buildx build` on this builder, writing the build's metadata to `metadata`.
    pub fn buildx_build(&self, metadata: &Path) -> Command {
        let mut cmd = buildx_build();
        if let Some(builder) = &self.builder {
            cmd.args(["--builder", builder]);
        }
        cmd.arg("--metadata-file").arg(metadata);
        cmd
    }

    /// The frontends to build with, the reference first (so mstage's equal ops come from the
    /// cache it left), each with whether it is the reference.
    pub fn frontends(&self) -> Vec<(&str, bool)> {
        let mut out: Vec<(&str, bool)> =
            self.reference.iter().map(|r| (r.as_str(), true)).collect();
        out.push((&self.mstage, false));
        out
    }
}

pub fn image_present(image: &str) -> bool {
    succeeds(&docker().args(["image", "inspect", image]).output())
}

/// A finished build: its log, and its ID in the builder's history (from the metadata file).
pub struct Built {
    pub log: String,
    pub id: Option<String>,
}

/// Runs `cmd` (a build given `metadata` as its metadata file); the build, or its log's tail.
pub fn finish(mut cmd: Command, metadata: &Path) -> Result<Built, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("docker buildx build: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(tail(&log));
    }
    let id = std::fs::read(metadata)
        .ok()
        .and_then(|data| serde_json::from_slice::<serde_json::Value>(&data).ok())
        .and_then(|m| {
            m["buildx.build.ref"]
                .as_str()
                .and_then(|r| r.rsplit('/').next())
                .map(str::to_string)
        });
    Ok(Built { log, id })
}

/// The frontend a problem is about, as the problem names it.
pub fn who(is_reference: bool) -> &'static str {
    if is_reference {
        "the reference"
    } else {
        "mstage"
    }
}

/// How a case went for one frontend, in its progress line: `ok` or how many problems it had.
pub fn verdict(problems: usize) -> String {
    match problems {
        0 => "ok  ".into(),
        n => format!("FAIL ({n})"),
    }
}

/// A working folder, removed when dropped.
pub struct Work {
    pub dir: std::path::PathBuf,
}

impl Work {
    pub fn new(what: &str) -> Work {
        let dir = std::env::temp_dir().join(format!(
            "mstage-{}-{}",
            std::process::id(),
            what.replace(['/', ':', ' '], "-")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("work dir");
        Work { dir }
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

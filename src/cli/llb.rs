//! `mstage llb`: the Definition BuildKit would be asked to solve, without BuildKit.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use clap::Args;

use super::BuildArgs;
use crate::convert::{self, ConvertOptions};
use crate::llb::{self, Constraints};
use crate::platform::Platform;
use crate::proto::pb;
use crate::stages::{ImageResolver, ResolveError, ResolveFuture, ResolvedImage};

/// `local.unique` of the context source when no session is given. client/llb picks a random id
/// per marshal; a fixed one keeps the output reproducible.
pub const DEFAULT_LOCAL_UNIQUE_ID: &str = "mstage-llb";

/// Settings of the marshal step that the offline CLI chooses itself.
#[derive(Args, Debug, Clone)]
pub struct MarshalArgs {
    /// `local.unique` attr of the build context's local source.
    #[arg(long, default_value = DEFAULT_LOCAL_UNIQUE_ID)]
    pub local_unique_id: String,
    /// An LLB capability the solving BuildKit supports (repeatable); none by default.
    #[arg(long = "llb-cap")]
    pub llb_caps: Vec<String>,
    /// NAME=DIGEST: the manifest digest the offline resolver gives image NAME (repeatable).
    #[arg(long = "image-digest", value_parser = super::key_value)]
    pub image_digests: Vec<(String, String)>,
}

impl Default for MarshalArgs {
    fn default() -> Self {
        MarshalArgs {
            local_unique_id: DEFAULT_LOCAL_UNIQUE_ID.to_string(),
            llb_caps: Vec::new(),
            image_digests: Vec::new(),
        }
    }
}

/// How `llb` prints the Definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Protobuf bytes, as `buildctl debug dump-llb` reads them.
    Binary,
    Json,
    Text,
}

/// Offline image configs: from a JSON file (`{"image": {config...}}`), or none at all.
pub struct FileResolver {
    configs: BTreeMap<String, serde_json::Value>,
    digests: BTreeMap<String, String>,
}

impl FileResolver {
    pub fn new(configs: BTreeMap<String, serde_json::Value>) -> Self {
        FileResolver {
            configs,
            digests: BTreeMap::new(),
        }
    }

    /// Manifest digests the resolver reports (`sha256:...`), by image name.
    pub fn with_digests(mut self, digests: BTreeMap<String, String>) -> Self {
        self.digests = digests;
        self
    }
}

impl ImageResolver for FileResolver {
    fn resolve(&self, image: &str, _: &Platform) -> ResolveFuture {
        let config = self
            .configs
            .get(image)
            .map(|v| serde_json::to_vec(v).unwrap_or_default())
            .unwrap_or_default();
        let digest = self.digests.get(image).cloned().unwrap_or_default();
        let image = image.to_string();
        Box::pin(async move {
            Ok::<_, ResolveError>(ResolvedImage {
                reference: image,
                digest,
                config,
            })
        })
    }
}

fn read_configs(path: Option<&Path>) -> Result<BTreeMap<String, serde_json::Value>, String> {
    let Some(path) = path else {
        return Ok(BTreeMap::new());
    };
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&data).map_err(|e| format!("{}: {e}", path.display()))
}

/// Converts `text` and marshals the target the way `mstage llb` does.
pub async fn definition(
    text: &str,
    opts: &ConvertOptions,
    resolver: Arc<dyn ImageResolver>,
    marshal: &MarshalArgs,
) -> Result<pb::Definition, String> {
    let target = convert_target(text, opts, resolver, marshal).await?;
    llb::marshal(&target.state, &target.marshal).map_err(|e| format!("{}: {e}", target.file))
}

/// The target's op graph, ready to marshal.
struct Target {
    file: String,
    state: llb::State,
    marshal: llb::MarshalOptions,
}

async fn convert_target(
    text: &str,
    opts: &ConvertOptions,
    resolver: Arc<dyn ImageResolver>,
    marshal: &MarshalArgs,
) -> Result<Target, String> {
    let file = opts.filename.clone();
    let mut opts = opts.clone();
    opts.stage_hints = true;
    if !marshal.llb_caps.is_empty() {
        opts.llb_caps = Some(marshal.llb_caps.iter().cloned().collect());
    }
    let converted = convert::convert(text, &opts, resolver)
        .await
        .map_err(|e| super::located(&file, &e))?;
    eprint!("{}", super::lint_lines(&file, &converted.warnings));
    // Offline no image fails to resolve, so a stage name mistyped as an image would go unseen.
    for (range, hint) in &converted.stage_hints {
        eprintln!("{file}:{}: warning: {hint}", range.start_line);
    }
    let platform = opts
        .target_platform
        .clone()
        .unwrap_or_else(|| opts.build_platform.clone());
    let marshal = llb::MarshalOptions {
        constraints: Constraints::new()
            .platform(convert::names::pb_platform(&platform))
            .local_unique_id(marshal.local_unique_id.clone()),
        caps: opts.llb_caps.clone(),
    };
    let convert::Converted { state, .. } = converted;
    Ok(Target {
        file,
        state,
        marshal,
    })
}

/// `mstage llb`: converts the build's Dockerfile and writes its definition to `out`.
pub async fn run(
    build: &BuildArgs,
    image_config: Option<&Path>,
    marshal: &MarshalArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), String> {
    let (text, opts) = build.read()?;
    let digests = marshal.image_digests.iter().cloned().collect();
    let resolver = Arc::new(FileResolver::new(read_configs(image_config)?).with_digests(digests));
    let target = convert_target(&text, &opts, resolver, marshal).await?;
    drop(text);
    let file = &target.file;
    let written = match format {
        // Streamed: the definition is never whole in memory.
        Format::Binary => llb::write_marshalled(&target.state, &target.marshal, &mut &mut *out)
            .map_err(|e| format!("{file}: {e}")),
        _ => {
            let def =
                llb::marshal(&target.state, &target.marshal).map_err(|e| format!("{file}: {e}"))?;
            write_out(out, &render(&def, format)?)
        }
    };
    // The process ends once the output is written: freeing a large op graph piece by piece
    // costs more (a tenth of the run on big Dockerfiles) than letting the OS reclaim it.
    std::mem::forget(target);
    written
}

/// `--decode FILE`: prints a binary Definition (ours or another converter's) in `format`.
pub fn decode(path: &Path, format: Format, out: &mut dyn Write) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let def = llb::read_definition(&data).map_err(|e| format!("{}: {e}", path.display()))?;
    write_out(out, &render(&def, format)?)
}

pub(super) fn write_out(out: &mut dyn Write, bytes: &[u8]) -> Result<(), String> {
    out.write_all(bytes).map_err(|e| format!("mstage: {e}"))
}

fn render(def: &pb::Definition, format: Format) -> Result<Vec<u8>, String> {
    match format {
        Format::Json => {
            let lines = llb::definition_to_json_lines(def).map_err(|e| e.to_string())?;
            Ok((lines.join("\n") + "\n").into_bytes())
        }
        Format::Text => Ok(super::text::definition_text(def)?.into_bytes()),
        Format::Binary => {
            let mut out = Vec::new();
            llb::write_definition(def, &mut out).map_err(|e| e.to_string())?;
            Ok(out)
        }
    }
}

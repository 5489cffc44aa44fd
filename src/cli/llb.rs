//! `mstage llb`: the Definition BuildKit would be asked to solve, without BuildKit.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::BuildArgs;
use crate::convert;
use crate::platform::Platform;
use crate::stages::{ImageResolver, ResolveError, ResolveFuture, ResolvedImage};

/// Offline image configs: from a JSON file (`{"image": {config...}}`), or none at all.
struct FileResolver {
    configs: BTreeMap<String, serde_json::Value>,
}

impl ImageResolver for FileResolver {
    fn resolve(&self, image: &str, _: &Platform) -> ResolveFuture {
        let config = self
            .configs
            .get(image)
            .map(|v| serde_json::to_vec(v).unwrap_or_default())
            .unwrap_or_default();
        let image = image.to_string();
        Box::pin(async move {
            Ok::<_, ResolveError>(ResolvedImage {
                reference: image,
                digest: String::new(),
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

pub async fn run(
    build: &BuildArgs,
    image_config: Option<&Path>,
    json: bool,
) -> Result<Vec<u8>, String> {
    let (text, opts) = build.read()?;
    let resolver = Arc::new(FileResolver {
        configs: read_configs(image_config)?,
    });
    let file = opts.filename.clone();
    let converted = convert::convert(&text, &opts, resolver)
        .await
        .map_err(|e| super::located(&file, &e))?;
    let def = converted
        .definition(&opts)
        .map_err(|e| super::located(&file, &e))?;
    if json {
        let lines = crate::llb::definition_to_json_lines(&def).map_err(|e| e.to_string())?;
        return Ok((lines.join("\n") + "\n").into_bytes());
    }
    let mut out = Vec::new();
    crate::llb::write_definition(&def, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

//! Reading OCI image layouts written by `--output type=oci,tar=false`.

use std::path::Path;

use serde_json::Value;

fn read_json(path: &Path) -> Result<Value, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&data).map_err(|e| format!("{}: {e}", path.display()))
}

/// The blob `digest` (`sha256:…`) of the layout at `layout`, as JSON.
pub fn blob(layout: &Path, digest: &Value) -> Result<Value, String> {
    let digest = digest.as_str().ok_or("no digest")?;
    let hex = digest.strip_prefix("sha256:").ok_or("not sha256")?;
    read_json(&layout.join("blobs/sha256").join(hex))
}

/// The digest of the layout's first manifest (or index), as `oci-layout://…@` names it.
pub fn top_digest(layout: &Path) -> Result<String, String> {
    let index = read_json(&layout.join("index.json"))?;
    index["manifests"][0]["digest"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{}: no manifest", layout.display()))
}

/// The image config of the layout's (first) image, without `created` anywhere.
pub fn config_without_times(layout: &Path) -> Result<Value, String> {
    let index = read_json(&layout.join("index.json"))?;
    let mut manifest = blob(layout, &index["manifests"][0]["digest"])?;
    if manifest.get("manifests").is_some() {
        manifest = blob(layout, &manifest["manifests"][0]["digest"])?;
    }
    let mut config = blob(layout, &manifest["config"]["digest"])?;
    strip_created(&mut config);
    Ok(config)
}

fn strip_created(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("created");
            map.values_mut().for_each(strip_created);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_created),
        _ => {}
    }
}

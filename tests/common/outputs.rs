//! What a build's output holds, in a form that does not change between builds: every file of a
//! local or tar output, and for an OCI layout each platform's image config and files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

/// What an output holds, in a form that does not change between builds.
pub fn view(output: &str, work: &Path) -> Value {
    let dest = work.join("out");
    match output {
        "local" => tree(&dest),
        "tar" => {
            let dir = work.join("untarred");
            untar(&work.join("out.tar"), &dir);
            tree(&dir)
        }
        _ => {
            let dir = work.join("layout");
            untar(&work.join("out.tar"), &dir);
            oci_view(&dir)
        }
    }
}

pub fn untar(tar: &Path, into: &Path) {
    std::fs::create_dir_all(into).expect("untar dir");
    let status = Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(into)
        .status()
        .expect("tar");
    assert!(status.success(), "tar -xf {}", tar.display());
}

/// Every path below `root`: a file's permission bits and content, a folder's `<dir MODE>` or a
/// symlink's `-> target`.
pub fn tree(root: &Path) -> Value {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    json!(out)
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap_or_default();
            out.insert(name, format!("-> {}", target.display()));
        } else if meta.is_dir() {
            out.insert(name, format!("<dir {:o}>", mode(&meta)));
            walk(root, &path, out);
        } else {
            let data = std::fs::read(&path).unwrap_or_default();
            let text = String::from_utf8_lossy(&data);
            out.insert(name, format!("[{:o}] {text}", mode(&meta)));
        }
    }
}

fn mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

/// Each image of an OCI layout keyed by its platform: its config (times dropped, layer ids
/// counted) and the files of its layers. Attestation manifests are BuildKit's, not the
/// frontend's, and are left out.
fn oci_view(layout: &Path) -> Value {
    let index: Value = read_json(&layout.join("index.json"));
    let mut images = serde_json::Map::new();
    collect_images(layout, &index, &mut images);
    Value::Object(images)
}

fn collect_images(layout: &Path, index: &Value, images: &mut serde_json::Map<String, Value>) {
    for desc in index["manifests"].as_array().into_iter().flatten() {
        if desc["annotations"]["vnd.docker.reference.type"] == "attestation-manifest" {
            continue;
        }
        let blob: Value = read_json(&blob_path(layout, &desc["digest"]));
        if desc["mediaType"]
            .as_str()
            .is_some_and(|m| m.contains("index"))
        {
            collect_images(layout, &blob, images);
            continue;
        }
        let config: Value = read_json(&blob_path(layout, &blob["config"]["digest"]));
        let files = layout.join(format!("rootfs-{}", images.len()));
        for layer in blob["layers"].as_array().into_iter().flatten() {
            untar(&blob_path(layout, &layer["digest"]), &files);
        }
        let mut platform = format!(
            "{}/{}",
            config["os"].as_str().unwrap_or(""),
            config["architecture"].as_str().unwrap_or("")
        );
        if let Some(variant) = config["variant"].as_str() {
            platform = format!("{platform}/{variant}");
        }
        images.insert(
            platform,
            json!({"config": normalized_config(config), "files": tree(&files)}),
        );
    }
}

fn blob_path(layout: &Path, digest: &Value) -> PathBuf {
    let digest = digest.as_str().unwrap_or_default();
    let (algo, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    layout.join("blobs").join(algo).join(hex)
}

pub fn read_json(path: &Path) -> Value {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&data).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The config without what changes between builds: creation times and layer digests (the
/// files are compared instead; their times differ between builds).
fn normalized_config(mut config: Value) -> Value {
    if let Some(c) = config.as_object_mut() {
        c.remove("created");
        if let Some(ids) = c.get_mut("rootfs").and_then(|r| r.get_mut("diff_ids")) {
            *ids = json!(ids.as_array().map_or(0, Vec::len));
        }
    }
    for entry in config["history"].as_array_mut().into_iter().flatten() {
        if let Some(e) = entry.as_object_mut() {
            e.remove("created");
        }
    }
    config
}

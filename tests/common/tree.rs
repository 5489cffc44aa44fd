//! A build's file tree (`--output type=tar`) as text that stays the same from one build of the
//! same input to the next: one line per entry with its mode, owner, and the sha256 of its
//! content (a link's target for links), without times, which come from the client's files.

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

/// `tar` at `tar` listed as `<mode> <uid/gid> <content> <path>` lines, sorted by path. Needs
/// `scratch`, an empty folder to unpack into for the contents.
pub fn listing(tar: &Path, scratch: &Path) -> Result<String, String> {
    std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(scratch)
        .output()
        .map_err(|e| e.to_string())?;
    if !untar.status.success() {
        return Err(String::from_utf8_lossy(&untar.stderr).into_owned());
    }
    let list = Command::new("tar")
        .args(["--numeric-owner", "-tvf"])
        .arg(tar)
        .output()
        .map_err(|e| e.to_string())?;
    if !list.status.success() {
        return Err(String::from_utf8_lossy(&list.stderr).into_owned());
    }
    // `-rw-r--r-- 0/0 6 2024-01-01 00:00 out/x.txt`, `lrwxrwxrwx … a -> b`, `hrw-… a link to b`
    let mut lines: Vec<(String, String)> = Vec::new();
    for line in String::from_utf8_lossy(&list.stdout).lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(mode), Some(owner)) = (fields.first(), fields.get(1)) else {
            continue;
        };
        let rest = fields.get(5..).unwrap_or_default().join(" ");
        let (path, content) = if let Some((path, target)) = rest.split_once(" -> ") {
            (path.to_string(), format!("-> {target}"))
        } else if let Some((path, target)) = rest.split_once(" link to ") {
            (path.to_string(), format!("link to {target}"))
        } else if mode.starts_with('-') {
            let data = std::fs::read(scratch.join(&rest)).map_err(|e| format!("{rest}: {e}"))?;
            let hex: String = Sha256::digest(&data)
                .iter()
                .take(12)
                .map(|b| format!("{b:02x}"))
                .collect();
            (rest.clone(), hex)
        } else {
            (rest.clone(), "-".to_string())
        };
        let path = path.trim_end_matches('/').to_string();
        lines.push((path.clone(), format!("{mode} {owner} {content} {path}")));
    }
    lines.sort();
    Ok(lines.into_iter().map(|(_, l)| l + "\n").collect())
}

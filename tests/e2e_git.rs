//! `ADD <git remote>` end to end: a repository made here (two commits, an annotated tag on the
//! first) is served by `git daemon` on a loopback port, and the same Dockerfile is built by the
//! local engine's BuildKit with the mstage image and with the reference frontend image; both
//! results must hold the tagged files and be identical. BuildKit fetches git sources from the
//! daemon's own network namespace, so loopback works under `--network none` (which only
//! concerns RUN). Skips like the other end-to-end tests when the engine or git is missing.

mod common;

use common::docker::{buildx_build, docker, engine_ready, frontend_image, missing};
use common::serve::{git, git_available, LoopbackServer};

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The reference frontend the result is compared with (`MSTAGE_REFERENCE_IMAGE` overrides).
fn reference_image() -> String {
    std::env::var("MSTAGE_REFERENCE_IMAGE").unwrap_or_else(|_| "peer/dockerfile:1.26.0".into())
}

/// `<base>/repo.git`, a bare repository: tag v1 holds a.txt "one" and sub/b.txt "two"; main
/// moved on to a.txt "changed".
fn make_repo(base: &Path) {
    let work = base.join("work");
    std::fs::create_dir_all(work.join("sub")).expect("work dir");
    git(&work, &["init", "-q"]);
    std::fs::write(work.join("a.txt"), "one\n").expect("write");
    std::fs::write(work.join("sub/b.txt"), "two\n").expect("write");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "first"]);
    git(&work, &["tag", "-a", "v1", "-m", "version 1"]);
    std::fs::write(work.join("a.txt"), "changed\n").expect("write");
    git(&work, &["commit", "-q", "-am", "second"]);
    git(base, &["clone", "-q", "--bare", "work", "repo.git"]);
}

/// Builds `dockerfile` with `frontend`, exporting the result's filesystem as a tar (which keeps
/// ownership) and unpacking it into `out`; returns each path's `uid/gid`.
fn build(
    frontend: &str,
    dockerfile: &str,
    work: &Path,
    out: &Path,
) -> Result<BTreeMap<String, String>, String> {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned());
    let ctx = work.join(format!("ctx-{}", name.unwrap_or_default()));
    std::fs::create_dir_all(&ctx).map_err(|e| e.to_string())?;
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("# syntax={frontend}\n{dockerfile}"),
    )
    .map_err(|e| e.to_string())?;
    let tar = ctx.join("rootfs.tar");
    let result = buildx_build()
        .arg("--output")
        .arg(format!("type=tar,dest={}", tar.display()))
        .arg(&ctx)
        .output()
        .map_err(|e| e.to_string())?;
    if !result.status.success() {
        return Err(String::from_utf8_lossy(&result.stderr).into_owned());
    }
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(out)
        .status()
        .map_err(|e| e.to_string())?;
    assert!(untar.success(), "tar -x");
    let listing = Command::new("tar")
        .args(["--numeric-owner", "-tvf"])
        .arg(&tar)
        .output()
        .map_err(|e| e.to_string())?;
    // `-rw-r--r-- 1000/1000 4 2024-01-01 00:00 head/a.txt`
    Ok(String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                f.get(5)?.trim_end_matches('/').to_string(),
                f.get(1)?.to_string(),
            ))
        })
        .collect())
}

/// Every path under `root` with its mode and, for files, content (symlinks by target).
fn tree(root: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let rel = path
                .strip_prefix(root)
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let content = if meta.file_type().is_symlink() {
                std::fs::read_link(&path)
                    .map(|t| t.display().to_string().into_bytes())
                    .unwrap_or_default()
            } else if meta.is_file() {
                std::fs::read(&path).expect("read")
            } else {
                stack.push(path.clone());
                Vec::new()
            };
            out.insert(rel, (meta.permissions().mode(), content));
        }
    }
    out
}

fn read(root: &Path, rel: &str) -> Option<String> {
    std::fs::read_to_string(root.join(rel)).ok()
}

#[test]
fn add_git_remote_matches_reference() {
    if !engine_ready() {
        return;
    }
    if !git_available() {
        missing("git");
        return;
    }
    let work: PathBuf = std::env::temp_dir().join(format!("mstage-e2e-git-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let base = work.join("repos");
    std::fs::create_dir_all(&base).expect("temp dir");
    make_repo(&base);
    let Some(daemon) = LoopbackServer::start(&base) else {
        missing("git daemon");
        return;
    };
    let remote = format!("git://127.0.0.1:{}/repo.git", daemon.port);
    let dockerfile = format!(
        "FROM scratch\n\
         ADD {remote}#v1 /src\n\
         ADD --keep-git-dir {remote}#v1 /kept\n\
         ADD \"{remote}?tag=v1&subdir=sub\" /sub\n\
         ADD --chown=1000:1000 {remote} /head/\n"
    );
    let ours = work.join("ours");
    let theirs = work.join("theirs");
    let built = build(&frontend_image(), &dockerfile, &work, &ours);
    let reference = build(&reference_image(), &dockerfile, &work, &theirs);
    drop(daemon);
    let owners = match built {
        Ok(o) => o,
        Err(e) => panic!("mstage build failed:\n{e}"),
    };
    assert_eq!(read(&ours, "src/a.txt").as_deref(), Some("one\n"));
    assert_eq!(read(&ours, "src/sub/b.txt").as_deref(), Some("two\n"));
    assert!(
        !ours.join("src/.git").exists(),
        ".git kept without --keep-git-dir"
    );
    assert!(ours.join("kept/.git").is_dir(), "--keep-git-dir lost .git");
    assert_eq!(read(&ours, "sub/b.txt").as_deref(), Some("two\n"));
    assert!(
        !ours.join("sub/a.txt").exists(),
        "subdir copied the whole repository"
    );
    assert_eq!(read(&ours, "head/a.txt").as_deref(), Some("changed\n"));
    assert_eq!(
        owners.get("head/a.txt").map(String::as_str),
        Some("1000/1000")
    );
    assert_eq!(owners.get("src/a.txt").map(String::as_str), Some("0/0"));
    match reference {
        Err(e) => {
            let image = reference_image();
            let present = docker()
                .args(["image", "inspect", &image])
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(!present, "reference build with {image} failed:\n{e}");
            // The reference is a developer's tool, never part of CI's machine: without it the
            // assertions above (what the reference gave when this test was written) stand alone.
            eprintln!("not compared with the reference: no image {image}");
        }
        Ok(reference_owners) => {
            assert_eq!(owners, reference_owners, "owners differ from the reference");
            let (a, b) = (tree(&ours), tree(&theirs));
            // .git holds packed objects and indexes whose bytes are not ours to compare twice:
            // both builds read the same git source op, so compare names and modes only there.
            let strip = |t: &BTreeMap<String, (u32, Vec<u8>)>| -> BTreeMap<String, (u32, Vec<u8>)> {
                t.iter()
                    .map(|(k, (m, c))| {
                        let c = if k.starts_with("kept/.git/") {
                            Vec::new()
                        } else {
                            c.clone()
                        };
                        (k.clone(), (*m, c))
                    })
                    .collect()
            };
            assert_eq!(strip(&a), strip(&b), "mstage and the reference differ");
            eprintln!("{} paths identical to the reference's", a.len());
        }
    }
    let _ = std::fs::remove_dir_all(&work);
}

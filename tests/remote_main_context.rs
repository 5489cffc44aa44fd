//! The build context and Dockerfile from an http(s) URL (`docker buildx build http://...`), as
//! dockerui reads them: a tar archive is unpacked into the context (its Dockerfile read from
//! there); any other file is the Dockerfile itself, fetched as `context`. Served on loopback
//! (BuildKit fetches from its own network namespace), built with mstage and, when it is in the
//! engine, with the reference, which must give the same files. A git context is built in
//! tests/source_date_epoch_sources.rs (`context-git`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::builder::{image_present, REFERENCE};
use common::docker::{buildx_build, engine_ready, frontend_image, tail};
use common::serve::HttpServer;

/// The served folder for `frontend`: `ctx.tar` (a Dockerfile copying the whole context, and a
/// file) and `Dockerfile` (one that only writes a file).
fn serve_folder(work: &Path, frontend: &str) -> PathBuf {
    let ctx = work.join("ctx");
    let www = work.join("www");
    std::fs::create_dir_all(ctx.join("sub")).expect("ctx");
    std::fs::create_dir_all(&www).expect("www");
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("# syntax={frontend}\nFROM scratch\nCOPY . /ctx/\n"),
    )
    .expect("write");
    std::fs::write(ctx.join("sub/hello"), "hi\n").expect("write");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&ctx)
        .args(["-cf"])
        .arg(www.join("ctx.tar"))
        .arg(".")
        .status()
        .expect("tar");
    assert!(status.success(), "tar failed");
    std::fs::write(
        www.join("Dockerfile"),
        format!("# syntax={frontend}\nFROM scratch\nCOPY --from=busybox /bin/busybox /bb\n"),
    )
    .expect("write");
    www
}

/// The files a build of `url` wrote, relative to the output folder, sorted.
fn built_files(url: &str, out: &Path) -> Result<Vec<String>, String> {
    let built = buildx_build()
        .arg("--output")
        .arg(format!("type=local,dest={}", out.display()))
        .arg(url)
        .output()
        .map_err(|e| e.to_string())?;
    if !built.status.success() {
        return Err(tail(&String::from_utf8_lossy(&built.stderr)));
    }
    let mut files = Vec::new();
    let mut todo = vec![out.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(rel) = path.strip_prefix(out) {
                files.push(rel.display().to_string());
            }
        }
    }
    files.sort();
    Ok(files)
}

#[test]
fn http_contexts_build_what_the_reference_builds() {
    if !engine_ready() {
        return;
    }
    let mut frontends = vec![frontend_image()];
    if image_present(REFERENCE) {
        frontends.push(REFERENCE.to_string());
    } else {
        eprintln!("{REFERENCE} is not in the engine; checking mstage against the expected files");
    }
    for frontend in frontends {
        let work = std::env::temp_dir().join(format!(
            "mstage-http-context-{}-{}",
            std::process::id(),
            frontend.replace(['/', ':'], "_")
        ));
        let _ = std::fs::remove_dir_all(&work);
        let www = serve_folder(&work, &frontend);
        let server = HttpServer::start(&www).expect("http server");
        let base = format!("http://127.0.0.1:{}", server.port);
        let archive = built_files(&format!("{base}/ctx.tar"), &work.join("out-tar"));
        let dockerfile = built_files(&format!("{base}/Dockerfile"), &work.join("out-df"));
        drop(server);
        let _ = std::fs::remove_dir_all(&work);
        assert_eq!(
            archive.unwrap_or_else(|e| panic!("{frontend}: archive context: {e}")),
            ["ctx/Dockerfile", "ctx/sub/hello"],
            "{frontend}: the archive is the context"
        );
        assert_eq!(
            dockerfile.unwrap_or_else(|e| panic!("{frontend}: Dockerfile URL: {e}")),
            ["bb"],
            "{frontend}: the file is the Dockerfile"
        );
    }
}

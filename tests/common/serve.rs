//! Sources served on loopback for builds to fetch: a git repository through `git daemon` and
//! files over plain HTTP. BuildKit fetches git and http sources from the daemon's own network
//! namespace, so loopback works under `--network none` (which only concerns RUN). Both servers
//! stop when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Whether a `git` binary is there to make and serve repositories.
pub fn git_available() -> bool {
    Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `git args` in `dir` with a fixed identity and no system configuration.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=mstage",
            "-c",
            "user.email=mstage@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `<base>/repo.git`, a bare repository whose tag `v1` holds the files of `files` and whose
/// `main` moved on by one commit adding `after-v1.txt`, so a build reading `v1` is told apart
/// from one reading the head. Served as plain files over HTTP, it is a "dumb" git remote.
pub fn make_tagged_repo(files: &Path, base: &Path) {
    let work = base.join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    let status = Command::new("cp")
        .arg("-a")
        .arg(files.join("."))
        .arg(&work)
        .status()
        .expect("cp");
    assert!(status.success(), "copying {}", files.display());
    git(&work, &["init", "-q"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "first"]);
    git(&work, &["tag", "-a", "v1", "-m", "version 1"]);
    std::fs::write(work.join("after-v1.txt"), "head\n").expect("write");
    git(&work, &["add", "after-v1.txt"]);
    git(&work, &["commit", "-q", "-m", "second"]);
    git(base, &["clone", "-q", "--bare", "work", "repo.git"]);
    // The files a client of git's "dumb" HTTP protocol reads, for serving it as plain files.
    git(&base.join("repo.git"), &["update-server-info"]);
}

fn free_port() -> Option<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ok()
        .map(|a| a.port())
}

fn wait_for(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A server process on a loopback port (`git daemon`, python's http.server), stopped when
/// dropped.
pub struct LoopbackServer {
    child: Child,
    pub port: u16,
}

impl LoopbackServer {
    /// `git daemon` serving the repositories under `base` as `git://127.0.0.1:PORT/<name>`.
    pub fn start(base: &Path) -> Option<LoopbackServer> {
        let port = free_port()?;
        let child = Command::new("git")
            .arg("daemon")
            .arg("--export-all")
            .arg("--reuseaddr")
            .arg(format!("--base-path={}", base.display()))
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let daemon = LoopbackServer { child, port };
        wait_for(port).then_some(daemon)
    }

    /// python's http.server serving the files under `dir`; without `last_modified` its
    /// responses carry no Last-Modified header (what SOURCE_DATE_EPOCH of an http source reads).
    pub fn python_http(dir: &Path, last_modified: bool) -> Option<LoopbackServer> {
        const SERVER: &str = r#"
import http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    def send_header(self, key, value):
        if key.lower() == "last-modified" and sys.argv[3] == "0":
            return
        super().send_header(key, value)
    def log_message(self, *args):
        pass
handler = lambda *a: Handler(*a, directory=sys.argv[2])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
"#;
        let port = free_port()?;
        let child = Command::new("python3")
            .args(["-c", SERVER, &port.to_string()])
            .arg(dir)
            .arg(if last_modified { "1" } else { "0" })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = LoopbackServer { child, port };
        wait_for(port).then_some(server)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Files under a folder served by GET and HEAD at `http://127.0.0.1:PORT/<path>`, one
/// connection at a time, without `Last-Modified` (BuildKit then dates the file at the epoch, so
/// builds reading it are reproducible).
pub struct HttpServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(root: &Path) -> Option<HttpServer> {
        let listener = TcpListener::bind("127.0.0.1:0").ok()?;
        let port = listener.local_addr().ok()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let root = root.to_path_buf();
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let _ = answer(&root, stream);
                }
            }
        });
        Some(HttpServer {
            port,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The file a request path names under `root`, refusing anything but plain names.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?.trim_start_matches('/');
    let rel = Path::new(path);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(rel)).filter(|p| p.is_file())
}

fn answer(root: &Path, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let mut stream = stream;
    let body = match (method, resolve(root, target)) {
        ("GET" | "HEAD", Some(file)) => std::fs::read(file)?,
        _ => {
            return stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    };
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method == "GET" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

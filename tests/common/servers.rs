//! Sources served on loopback for builds to fetch: a `git daemon` and python's http.server
//! (with or without Last-Modified). BuildKit fetches git and http sources from its own network
//! namespace, so loopback works under `--network none` (which only concerns RUN). Each server
//! stops when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process on a loopback port.
pub struct Served {
    child: Child,
    pub port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Option<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ok()
        .map(|a| a.port())
}

/// Waits for `child` to accept connections on `port`.
fn serving(child: Child, port: u16) -> Option<Served> {
    let served = Served { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(served);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// `git daemon` exporting the repositories under `base` (`git://127.0.0.1:PORT/NAME`).
pub fn git_daemon(base: &Path) -> Option<Served> {
    let port = free_port()?;
    let child = Command::new("git")
        .args([
            "daemon",
            "--export-all",
            "--reuseaddr",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--base-path={}", base.display()))
        .arg(format!("--port={port}"))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    serving(child, port)
}

/// The files under `dir` over http; without `last_modified` the responses carry no
/// Last-Modified header.
pub fn http_server(dir: &Path, last_modified: bool) -> Option<Served> {
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
    serving(child, port)
}

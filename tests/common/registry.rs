//! The local registry `hack/registry-up` starts, as the registry tests reach it.

use std::net::TcpStream;
use std::path::Path;

/// The registry's `127.0.0.1:PORT` (MSTAGE_REGISTRY, or the one recorded under
/// MSTAGE_REGISTRY_DIR, /tmp/mstage-registry by default), when one answers.
pub fn address() -> Option<String> {
    let addr = match std::env::var("MSTAGE_REGISTRY") {
        Ok(addr) => addr,
        Err(_) => {
            let dir = std::env::var("MSTAGE_REGISTRY_DIR")
                .unwrap_or_else(|_| "/tmp/mstage-registry".into());
            let port = std::fs::read_to_string(Path::new(&dir).join("port")).ok()?;
            format!("127.0.0.1:{}", port.trim())
        }
    };
    TcpStream::connect(&addr).ok().map(|_| addr)
}

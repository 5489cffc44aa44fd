//! The gRPC channel to BuildKit: HTTP/2 over the frontend container's stdin (responses) and stdout
//! (requests). BuildKit serves the LLBBridge on the other end of those pipes.

use std::sync::Mutex;

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint};

/// Opens the channel. The pipes exist once, so a reconnect attempt fails instead of reusing them.
pub async fn connect() -> Result<Channel, tonic::transport::Error> {
    let pipes = Mutex::new(Some(tokio::io::join(
        tokio::io::stdin(),
        tokio::io::stdout(),
    )));
    // The URI is never dialled; the connector hands over the pipes.
    Endpoint::from_static("http://buildkit.stdio")
        .connect_with_connector(tower::service_fn(move |_| {
            let taken = pipes.lock().ok().and_then(|mut slot| slot.take());
            async move {
                taken.map(TokioIo::new).ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotConnected,
                        "the stdio connection to BuildKit was already used and is gone",
                    )
                })
            }
        }))
        .await
}

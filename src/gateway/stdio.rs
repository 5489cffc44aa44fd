//! The gRPC channel to BuildKit: HTTP/2 over the frontend container's stdin (responses) and stdout
//! (requests). BuildKit serves the LLBBridge on the other end of those pipes.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::FileTypeExt;
use std::sync::Mutex;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;
use tonic::transport::{Channel, Endpoint};

/// Opens the channel. BuildKit hands a frontend pipes, which the runtime then polls directly;
/// anything else (a terminal, a file) goes through tokio's blocking stdio threads.
pub async fn connect() -> Result<Channel, tonic::transport::Error> {
    match pipes() {
        Some((rx, tx)) => {
            super::trace::mark("stdio: non-blocking pipes");
            connect_over(tokio::io::join(rx, tx)).await
        }
        None => {
            super::trace::mark("stdio: blocking threads");
            connect_over(tokio::io::join(tokio::io::stdin(), tokio::io::stdout())).await
        }
    }
}

/// Stdin and stdout as non-blocking pipe ends, when both are pipes. Copies of the descriptors are
/// put in non-blocking mode, which the originals share; nothing else uses them in a frontend.
fn pipes() -> Option<(pipe::Receiver, pipe::Sender)> {
    let rx = fifo(std::io::stdin().as_fd())?;
    let tx = fifo(std::io::stdout().as_fd())?;
    // Both are pipes before either is made non-blocking, so the fallback never sees one that is.
    Some((
        pipe::Receiver::from_file(rx).ok()?,
        pipe::Sender::from_file(tx).ok()?,
    ))
}

/// A copy of `fd` when it is a pipe.
fn fifo(fd: BorrowedFd<'_>) -> Option<File> {
    let file = File::from(fd.try_clone_to_owned().ok()?);
    let is_fifo = file.metadata().ok()?.file_type().is_fifo();
    is_fifo.then_some(file)
}

/// The pipes exist once, so a reconnect attempt fails instead of reusing them.
async fn connect_over<T>(io: T) -> Result<Channel, tonic::transport::Error>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let pipes = Mutex::new(Some(io));
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

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    #[test]
    fn only_pipes_take_the_non_blocking_path() {
        let (reader, writer) = std::io::pipe().expect("pipe");
        assert!(super::fifo(reader.as_fd()).is_some());
        assert!(super::fifo(writer.as_fd()).is_some());
        let file = std::fs::File::open("Cargo.toml").expect("Cargo.toml");
        assert!(super::fifo(file.as_fd()).is_none());
    }
}

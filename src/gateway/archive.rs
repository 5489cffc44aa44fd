//! The newest regular file of a downloaded archive (1.26's `archiveMaxTimeFromRef`, which reads
//! the file through moby's `DecompressStream` and Go's `archive/tar`): what dates an http source
//! that has no Last-Modified. Anything that is not such an archive has no date.
//!
//! BuildKit reads the archive: a copy with AttemptUnpack unpacks exactly what the reference
//! reads (`DecompressStream`, then a first tar header that parses) and copies anything else as
//! it is; the unpacked tree is then walked for its newest regular file. The tree tells what the
//! headers do, except in corners: a member listed twice or hard-linked shows only the time set
//! last, a time before 1970 shows as 1970, an archive BuildKit refuses to unpack (a member
//! leading out of it) has no date, and a PAX global header, which Go's reader counts as a file
//! of the year 1, is no file. A download over 16 MiB is dated too, where the reference, reading
//! it whole in one gRPC message, fails ("trying to send message larger than max").

use super::bridge::{Bridge, BridgeError, SolvedRef};
use super::epoch::in_buildkit_words;
use super::frontend::FrontendError;
use crate::llb::{self, Constraints, CopyOptions, MarshalOptions, State};
use crate::proto::fsutil::types::Stat;
use crate::proto::moby::buildkit::v1::frontend::FileRange;
use crate::proto::pb;

/// Where the download is unpacked: a directory when it is an archive, else the file itself.
const UNPACKED: &str = "/unpacked";

/// xz's magic. `DecompressStream` runs the `xz` binary for it, which the reference's image
/// (FROM scratch) lacks: the stream fails to open there, so an xz archive has no date, though
/// BuildKit itself may well unpack it.
pub(super) const XZ_MAGIC: [u8; 6] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];

/// Go's `fs.ModeDir` and `fs.ModeType` (directory, symlink, device, pipe, socket, character
/// device, irregular), as fsutil's `Stat.mode` carries them.
const GO_MODE_DIR: u32 = 1 << 31;
const GO_MODE_TYPE: u32 = GO_MODE_DIR | 1 << 27 | 1 << 26 | 1 << 25 | 1 << 24 | 1 << 21 | 1 << 19;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// The newest modification time (Unix seconds) among the regular files of the archive that the
/// http source `op` downloads as `filename`; `None` when it is not a (compressed) tar archive,
/// BuildKit cannot read it to its end, or it holds no regular file.
pub async fn newest_file_time(
    bridge: &Bridge,
    op: pb::SourceOp,
    filename: &str,
) -> Result<Option<i64>, FrontendError> {
    let download = llb::source(&op.identifier, op.attrs, Constraints::new());
    let definition = llb::marshal(&download, &MarshalOptions::default())?;
    let downloaded = bridge.solve(definition).await.map_err(in_buildkit_words)?;
    let magic = FileRange {
        offset: 0,
        length: XZ_MAGIC.len() as i64,
    };
    let head = bridge
        .read_file(&downloaded, filename, Some(magic))
        .await
        .map_err(in_buildkit_words)?;
    if head.starts_with(&XZ_MAGIC) {
        return Ok(None);
    }
    // The download is there already, so a failure to unpack (at the solve, or at the first
    // read of a lazy result) is the archive's: the reference's reader fails on it too, which
    // tells no date.
    let definition = llb::marshal(&unpack(&download, filename), &MarshalOptions::default())?;
    let unpacked = match bridge.solve(definition).await {
        Ok(unpacked) => unpacked,
        Err(BridgeError::Call { .. }) => return Ok(None),
        Err(other) => return Err(other.into()),
    };
    match bridge.stat_file(&unpacked, UNPACKED).await {
        Ok(stat) if stat.mode & GO_MODE_DIR != 0 => {}
        Ok(_) | Err(BridgeError::Call { .. }) => return Ok(None),
        Err(other) => return Err(other.into()),
    }
    let newest = newest_regular(bridge, &unpacked).await?;
    Ok(newest.map(unix_seconds))
}

/// Go's `Time.Unix()` of a time in nanoseconds: whole seconds, rounded down.
fn unix_seconds(nanos: i64) -> i64 {
    nanos.div_euclid(NANOS_PER_SECOND)
}

/// The download copied into an empty directory, unpacked when it is an archive.
fn unpack(download: &State, filename: &str) -> State {
    let name = format!("[internal] unpack {filename} to date SOURCE_DATE_EPOCH");
    unpack_into(
        download,
        filename,
        UNPACKED,
        Constraints::new().custom_name(&name),
    )
}

/// The file `filename` of an http download copied to `dest` in scratch, unpacked when it is an
/// archive (`attempt_unpack`).
pub(super) fn unpack_into(download: &State, filename: &str, dest: &str, c: Constraints) -> State {
    let opts = CopyOptions {
        attempt_unpack: true,
        ..Default::default()
    };
    let action = llb::copy(download.into(), &format!("/{filename}"), dest, opts);
    llb::scratch().file(&action, c)
}

/// The newest modification time (Unix nanoseconds) of a regular file below [`UNPACKED`].
async fn newest_regular(
    bridge: &Bridge,
    unpacked: &SolvedRef,
) -> Result<Option<i64>, FrontendError> {
    let mut newest: Option<i64> = None;
    let mut dirs = vec![UNPACKED.to_string()];
    while let Some(dir) = dirs.pop() {
        let entries = bridge
            .read_dir(unpacked, &dir)
            .await
            .map_err(in_buildkit_words)?;
        for entry in entries {
            match kind(&entry) {
                Kind::Dir => dirs.push(format!("{dir}/{}", entry.path)),
                Kind::Regular => newest = newest.max(Some(entry.mod_time)),
                Kind::Other => {}
            }
        }
    }
    Ok(newest)
}

enum Kind {
    Dir,
    Regular,
    Other,
}

/// Go's `Mode().IsDir()` and `Mode().IsRegular()` on an entry's mode.
fn kind(stat: &Stat) -> Kind {
    if stat.mode & GO_MODE_DIR != 0 {
        Kind::Dir
    } else if stat.mode & GO_MODE_TYPE == 0 {
        Kind::Regular
    } else {
        Kind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(mode: u32) -> Stat {
        Stat {
            mode,
            ..Default::default()
        }
    }

    #[test]
    fn tells_regular_files_from_the_rest() {
        assert!(matches!(kind(&stat(0o644)), Kind::Regular));
        // setuid, setgid and sticky (Go's own bits) leave a file regular.
        assert!(matches!(
            kind(&stat(1 << 23 | 1 << 22 | 1 << 20 | 0o755)),
            Kind::Regular
        ));
        assert!(matches!(kind(&stat(GO_MODE_DIR | 0o755)), Kind::Dir));
        for special in [1 << 27, 1 << 26, 1 << 26 | 1 << 21, 1 << 25, 1 << 19] {
            assert!(matches!(kind(&stat(special | 0o644)), Kind::Other));
        }
    }

    #[test]
    fn a_fractional_time_counts_its_whole_seconds() {
        assert_eq!(unix_seconds(1_559_894_950_999_999_999), 1_559_894_950);
        assert_eq!(unix_seconds(1_559_894_950_000_000_000), 1_559_894_950);
        assert_eq!(unix_seconds(-1_500_000_000), -2);
    }
}

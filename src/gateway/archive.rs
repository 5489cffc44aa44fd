//! The newest regular file of a downloaded archive (1.26's `archiveMaxTimeFromRef`, which reads
//! the file through moby's `DecompressStream` and Go's `archive/tar`): what dates an http source
//! that has no Last-Modified. Anything that is not such an archive has no date.

use std::io::Read;

/// Go's zero `time.Time` in Unix seconds: the time of the headers Go's reader returns bare
/// (a PAX global header), which count as regular files there.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// moby's `compression.Detect`.
#[derive(Debug, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Bzip2,
    /// Decompressed by running `xz`, which the reference's frontend image (FROM scratch) lacks:
    /// the stream fails to open, so an xz archive has no date there.
    Xz,
    Zstd,
}

fn detect(data: &[u8]) -> Compression {
    const ZSTD_SKIPPABLE_START: u32 = 0x184D_2A50;
    const ZSTD_SKIPPABLE_MASK: u32 = 0xFFFF_FFF0;
    if data.starts_with(&[0x42, 0x5A, 0x68]) {
        return Compression::Bzip2;
    }
    if data.starts_with(&[0x1F, 0x8B, 0x08]) {
        return Compression::Gzip;
    }
    if data.starts_with(&[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) {
        return Compression::Xz;
    }
    if data.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        return Compression::Zstd;
    }
    match data.get(..4) {
        Some(&[a, b, c, d])
            if u32::from_le_bytes([a, b, c, d]) & ZSTD_SKIPPABLE_MASK == ZSTD_SKIPPABLE_START =>
        {
            Compression::Zstd
        }
        _ => Compression::None,
    }
}

/// The decompressed stream, `None` where the reference's fails to open.
fn decompress<'a>(data: &'a [u8]) -> Option<Box<dyn Read + 'a>> {
    Some(match detect(data) {
        Compression::None => Box::new(data),
        Compression::Gzip => {
            let reader = flate2::read::GzDecoder::new(data);
            // Go's gzip.NewReader reads the header at once and fails on a bad one.
            reader.header()?;
            Box::new(reader)
        }
        Compression::Bzip2 => Box::new(bzip2::read::BzDecoder::new(data)),
        Compression::Xz => return None,
        Compression::Zstd => Box::new(ruzstd::decoding::StreamingDecoder::new(data).ok()?),
    })
}

/// The newest modification time (Unix seconds) among the archive's regular files; `None` when
/// `data` is not a (compressed) tar archive, or holds no regular file.
pub fn newest_file_time(data: &[u8]) -> Option<i64> {
    let mut archive = tar::Archive::new(decompress(data)?);
    let mut newest: Option<i64> = None;
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        let Some(time) = regular_file_time(&mut entry)? else {
            continue;
        };
        newest = Some(newest.map_or(time, |n| n.max(time)));
    }
    newest
}

/// The entry's time when Go's `FileInfo().Mode().IsRegular()` holds for it; `None` (outer)
/// when its header cannot be read.
fn regular_file_time<R: Read>(entry: &mut tar::Entry<R>) -> Option<Option<i64>> {
    let header = entry.header().clone();
    let kind = header.entry_type();
    if kind.is_pax_global_extensions() {
        return Some(Some(GO_ZERO_TIME));
    }
    // The type bits Go reads from the mode: directory, fifo, symlink, devices, socket.
    const TYPE_BITS: [u32; 6] = [0o040000, 0o010000, 0o120000, 0o060000, 0o020000, 0o140000];
    let mode = header.mode().ok()?;
    let special = kind.is_dir()
        || kind.is_symlink()
        || kind.is_character_special()
        || kind.is_block_special()
        || kind.is_fifo()
        || TYPE_BITS.contains(&(mode & !0o7777))
        // Go reads an old-style regular file whose name ends in "/" as a directory.
        || (header.as_bytes()[156] == 0 && header.path_bytes().ends_with(b"/"));
    if special {
        return Some(None);
    }
    Some(Some(
        pax_mtime(entry).unwrap_or(header.mtime().ok()? as i64),
    ))
}

/// A PAX `mtime` record (`seconds[.fraction]`), which overrides the header's.
fn pax_mtime<R: Read>(entry: &mut tar::Entry<R>) -> Option<i64> {
    let mut extensions = entry.pax_extensions().ok()??;
    let record = extensions.find_map(|e| e.ok().filter(|e| e.key() == Ok("mtime")))?;
    let value = record.value().ok()?;
    let (seconds, fraction) = value.split_once('.').unwrap_or((value, ""));
    let seconds: i64 = seconds.parse().ok()?;
    // Go's parsePAXTime: a negative time with a fraction lies before its whole seconds.
    let negative = seconds < 0 || value.starts_with('-');
    let has_fraction = fraction.bytes().any(|b| b != b'0');
    Some(if negative && has_fraction {
        seconds - 1
    } else {
        seconds
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, tar::EntryType, u64)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, mtime) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(*kind);
            header.set_mtime(*mtime);
            header.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
            header.set_size(0);
            header.set_path(name).unwrap();
            header.set_cksum();
            builder.append(&header, std::io::empty()).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn takes_the_newest_regular_file() {
        let tar = archive(&[
            ("a", tar::EntryType::Regular, 100),
            ("dir/", tar::EntryType::Directory, 900),
            ("b", tar::EntryType::Regular, 300),
            ("l", tar::EntryType::Symlink, 800),
        ]);
        assert_eq!(newest_file_time(&tar), Some(300));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        assert_eq!(newest_file_time(&gz.finish().unwrap()), Some(300));
    }

    #[test]
    fn other_files_have_no_date() {
        assert_eq!(newest_file_time(b"FROM busybox\n"), None);
        assert_eq!(newest_file_time(&[]), None);
        assert_eq!(newest_file_time(&[0x1F, 0x8B, 0x08, 0, 1]), None);
        assert_eq!(
            newest_file_time(&archive(&[("d/", tar::EntryType::Directory, 5)])),
            None
        );
        let mut xz = vec![0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];
        xz.extend(archive(&[("a", tar::EntryType::Regular, 1)]));
        assert_eq!(newest_file_time(&xz), None);
    }
}

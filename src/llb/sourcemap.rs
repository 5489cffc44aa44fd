//! Source maps (client/llb/sourcemap.go): which ranges of which file produced each op, so
//! BuildKit can point errors at Dockerfile lines.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use std::io::Write;

use prost::encoding;
use prost::Message;

use crate::proto::pb;

use super::marshal::{marshal, MarshalOptions, OpDigest};
use super::state::State;
use super::wire::{self, write_all};
use super::LlbError;

/// A source file; ops refer to it through [`SourceLocation`]s.
#[derive(Debug, Clone)]
pub struct SourceMap {
    pub filename: String,
    /// A linguist language name, e.g. "Dockerfile".
    pub language: String,
    pub data: Vec<u8>,
    /// The state that produced the file (e.g. the Dockerfile's context source); marshalled into
    /// `SourceInfo.definition`.
    pub state: Option<State>,
}

impl SourceMap {
    pub fn new(filename: &str, language: &str, data: Vec<u8>, state: Option<State>) -> Arc<Self> {
        Arc::new(SourceMap {
            filename: filename.to_string(),
            language: language.to_string(),
            data,
            state,
        })
    }

    /// `equalSourceMap` as it applies before definitions are computed.
    fn same_file(&self, other: &SourceMap) -> bool {
        self.filename == other.filename
            && self.language == other.language
            && self.data == other.data
    }
}

/// Ranges of one source map that an op came from.
#[derive(Debug, Clone)]
pub struct SourceLocation {
    pub source_map: Arc<SourceMap>,
    pub ranges: Vec<pb::Range>,
}

/// A one-line range, 1-based lines as BuildKit's Dockerfile frontend records them.
pub fn line_range(start: i32, end: i32) -> pb::Range {
    pb::Range {
        start: Some(pb::Position {
            line: start,
            character: 0,
        }),
        end: Some(pb::Position {
            line: end,
            character: 0,
        }),
    }
}

/// Gathers locations during a marshal walk (`sourceMapCollector`). Each op's locations are
/// encoded as they are added, while the op is in cache, into one buffer; on output they are
/// grouped by digest with no further look at the op graph.
#[derive(Default)]
pub(crate) struct SourceMapCollector {
    maps: Vec<Arc<SourceMap>>,
    /// `Locations.locations` fields (field 1, one per location) of every op, in walk order.
    encoded: Vec<u8>,
    /// Each op's slice of `encoded`, in walk order (an op reached twice adds its locations
    /// twice), sorted by digest before output.
    entries: Vec<(OpDigest, Range<usize>)>,
}

impl SourceMapCollector {
    pub(crate) fn add(&mut self, digest: OpDigest, locations: &[SourceLocation]) {
        if locations.is_empty() {
            return;
        }
        let start = self.encoded.len();
        for loc in locations {
            let index = match self.map_index(&loc.source_map) {
                Some(i) => i,
                None => {
                    self.maps.push(Arc::clone(&loc.source_map));
                    self.maps.len() - 1
                }
            };
            let location = pb::Location {
                source_index: i32::try_from(index).unwrap_or(i32::MAX),
                ranges: Vec::new(),
            };
            let ranges: usize = loc
                .ranges
                .iter()
                .map(|r| encoding::message::encoded_len(2, r))
                .sum();
            wire::put_head(1, location.encoded_len() + ranges, &mut self.encoded);
            location.encode_raw(&mut self.encoded);
            for range in &loc.ranges {
                encoding::message::encode(2, range, &mut self.encoded);
            }
        }
        self.entries.push((digest, start..self.encoded.len()));
    }

    /// The source info index of `map`; files are numbered in the order ops first name them.
    fn map_index(&self, map: &Arc<SourceMap>) -> Option<usize> {
        self.maps
            .iter()
            .position(|m| Arc::ptr_eq(m, map) || m.same_file(map))
    }

    /// Orders entries by digest for [`Self::groups`]. Stable: one digest's locations stay in
    /// walk order.
    fn sort(&mut self) {
        self.entries.sort_by_key(|(digest, _)| *digest);
    }

    /// Each digest's entries, in digest order (call [`Self::sort`] first). Ops without
    /// locations are left out (`add` skips them): prost writes an empty Locations map value as
    /// no value at all, which Go decodes as a nil pointer (buildx then crashes reading it).
    fn groups(&self) -> impl Iterator<Item = &[(OpDigest, Range<usize>)]> + '_ {
        self.entries.chunk_by(|a, b| a.0 == b.0)
    }

    /// The `pb.Locations` body of one digest's group, in pieces.
    fn group_bytes<'a>(
        &'a self,
        group: &'a [(OpDigest, Range<usize>)],
    ) -> impl Iterator<Item = &'a [u8]> {
        group.iter().map(|(_, range)| &self.encoded[range.clone()])
    }

    fn group_len(group: &[(OpDigest, Range<usize>)]) -> usize {
        group.iter().map(|(_, range)| range.len()).sum()
    }

    /// One `Source.locations` map entry (field 1), as prost writes it.
    fn write_group(
        &self,
        group: &[(OpDigest, Range<usize>)],
        out: &mut impl Write,
    ) -> Result<(), LlbError> {
        let mut head = Vec::with_capacity(96);
        let digest = group[0].0.hex();
        wire::put_message_entry_head(1, digest.as_str(), Self::group_len(group), &mut head);
        write_all(out, &head)?;
        for bytes in self.group_bytes(group) {
            write_all(out, bytes)?;
        }
        Ok(())
    }

    /// The source map as a prost message, for a definition built in memory.
    fn locations(&mut self) -> Result<BTreeMap<String, pb::Locations>, LlbError> {
        self.sort();
        self.groups()
            .map(|group| {
                let bytes: Vec<u8> = self.group_bytes(group).flatten().copied().collect();
                let locations = pb::Locations::decode(bytes.as_slice())
                    .map_err(|e| LlbError::Decode(e.to_string()))?;
                Ok((group[0].0.to_string(), locations))
            })
            .collect()
    }

    /// Each file's `SourceInfo.definition`: the state that produced it, marshalled.
    fn definitions(&self, opts: &MarshalOptions) -> Result<Vec<Option<pb::Definition>>, LlbError> {
        self.maps
            .iter()
            .map(|m| m.state.as_ref().map(|st| marshal(st, opts)).transpose())
            .collect()
    }

    fn infos(&self, opts: &MarshalOptions) -> Result<Vec<pb::SourceInfo>, LlbError> {
        let definitions = self.definitions(opts)?;
        let infos = self.maps.iter().zip(definitions);
        Ok(infos
            .map(|(m, definition)| pb::SourceInfo {
                filename: m.filename.clone(),
                data: m.data.clone(),
                definition,
                language: m.language.clone(),
            })
            .collect())
    }

    pub(crate) fn into_pb(mut self, opts: &MarshalOptions) -> Result<pb::Source, LlbError> {
        let infos = self.infos(opts)?;
        let locations = self.locations()?;
        Ok(pb::Source { locations, infos })
    }

    /// Writes [`Self::into_pb`] to `out` as length-delimited field `field` of the message being
    /// written, with prost's bytes. The length is summed in a first pass, so neither the
    /// location map nor a copy of the source files is ever whole in memory.
    pub(crate) fn write_field(
        mut self,
        opts: &MarshalOptions,
        field: u32,
        out: &mut impl Write,
    ) -> Result<(), LlbError> {
        let definitions = self.definitions(opts)?;
        self.sort();
        let mut len: usize = self
            .groups()
            .map(|group| {
                let digest = group[0].0.hex();
                let body = wire::message_entry_body_len(digest.as_str(), Self::group_len(group));
                wire::delimited_len(1, body)
            })
            .sum();
        for (m, definition) in self.maps.iter().zip(&definitions) {
            len += wire::delimited_len(2, info_len(m, definition.as_ref()));
        }
        let mut head = Vec::new();
        wire::put_head(field, len, &mut head);
        write_all(out, &head)?;
        for group in self.groups() {
            self.write_group(group, out)?;
        }
        for (m, definition) in self.maps.iter().zip(&definitions) {
            write_info(out, m, definition.as_ref())?;
        }
        Ok(())
    }
}

/// The length of a `SourceInfo` message's body (prost leaves empty fields out).
fn info_len(m: &SourceMap, definition: Option<&pb::Definition>) -> usize {
    let data = if m.data.is_empty() {
        0
    } else {
        wire::delimited_len(2, m.data.len())
    };
    wire::str_len(1, &m.filename)
        + data
        + definition.map_or(0, |d| encoding::message::encoded_len(3, d))
        + wire::str_len(4, &m.language)
}

/// `Source.infos` entry (field 2) for `m`; the file's bytes are written from the map itself.
fn write_info(
    out: &mut impl Write,
    m: &SourceMap,
    definition: Option<&pb::Definition>,
) -> Result<(), LlbError> {
    let mut buf = Vec::new();
    wire::put_head(2, info_len(m, definition), &mut buf);
    wire::put_str(1, &m.filename, &mut buf);
    if !m.data.is_empty() {
        wire::put_head(2, m.data.len(), &mut buf);
        write_all(out, &buf)?;
        write_all(out, &m.data)?;
        buf.clear();
    }
    if let Some(d) = definition {
        encoding::message::encode(3, d, &mut buf);
    }
    wire::put_str(4, &m.language, &mut buf);
    write_all(out, &buf)
}

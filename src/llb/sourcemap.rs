//! Source maps (client/llb/sourcemap.go): which ranges of which file produced each op, so
//! BuildKit can point errors at Dockerfile lines.

use std::collections::BTreeMap;
use std::sync::Arc;

use prost::Message;

use crate::proto::pb;

use super::marshal::{marshal, MarshalOptions, OpDigest};
use super::state::State;
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

/// Gathers locations during a marshal walk (`sourceMapCollector`). Locations are borrowed from
/// the op graph, which outlives the walk, and grouped by digest only on output.
#[derive(Default)]
pub(crate) struct SourceMapCollector<'g> {
    maps: Vec<Arc<SourceMap>>,
    /// Each op's locations in walk order (an op reached twice adds its locations twice).
    entries: Vec<(OpDigest, &'g [SourceLocation])>,
}

impl<'g> SourceMapCollector<'g> {
    pub(crate) fn add(&mut self, digest: OpDigest, locations: &'g [SourceLocation]) {
        if locations.is_empty() {
            return;
        }
        for loc in locations {
            if self.map_index(&loc.source_map).is_none() {
                self.maps.push(Arc::clone(&loc.source_map));
            }
        }
        self.entries.push((digest, locations));
    }

    /// The source info index of `map`; files are numbered in the order ops first name them.
    fn map_index(&self, map: &Arc<SourceMap>) -> Option<usize> {
        self.maps
            .iter()
            .position(|m| Arc::ptr_eq(m, map) || m.same_file(map))
    }

    fn infos(&self, opts: &MarshalOptions) -> Result<Vec<pb::SourceInfo>, LlbError> {
        let mut infos = Vec::with_capacity(self.maps.len());
        for m in &self.maps {
            let definition = match &m.state {
                Some(st) => Some(marshal(st, opts)?),
                None => None,
            };
            infos.push(pb::SourceInfo {
                filename: m.filename.clone(),
                data: m.data.clone(),
                definition,
                language: m.language.clone(),
            });
        }
        Ok(infos)
    }

    /// Each digest's locations, in digest order. Ops without locations are left out (`add`
    /// skips them): prost writes an empty Locations map value as no value at all, which Go
    /// decodes as a nil pointer (buildx then crashes reading it).
    fn locations(&mut self) -> impl Iterator<Item = (OpDigest, pb::Locations)> + '_ {
        // Stable: one digest's locations stay in walk order.
        self.entries.sort_by_key(|(digest, _)| *digest);
        let this = &*self;
        this.entries.chunk_by(|a, b| a.0 == b.0).map(move |group| {
            let locations = group
                .iter()
                .flat_map(|(_, locs)| locs.iter())
                .map(|loc| pb::Location {
                    source_index: this
                        .map_index(&loc.source_map)
                        .and_then(|i| i32::try_from(i).ok())
                        .unwrap_or(i32::MAX),
                    ranges: loc.ranges.clone(),
                })
                .collect();
            (group[0].0, pb::Locations { locations })
        })
    }

    pub(crate) fn into_pb(mut self, opts: &MarshalOptions) -> Result<pb::Source, LlbError> {
        let infos = self.infos(opts)?;
        let locations = self
            .locations()
            .map(|(digest, locs)| (digest.to_string(), locs))
            .collect();
        Ok(pb::Source { locations, infos })
    }

    /// [`Self::into_pb`]'s protobuf bytes, built a location entry at a time (prost writes
    /// `locations` in key order, then `infos`), so the whole map is never in memory.
    pub(crate) fn encode(mut self, opts: &MarshalOptions) -> Result<Vec<u8>, LlbError> {
        let infos = self.infos(opts)?;
        let mut out = Vec::new();
        for (digest, locs) in self.locations() {
            let entry = pb::Source {
                locations: BTreeMap::from([(digest.to_string(), locs)]),
                infos: Vec::new(),
            };
            entry
                .encode(&mut out)
                .map_err(|e| LlbError::Io(e.to_string()))?;
        }
        let tail = pb::Source {
            locations: BTreeMap::new(),
            infos,
        };
        tail.encode(&mut out)
            .map_err(|e| LlbError::Io(e.to_string()))?;
        Ok(out)
    }
}

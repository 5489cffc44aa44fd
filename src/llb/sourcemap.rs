//! Source maps (client/llb/sourcemap.go): which ranges of which file produced each op, so
//! BuildKit can point errors at Dockerfile lines.

use std::collections::BTreeMap;
use std::sync::Arc;

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

/// Gathers locations during a marshal walk (`sourceMapCollector`).
#[derive(Default)]
pub(crate) struct SourceMapCollector {
    maps: Vec<Arc<SourceMap>>,
    locations: BTreeMap<OpDigest, Vec<(usize, Vec<pb::Range>)>>,
}

impl SourceMapCollector {
    pub(crate) fn add(&mut self, digest: OpDigest, locations: &[SourceLocation]) {
        if locations.is_empty() {
            return;
        }
        let entry = self.locations.entry(digest).or_default();
        for loc in locations {
            let index = match self
                .maps
                .iter()
                .position(|m| Arc::ptr_eq(m, &loc.source_map) || m.same_file(&loc.source_map))
            {
                Some(i) => i,
                None => {
                    self.maps.push(Arc::clone(&loc.source_map));
                    self.maps.len() - 1
                }
            };
            entry.push((index, loc.ranges.clone()));
        }
    }

    pub(crate) fn into_pb(self, opts: &MarshalOptions) -> Result<pb::Source, LlbError> {
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
        // Ops without locations are left out (`add` skips them): prost writes an empty
        // Locations map value as no value at all, which Go decodes as a nil pointer (buildx
        // then crashes reading it).
        let locations = self
            .locations
            .into_iter()
            .map(|(digest, locs)| {
                let locations = locs
                    .into_iter()
                    .map(|(index, ranges)| pb::Location {
                        source_index: i32::try_from(index).unwrap_or(i32::MAX),
                        ranges,
                    })
                    .collect();
                (digest.to_string(), pb::Locations { locations })
            })
            .collect();
        Ok(pb::Source { locations, infos })
    }
}

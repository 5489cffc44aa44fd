//! `llb.NewDefinitionOp`: a state on the result of a definition BuildKit handed over (a frontend
//! input, such as a bake `target:` context). Its ops are emitted byte for byte under their own
//! digests, with their metadata and source locations, wherever the state is used.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use prost::Message;

use crate::proto::pb;

use super::constraints::{Constraints, OpMetadata};
use super::marshal::digest_of;
use super::sourcemap::{SourceLocation, SourceMap};
use super::state::{Node, OpNode, Output, State};
use super::LlbError;

/// One op of a handed-over definition: its bytes as given and the ops it reads.
#[derive(Debug)]
pub(crate) struct RawNode {
    pub(crate) bytes: Vec<u8>,
    pub(crate) inputs: Vec<Output>,
    pub(crate) metadata: OpMetadata,
}

/// The state `def` evaluates to; scratch for an empty definition.
pub fn from_definition(def: &pb::Definition) -> Result<State, LlbError> {
    let Some(last) = def.def.last() else {
        return Ok(super::scratch());
    };
    let ops: BTreeMap<String, &Vec<u8>> = def.def.iter().map(|b| (digest_of(b), b)).collect();
    let maps = source_maps(def)?;
    let mut built: BTreeMap<String, Arc<Node>> = BTreeMap::new();
    let terminal = decode(last)?;
    let head = terminal
        .inputs
        .first()
        .ok_or_else(|| LlbError::Decode("definition has no terminal input".into()))?;
    let node = build(&head.digest, &ops, def, &maps, &mut built)?;
    // `build` found the head among the ops, or failed.
    let platform = match ops.get(&head.digest) {
        Some(bytes) => decode(bytes)?.platform.map(Arc::new),
        None => None,
    };
    Ok(State::from_output(Some(Output {
        node,
        index: head.index,
        platform,
    })))
}

fn decode(bytes: &[u8]) -> Result<pb::Op, LlbError> {
    pb::Op::decode(bytes).map_err(|e| LlbError::Decode(e.to_string()))
}

/// The node of op `digest` with its inputs' nodes, each built once. Iterative over the graph's
/// depth, so a long chain of ops cannot exhaust the stack; each op is decoded once. Only an op
/// among its own ancestors (the frames still open) is a cycle: inputs shared by several ops are
/// common (a COPY --from of a stage built on the same base).
fn build(
    digest: &str,
    ops: &BTreeMap<String, &Vec<u8>>,
    def: &pb::Definition,
    maps: &[Arc<SourceMap>],
    built: &mut BTreeMap<String, Arc<Node>>,
) -> Result<Arc<Node>, LlbError> {
    let missing = |d: &str| LlbError::Decode(format!("definition has no op {d}"));
    let open = |d: &str| -> Result<(String, pb::Op), LlbError> {
        let bytes = ops.get(d).ok_or_else(|| missing(d))?;
        Ok((d.to_string(), decode(bytes)?))
    };
    // Each frame: an op whose inputs are being built, and how many of them are done.
    let mut frames = vec![(open(digest)?, 0usize)];
    let mut ancestors: BTreeSet<String> = BTreeSet::from([digest.to_string()]);
    while let Some(((current, op), done)) = frames.last_mut() {
        if let Some(input) = op.inputs.get(*done) {
            *done += 1;
            let input = input.digest.clone();
            if built.contains_key(&input) {
                continue;
            }
            if !ancestors.insert(input.clone()) {
                return Err(LlbError::Decode(format!(
                    "definition has a cycle at {current}"
                )));
            }
            let frame = (open(&input)?, 0);
            frames.push(frame);
            continue;
        }
        let inputs = op
            .inputs
            .iter()
            .map(|i| {
                let node = built
                    .get(&i.digest)
                    .cloned()
                    .ok_or_else(|| missing(&i.digest))?;
                Ok(Output {
                    node,
                    index: i.index,
                    platform: None,
                })
            })
            .collect::<Result<_, LlbError>>()?;
        let metadata = def
            .metadata
            .get(current.as_str())
            .map(OpMetadata::from_pb)
            .unwrap_or_default();
        let mut constraints = Constraints::new();
        constraints.source_locations = locations(def, current, maps);
        let bytes = ops.get(current.as_str()).ok_or_else(|| missing(current))?;
        let node = Node {
            op: OpNode::Raw(RawNode {
                bytes: bytes.to_vec(),
                inputs,
                metadata,
            }),
            constraints,
        };
        let current = current.clone();
        ancestors.remove(&current);
        built.insert(current, Arc::new(node));
        frames.pop();
    }
    built.get(digest).cloned().ok_or_else(|| missing(digest))
}

/// The definition's source files, each with the definition that produced it.
fn source_maps(def: &pb::Definition) -> Result<Vec<Arc<SourceMap>>, LlbError> {
    let Some(source) = &def.source else {
        return Ok(Vec::new());
    };
    source
        .infos
        .iter()
        .map(|info| {
            let state = info.definition.as_ref().map(from_definition).transpose()?;
            Ok(SourceMap::new(
                &info.filename,
                &info.language,
                info.data.clone(),
                state,
            ))
        })
        .collect()
}

/// Op `digest`'s ranges, against the source files they name.
fn locations(def: &pb::Definition, digest: &str, maps: &[Arc<SourceMap>]) -> Vec<SourceLocation> {
    let Some(locations) = def.source.as_ref().and_then(|s| s.locations.get(digest)) else {
        return Vec::new();
    };
    locations
        .locations
        .iter()
        .filter_map(|l| {
            let map = maps.get(usize::try_from(l.source_index).ok()?)?;
            Some(SourceLocation {
                source_map: map.clone(),
                ranges: l.ranges.clone(),
            })
        })
        .collect()
}

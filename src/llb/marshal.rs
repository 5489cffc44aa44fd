//! Marshalling a state's graph into a `pb::Definition` the way client/llb's `State.Marshal`
//! does: depth-first, inputs before the op, each op once, then a terminal op pointing at the
//! result. Everything is ordered (Vec/BTreeMap) so equal graphs give equal bytes.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::sync::Arc;

use prost::Message;
use sha2::{Digest as _, Sha256};

use crate::proto::pb;

use super::caps;
use super::constraints::{Constraints, OpMetadata};
use super::exec::ExecNode;
use super::file::FileNode;
use super::merge::{marshal_diff, marshal_merge};
use super::source::marshal_source;
use super::sourcemap::SourceMapCollector;
use super::state::{Node, OpNode, Output, State};
use super::wire;
use super::LlbError;

/// Marshal-wide settings (client/llb's `ConstraintsOpt`s passed to `Marshal`).
#[derive(Debug, Clone, Default)]
pub struct MarshalOptions {
    /// Defaults for every op; its platform defaults to the host's when unset.
    pub constraints: Constraints,
    /// LLB caps the daemon supports (`WithCaps`); `None` when unknown.
    pub caps: Option<BTreeSet<String>>,
}

/// `sha256:<hex>` of `bytes`, the op digest form.
pub fn digest_of(bytes: &[u8]) -> String {
    OpDigest::of(bytes).to_string()
}

/// An op digest as its 32 hash bytes: the walk keeps one per op in three maps, and the text
/// form is only needed on output. Hex keeps byte order, so maps keyed by it sort as by text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct OpDigest([u8; 32]);

impl OpDigest {
    fn of(bytes: &[u8]) -> Self {
        OpDigest(Sha256::digest(bytes).into())
    }
}

impl OpDigest {
    /// The `sha256:<hex>` text, without allocating.
    pub(crate) fn hex(&self) -> DigestText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 7 + 64];
        out[..7].copy_from_slice(b"sha256:");
        for (i, b) in self.0.iter().enumerate() {
            out[7 + 2 * i] = HEX[usize::from(b >> 4)];
            out[8 + 2 * i] = HEX[usize::from(b & 0xf)];
        }
        DigestText(out)
    }
}

/// An op digest's text form on the stack.
pub(crate) struct DigestText([u8; 7 + 64]);

impl DigestText {
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever written into it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for OpDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

fn node_key(node: &Arc<Node>) -> usize {
    Arc::as_ptr(node) as usize
}

/// Where the walk puts each op's bytes, in definition order.
trait Defs {
    fn push(&mut self, bytes: Vec<u8>) -> Result<(), LlbError>;
}

/// Collected for an in-memory `pb::Definition`.
impl Defs for Vec<Vec<u8>> {
    fn push(&mut self, bytes: Vec<u8>) -> Result<(), LlbError> {
        Vec::push(self, bytes);
        Ok(())
    }
}

/// Dropped, when only the digest is wanted.
struct Discard;

impl Defs for Discard {
    fn push(&mut self, _: Vec<u8>) -> Result<(), LlbError> {
        Ok(())
    }
}

/// Written at once as `Definition.def` entries (field 1), so no op is held twice.
struct DefWriter<'w, W: Write>(&'w mut W);

impl<W: Write> Defs for DefWriter<'_, W> {
    fn push(&mut self, bytes: Vec<u8>) -> Result<(), LlbError> {
        write_bytes_field(self.0, 1, &bytes)
    }
}

/// Writes `bytes` as length-delimited field `field` of the message being written.
fn write_bytes_field(out: &mut impl Write, field: u32, bytes: &[u8]) -> Result<(), LlbError> {
    let mut head = Vec::with_capacity(11);
    wire::put_head(field, bytes.len(), &mut head);
    wire::write_all(out, &head)?;
    wire::write_all(out, bytes)
}

struct Walk<'o, 'd> {
    opts: &'o MarshalOptions,
    /// Digest of each node already encoded, by node identity.
    encoded: HashMap<usize, OpDigest>,
    defs: &'d mut dyn Defs,
    /// One entry per distinct op: equal ops reached through different nodes are emitted once
    /// and their metadata merged.
    metadata: BTreeMap<OpDigest, OpMetadata>,
    sources: SourceMapCollector,
}

impl Walk<'_, '_> {
    fn input_of(encoded: &HashMap<usize, OpDigest>, o: &Output) -> Result<pb::Input, LlbError> {
        let digest = encoded
            .get(&node_key(&o.node))
            .ok_or_else(|| LlbError::Io("input marshalled out of order".to_string()))?;
        Ok(pb::Input {
            digest: digest.hex().as_str().to_owned(),
            index: o.index,
        })
    }

    /// Encodes `root` and everything it depends on, inputs first (post-order, each input's
    /// graph before the next input's). Iterative: a long chain of ops must not exhaust the stack.
    fn visit<'g>(&mut self, root: &'g Arc<Node>) -> Result<(), LlbError> {
        let mut stack: Vec<(&'g Arc<Node>, bool)> = vec![(root, false)];
        while let Some((node, inputs_done)) = stack.pop() {
            if self.encoded.contains_key(&node_key(node)) {
                continue;
            }
            if inputs_done {
                self.encode(node)?;
                continue;
            }
            stack.push((node, true));
            for input in inputs(node).into_iter().rev() {
                if !self.encoded.contains_key(&node_key(&input.node)) {
                    stack.push((&input.node, false));
                }
            }
        }
        Ok(())
    }

    /// Encodes one node whose inputs are all encoded.
    fn encode(&mut self, node: &Arc<Node>) -> Result<(), LlbError> {
        let (bytes, md) = match &node.op {
            OpNode::Raw(raw) => (raw.bytes.clone(), raw.metadata.clone()),
            _ => {
                let encoded = &self.encoded;
                let mut to_input = |o: &Output| Self::input_of(encoded, o);
                let (op, md) = encode_op(node, self.opts, &mut to_input)?;
                (wire::encode_op(&op)?, md)
            }
        };
        let digest = OpDigest::of(&bytes);
        self.sources.add(digest, &node.constraints.source_locations);
        match self.metadata.entry(digest) {
            Entry::Occupied(mut e) => e.get_mut().merge(&md),
            Entry::Vacant(e) => {
                e.insert(md);
                self.defs.push(bytes)?;
            }
        }
        self.encoded.insert(node_key(node), digest);
        Ok(())
    }
}

/// The op's inputs in the order the marshal walk visits them (`Vertex.Inputs`).
fn inputs(node: &Node) -> Vec<&Output> {
    match &node.op {
        OpNode::Source(_) => Vec::new(),
        OpNode::Exec(e) => ExecNode::inputs(e),
        OpNode::File(f) => FileNode::inputs(f),
        OpNode::Merge(m) => m.iter().collect(),
        OpNode::Diff { lower, upper } => lower.iter().chain(upper.iter()).collect(),
        OpNode::Raw(r) => r.inputs.iter().collect(),
    }
}

fn encode_op(
    node: &Node,
    opts: &MarshalOptions,
    to_input: &mut dyn FnMut(&Output) -> Result<pb::Input, LlbError>,
) -> Result<(pb::Op, OpMetadata), LlbError> {
    let base = &opts.constraints;
    let own = &node.constraints;
    match &node.op {
        OpNode::Source(s) => marshal_source(s, own, base),
        OpNode::Exec(e) => e.marshal(own, base, opts.caps.as_ref(), to_input),
        OpNode::File(f) => f.marshal(own, base, to_input),
        OpNode::Merge(m) => marshal_merge(m, own, base, to_input),
        OpNode::Diff { lower, upper } => {
            marshal_diff(lower.as_ref(), upper.as_ref(), own, base, to_input)
        }
        OpNode::Raw(_) => Err(LlbError::Io(
            "a handed-over op is emitted as it is, not encoded".into(),
        )),
    }
}

/// What a marshal walk keeps besides the op bytes.
struct Marshalled {
    metadata: BTreeMap<OpDigest, OpMetadata>,
    sources: SourceMapCollector,
}

/// `State.Marshal`: the definition of `state`'s graph. Scratch gives an empty definition.
pub fn marshal(state: &State, opts: &MarshalOptions) -> Result<pb::Definition, LlbError> {
    let mut defs = Vec::new();
    let Some(m) = marshal_into(state, opts, &mut defs)? else {
        return Ok(pb::Definition::default());
    };
    Ok(pb::Definition {
        def: defs,
        metadata: m
            .metadata
            .into_iter()
            .map(|(d, m)| (d.to_string(), m.into_pb()))
            .collect(),
        source: Some(m.sources.into_pb(opts)?),
    })
}

/// [`marshal`] then [`write_definition`], byte for byte, without holding the definition: op
/// bytes are written as the walk makes them, metadata entries one at a time. (Protobuf fields
/// may be written in pieces; prost writes `def`, `metadata` in key order, then `source`.)
pub fn write_marshalled(
    state: &State,
    opts: &MarshalOptions,
    out: &mut impl Write,
) -> Result<(), LlbError> {
    let Some(m) = marshal_into(state, opts, &mut DefWriter(out))? else {
        return Ok(());
    };
    let mut buf = Vec::new();
    for (digest, md) in &m.metadata {
        buf.clear();
        wire::put_message_entry_head(2, digest.hex().as_str(), md.body_len(), &mut buf);
        md.encode_body(&mut buf);
        wire::write_all(out, &buf)?;
    }
    m.sources.write_field(opts, 3, out)
}

/// The walk plus the terminal op (whose metadata records the caps the graph needs).
fn marshal_into(
    state: &State,
    opts: &MarshalOptions,
    defs: &mut dyn Defs,
) -> Result<Option<Marshalled>, LlbError> {
    let Some((mut walk, input)) = walk_state(state, opts, defs)? else {
        return Ok(None);
    };
    let terminal = pb::Op {
        inputs: vec![input],
        ..Default::default()
    };
    let bytes = wire::encode_op(&terminal)?;
    let digest = OpDigest::of(&bytes);
    let mut md = walk.metadata.get(&digest).cloned().unwrap_or_default();
    md.add_cap(caps::CONSTRAINTS);
    md.add_cap(caps::PLATFORM);
    for m in walk.metadata.values() {
        if m.ignore_cache {
            md.add_cap(caps::META_IGNORE_CACHE);
        }
        if !m.description.is_empty() {
            md.add_cap(caps::META_DESCRIPTION);
        }
        if m.export_cache.is_some() {
            md.add_cap(caps::META_EXPORT_CACHE);
        }
    }
    walk.defs.push(bytes)?;
    walk.metadata.insert(digest, md);
    Ok(Some(Marshalled {
        metadata: walk.metadata,
        sources: walk.sources,
    }))
}

/// The digest of the op `state` points at and its output index, without building a definition.
pub fn state_digest(
    state: &State,
    opts: &MarshalOptions,
) -> Result<Option<(String, i64)>, LlbError> {
    Ok(walk_state(state, opts, &mut Discard)?.map(|(_, input)| (input.digest, input.index)))
}

/// Encodes every op `state` depends on; `None` for scratch. Also gives the edge to `state`'s output.
fn walk_state<'a, 'd>(
    state: &State,
    opts: &'a MarshalOptions,
    defs: &'d mut dyn Defs,
) -> Result<Option<(Walk<'a, 'd>, pb::Input)>, LlbError> {
    let Some(out) = &state.out else {
        return Ok(None);
    };
    let mut walk = Walk {
        opts,
        encoded: HashMap::new(),
        defs,
        metadata: BTreeMap::new(),
        sources: SourceMapCollector::default(),
    };
    walk.visit(&out.node)?;
    let input = Walk::input_of(&walk.encoded, out)?;
    Ok(Some((walk, input)))
}

/// `llb.WriteTo`: the definition's protobuf bytes, which `buildctl debug dump-llb` reads.
pub fn write_definition(def: &pb::Definition, out: &mut impl Write) -> Result<(), LlbError> {
    out.write_all(&def.encode_to_vec())
        .map_err(|e| LlbError::Io(e.to_string()))
}

/// `llb.ReadFrom`: decodes what [`write_definition`] wrote.
pub fn read_definition(bytes: &[u8]) -> Result<pb::Definition, LlbError> {
    pb::Definition::decode(bytes).map_err(|e| LlbError::Decode(e.to_string()))
}

/// The digest of the op the definition's terminal entry points at (`Definition.Head`).
pub fn head(def: &pb::Definition) -> Result<Option<String>, LlbError> {
    let Some(last) = def.def.last() else {
        return Ok(None);
    };
    let op = pb::Op::decode(last.as_slice()).map_err(|e| LlbError::Decode(e.to_string()))?;
    Ok(op.inputs.first().map(|i| i.digest.clone()))
}

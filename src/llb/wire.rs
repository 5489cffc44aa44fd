//! Op bytes exactly as BuildKit's Go client writes them (`proto.MarshalOptions{Deterministic:
//! true}`), so an op has the same digest in mstage and in the reference frontend and a build
//! keeps its cache when it switches frontends.
//!
//! prost's encoding differs from Go's in two places that matter for ops:
//! - Go writes a oneof's field after all of the message's other fields (`Op.op` after
//!   `platform` and `constraints`); prost writes fields in declaration order.
//! - Go writes both the key and the value of every map entry, even when they are empty; prost
//!   leaves empty ones out (`SourceOp.attrs` with a "" value).
//!
//! Every other message inside an op encodes the same in both, so it is left to prost.
//!
//! Also the field helpers the streamed definition uses to write its metadata and source map
//! straight from mstage's types; those follow prost's rules (empty fields left out), since
//! only op bytes are digested.

use std::collections::BTreeMap;
use std::io::Write;

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, WireType};

use crate::proto::pb;

use super::LlbError;

/// The op's bytes, whose sha256 is its digest.
pub(crate) fn encode_op(op: &pb::Op) -> Result<Vec<u8>, LlbError> {
    let mut buf = Vec::with_capacity(op_body_len(op));
    for input in &op.inputs {
        prost::encoding::message::encode(1, input, &mut buf);
    }
    if let Some(platform) = &op.platform {
        prost::encoding::message::encode(10, platform, &mut buf);
    }
    if let Some(constraints) = &op.constraints {
        prost::encoding::message::encode(11, constraints, &mut buf);
    }
    match &op.op {
        None => {}
        Some(pb::op::Op::Exec(m)) => prost::encoding::message::encode(2, m, &mut buf),
        Some(pb::op::Op::Source(s)) => {
            put_head(3, source_len(s), &mut buf);
            encode_source(s, &mut buf);
        }
        Some(pb::op::Op::File(m)) => prost::encoding::message::encode(4, m, &mut buf),
        // Nothing in mstage builds a BuildOp (deprecated in BuildKit); its maps would need the
        // same treatment as SourceOp's, so rather than write bytes that may differ, refuse.
        Some(pb::op::Op::Build(_)) => {
            return Err(LlbError::Io("BuildOp is not supported".to_string()))
        }
        Some(pb::op::Op::Merge(m)) => prost::encoding::message::encode(6, m, &mut buf),
        Some(pb::op::Op::Diff(m)) => prost::encoding::message::encode(7, m, &mut buf),
    }
    Ok(buf)
}

/// The encoded length, to size the buffer once.
fn op_body_len(op: &pb::Op) -> usize {
    use prost::encoding::message::encoded_len;
    let inputs: usize = op.inputs.iter().map(|i| encoded_len(1, i)).sum();
    let platform = op.platform.as_ref().map_or(0, |p| encoded_len(10, p));
    let constraints = op.constraints.as_ref().map_or(0, |c| encoded_len(11, c));
    let inner = match &op.op {
        Some(pb::op::Op::Source(s)) => delimited_len(3, source_len(s)),
        Some(pb::op::Op::Exec(m)) => encoded_len(2, m),
        Some(pb::op::Op::File(m)) => encoded_len(4, m),
        Some(pb::op::Op::Merge(m)) => encoded_len(6, m),
        Some(pb::op::Op::Diff(m)) => encoded_len(7, m),
        Some(pb::op::Op::Build(_)) | None => 0,
    };
    inputs + platform + constraints + inner
}

fn source_len(s: &pb::SourceOp) -> usize {
    let identifier = if s.identifier.is_empty() {
        0
    } else {
        prost::encoding::string::encoded_len(1, &s.identifier)
    };
    identifier + string_map_len(2, &s.attrs)
}

fn encode_source(s: &pb::SourceOp, buf: &mut Vec<u8>) {
    if !s.identifier.is_empty() {
        prost::encoding::string::encode(1, &s.identifier, buf);
    }
    encode_string_map(2, &s.attrs, buf);
}

/// One map entry's body: `key` (field 1) and `value` (field 2), both always present.
fn entry_len(key: &str, value: &str) -> usize {
    delimited_len(1, key.len()) + delimited_len(2, value.len())
}

fn string_map_len(tag: u32, map: &BTreeMap<String, String>) -> usize {
    map.iter()
        .map(|(k, v)| delimited_len(tag, entry_len(k, v)))
        .sum()
}

/// Entries in key order, as Go's deterministic marshal sorts them.
fn encode_string_map(tag: u32, map: &BTreeMap<String, String>, buf: &mut Vec<u8>) {
    for (k, v) in map {
        put_head(tag, entry_len(k, v), buf);
        put_head(1, k.len(), buf);
        buf.extend_from_slice(k.as_bytes());
        put_head(2, v.len(), buf);
        buf.extend_from_slice(v.as_bytes());
    }
}

/// Writes `bytes` to the output a definition is streamed to.
pub(crate) fn write_all(out: &mut impl Write, bytes: &[u8]) -> Result<(), LlbError> {
    out.write_all(bytes)
        .map_err(|e| LlbError::Io(e.to_string()))
}

/// Bytes of a length-delimited field whose body is `body` bytes long.
pub(crate) fn delimited_len(tag: u32, body: usize) -> usize {
    key_len(tag) + encoded_len_varint(body as u64) + body
}

/// Key and length of a length-delimited field; its body follows.
pub(crate) fn put_head(tag: u32, body: usize, buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(body as u64, buf);
}

/// A proto3 string field as prost writes it: left out when empty.
pub(crate) fn str_len(tag: u32, s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        delimited_len(tag, s.len())
    }
}

pub(crate) fn put_str(tag: u32, s: &str, buf: &mut Vec<u8>) {
    if !s.is_empty() {
        put_head(tag, s.len(), buf);
        buf.extend_from_slice(s.as_bytes());
    }
}

/// A proto3 bool field as prost writes it: left out when false.
pub(crate) fn bool_len(tag: u32, b: bool) -> usize {
    if b {
        key_len(tag) + 1
    } else {
        0
    }
}

pub(crate) fn put_bool(tag: u32, b: bool, buf: &mut Vec<u8>) {
    if b {
        encode_key(tag, WireType::Varint, buf);
        buf.push(1);
    }
}

/// Body length of a `map<string, Message>` entry: see [`put_message_entry_head`].
pub(crate) fn message_entry_body_len(key: &str, value_len: usize) -> usize {
    let value = if value_len == 0 {
        0
    } else {
        delimited_len(2, value_len)
    };
    str_len(1, key) + value
}

/// Head and key of a `map<string, Message>` entry (field `tag`) whose value body is
/// `value_len` bytes; the caller writes the body. As prost writes maps, not as Go does: an
/// empty key or value is left out. For the Definition's metadata and source-map maps, written
/// straight from mstage's own types instead of building prost messages per op.
pub(crate) fn put_message_entry_head(tag: u32, key: &str, value_len: usize, buf: &mut Vec<u8>) {
    put_head(tag, message_entry_body_len(key, value_len), buf);
    put_str(1, key, buf);
    if value_len > 0 {
        put_head(2, value_len, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go writes `attrs {"k": ""}` as a full entry; prost would write `12 03 0a 01 6b`.
    #[test]
    fn empty_map_value_is_written() {
        let op = pb::Op {
            op: Some(pb::op::Op::Source(pb::SourceOp {
                identifier: "x".into(),
                attrs: [("k".to_string(), String::new())].into_iter().collect(),
            })),
            ..Default::default()
        };
        let want = [
            0x1a, 0x0a, // Op.source (3), 10 bytes
            0x0a, 0x01, b'x', // identifier
            0x12, 0x05, 0x0a, 0x01, b'k', 0x12, 0x00, // attrs entry: key "k", value ""
        ];
        assert_eq!(encode_op(&op).ok(), Some(want.to_vec()));
    }

    #[test]
    fn oneof_follows_platform_and_constraints() {
        let op = pb::Op {
            op: Some(pb::op::Op::Merge(pb::MergeOp::default())),
            constraints: Some(pb::WorkerConstraints::default()),
            ..Default::default()
        };
        assert_eq!(encode_op(&op).ok(), Some(vec![0x5a, 0x00, 0x32, 0x00]));
    }
}

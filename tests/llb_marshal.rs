//! Marshal-level behaviour: exact bytes and digests, walk order, the terminal op, metadata,
//! source maps, and the dump-llb framing.

use mstage::llb::{self, caps, Constraints, Exec, MarshalOptions, Mount, SourceMap};
use mstage::proto::pb;
use prost::Message;

fn opts() -> MarshalOptions {
    MarshalOptions {
        constraints: Constraints::new().platform(llb::platform("linux", "amd64", "")),
        caps: None,
    }
}

fn decode(b: &[u8]) -> pb::Op {
    pb::Op::decode(b).expect("decode")
}

fn identifiers(def: &pb::Definition) -> Vec<String> {
    def.def
        .iter()
        .map(|b| match decode(b).op {
            Some(pb::op::Op::Source(s)) => s.identifier,
            Some(pb::op::Op::Exec(e)) => format!(
                "exec:{}",
                e.meta.map(|m| m.args.join(" ")).unwrap_or_default()
            ),
            Some(pb::op::Op::File(_)) => "file".to_string(),
            Some(pb::op::Op::Merge(_)) => "merge".to_string(),
            Some(_) => "other".to_string(),
            None => "terminal".to_string(),
        })
        .collect()
}

fn sh(cmd: &str) -> Exec {
    Exec::new(vec!["sh".into(), "-c".into(), cmd.into()])
}

/// The bytes Go's deterministic proto marshal produces for `llb.Image("busybox")` on
/// linux/amd64, built by hand from the wire rules protobuf-go follows (and that the reference's
/// dockerfile2llb output confirms): regular fields in number order, then the oneof (`Op.source`),
/// proto3 defaults omitted, and `constraints` present-but-empty because MarshalConstraints
/// always sets it.
#[test]
fn image_op_bytes_match_hand_encoding() {
    let id = b"docker-image://docker.io/library/busybox:latest";
    assert_eq!(id.len(), 47);
    let mut want = vec![0x52, 14]; // Op.platform (10, LEN)
    want.extend_from_slice(&[0x0a, 5]); //   Platform.architecture (1)
    want.extend_from_slice(b"amd64");
    want.extend_from_slice(&[0x12, 5]); //   Platform.os (2)
    want.extend_from_slice(b"linux");
    want.extend_from_slice(&[0x5a, 0]); // Op.constraints (11, LEN 0)
    want.extend_from_slice(&[0x1a, 49, 0x0a, 47]); // Op.source (3) { SourceOp.identifier (1)
    want.extend_from_slice(id);

    let def = llb::marshal(&llb::image("busybox"), &opts()).expect("marshal");
    assert_eq!(def.def[0], want);
    // sha256 of the bytes above, computed independently (python hashlib).
    let digest = "sha256:e1432b8e2054abb034451c15f0a8ad49d07f5892ca266016226fec77e95d20a0";
    assert!(def.metadata.contains_key(digest));
    // The terminal op: only `inputs` (1, LEN) { digest (1, LEN), index 0 omitted }.
    let mut terminal = vec![0x0a, 73, 0x0a, 71];
    terminal.extend_from_slice(digest.as_bytes());
    assert_eq!(def.def[1], terminal);
    assert_eq!(
        llb::digest_of(&def.def[1]),
        "sha256:ed184c8ee1441a77d21fb2e07c870c7dca33c5e9b47f5033e4d70507d8c1f8c7"
    );
}

fn three_stage() -> llb::State {
    let base = llb::image("busybox");
    let a = base.run(sh("echo a > /a")).root();
    let b = base.run(sh("echo b > /b")).root();
    let copy_a = llb::copy((&a).into(), "/a", "/a", Default::default());
    let copy_b = llb::copy((&b).into(), "/b", "/b", Default::default());
    base.file(&copy_a, Constraints::new())
        .file(&copy_b, Constraints::new())
}

#[test]
fn same_graph_twice_gives_identical_bytes() {
    let one = llb::marshal(&three_stage(), &opts()).expect("marshal");
    let two = llb::marshal(&three_stage(), &opts()).expect("marshal");
    assert_eq!(one.encode_to_vec(), two.encode_to_vec());
}

#[test]
fn shared_base_emitted_once_in_walk_order() {
    let def = llb::marshal(&three_stage(), &opts()).expect("marshal");
    // Depth-first, inputs first: the second file op's inputs are [first file op, b]; the first
    // file op's are [base, a]; base appears once although three ops use it.
    assert_eq!(
        identifiers(&def),
        [
            "docker-image://docker.io/library/busybox:latest",
            "exec:sh -c echo a > /a",
            "file",
            "exec:sh -c echo b > /b",
            "file",
            "terminal",
        ]
    );
    assert_eq!(
        def.metadata.len(),
        6,
        "one metadata entry per op plus the terminal"
    );
}

#[test]
fn exec_inputs_follow_mount_targets_not_construction_order() {
    let build = |first: &str| {
        let z = llb::image("zlib");
        let y = llb::image("yaml");
        let (m1, m2) = if first == "z" {
            (Mount::bind("/z", &z), Mount::bind("/y", &y))
        } else {
            (Mount::bind("/y", &y), Mount::bind("/z", &z))
        };
        llb::image("busybox")
            .run(sh("true").mount(m1).mount(m2))
            .root()
    };
    let d1 = llb::marshal(&build("z"), &opts()).expect("marshal");
    let d2 = llb::marshal(&build("y"), &opts()).expect("marshal");
    assert_eq!(d1.encode_to_vec(), d2.encode_to_vec());
    assert_eq!(
        identifiers(&d1)[..3],
        [
            "docker-image://docker.io/library/busybox:latest",
            "docker-image://docker.io/library/yaml:latest",
            "docker-image://docker.io/library/zlib:latest",
        ]
    );
}

#[test]
fn terminal_op_and_its_caps() {
    let st = llb::image("busybox")
        .run(sh("true").constraints(Constraints::new().custom_name("RUN true").ignore_cache()))
        .root();
    let def = llb::marshal(&st, &opts()).expect("marshal");
    let last = decode(def.def.last().expect("terminal"));
    assert!(last.op.is_none() && last.platform.is_none() && last.constraints.is_none());
    assert_eq!(last.inputs.len(), 1);
    assert_eq!(last.inputs[0].digest, llb::digest_of(&def.def[1]));
    assert_eq!(
        llb::head(&def).expect("head"),
        Some(llb::digest_of(&def.def[1]))
    );
    let tcaps: Vec<&str> = def.metadata[&llb::digest_of(def.def.last().expect("last"))]
        .caps
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tcaps,
        [
            caps::CONSTRAINTS,
            caps::META_DESCRIPTION,
            caps::META_IGNORE_CACHE,
            caps::PLATFORM
        ]
    );
    let exec_md = &def.metadata[&llb::digest_of(&def.def[1])];
    assert!(exec_md.ignore_cache);
    assert_eq!(exec_md.description["llb.customname"], "RUN true");
}

#[test]
fn scratch_marshals_to_empty_definition() {
    let def = llb::marshal(&llb::scratch(), &opts()).expect("marshal");
    assert!(def.def.is_empty() && def.metadata.is_empty() && def.source.is_none());
}

#[test]
fn source_map_locations_per_op() {
    let sm = SourceMap::new(
        "Dockerfile",
        "Dockerfile",
        b"FROM busybox\nRUN true\n".to_vec(),
        None,
    );
    let from = llb::image_with(
        "busybox",
        llb::ImageOptions {
            constraints: Constraints::new().location(&sm, vec![llb::line_range(1, 1)]),
            ..Default::default()
        },
    );
    let run = from
        .run(sh("true").constraints(Constraints::new().location(&sm, vec![llb::line_range(2, 2)])))
        .root();
    let def = llb::marshal(&run, &opts()).expect("marshal");
    let src = def.source.as_ref().expect("source");
    assert_eq!(src.infos.len(), 1, "one file, shared by both ops");
    assert_eq!(src.infos[0].filename, "Dockerfile");
    assert_eq!(src.infos[0].language, "Dockerfile");
    let loc = |i: usize| &src.locations[&llb::digest_of(&def.def[i])].locations;
    assert_eq!(loc(0)[0].source_index, 0);
    assert_eq!(loc(0)[0].ranges, [llb::line_range(1, 1)]);
    assert_eq!(loc(1)[0].ranges, [llb::line_range(2, 2)]);
    assert!(
        !src.locations
            .contains_key(&llb::digest_of(def.def.last().expect("terminal"))),
        "the terminal op has no locations entry"
    );
}

#[test]
fn write_definition_round_trips() {
    let def = llb::marshal(&three_stage(), &opts()).expect("marshal");
    let mut buf = Vec::new();
    llb::write_definition(&def, &mut buf).expect("write");
    assert_eq!(llb::read_definition(&buf).expect("read"), def);
}

/// A chain of thousands of ops marshals without exhausting the stack: the walk is iterative
/// (a 3,000-stage Dockerfile makes chains this long).
#[test]
fn long_chain_marshals() {
    let mut st = llb::scratch();
    for i in 0..10_000 {
        st = st.file(
            &llb::mkdir(&format!("/d{i}"), 0o755, Default::default()),
            Constraints::new(),
        );
    }
    let def = llb::marshal(&st, &opts()).expect("marshal");
    assert_eq!(def.def.len(), 10_001);
    // Dropping the chain recursively would need a deep stack of its own; the CLI leaves large
    // graphs to the OS the same way.
    std::mem::forget(st);
}

/// `write_marshalled` streams the definition, writing metadata and source-map entries straight
/// from mstage's types; its bytes must equal prost's encoding of the definition `marshal`
/// builds. Every metadata field is set somewhere (an empty description value, export cache
/// off, a progress group, ignore-cache) and locations come from two files, one of them with a
/// non-zero source index and an op with two locations.
#[test]
fn streamed_definition_equals_prost_encoding() {
    let first = SourceMap::new("Dockerfile", "Dockerfile", b"FROM a\n".to_vec(), None);
    let second = SourceMap::new("other", "", b"x\n".to_vec(), Some(llb::image("ctx")));
    let from = llb::image_with(
        "busybox",
        llb::ImageOptions {
            constraints: Constraints::new()
                .location(&first, vec![llb::line_range(1, 1)])
                .description("empty", ""),
            ..Default::default()
        },
    );
    let run = from
        .run(
            sh("true").constraints(
                Constraints::new()
                    .location(&second, vec![llb::line_range(1, 2), llb::line_range(4, 4)])
                    .location(&first, vec![llb::line_range(3, 3)])
                    .custom_name("[1/2] RUN true")
                    .ignore_cache()
                    .export_cache(Some(false))
                    .progress_group("pg", "group name", true),
            ),
        )
        .root();
    let opts = opts();
    let mut streamed = Vec::new();
    llb::write_marshalled(&run, &opts, &mut streamed).expect("stream");
    let def = llb::marshal(&run, &opts).expect("marshal");
    assert!(def.metadata.values().any(|m| m.progress_group.is_some()));
    assert_eq!(def.source.as_ref().map(|s| s.infos.len()), Some(2));
    assert_eq!(streamed, def.encode_to_vec());
}

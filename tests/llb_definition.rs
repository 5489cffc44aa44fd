//! States on handed-over definitions (frontend inputs, `llb.NewDefinitionOp`): their ops are
//! emitted byte for byte, with metadata and source locations, wherever the state is used.

use mstage::llb::{self, Constraints, CopyOptions, MarshalOptions, SourceMap};

fn opts() -> MarshalOptions {
    MarshalOptions {
        constraints: Constraints::new().platform(llb::platform("linux", "amd64", "")),
        caps: None,
    }
}

/// An input as another build would hand it over: an image, a copy onto it with a progress
/// name and a source location.
fn input() -> mstage::proto::pb::Definition {
    let map = SourceMap::new(
        "Dockerfile",
        "Dockerfile",
        b"FROM busybox\nCOPY a b\n".to_vec(),
        None,
    );
    let base = llb::image("busybox");
    let ctx = llb::local_with(
        "context",
        llb::LocalOptions {
            session_id: Some("s".into()),
            constraints: Constraints::new().local_unique_id("u"),
            ..Default::default()
        },
    );
    let action = llb::copy((&ctx).into(), "/a", "/b", CopyOptions::default());
    let st = base.file(
        &action,
        Constraints::new()
            .custom_name("[build 2/2] COPY a b")
            .location(&map, vec![llb::line_range(2, 2)]),
    );
    llb::marshal(&st, &opts()).expect("marshal")
}

#[test]
fn a_definition_marshals_back_to_itself() {
    let def = input();
    let st = llb::from_definition(&def).expect("from definition");
    assert_eq!(llb::marshal(&st, &opts()).expect("marshal"), def);
}

#[test]
fn an_input_used_by_a_copy_keeps_its_ops_and_digests() {
    let def = input();
    let st = llb::from_definition(&def).expect("from definition");
    let action = llb::copy((&st).into(), "/b", "/c", CopyOptions::default());
    let out = llb::scratch().file(&action, Constraints::new());
    let got = llb::marshal(&out, &opts()).expect("marshal");
    // Every op of the input but its terminal one, under the same digests and metadata.
    for op in &def.def[..def.def.len() - 1] {
        assert!(got.def.contains(op), "op missing");
        let digest = llb::digest_of(op);
        assert_eq!(got.metadata.get(&digest), def.metadata.get(&digest));
    }
    let locations = |d: &mstage::proto::pb::Definition| {
        d.source
            .as_ref()
            .map(|s| s.locations.len())
            .unwrap_or_default()
    };
    assert_eq!(locations(&got), locations(&def));
    assert_eq!(got.source.as_ref().map(|s| s.infos.len()), Some(1));
}

#[test]
fn an_empty_definition_is_scratch_and_a_broken_one_an_error() {
    let st = llb::from_definition(&Default::default()).expect("empty");
    assert_eq!(
        llb::marshal(&st, &opts()).expect("marshal"),
        Default::default()
    );
    let mut def = input();
    def.def.remove(0);
    assert!(llb::from_definition(&def).is_err());
}

#[test]
fn ops_sharing_an_input_are_no_cycle() {
    // A stage built on the image, copied onto the same image: the copy's inputs are the image
    // and the stage, and the stage reads the image too.
    let base = llb::image("busybox");
    let made = base.file(
        &llb::copy((&base).into(), "/bin", "/made", CopyOptions::default()),
        Constraints::new(),
    );
    let out = base.file(
        &llb::copy((&made).into(), "/made", "/out", CopyOptions::default()),
        Constraints::new(),
    );
    let def = llb::marshal(&out, &opts()).expect("marshal");
    let st = llb::from_definition(&def).expect("from definition");
    assert_eq!(llb::marshal(&st, &opts()).expect("marshal"), def);
}

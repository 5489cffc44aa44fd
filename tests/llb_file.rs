//! File action chaining: input/output numbering within one FileOp as fileop.go assigns it.

use mstage::llb::{self, Chown, Constraints, CopyOptions, MarshalOptions, MkdirOptions};
use mstage::proto::pb;
use prost::Message;

fn file_op(st: &llb::State) -> pb::Op {
    let opts = MarshalOptions {
        constraints: Constraints::new().platform(llb::platform("linux", "amd64", "")),
        caps: None,
    };
    let def = llb::marshal(st, &opts).expect("marshal");
    let last = def.def.len() - 2;
    pb::Op::decode(def.def[last].as_slice()).expect("decode")
}

/// (input, secondary_input, output) of each action.
fn indices(op: &pb::Op) -> Vec<(i64, i64, i64)> {
    let Some(pb::op::Op::File(f)) = &op.op else {
        panic!("not a file op")
    };
    f.actions
        .iter()
        .map(|a| (a.input, a.secondary_input, a.output))
        .collect()
}

#[test]
fn chain_on_scratch_refers_to_previous_actions_after_inputs() {
    let ctx = llb::image("ctx");
    let chain = llb::mkdir("/foo", 0o755, MkdirOptions::default())
        .mkfile("/foo/bar", 0o644, b"data".to_vec(), Default::default())
        .copy((&ctx).into(), "/src", "/dst", CopyOptions::default());
    let op = file_op(&llb::scratch().file(&chain, Constraints::new()));
    assert_eq!(op.inputs.len(), 1, "only the copy source is an op input");
    // mkdir starts from scratch (-1); mkfile takes action 0 = index 1 + 0; copy takes
    // action 1 = 1 + 1 and reads input 0; only the last action has an output.
    assert_eq!(indices(&op), [(-1, -1, -1), (1, -1, -1), (2, 0, 0)]);
}

#[test]
fn chain_on_image_uses_base_input() {
    let chain = llb::mkdir("/a", 0o755, MkdirOptions::default()).rm("/b", Default::default());
    let op = file_op(&llb::image("busybox").file(&chain, Constraints::new()));
    assert_eq!(indices(&op), [(0, -1, -1), (1, -1, 0)]);
}

#[test]
fn copy_from_action_chain_bound_to_other_state() {
    let made = llb::mkdir("/x", 0o755, MkdirOptions::default()).with_state(&llb::scratch());
    let chain = llb::copy(made, "/x", "/y", CopyOptions::default());
    let op = file_op(&llb::image("busybox").file(&chain, Constraints::new()));
    // The source chain's mkdir is placed first (on scratch); the copy runs on input 0 and
    // reads action 0, numbered after the single input.
    assert_eq!(indices(&op), [(-1, -1, -1), (0, 1, 0)]);
}

#[test]
fn same_input_is_listed_once() {
    let img = llb::image("busybox");
    let chain = llb::copy((&img).into(), "/a", "/a", CopyOptions::default()).copy(
        (&img).into(),
        "/b",
        "/b",
        CopyOptions::default(),
    );
    let op = file_op(&img.file(&chain, Constraints::new()));
    assert_eq!(op.inputs.len(), 1);
    assert_eq!(indices(&op), [(0, 0, -1), (1, 0, 0)]);
}

#[test]
fn relative_paths_resolve_against_state_dir() {
    let st = llb::image("busybox").dir("/app");
    let chain = llb::mkdir(
        "sub/dir",
        0o700,
        MkdirOptions {
            make_parents: true,
            owner: Some(Chown::parse("root:staff")),
            created: Some(5),
        },
    )
    .copy((&st).into(), "./x/", "./y/.", CopyOptions::default());
    let op = file_op(&st.file(&chain, Constraints::new()));
    let Some(pb::op::Op::File(f)) = &op.op else {
        panic!("not a file op")
    };
    let Some(pb::file_action::Action::Mkdir(m)) = &f.actions[0].action else {
        panic!("not mkdir")
    };
    assert_eq!(
        (m.path.as_str(), m.mode, m.make_parents, m.timestamp),
        ("/app/sub/dir", 0o700, true, 5)
    );
    let owner = m.owner.as_ref().expect("owner");
    assert_eq!(
        owner.user.as_ref().and_then(|u| u.user.clone()),
        Some(pb::user_opt::User::ById(0))
    );
    assert_eq!(
        owner.group.as_ref().and_then(|u| u.user.clone()),
        Some(pb::user_opt::User::ByName(pb::NamedUserOpt {
            name: "staff".into(),
            input: 0
        }))
    );
    let Some(pb::file_action::Action::Copy(c)) = &f.actions[1].action else {
        panic!("not copy")
    };
    assert_eq!(
        (c.src.as_str(), c.dest.as_str(), c.mode),
        ("/app/x", "/app/y/.", -1)
    );
}

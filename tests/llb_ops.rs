//! Encoding of each op kind: the fields client/llb would set, read back from marshalled bytes.

use std::collections::BTreeSet;

use mstage::llb::{
    self, caps, Chmod, Chown, Constraints, CopyOptions, Exec, HttpOptions, ImageOptions,
    LocalOptions, MarshalOptions, Mount, ResolveMode, Secret, SshMount,
};
use mstage::proto::pb;
use prost::Message;

fn opts() -> MarshalOptions {
    MarshalOptions {
        constraints: Constraints::new().platform(llb::platform("linux", "amd64", "")),
        caps: None,
    }
}

fn marshal_ops(st: &llb::State) -> (pb::Definition, Vec<pb::Op>) {
    let def = llb::marshal(st, &opts()).expect("marshal");
    let ops = def
        .def
        .iter()
        .map(|b| pb::Op::decode(b.as_slice()).expect("decode"))
        .collect();
    (def, ops)
}

fn source(op: &pb::Op) -> &pb::SourceOp {
    match &op.op {
        Some(pb::op::Op::Source(s)) => s,
        other => panic!("not a source op: {other:?}"),
    }
}

fn exec(op: &pb::Op) -> &pb::ExecOp {
    match &op.op {
        Some(pb::op::Op::Exec(e)) => e,
        other => panic!("not an exec op: {other:?}"),
    }
}

fn file(op: &pb::Op) -> &pb::FileOp {
    match &op.op {
        Some(pb::op::Op::File(f)) => f,
        other => panic!("not a file op: {other:?}"),
    }
}

fn caps_of(def: &pb::Definition, op_bytes: &[u8]) -> BTreeSet<String> {
    def.metadata[&llb::digest_of(op_bytes)]
        .caps
        .keys()
        .cloned()
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn image_source_fields() {
    let (def, ops) = marshal_ops(&llb::image("busybox"));
    assert_eq!(ops.len(), 2);
    let s = source(&ops[0]);
    assert_eq!(
        s.identifier,
        "docker-image://docker.io/library/busybox:latest"
    );
    assert!(s.attrs.is_empty(), "no attrs unless options set them");
    let p = ops[0]
        .platform
        .as_ref()
        .expect("image ops keep the platform");
    assert_eq!((p.os.as_str(), p.architecture.as_str()), ("linux", "amd64"));
    assert_eq!(ops[0].constraints, Some(pb::WorkerConstraints::default()));
    assert_eq!(caps_of(&def, &def.def[0]), set(&[caps::SOURCE_IMAGE]));
}

#[test]
fn image_options_set_attrs_and_caps() {
    let st = llb::image_with(
        "alpine:3.19",
        ImageOptions {
            resolve_mode: ResolveMode::ForcePull,
            record_type: Some("internal".into()),
            ..Default::default()
        },
    );
    let (def, ops) = marshal_ops(&st);
    let s = source(&ops[0]);
    assert_eq!(s.attrs["image.resolvemode"], "pull");
    assert_eq!(s.attrs["image.recordtype"], "internal");
    assert_eq!(
        caps_of(&def, &def.def[0]),
        set(&[caps::SOURCE_IMAGE, caps::SOURCE_IMAGE_RESOLVE_MODE])
    );
}

#[test]
fn bad_image_reference_fails_at_marshal() {
    let err = llb::marshal(&llb::image("Busybox"), &opts()).expect_err("uppercase");
    assert_eq!(
        err.to_string(),
        "invalid reference format: repository name (library/Busybox) must be lowercase"
    );
}

#[test]
fn local_source_attrs() {
    let st = llb::local_with(
        "context",
        LocalOptions {
            session_id: Some("sess".into()),
            include_patterns: vec!["a".into(), "b/*".into()],
            exclude_patterns: vec!["!x".into()],
            follow_paths: vec!["Dockerfile".into()],
            shared_key_hint: Some("context".into()),
            differ: Some((llb::DiffType::None, false)),
            ..Default::default()
        },
    );
    let (def, ops) = marshal_ops(&st);
    let s = source(&ops[0]);
    assert_eq!(s.identifier, "local://context");
    assert_eq!(s.attrs["local.session"], "sess");
    assert_eq!(s.attrs["local.includepattern"], r#"["a","b/*"]"#);
    assert_eq!(s.attrs["local.excludepatterns"], r#"["!x"]"#);
    assert_eq!(s.attrs["local.followpaths"], r#"["Dockerfile"]"#);
    assert_eq!(s.attrs["local.sharedkeyhint"], "context");
    assert_eq!(s.attrs["local.differ"], "none");
    assert!(
        !s.attrs.contains_key("local.unique"),
        "session id suppresses local.unique"
    );
    assert!(
        ops[0].platform.is_none(),
        "local sources are not platform specific"
    );
    assert_eq!(
        caps_of(&def, &def.def[0]),
        set(&[
            caps::SOURCE_LOCAL,
            caps::SOURCE_LOCAL_SESSION_ID,
            caps::SOURCE_LOCAL_INCLUDE_PATTERNS,
            caps::SOURCE_LOCAL_EXCLUDE_PATTERNS,
            caps::SOURCE_LOCAL_FOLLOW_PATHS,
            caps::SOURCE_LOCAL_SHARED_KEY_HINT,
        ])
    );
}

#[test]
fn local_without_session_needs_unique_id() {
    let st = llb::local("ctx");
    assert!(llb::marshal(&st, &opts()).is_err());
    let mut o = opts();
    o.constraints.local_unique_id = Some("uid1".into());
    let def = llb::marshal(&st, &o).expect("marshal");
    let op = pb::Op::decode(def.def[0].as_slice()).expect("decode");
    assert_eq!(source(&op).attrs["local.unique"], "uid1");
    assert!(caps_of(&def, &def.def[0]).contains(caps::SOURCE_LOCAL_UNIQUE));
}

#[test]
fn http_source_attrs() {
    let st = llb::http_with(
        "https://example.com/f.tgz",
        HttpOptions {
            checksum: Some("sha256:abcd".into()),
            filename: Some("f.tgz".into()),
            perm: 0o755,
            ..Default::default()
        },
    );
    let (def, ops) = marshal_ops(&st);
    let s = source(&ops[0]);
    assert_eq!(s.identifier, "https://example.com/f.tgz");
    assert_eq!(s.attrs["http.checksum"], "sha256:abcd");
    assert_eq!(s.attrs["http.filename"], "f.tgz");
    assert_eq!(s.attrs["http.perm"], "0755");
    assert_eq!(
        caps_of(&def, &def.def[0]),
        set(&[
            caps::SOURCE_HTTP,
            caps::SOURCE_HTTP_CHECKSUM,
            caps::SOURCE_HTTP_PERM
        ])
    );
}

#[test]
fn exec_meta_and_mounts() {
    let base = llb::image("busybox")
        .add_env("A", "1")
        .dir("/work")
        .user("nobody");
    let other = llb::image("alpine");
    let run = base.run(
        Exec::new(vec!["sh".into(), "-c".into(), "true".into()])
            .hostname("h")
            .network(pb::NetMode::None)
            .security(pb::SecurityMode::Insecure)
            .extra_host("db", "10.0.0.2".parse().expect("ip"))
            .ulimit("nofile", 10, 20)
            .valid_exit_codes(vec![0, 1])
            .mount(Mount::bind("/src", &other).readonly().selector("/etc"))
            .mount(Mount::cache("/cache", "cid", pb::CacheSharingOpt::Locked))
            .mount(Mount::tmpfs("/tmp", 1024))
            .secret(Secret::file("tok", "/run/secrets/tok"))
            .ssh(SshMount::default()),
    );
    let (def, ops) = marshal_ops(&run.root());
    // busybox, alpine (mount inputs sorted by target: "/", "/src"), exec, terminal
    assert_eq!(ops.len(), 4);
    let e = exec(&ops[2]);
    let meta = e.meta.as_ref().expect("meta");
    assert_eq!(meta.args, ["sh", "-c", "true"]);
    assert_eq!(meta.env, ["A=1", "SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0"]);
    assert_eq!(meta.cwd, "/work");
    assert_eq!(meta.user, "nobody");
    assert_eq!(meta.hostname, "h");
    assert!(meta.remove_mount_stubs_recursive);
    assert_eq!(meta.valid_exit_codes, [0, 1]);
    assert_eq!(meta.extra_hosts[0].ip, "10.0.0.2");
    assert_eq!(meta.ulimit[0].name, "nofile");
    assert_eq!(e.network, pb::NetMode::None as i32);
    assert_eq!(e.security, pb::SecurityMode::Insecure as i32);
    let dests: Vec<&str> = e.mounts.iter().map(|m| m.dest.as_str()).collect();
    assert_eq!(
        dests,
        [
            "/",
            "/cache",
            "/src",
            "/tmp",
            "/run/secrets/tok",
            "/run/buildkit/ssh_agent.0"
        ]
    );
    let m = |i: usize| &e.mounts[i];
    assert_eq!((m(0).input, m(0).output), (0, 0));
    assert_eq!(
        (m(1).input, m(1).output, m(1).mount_type),
        (-1, -1, pb::MountType::Cache as i32)
    );
    assert_eq!(
        m(1).cache_opt.as_ref().map(|c| c.sharing),
        Some(pb::CacheSharingOpt::Locked as i32)
    );
    assert_eq!((m(2).input, m(2).output, m(2).readonly), (1, -1, true));
    assert_eq!(m(2).selector, "/etc");
    assert_eq!(m(3).tmpfs_opt, Some(pb::TmpfsOpt { size: 1024 }));
    assert_eq!(m(4).secret_opt.as_ref().map(|s| s.mode), Some(0o400));
    assert_eq!(m(5).ssh_opt.as_ref().map(|s| s.mode), Some(0o600));
    assert_eq!(
        caps_of(&def, &def.def[2]),
        set(&[
            caps::EXEC_META_BASE,
            caps::EXEC_META_NETWORK,
            caps::EXEC_META_SECURITY,
            caps::EXEC_META_ULIMIT,
            caps::EXEC_VALID_EXIT_CODE,
            caps::EXEC_MOUNT_BIND,
            caps::EXEC_MOUNT_SELECTOR,
            caps::EXEC_MOUNT_CACHE,
            caps::EXEC_MOUNT_CACHE_SHARING,
            caps::EXEC_MOUNT_TMPFS,
            caps::EXEC_MOUNT_TMPFS_SIZE,
            caps::EXEC_MOUNT_SECRET,
            caps::EXEC_MOUNT_SSH,
        ])
    );
    // run options stay on the exec: the resulting state keeps the base's settings
    assert_eq!(run.root().get_network(), pb::NetMode::Unset);
}

#[test]
fn exec_requires_args() {
    let st = llb::image("busybox").run(Exec::from_state()).root();
    assert_eq!(
        llb::marshal(&st, &opts()).expect_err("no args").to_string(),
        "arguments are required"
    );
}

#[test]
fn exec_default_path_depends_on_caps() {
    let st = llb::image("busybox")
        .run(Exec::new(vec!["true".into()]))
        .root();
    let mut o = opts();
    o.caps = Some(BTreeSet::new());
    let def = llb::marshal(&st, &o).expect("marshal");
    let op = pb::Op::decode(def.def[1].as_slice()).expect("decode");
    assert_eq!(
        exec(&op).meta.as_ref().map(|m| m.env.clone()),
        Some(vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()
        ])
    );
    o.caps = Some(set(&[caps::EXEC_META_SETS_DEFAULT_PATH]));
    let def = llb::marshal(&st, &o).expect("marshal");
    let op = pb::Op::decode(def.def[1].as_slice()).expect("decode");
    assert!(exec(&op).meta.as_ref().is_some_and(|m| m.env.is_empty()));
    assert!(caps_of(&def, &def.def[1]).contains(caps::EXEC_META_SETS_DEFAULT_PATH));
}

#[test]
fn exec_writable_mount_output_index() {
    let run = llb::image("busybox").run(
        Exec::new(vec!["true".into()])
            .mount(Mount::bind("/out", &llb::scratch()))
            .mount(Mount::bind("/a", &llb::image("alpine"))),
    );
    let out = run.mount("/out").expect("writable mount");
    let (_, ops) = marshal_ops(&out);
    let terminal = ops.last().expect("terminal");
    // outputs by target: "/" = 0, "/a" = 1, "/out" = 2
    assert_eq!(terminal.inputs[0].index, 2);
    assert!(run.mount("/nope").is_err());
    let tmp =
        llb::image("busybox").run(Exec::new(vec!["true".into()]).mount(Mount::tmpfs("/t", 0)));
    assert_eq!(
        tmp.mount("/t").expect_err("tmpfs").to_string(),
        "tmpfs mount for /t can't be used as a parent"
    );
}

#[test]
fn file_copy_fields() {
    let ctx = llb::local_with(
        "context",
        LocalOptions {
            session_id: Some("s".into()),
            ..Default::default()
        },
    )
    .dir("/app");
    let st = llb::image("busybox").dir("/work").file(
        &llb::copy(
            (&ctx).into(),
            "src/../main.go",
            "out/",
            CopyOptions {
                mode: Some(Chmod::Str("u+x".into())),
                owner: Some(Chown::parse("app:1000")),
                create_dest_path: true,
                allow_wildcard: true,
                include_patterns: vec!["*.go".into()],
                ..Default::default()
            },
        ),
        Constraints::new().custom_name("COPY"),
    );
    let (def, ops) = marshal_ops(&st);
    let fop = ops
        .iter()
        .find(|o| matches!(o.op, Some(pb::op::Op::File(_))))
        .expect("file op");
    assert!(fop.platform.is_none(), "file ops are not platform specific");
    let a = &file(fop).actions[0];
    assert_eq!((a.input, a.secondary_input, a.output), (0, 1, 0));
    let Some(pb::file_action::Action::Copy(c)) = &a.action else {
        panic!("not a copy")
    };
    assert_eq!(c.src, "/app/main.go");
    assert_eq!(c.dest, "/work/out/");
    assert_eq!((c.mode, c.mode_str.as_str()), (0, "u+x"));
    assert_eq!(c.timestamp, -1);
    let owner = c.owner.as_ref().expect("owner");
    assert_eq!(
        owner.user.as_ref().and_then(|u| u.user.clone()),
        Some(pb::user_opt::User::ByName(pb::NamedUserOpt {
            name: "app".into(),
            input: 0
        }))
    );
    assert_eq!(
        owner.group.as_ref().and_then(|u| u.user.clone()),
        Some(pb::user_opt::User::ById(1000))
    );
    // The op's own bytes: re-encoding with prost would not give Go's field order.
    let fbytes = def
        .def
        .iter()
        .find(|b| pb::Op::decode(b.as_slice()).ok().as_ref() == Some(fop))
        .expect("file op bytes")
        .clone();
    assert_eq!(caps_of(&def, &fbytes), set(&[caps::FILE_BASE]));
    assert_eq!(
        def.metadata[&llb::digest_of(&fbytes)].description["llb.customname"],
        "COPY"
    );
}

#[test]
fn merge_and_diff_ops() {
    let a = llb::image("busybox");
    let b = llb::image("alpine");
    let m = llb::merge(&[a.clone(), llb::scratch(), b.clone()], Constraints::new());
    let (def, ops) = marshal_ops(&m);
    let Some(pb::op::Op::Merge(mop)) = &ops[2].op else {
        panic!("not a merge")
    };
    assert_eq!(
        mop.inputs.iter().map(|i| i.input).collect::<Vec<_>>(),
        [0, 1]
    );
    assert!(ops[2].platform.is_none());
    assert!(caps_of(&def, &def.def[2]).contains(caps::MERGE_OP));
    assert!(llb::merge(&[a.clone(), llb::scratch()], Constraints::new()).same_output(&a));

    let d = llb::diff(&a, &b, Constraints::new());
    let (_, ops) = marshal_ops(&d);
    let Some(pb::op::Op::Diff(dop)) = &ops[2].op else {
        panic!("not a diff")
    };
    assert_eq!(dop.lower.as_ref().map(|l| l.input), Some(0));
    assert_eq!(dop.upper.as_ref().map(|u| u.input), Some(1));
}

#[test]
fn git_source_identifier_and_attrs() {
    let (def, ops) = marshal_ops(&llb::git(
        "https://github.com/moby/buildkit.git",
        "v0.13.0:docs",
    ));
    let s = source(&ops[0]);
    assert_eq!(
        s.identifier,
        "git://github.com/moby/buildkit.git#v0.13.0:docs"
    );
    assert_eq!(
        s.attrs["git.fullurl"],
        "https://github.com/moby/buildkit.git"
    );
    assert_eq!(s.attrs["git.authtokensecret"], "GIT_AUTH_TOKEN");
    assert_eq!(s.attrs["git.authheadersecret"], "GIT_AUTH_HEADER");
    assert!(ops[0].platform.is_none());
    assert_eq!(
        caps_of(&def, &def.def[0]),
        set(&[caps::SOURCE_GIT, caps::SOURCE_GIT_FULL_URL])
    );
    // scheme-less URLs get https://; scp-style ones are ssh with the default agent socket
    let (_, ops) = marshal_ops(&llb::git("github.com/a/b", ""));
    assert_eq!(source(&ops[0]).identifier, "git://github.com/a/b");
    assert_eq!(
        source(&ops[0]).attrs["git.fullurl"],
        "https://github.com/a/b"
    );
    let (_, ops) = marshal_ops(&llb::git("git@github.com:a/b.git", "main"));
    let s = source(&ops[0]);
    assert_eq!(s.identifier, "git://github.com/a/b.git#main");
    assert_eq!(s.attrs["git.fullurl"], "git@github.com:a/b.git");
    assert_eq!(s.attrs["git.mountsshsock"], "default");
}

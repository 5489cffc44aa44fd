//! Readable JSON for a definition, one object per op as `buildctl debug dump-llb` prints it:
//! `{"Op":…,"Digest":…,"OpMetadata":…}`. Field names are BuildKit's JSON names, zero values
//! are omitted (Go's `omitempty`), enums are numbers and bytes base64, as encoding/json does.

use std::collections::BTreeMap;

use prost::Message;
use serde_json::{json, Map, Value};

use crate::proto::pb;

use super::marshal::digest_of;
use super::LlbError;

/// One JSON line per op of `def`, in definition order.
pub fn definition_to_json_lines(def: &pb::Definition) -> Result<Vec<String>, LlbError> {
    def.def
        .iter()
        .map(|bytes| {
            let op =
                pb::Op::decode(bytes.as_slice()).map_err(|e| LlbError::Decode(e.to_string()))?;
            let digest = digest_of(bytes);
            let md = def.metadata.get(&digest).cloned().unwrap_or_default();
            let v = json!({"Op": op_json(&op), "Digest": digest, "OpMetadata": metadata_json(&md)});
            Ok(v.to_string())
        })
        .collect()
}

/// Builds an object, leaving out zero values.
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Self {
        Obj(Map::new())
    }
    fn put(mut self, key: &str, v: Value) -> Self {
        let empty = match &v {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Number(n) => n.as_i64() == Some(0) || n.as_u64() == Some(0),
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(_) => false,
        };
        if !empty {
            self.0.insert(key.to_string(), v);
        }
        self
    }
    /// Always present (fields without `omitempty`).
    fn keep(mut self, key: &str, v: Value) -> Self {
        self.0.insert(key.to_string(), v);
        self
    }
    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> Value) -> Value {
    v.as_ref().map(f).unwrap_or(Value::Null)
}

fn strings(v: &[String]) -> Value {
    json!(v)
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    if m.is_empty() {
        Value::Null
    } else {
        json!(m)
    }
}

fn op_json(op: &pb::Op) -> Value {
    use pb::op::Op as K;
    let inner = match &op.op {
        Some(K::Exec(e)) => Obj::new().put("exec", exec_json(e)),
        Some(K::Source(s)) => Obj::new().put(
            "source",
            Obj::new()
                .put("identifier", json!(s.identifier))
                .put("attrs", string_map(&s.attrs))
                .done(),
        ),
        Some(K::File(f)) => Obj::new().put(
            "file",
            Obj::new()
                .put(
                    "actions",
                    Value::Array(f.actions.iter().map(file_action_json).collect()),
                )
                .done(),
        ),
        Some(K::Build(_)) => Obj::new().put("build", json!({})),
        Some(K::Merge(m)) => Obj::new().put(
            "merge",
            Obj::new()
                .put(
                    "inputs",
                    Value::Array(
                        m.inputs
                            .iter()
                            .map(|i| Obj::new().put("input", json!(i.input)).done())
                            .collect(),
                    ),
                )
                .done(),
        ),
        Some(K::Diff(d)) => Obj::new().put(
            "diff",
            Obj::new()
                .put(
                    "lower",
                    opt(&d.lower, |l| Obj::new().put("input", json!(l.input)).done()),
                )
                .put(
                    "upper",
                    opt(&d.upper, |u| Obj::new().put("input", json!(u.input)).done()),
                )
                .done(),
        ),
        None => Obj::new(),
    };
    Obj::new()
        .put(
            "inputs",
            Value::Array(
                op.inputs
                    .iter()
                    .map(|i| {
                        Obj::new()
                            .put("digest", json!(i.digest))
                            .put("index", json!(i.index))
                            .done()
                    })
                    .collect(),
            ),
        )
        .keep("Op", inner.done())
        .put(
            "platform",
            opt(&op.platform, |p| {
                Obj::new()
                    .put("Architecture", json!(p.architecture))
                    .put("OS", json!(p.os))
                    .put("Variant", json!(p.variant))
                    .put("OSVersion", json!(p.os_version))
                    .put("OSFeatures", strings(&p.os_features))
                    .done()
            }),
        )
        .put(
            "constraints",
            opt(&op.constraints, |c| {
                Obj::new().put("filter", strings(&c.filter)).done()
            }),
        )
        .done()
}

fn exec_json(e: &pb::ExecOp) -> Value {
    let meta = opt(&e.meta, |m| {
        Obj::new()
            .put("args", strings(&m.args))
            .put("env", strings(&m.env))
            .put("cwd", json!(m.cwd))
            .put("user", json!(m.user))
            .put(
                "proxy_env",
                opt(&m.proxy_env, |p| {
                    Obj::new()
                        .put("http_proxy", json!(p.http_proxy))
                        .put("https_proxy", json!(p.https_proxy))
                        .put("ftp_proxy", json!(p.ftp_proxy))
                        .put("no_proxy", json!(p.no_proxy))
                        .put("all_proxy", json!(p.all_proxy))
                        .done()
                }),
            )
            .put(
                "extraHosts",
                Value::Array(
                    m.extra_hosts
                        .iter()
                        .map(|h| {
                            Obj::new()
                                .put("Host", json!(h.host))
                                .put("IP", json!(h.ip))
                                .done()
                        })
                        .collect(),
                ),
            )
            .put("hostname", json!(m.hostname))
            .put(
                "ulimit",
                Value::Array(
                    m.ulimit
                        .iter()
                        .map(|u| {
                            Obj::new()
                                .put("Name", json!(u.name))
                                .put("Soft", json!(u.soft))
                                .put("Hard", json!(u.hard))
                                .done()
                        })
                        .collect(),
                ),
            )
            .put("cgroupParent", json!(m.cgroup_parent))
            .put(
                "removeMountStubsRecursive",
                json!(m.remove_mount_stubs_recursive),
            )
            .put("validExitCodes", json!(m.valid_exit_codes))
            .done()
    });
    Obj::new()
        .put("meta", meta)
        .put(
            "mounts",
            Value::Array(e.mounts.iter().map(mount_json).collect()),
        )
        .put("network", json!(e.network))
        .put("security", json!(e.security))
        .put(
            "secretenv",
            Value::Array(
                e.secretenv
                    .iter()
                    .map(|s| {
                        Obj::new()
                            .put("ID", json!(s.id))
                            .put("name", json!(s.name))
                            .put("optional", json!(s.optional))
                            .done()
                    })
                    .collect(),
            ),
        )
        .put(
            "cdiDevices",
            Value::Array(
                e.cdi_devices
                    .iter()
                    .map(|d| {
                        Obj::new()
                            .put("name", json!(d.name))
                            .put("optional", json!(d.optional))
                            .done()
                    })
                    .collect(),
            ),
        )
        .done()
}

fn mount_json(m: &pb::Mount) -> Value {
    let secret_like = |id: &str, uid: u32, gid: u32, mode: u32, optional: bool| {
        Obj::new()
            .put("ID", json!(id))
            .put("uid", json!(uid))
            .put("gid", json!(gid))
            .put("mode", json!(mode))
            .put("optional", json!(optional))
            .done()
    };
    Obj::new()
        .put("input", json!(m.input))
        .put("selector", json!(m.selector))
        .put("dest", json!(m.dest))
        .put("output", json!(m.output))
        .put("readonly", json!(m.readonly))
        .put("mountType", json!(m.mount_type))
        .put(
            "TmpfsOpt",
            opt(&m.tmpfs_opt, |t| {
                Obj::new().put("size", json!(t.size)).done()
            }),
        )
        .put(
            "cacheOpt",
            opt(&m.cache_opt, |c| {
                Obj::new()
                    .put("ID", json!(c.id))
                    .put("sharing", json!(c.sharing))
                    .done()
            }),
        )
        .put(
            "secretOpt",
            opt(&m.secret_opt, |s| {
                secret_like(&s.id, s.uid, s.gid, s.mode, s.optional)
            }),
        )
        .put(
            "SSHOpt",
            opt(&m.ssh_opt, |s| {
                secret_like(&s.id, s.uid, s.gid, s.mode, s.optional)
            }),
        )
        .put("resultID", json!(m.result_id))
        .put("contentCache", json!(m.content_cache))
        .done()
}

fn chown_json(c: &pb::ChownOpt) -> Value {
    let user = |u: &pb::UserOpt| match &u.user {
        Some(pb::user_opt::User::ByName(n)) => {
            json!({"User": {"ByName": Obj::new().put("name", json!(n.name)).put("input", json!(n.input)).done()}})
        }
        Some(pb::user_opt::User::ById(id)) => json!({"User": {"ByID": id}}),
        None => json!({}),
    };
    Obj::new()
        .put("user", opt(&c.user, user))
        .put("group", opt(&c.group, user))
        .done()
}

fn file_action_json(a: &pb::FileAction) -> Value {
    use pb::file_action::Action as A;
    let action = match &a.action {
        Some(A::Copy(c)) => Obj::new().put(
            "copy",
            Obj::new()
                .put("src", json!(c.src))
                .put("dest", json!(c.dest))
                .put("owner", opt(&c.owner, chown_json))
                .put("mode", json!(c.mode))
                .put("followSymlink", json!(c.follow_symlink))
                .put("dirCopyContents", json!(c.dir_copy_contents))
                .put(
                    "attemptUnpackDockerCompatibility",
                    json!(c.attempt_unpack_docker_compatibility),
                )
                .put("createDestPath", json!(c.create_dest_path))
                .put("allowWildcard", json!(c.allow_wildcard))
                .put("allowEmptyWildcard", json!(c.allow_empty_wildcard))
                .put("timestamp", json!(c.timestamp))
                .put("include_patterns", strings(&c.include_patterns))
                .put("exclude_patterns", strings(&c.exclude_patterns))
                .put(
                    "alwaysReplaceExistingDestPaths",
                    json!(c.always_replace_existing_dest_paths),
                )
                .put("modeStr", json!(c.mode_str))
                .put("required_paths", strings(&c.required_paths))
                .done(),
        ),
        Some(A::Mkfile(m)) => Obj::new().put(
            "mkfile",
            Obj::new()
                .put("path", json!(m.path))
                .put("mode", json!(m.mode))
                .put("data", json!(super::base64::encode(&m.data)))
                .put("owner", opt(&m.owner, chown_json))
                .put("timestamp", json!(m.timestamp))
                .done(),
        ),
        Some(A::Mkdir(m)) => Obj::new().put(
            "mkdir",
            Obj::new()
                .put("path", json!(m.path))
                .put("mode", json!(m.mode))
                .put("makeParents", json!(m.make_parents))
                .put("owner", opt(&m.owner, chown_json))
                .put("timestamp", json!(m.timestamp))
                .done(),
        ),
        Some(A::Rm(r)) => Obj::new().put(
            "rm",
            Obj::new()
                .put("path", json!(r.path))
                .put("allowNotFound", json!(r.allow_not_found))
                .put("allowWildcard", json!(r.allow_wildcard))
                .done(),
        ),
        Some(A::Symlink(s)) => Obj::new().put(
            "symlink",
            Obj::new()
                .put("oldpath", json!(s.oldpath))
                .put("newpath", json!(s.newpath))
                .put("owner", opt(&s.owner, chown_json))
                .put("timestamp", json!(s.timestamp))
                .done(),
        ),
        None => Obj::new(),
    };
    Obj::new()
        .keep("input", json!(a.input))
        .keep("secondaryInput", json!(a.secondary_input))
        .keep("output", json!(a.output))
        .keep("Action", action.done())
        .done()
}

fn metadata_json(m: &pb::OpMetadata) -> Value {
    Obj::new()
        .put("ignore_cache", json!(m.ignore_cache))
        .put("description", string_map(&m.description))
        .put(
            "export_cache",
            opt(&m.export_cache, |e| {
                Obj::new().put("Value", json!(e.value)).done()
            }),
        )
        .put(
            "caps",
            if m.caps.is_empty() {
                Value::Null
            } else {
                json!(m.caps)
            },
        )
        .put(
            "progress_group",
            opt(&m.progress_group, |p| {
                Obj::new()
                    .put("id", json!(p.id))
                    .put("name", json!(p.name))
                    .put("weak", json!(p.weak))
                    .done()
            }),
        )
        .put(
            "linux_resources",
            opt(&m.linux_resources, |r| {
                Obj::new()
                    .put("memory", json!(r.memory))
                    .put("memorySwap", json!(r.memory_swap))
                    .put("cpuShares", json!(r.cpu_shares))
                    .put("cpuPeriod", json!(r.cpu_period))
                    .put("cpuQuota", json!(r.cpu_quota))
                    .put("cpusetCpus", json!(r.cpuset_cpus))
                    .put("cpusetMems", json!(r.cpuset_mems))
                    .done()
            }),
        )
        .done()
}

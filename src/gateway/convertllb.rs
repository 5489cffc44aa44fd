//! The `frontend.convertllb` subrequest's answer (dockerfile 1.20's `--call=convertllb`): the
//! target's LLB as the reference's `convertllb.Result` writes it in `result.json`, each op by
//! its digest in protobuf's JSON mapping (`protojson`: lowerCamelCase names, 64-bit integers as
//! strings, enums by name, zero values left out), the op metadata as client/llb's `OpMetadata`
//! and the source map in protojson too.

use std::collections::BTreeMap;

use prost::Message;
use serde_json::{json, Map, Value};

use super::subrequests::go_json;
use crate::llb::base64::encode as base64;
use crate::llb::digest_of;
use crate::proto::pb;

const VERSION: &str = "0.1.0";

/// The answer's metadata, or the error of an op that does not decode.
pub fn result(def: &pb::Definition) -> Result<BTreeMap<String, Vec<u8>>, prost::DecodeError> {
    let mut ops = Map::new();
    for bytes in &def.def {
        ops.insert(digest_of(bytes), op(&pb::Op::decode(bytes.as_slice())?));
    }
    sort(&mut ops);
    let mut metadata = Map::new();
    for (digest, m) in &def.metadata {
        metadata.insert(digest.clone(), super::lint::op_metadata_json(m));
    }
    let source = def.source.as_ref().map_or_else(|| json!({}), source);
    let doc = json!({"def": ops, "metadata": metadata, "source": source});
    Ok(BTreeMap::from([
        ("result.json".into(), go_json(&doc).into_bytes()),
        ("version".into(), VERSION.as_bytes().to_vec()),
    ]))
}

/// Go writes map keys sorted.
fn sort(map: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    map.extend(entries);
}

/// An object in protojson's way: zero scalars and empty lists left out, messages kept.
struct Pj(Map<String, Value>);

impl Pj {
    fn new() -> Self {
        Pj(Map::new())
    }
    fn str(mut self, key: &str, v: &str) -> Self {
        if !v.is_empty() {
            self.0.insert(key.into(), json!(v));
        }
        self
    }
    /// 64-bit integers are strings in protojson.
    fn i64(mut self, key: &str, v: i64) -> Self {
        if v != 0 {
            self.0.insert(key.into(), json!(v.to_string()));
        }
        self
    }
    fn u64(mut self, key: &str, v: u64) -> Self {
        if v != 0 {
            self.0.insert(key.into(), json!(v.to_string()));
        }
        self
    }
    fn num(mut self, key: &str, v: i64) -> Self {
        if v != 0 {
            self.0.insert(key.into(), json!(v));
        }
        self
    }
    fn bool(mut self, key: &str, v: bool) -> Self {
        if v {
            self.0.insert(key.into(), json!(true));
        }
        self
    }
    fn enumeration(mut self, key: &str, v: i32, names: &[&str]) -> Self {
        if v != 0 {
            let name = usize::try_from(v).ok().and_then(|i| names.get(i));
            self.0
                .insert(key.into(), name.map_or(json!(v), |n| json!(n)));
        }
        self
    }
    fn msg<T>(mut self, key: &str, v: &Option<T>, f: impl Fn(&T) -> Value) -> Self {
        if let Some(v) = v {
            self.0.insert(key.into(), f(v));
        }
        self
    }
    fn list<T>(mut self, key: &str, v: &[T], f: impl Fn(&T) -> Value) -> Self {
        if !v.is_empty() {
            self.0.insert(key.into(), v.iter().map(f).collect());
        }
        self
    }
    fn strings(self, key: &str, v: &[String]) -> Self {
        self.list(key, v, |s| json!(s))
    }
    fn map<T>(mut self, key: &str, v: &BTreeMap<String, T>, f: impl Fn(&T) -> Value) -> Self {
        if !v.is_empty() {
            let m: Map<String, Value> = v.iter().map(|(k, x)| (k.clone(), f(x))).collect();
            self.0.insert(key.into(), Value::Object(m));
        }
        self
    }
    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

fn op(op: &pb::Op) -> Value {
    use pb::op::Op as K;
    let mut out = Pj::new().list("inputs", &op.inputs, |i| {
        Pj::new()
            .str("digest", &i.digest)
            .i64("index", i.index)
            .done()
    });
    out = match &op.op {
        Some(K::Exec(e)) => out.msg("exec", &Some(e), |e| exec(e)),
        Some(K::Source(s)) => out.msg("source", &Some(s), |s| {
            Pj::new()
                .str("identifier", &s.identifier)
                .map("attrs", &s.attrs, |v| json!(v))
                .done()
        }),
        Some(K::File(f)) => out.msg("file", &Some(f), |f| {
            Pj::new().list("actions", &f.actions, file_action).done()
        }),
        Some(K::Build(b)) => out.msg("build", &Some(b), |b| {
            Pj::new()
                .i64("builder", b.builder)
                .map("inputs", &b.inputs, |i| {
                    Pj::new().i64("input", i.input).done()
                })
                .msg("def", &b.def, definition)
                .map("attrs", &b.attrs, |v| json!(v))
                .done()
        }),
        Some(K::Merge(m)) => out.msg("merge", &Some(m), |m| {
            Pj::new()
                .list("inputs", &m.inputs, |i| {
                    Pj::new().i64("input", i.input).done()
                })
                .done()
        }),
        Some(K::Diff(d)) => out.msg("diff", &Some(d), |d| {
            Pj::new()
                .msg("lower", &d.lower, |l| {
                    Pj::new().i64("input", l.input).done()
                })
                .msg("upper", &d.upper, |u| {
                    Pj::new().i64("input", u.input).done()
                })
                .done()
        }),
        None => out,
    };
    out.msg("platform", &op.platform, |p| {
        Pj::new()
            .str("Architecture", &p.architecture)
            .str("OS", &p.os)
            .str("Variant", &p.variant)
            .str("OSVersion", &p.os_version)
            .strings("OSFeatures", &p.os_features)
            .done()
    })
    .msg("constraints", &op.constraints, |c| {
        Pj::new().strings("filter", &c.filter).done()
    })
    .done()
}

fn exec(e: &pb::ExecOp) -> Value {
    Pj::new()
        .msg("meta", &e.meta, |m| {
            Pj::new()
                .strings("args", &m.args)
                .strings("env", &m.env)
                .str("cwd", &m.cwd)
                .str("user", &m.user)
                .msg("proxyEnv", &m.proxy_env, |p| {
                    Pj::new()
                        .str("httpProxy", &p.http_proxy)
                        .str("httpsProxy", &p.https_proxy)
                        .str("ftpProxy", &p.ftp_proxy)
                        .str("noProxy", &p.no_proxy)
                        .str("allProxy", &p.all_proxy)
                        .done()
                })
                .list("extraHosts", &m.extra_hosts, |h| {
                    Pj::new().str("Host", &h.host).str("IP", &h.ip).done()
                })
                .str("hostname", &m.hostname)
                .list("ulimit", &m.ulimit, |u| {
                    Pj::new()
                        .str("Name", &u.name)
                        .i64("Soft", u.soft)
                        .i64("Hard", u.hard)
                        .done()
                })
                .str("cgroupParent", &m.cgroup_parent)
                .bool("removeMountStubsRecursive", m.remove_mount_stubs_recursive)
                .list("validExitCodes", &m.valid_exit_codes, |c| json!(c))
                .done()
        })
        .list("mounts", &e.mounts, mount)
        .enumeration("network", e.network, &["UNSET", "HOST", "NONE"])
        .enumeration("security", e.security, &["SANDBOX", "INSECURE"])
        .list("secretenv", &e.secretenv, |s| {
            Pj::new()
                .str("ID", &s.id)
                .str("name", &s.name)
                .bool("optional", s.optional)
                .done()
        })
        .list("cdiDevices", &e.cdi_devices, |d| {
            Pj::new()
                .str("name", &d.name)
                .bool("optional", d.optional)
                .done()
        })
        .done()
}

fn mount(m: &pb::Mount) -> Value {
    let secret_like = |id: &str, uid: u32, gid: u32, mode: u32, optional: bool| {
        Pj::new()
            .str("ID", id)
            .num("uid", i64::from(uid))
            .num("gid", i64::from(gid))
            .num("mode", i64::from(mode))
            .bool("optional", optional)
            .done()
    };
    Pj::new()
        .i64("input", m.input)
        .str("selector", &m.selector)
        .str("dest", &m.dest)
        .i64("output", m.output)
        .bool("readonly", m.readonly)
        .enumeration(
            "mountType",
            m.mount_type,
            &["BIND", "SECRET", "SSH", "CACHE", "TMPFS"],
        )
        .msg("TmpfsOpt", &m.tmpfs_opt, |t| {
            Pj::new().i64("size", t.size).done()
        })
        .msg("cacheOpt", &m.cache_opt, |c| {
            Pj::new()
                .str("ID", &c.id)
                .enumeration("sharing", c.sharing, &["SHARED", "PRIVATE", "LOCKED"])
                .done()
        })
        .msg("secretOpt", &m.secret_opt, |s| {
            secret_like(&s.id, s.uid, s.gid, s.mode, s.optional)
        })
        .msg("SSHOpt", &m.ssh_opt, |s| {
            secret_like(&s.id, s.uid, s.gid, s.mode, s.optional)
        })
        .str("resultID", &m.result_id)
        .enumeration("contentCache", m.content_cache, &["DEFAULT", "ON", "OFF"])
        .done()
}

fn chown(c: &pb::ChownOpt) -> Value {
    let user = |u: &pb::UserOpt| match &u.user {
        Some(pb::user_opt::User::ByName(n)) => json!({"byName":
            Pj::new().str("name", &n.name).i64("input", n.input).done()}),
        // A oneof member is written even when zero.
        Some(pb::user_opt::User::ById(id)) => json!({ "byID": id }),
        None => json!({}),
    };
    Pj::new()
        .msg("user", &c.user, user)
        .msg("group", &c.group, user)
        .done()
}

fn file_action(a: &pb::FileAction) -> Value {
    use pb::file_action::Action as A;
    let out = Pj::new()
        .i64("input", a.input)
        .i64("secondaryInput", a.secondary_input)
        .i64("output", a.output);
    match &a.action {
        Some(A::Copy(c)) => out.msg("copy", &Some(c), |c| {
            Pj::new()
                .str("src", &c.src)
                .str("dest", &c.dest)
                .msg("owner", &c.owner, chown)
                .num("mode", i64::from(c.mode))
                .bool("followSymlink", c.follow_symlink)
                .bool("dirCopyContents", c.dir_copy_contents)
                .bool(
                    "attemptUnpackDockerCompatibility",
                    c.attempt_unpack_docker_compatibility,
                )
                .bool("createDestPath", c.create_dest_path)
                .bool("allowWildcard", c.allow_wildcard)
                .bool("allowEmptyWildcard", c.allow_empty_wildcard)
                .i64("timestamp", c.timestamp)
                .strings("includePatterns", &c.include_patterns)
                .strings("excludePatterns", &c.exclude_patterns)
                .bool(
                    "alwaysReplaceExistingDestPaths",
                    c.always_replace_existing_dest_paths,
                )
                .str("modeStr", &c.mode_str)
                .strings("requiredPaths", &c.required_paths)
                .done()
        }),
        Some(A::Mkfile(m)) => out.msg("mkfile", &Some(m), |m| {
            Pj::new()
                .str("path", &m.path)
                .num("mode", i64::from(m.mode))
                .str("data", &base64(&m.data))
                .msg("owner", &m.owner, chown)
                .i64("timestamp", m.timestamp)
                .done()
        }),
        Some(A::Mkdir(m)) => out.msg("mkdir", &Some(m), |m| {
            Pj::new()
                .str("path", &m.path)
                .num("mode", i64::from(m.mode))
                .bool("makeParents", m.make_parents)
                .msg("owner", &m.owner, chown)
                .i64("timestamp", m.timestamp)
                .done()
        }),
        Some(A::Rm(r)) => out.msg("rm", &Some(r), |r| {
            Pj::new()
                .str("path", &r.path)
                .bool("allowNotFound", r.allow_not_found)
                .bool("allowWildcard", r.allow_wildcard)
                .done()
        }),
        Some(A::Symlink(s)) => out.msg("symlink", &Some(s), |s| {
            Pj::new()
                .str("oldpath", &s.oldpath)
                .str("newpath", &s.newpath)
                .msg("owner", &s.owner, chown)
                .i64("timestamp", s.timestamp)
                .done()
        }),
        None => out,
    }
    .done()
}

/// A `pb.Source` in protojson.
fn source(s: &pb::Source) -> Value {
    Pj::new()
        .map("locations", &s.locations, |l| {
            Pj::new()
                .list("locations", &l.locations, |loc| {
                    Pj::new()
                        .num("sourceIndex", i64::from(loc.source_index))
                        .list("ranges", &loc.ranges, range)
                        .done()
                })
                .done()
        })
        .list("infos", &s.infos, |i| {
            Pj::new()
                .str("filename", &i.filename)
                .str("data", &base64(&i.data))
                .msg("definition", &i.definition, definition)
                .str("language", &i.language)
                .done()
        })
        .done()
}

fn range(r: &pb::Range) -> Value {
    let position = |p: &pb::Position| {
        Pj::new()
            .num("line", i64::from(p.line))
            .num("character", i64::from(p.character))
            .done()
    };
    Pj::new()
        .msg("start", &r.start, position)
        .msg("end", &r.end, position)
        .done()
}

/// A `pb.Definition` in protojson (its source map field is named `Source`).
fn definition(d: &pb::Definition) -> Value {
    Pj::new()
        .list("def", &d.def, |op| json!(base64(op)))
        .map("metadata", &d.metadata, |m| {
            Pj::new()
                .bool("ignoreCache", m.ignore_cache)
                .map("description", &m.description, |v| json!(v))
                .msg("exportCache", &m.export_cache, |e| {
                    Pj::new().bool("Value", e.value).done()
                })
                .map("caps", &m.caps, |v| json!(v))
                .msg("progressGroup", &m.progress_group, |g| {
                    Pj::new()
                        .str("id", &g.id)
                        .str("name", &g.name)
                        .bool("weak", g.weak)
                        .done()
                })
                .msg("linuxResources", &m.linux_resources, |r| {
                    Pj::new()
                        .i64("memory", r.memory)
                        .i64("memorySwap", r.memory_swap)
                        .u64("cpuShares", r.cpu_shares)
                        .u64("cpuPeriod", r.cpu_period)
                        .i64("cpuQuota", r.cpu_quota)
                        .str("cpusetCpus", &r.cpuset_cpus)
                        .str("cpusetMems", &r.cpuset_mems)
                        .done()
                })
                .done()
        })
        .msg("Source", &d.source, source)
        .done()
}

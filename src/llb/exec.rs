//! Exec ops (client/llb/exec.go): run a command on a root filesystem with extra mounts.

use std::net::IpAddr;
use std::sync::Arc;

use crate::proto::pb;

use super::caps;
use super::constraints::{marshal_constraints, Constraints, OpMetadata};
use super::state::{Node, OpNode, Output, State, StateMeta};
use super::LlbError;

const ROOT_MOUNT: &str = "/";
/// `pb.Empty` / `pb.SkipOutput`.
const NONE: i64 = -1;
const DEFAULT_PATH_UNIX: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What kind of filesystem a [`Mount`] provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    Bind,
    /// A persistent cache directory (`AsPersistentCacheDir`).
    Cache {
        id: String,
        sharing: pb::CacheSharingOpt,
    },
    /// A tmpfs; size 0 means unlimited.
    Tmpfs {
        size: i64,
    },
}

/// An extra mount of an exec (`AddMount`).
#[derive(Debug, Clone)]
pub struct Mount {
    target: String,
    source: State,
    readonly: bool,
    selector: String,
    kind: MountKind,
    no_output: bool,
    content_cache: pb::MountContentCache,
}

impl Mount {
    /// Mounts `source` at `target`; writable unless [`Mount::readonly`].
    pub fn bind(target: &str, source: &State) -> Mount {
        Mount {
            target: target.to_string(),
            source: source.clone(),
            readonly: false,
            selector: String::new(),
            kind: MountKind::Bind,
            no_output: false,
            content_cache: pb::MountContentCache::Default,
        }
    }

    /// A cache mount, empty at first (use [`Mount::from`] to seed it).
    pub fn cache(target: &str, id: &str, sharing: pb::CacheSharingOpt) -> Mount {
        let mut m = Mount::bind(target, &super::state::scratch());
        m.kind = MountKind::Cache {
            id: id.to_string(),
            sharing,
        };
        m
    }

    pub fn tmpfs(target: &str, size: i64) -> Mount {
        let mut m = Mount::bind(target, &super::state::scratch());
        m.kind = MountKind::Tmpfs { size };
        m
    }

    pub fn from(mut self, source: &State) -> Mount {
        self.source = source.clone();
        self
    }

    pub fn readonly(mut self) -> Mount {
        self.readonly = true;
        self
    }

    /// `SourcePath`: mount only this path of the source.
    pub fn selector(mut self, path: &str) -> Mount {
        self.selector = path.to_string();
        self
    }

    /// `ForceNoOutput`: writable, but the changes are discarded.
    pub fn no_output(mut self) -> Mount {
        self.no_output = true;
        self
    }

    pub fn content_cache(mut self, c: pb::MountContentCache) -> Mount {
        self.content_cache = c;
        self
    }
}

/// A secret for an exec: a file mount at `target` and/or an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub id: String,
    pub target: Option<String>,
    pub env: Option<String>,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub optional: bool,
}

impl Secret {
    /// `AddSecret(dest)`: a file at `target`, id defaulting to the target, mode 0400.
    pub fn file(id: &str, target: &str) -> Secret {
        Secret {
            id: id.to_string(),
            target: Some(target.to_string()),
            env: None,
            uid: 0,
            gid: 0,
            mode: 0o400,
            optional: false,
        }
    }

    /// `SecretAsEnvName`: exposed as the variable `name`, no file.
    pub fn env(id: &str, name: &str) -> Secret {
        Secret {
            target: None,
            env: Some(name.to_string()),
            ..Secret::file(id, "")
        }
    }
}

/// An SSH agent socket mount (`AddSSHSocket`); an empty target becomes
/// `/run/buildkit/ssh_agent.<n>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshMount {
    pub id: String,
    pub target: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub optional: bool,
}

impl Default for SshMount {
    fn default() -> Self {
        SshMount {
            id: String::new(),
            target: String::new(),
            uid: 0,
            gid: 0,
            mode: 0o600,
            optional: false,
        }
    }
}

/// A settings change that applies to this exec only (client/llb run options that edit the
/// exec's copy of the state).
#[derive(Debug, Clone)]
enum Edit {
    Env(String, String),
    Dir(String),
    User(String),
    Hostname(String),
    Network(pb::NetMode),
    Security(pb::SecurityMode),
    ExtraHost(String, IpAddr),
    Ulimit(String, i64, i64),
    CgroupParent(String),
    ValidExitCodes(Vec<i32>),
}

/// Describes one `run`: arguments plus mounts and options. The state it runs on supplies env,
/// dir, user and the other settings; the `Exec` setters override them for this op only.
#[derive(Debug, Clone, Default)]
pub struct Exec {
    args: Option<Vec<String>>,
    edits: Vec<Edit>,
    mounts: Vec<Mount>,
    secrets: Vec<Secret>,
    ssh: Vec<SshMount>,
    cdi_devices: Vec<pb::CdiDevice>,
    proxy_env: Option<pb::ProxyEnv>,
    readonly_root: bool,
    constraints: Constraints,
}

impl Exec {
    pub fn new(args: Vec<String>) -> Exec {
        Exec {
            args: Some(args),
            ..Default::default()
        }
    }

    /// Arguments taken from the state (`State::args`).
    pub fn from_state() -> Exec {
        Exec::default()
    }

    pub fn env(mut self, key: &str, value: &str) -> Exec {
        self.edits
            .push(Edit::Env(key.to_string(), value.to_string()));
        self
    }
    pub fn dir(mut self, dir: &str) -> Exec {
        self.edits.push(Edit::Dir(dir.to_string()));
        self
    }
    pub fn user(mut self, user: &str) -> Exec {
        self.edits.push(Edit::User(user.to_string()));
        self
    }
    pub fn hostname(mut self, hostname: &str) -> Exec {
        self.edits.push(Edit::Hostname(hostname.to_string()));
        self
    }
    pub fn network(mut self, mode: pb::NetMode) -> Exec {
        self.edits.push(Edit::Network(mode));
        self
    }
    pub fn security(mut self, mode: pb::SecurityMode) -> Exec {
        self.edits.push(Edit::Security(mode));
        self
    }
    pub fn extra_host(mut self, host: &str, ip: IpAddr) -> Exec {
        self.edits.push(Edit::ExtraHost(host.to_string(), ip));
        self
    }
    pub fn ulimit(mut self, name: &str, soft: i64, hard: i64) -> Exec {
        self.edits.push(Edit::Ulimit(name.to_string(), soft, hard));
        self
    }
    pub fn cgroup_parent(mut self, parent: &str) -> Exec {
        self.edits.push(Edit::CgroupParent(parent.to_string()));
        self
    }
    pub fn valid_exit_codes(mut self, codes: Vec<i32>) -> Exec {
        self.edits.push(Edit::ValidExitCodes(codes));
        self
    }
    pub fn mount(mut self, m: Mount) -> Exec {
        self.mounts.push(m);
        self
    }
    pub fn secret(mut self, s: Secret) -> Exec {
        self.secrets.push(s);
        self
    }
    pub fn ssh(mut self, s: SshMount) -> Exec {
        self.ssh.push(s);
        self
    }
    pub fn cdi_device(mut self, name: &str, optional: bool) -> Exec {
        self.cdi_devices.push(pb::CdiDevice {
            name: name.to_string(),
            optional,
        });
        self
    }
    /// `WithProxy`: proxy settings passed outside the env (so they stay out of the cache key).
    pub fn proxy_env(mut self, p: pb::ProxyEnv) -> Exec {
        self.proxy_env = Some(p);
        self
    }
    pub fn readonly_root(mut self) -> Exec {
        self.readonly_root = true;
        self
    }
    pub fn constraints(mut self, c: Constraints) -> Exec {
        self.constraints = c;
        self
    }
    /// `WithLinuxResources` as a run option: cgroup limits in the op's metadata.
    pub fn linux_resources(mut self, res: pb::LinuxResources) -> Exec {
        self.constraints = self.constraints.linux_resources(res);
        self
    }
}

/// A mount as stored in the op node.
#[derive(Debug)]
pub(crate) struct MountNode {
    target: String,
    source: Option<Output>,
    readonly: bool,
    selector: String,
    kind: MountKind,
    no_output: bool,
    content_cache: pb::MountContentCache,
}

#[derive(Debug)]
pub(crate) struct ExecNode {
    meta: StateMeta,
    /// Sorted by target, root included, as client/llb sorts before marshalling.
    mounts: Vec<MountNode>,
    secrets: Vec<Secret>,
    ssh: Vec<SshMount>,
    cdi_devices: Vec<pb::CdiDevice>,
    proxy_env: Option<pb::ProxyEnv>,
}

fn apply_edit(meta: &mut StateMeta, edit: Edit) {
    match edit {
        Edit::Env(k, v) => Arc::make_mut(&mut meta.env).add_or_replace(&k, &v),
        Edit::Dir(d) => meta.set_dir(&d),
        Edit::User(u) => meta.user = u,
        Edit::Hostname(h) => meta.hostname = h,
        Edit::Network(n) => meta.network = n,
        Edit::Security(s) => meta.security = s,
        Edit::ExtraHost(host, ip) => meta.extra_hosts.push(pb::HostIp {
            host,
            ip: ip.to_string(),
        }),
        Edit::Ulimit(name, soft, hard) => meta.ulimits.push(pb::Ulimit { name, soft, hard }),
        Edit::CgroupParent(p) => meta.cgroup_parent = p,
        Edit::ValidExitCodes(c) => meta.valid_exit_codes = Some(c),
    }
}

/// The result of [`State::run`]: the root filesystem and access to writable mounts.
#[derive(Debug, Clone)]
pub struct ExecState {
    root: State,
    node: Arc<Node>,
    /// Each extra mount's source state and spec, sorted like the node's mounts.
    mounts: Vec<Mount>,
}

impl ExecState {
    /// The root filesystem after the command ran.
    pub fn root(&self) -> State {
        self.root.clone()
    }

    /// The state of the mount at `target` after the command ran (`GetMount`/`AddMount`'s result).
    pub fn mount(&self, target: &str) -> Result<State, LlbError> {
        if target == ROOT_MOUNT {
            return Ok(self.root());
        }
        let m = self
            .mounts
            .iter()
            .find(|m| m.target == target)
            .ok_or_else(|| LlbError::InvalidMount(target.to_string()))?;
        if m.readonly {
            return Ok(m.source.clone());
        }
        if matches!(m.kind, MountKind::Tmpfs { .. }) {
            return Err(LlbError::TmpfsAsParent(target.to_string()));
        }
        if m.no_output {
            return Err(LlbError::NoOutputAsParent(target.to_string()));
        }
        let index = output_index(&self.node, target)?;
        Ok(m.source.with_output(Output {
            node: Arc::clone(&self.node),
            index,
            platform: self.node.constraints.platform.clone(),
        }))
    }
}

fn output_index(node: &Node, target: &str) -> Result<i64, LlbError> {
    let OpNode::Exec(e) = &node.op else {
        return Err(LlbError::InvalidMount(target.to_string()));
    };
    let mut i = 0;
    for m in &e.mounts {
        let produces = !m.no_output && !m.readonly && m.kind == MountKind::Bind;
        if m.target == target {
            return if produces {
                Ok(i)
            } else {
                Err(LlbError::InvalidMount(target.to_string()))
            };
        }
        if produces {
            i += 1;
        }
    }
    Err(LlbError::InvalidMount(target.to_string()))
}

impl State {
    /// `State.Run`: executes `exec` on this state's filesystem.
    pub fn run(&self, exec: Exec) -> ExecState {
        let mut meta = (*self.meta).clone();
        if let Some(args) = exec.args {
            meta.args = args;
        }
        for edit in exec.edits {
            apply_edit(&mut meta, edit);
        }
        let root_spec = Mount {
            readonly: exec.readonly_root,
            ..Mount::bind(ROOT_MOUNT, self)
        };
        let mut specs = vec![root_spec];
        specs.extend(exec.mounts);
        specs.sort_by(|a, b| a.target.cmp(&b.target));
        let mounts = specs
            .iter()
            .map(|m| MountNode {
                target: m.target.clone(),
                source: m.source.out.clone(),
                readonly: m.readonly,
                selector: m.selector.clone(),
                kind: m.kind.clone(),
                no_output: m.no_output,
                content_cache: m.content_cache,
            })
            .collect();
        let mut ssh = exec.ssh;
        for (i, s) in ssh.iter_mut().enumerate() {
            if s.target.is_empty() {
                s.target = format!("/run/buildkit/ssh_agent.{i}");
            }
        }
        let platform = exec.constraints.platform.clone();
        let node = Arc::new(Node {
            op: OpNode::Exec(Box::new(ExecNode {
                meta,
                mounts,
                secrets: exec.secrets,
                ssh,
                cdi_devices: exec.cdi_devices,
                proxy_env: exec.proxy_env,
            })),
            constraints: exec.constraints,
        });
        let root = if exec.readonly_root {
            self.clone()
        } else {
            let index = output_index(&node, ROOT_MOUNT).unwrap_or(0);
            self.with_output(Output {
                node: Arc::clone(&node),
                index,
                platform,
            })
        };
        let extra = specs
            .into_iter()
            .filter(|m| m.target != ROOT_MOUNT)
            .collect();
        ExecState {
            root,
            node,
            mounts: extra,
        }
    }
}

impl ExecNode {
    /// Inputs in marshal-walk order: mount sources by target, each output once.
    pub(crate) fn inputs(&self) -> Vec<&Output> {
        let mut out: Vec<&Output> = Vec::new();
        for m in &self.mounts {
            if let Some(src) = &m.source {
                if !out.iter().any(|o| o.same(src)) {
                    out.push(src);
                }
            }
        }
        out
    }

    fn env(
        &self,
        base: &Constraints,
        own: &Constraints,
        supported: Option<&std::collections::BTreeSet<String>>,
        md: &mut OpMetadata,
    ) -> Vec<String> {
        let mut env = (*self.meta.env).clone();
        if let Some(first) = self.ssh.first() {
            env.set_default("SSH_AUTH_SOCK", &first.target);
        }
        if let Some(supported) = supported {
            if supported.contains(caps::EXEC_META_SETS_DEFAULT_PATH) {
                md.add_cap(caps::EXEC_META_SETS_DEFAULT_PATH);
            } else {
                let os = base
                    .platform
                    .as_deref()
                    .or(own.platform.as_deref())
                    .map(|p| p.os.as_str())
                    .unwrap_or("linux");
                if os != "windows" {
                    env.set_default("PATH", DEFAULT_PATH_UNIX);
                }
            }
        }
        env.to_vec()
    }

    fn add_mount_caps(&self, md: &mut OpMetadata) {
        for m in &self.mounts {
            if !m.selector.is_empty() {
                md.add_cap(caps::EXEC_MOUNT_SELECTOR);
            }
            match &m.kind {
                MountKind::Cache { .. } => {
                    md.add_cap(caps::EXEC_MOUNT_CACHE);
                    md.add_cap(caps::EXEC_MOUNT_CACHE_SHARING);
                }
                MountKind::Tmpfs { size } => {
                    md.add_cap(caps::EXEC_MOUNT_TMPFS);
                    if *size > 0 {
                        md.add_cap(caps::EXEC_MOUNT_TMPFS_SIZE);
                    }
                }
                MountKind::Bind => {
                    if m.source.is_some() {
                        md.add_cap(caps::EXEC_MOUNT_BIND);
                    }
                }
            }
            if m.content_cache != pb::MountContentCache::Default {
                md.add_cap(caps::EXEC_MOUNT_CONTENT_CACHE);
            }
        }
        if !self.secrets.is_empty() {
            md.add_cap(caps::EXEC_MOUNT_SECRET);
            if self.secrets.iter().any(|s| s.env.is_some()) {
                md.add_cap(caps::EXEC_SECRET_ENV);
            }
        }
        if !self.ssh.is_empty() {
            md.add_cap(caps::EXEC_MOUNT_SSH);
        }
        if !self.cdi_devices.is_empty() {
            md.add_cap(caps::EXEC_META_CDI);
        }
    }

    /// `ExecOp.Marshal`.
    pub(crate) fn marshal(
        &self,
        own: &Constraints,
        base: &Constraints,
        supported: Option<&std::collections::BTreeSet<String>>,
        to_input: &mut dyn FnMut(&Output) -> Result<pb::Input, LlbError>,
    ) -> Result<(pb::Op, OpMetadata), LlbError> {
        if self.meta.args.is_empty() {
            return Err(LlbError::MissingArgs);
        }
        if self.meta.dir.is_empty() {
            return Err(LlbError::MissingWorkingDir);
        }
        let platform = own.platform.as_deref().or(self.meta.platform.as_deref());
        let (mut op, mut md) = marshal_constraints(base, own, platform);
        let env = self.env(base, own, supported, &mut md);
        if self.meta.valid_exit_codes.is_some() {
            md.add_cap(caps::EXEC_VALID_EXIT_CODE);
        }
        if !self.meta.ulimits.is_empty() {
            md.add_cap(caps::EXEC_META_ULIMIT);
        }
        // The op's own limits, not the marshal-wide ones, as client/llb checks.
        if own.metadata.linux_resources.is_some() {
            md.add_cap(caps::EXEC_META_LINUX_RESOURCES);
        }
        if self.meta.network != pb::NetMode::Unset {
            md.add_cap(caps::EXEC_META_NETWORK);
        }
        if self.meta.security != pb::SecurityMode::Sandbox {
            md.add_cap(caps::EXEC_META_SECURITY);
        }
        if self.proxy_env.is_some() {
            md.add_cap(caps::EXEC_META_PROXY);
        }
        md.add_cap(caps::EXEC_META_BASE);
        self.add_mount_caps(&mut md);

        let meta = pb::Meta {
            args: self.meta.args.clone(),
            env,
            cwd: self.meta.dir.clone(),
            user: self.meta.user.clone(),
            proxy_env: self.proxy_env.clone(),
            extra_hosts: self.meta.extra_hosts.clone(),
            hostname: self.meta.hostname.clone(),
            ulimit: self.meta.ulimits.clone(),
            cgroup_parent: self.meta.cgroup_parent.clone(),
            remove_mount_stubs_recursive: true,
            valid_exit_codes: self.meta.valid_exit_codes.clone().unwrap_or_default(),
        };
        let mut mounts = Vec::new();
        let mut out_index = 0;
        for m in &self.mounts {
            mounts.push(self.marshal_mount(m, &mut op.inputs, &mut out_index, to_input)?);
        }
        let mut secretenv = Vec::new();
        for s in &self.secrets {
            if let Some(name) = &s.env {
                secretenv.push(pb::SecretEnv {
                    id: s.id.clone(),
                    name: name.clone(),
                    optional: s.optional,
                });
            }
            if let Some(target) = &s.target {
                mounts.push(pb::Mount {
                    input: NONE,
                    dest: target.clone(),
                    mount_type: pb::MountType::Secret as i32,
                    secret_opt: Some(pb::SecretOpt {
                        id: s.id.clone(),
                        uid: s.uid,
                        gid: s.gid,
                        mode: s.mode,
                        optional: s.optional,
                    }),
                    ..Default::default()
                });
            }
        }
        for s in &self.ssh {
            mounts.push(pb::Mount {
                input: NONE,
                dest: s.target.clone(),
                mount_type: pb::MountType::Ssh as i32,
                ssh_opt: Some(pb::SshOpt {
                    id: s.id.clone(),
                    uid: s.uid,
                    gid: s.gid,
                    mode: s.mode,
                    optional: s.optional,
                }),
                ..Default::default()
            });
        }
        op.op = Some(pb::op::Op::Exec(pb::ExecOp {
            meta: Some(meta),
            mounts,
            network: self.meta.network as i32,
            security: self.meta.security as i32,
            secretenv,
            cdi_devices: self.cdi_devices.clone(),
        }));
        Ok((op, md))
    }

    fn marshal_mount(
        &self,
        m: &MountNode,
        inputs: &mut Vec<pb::Input>,
        out_index: &mut i64,
        to_input: &mut dyn FnMut(&Output) -> Result<pb::Input, LlbError>,
    ) -> Result<pb::Mount, LlbError> {
        let input = match &m.source {
            Some(src) => {
                if matches!(m.kind, MountKind::Tmpfs { .. }) {
                    return Err(LlbError::TmpfsWithSource);
                }
                let inp = to_input(src)?;
                match inputs.iter().position(|i| *i == inp) {
                    Some(i) => i as i64,
                    None => {
                        inputs.push(inp);
                        inputs.len() as i64 - 1
                    }
                }
            }
            None => NONE,
        };
        let output = if !m.no_output && !m.readonly && m.kind == MountKind::Bind {
            *out_index += 1;
            *out_index - 1
        } else {
            NONE
        };
        let mut pm = pb::Mount {
            input,
            selector: m.selector.clone(),
            dest: m.target.clone(),
            output,
            readonly: m.readonly,
            content_cache: m.content_cache as i32,
            ..Default::default()
        };
        match &m.kind {
            MountKind::Cache { id, sharing } => {
                pm.mount_type = pb::MountType::Cache as i32;
                pm.cache_opt = Some(pb::CacheOpt {
                    id: id.clone(),
                    sharing: *sharing as i32,
                });
            }
            MountKind::Tmpfs { size } => {
                pm.mount_type = pb::MountType::Tmpfs as i32;
                pm.tmpfs_opt = Some(pb::TmpfsOpt { size: *size });
            }
            MountKind::Bind => {}
        }
        Ok(pm)
    }
}

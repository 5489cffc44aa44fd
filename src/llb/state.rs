//! `State`: an immutable, cheaply clonable handle on one op output plus the run-time settings
//! (env, dir, user, ...) that later `run` calls inherit.

use std::net::IpAddr;
use std::sync::Arc;

use crate::proto::pb;

use super::constraints::{normalize_platform, Constraints};
use super::exec::ExecNode;
use super::file::FileNode;
use super::path;
use super::source::SourceNode;

/// One node of the op graph. Shared through `Arc`; identity (pointer) is what the marshal walk
/// deduplicates on, like client/llb's vertex cache.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) op: OpNode,
    pub(crate) constraints: Constraints,
}

#[derive(Debug)]
pub(crate) enum OpNode {
    Source(SourceNode),
    Exec(Box<ExecNode>),
    File(FileNode),
    Merge(Vec<Output>),
    Diff {
        lower: Option<Output>,
        upper: Option<Output>,
    },
    /// An op of a definition BuildKit handed over, emitted as it is.
    Raw(super::definition::RawNode),
}

/// An edge: output `index` of `node`.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub(crate) node: Arc<Node>,
    pub(crate) index: i64,
    /// The platform a state built on this output starts with (`ensurePlatform`).
    pub(crate) platform: Option<Arc<pb::Platform>>,
}

impl Output {
    pub(crate) fn new(node: Node, platform: Option<Arc<pb::Platform>>) -> Self {
        Output {
            node: Arc::new(node),
            index: 0,
            platform,
        }
    }

    pub(crate) fn same(&self, other: &Output) -> bool {
        Arc::ptr_eq(&self.node, &other.node) && self.index == other.index
    }
}

/// Environment list with client/llb's `EnvList` ordering: replacing a key moves it to the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvList(Vec<(String, String)>);

impl EnvList {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn add_or_replace(&mut self, key: &str, value: &str) {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_string(), value.to_string()));
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    pub fn set_default(&mut self, key: &str, value: &str) {
        if self.get(key).is_none() {
            self.add_or_replace(key, value);
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// `KEY=value` strings in order, as `Meta.env` holds them.
    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }
}

/// The run-time settings a state carries (client/llb's state values).
#[derive(Debug, Clone, Default)]
pub(crate) struct StateMeta {
    /// Shared with the exec ops that copy these settings, until a state changes it.
    pub(crate) env: Arc<EnvList>,
    pub(crate) dir: String,
    pub(crate) args: Vec<String>,
    pub(crate) user: String,
    pub(crate) hostname: String,
    pub(crate) platform: Option<Arc<pb::Platform>>,
    pub(crate) network: pb::NetMode,
    pub(crate) security: pb::SecurityMode,
    pub(crate) extra_hosts: Vec<pb::HostIp>,
    pub(crate) ulimits: Vec<pb::Ulimit>,
    pub(crate) cgroup_parent: String,
    pub(crate) valid_exit_codes: Option<Vec<i32>>,
}

impl StateMeta {
    /// `Dir`: relative paths resolve against the current dir; absolute ones are kept verbatim.
    pub(crate) fn set_dir(&mut self, dir: &str) {
        if path::is_abs(dir) {
            self.dir = dir.to_string();
        } else {
            let prev = if self.dir.is_empty() { "/" } else { &self.dir };
            self.dir = path::join(&[prev, dir]);
        }
    }
}

/// An op output together with the settings later ops inherit. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct State {
    pub(crate) out: Option<Output>,
    pub(crate) meta: Arc<StateMeta>,
}

impl State {
    /// `NewState`: a fresh state on `out`, working dir "/", platform from the output.
    pub(crate) fn from_output(out: Option<Output>) -> State {
        let mut meta = StateMeta::default();
        meta.set_dir("/");
        meta.platform = out.as_ref().and_then(|o| o.platform.clone());
        State {
            out,
            meta: Arc::new(meta),
        }
    }

    /// `WithOutput`: same settings on a new output; the output's platform, if any, wins.
    pub(crate) fn with_output(&self, out: Output) -> State {
        let mut st = State {
            out: Some(out),
            meta: Arc::clone(&self.meta),
        };
        // Copy the settings only when the output really changes the platform.
        if let Some(p) = st.out.as_ref().and_then(|o| o.platform.as_ref()) {
            if st.meta.platform.as_ref() != Some(p) {
                Arc::make_mut(&mut st.meta).platform = Some(p.clone());
            }
        }
        st
    }

    fn edit(&self, f: impl FnOnce(&mut StateMeta)) -> State {
        let mut st = self.clone();
        f(Arc::make_mut(&mut st.meta));
        st
    }

    /// True for `scratch()` (and anything else with no output).
    pub fn is_scratch(&self) -> bool {
        self.out.is_none()
    }

    pub fn add_env(&self, key: &str, value: &str) -> State {
        let mut st = self.clone();
        st.set_env(key, value);
        st
    }

    pub fn dir(&self, dir: &str) -> State {
        let mut st = self.clone();
        st.set_dir(dir);
        st
    }

    pub fn user(&self, user: &str) -> State {
        let mut st = self.clone();
        st.set_user(user);
        st
    }

    /// In-place [`Self::add_env`], for a state its owner keeps updating: the settings are
    /// copied only while another state still shares them.
    pub fn set_env(&mut self, key: &str, value: &str) {
        Arc::make_mut(&mut Arc::make_mut(&mut self.meta).env).add_or_replace(key, value);
    }

    /// In-place [`Self::dir`].
    pub fn set_dir(&mut self, dir: &str) {
        Arc::make_mut(&mut self.meta).set_dir(dir);
    }

    /// In-place [`Self::user`].
    pub fn set_user(&mut self, user: &str) {
        Arc::make_mut(&mut self.meta).user = user.to_string();
    }

    /// In-place [`Self::network`]; no copy when the mode is already set.
    pub fn set_network(&mut self, mode: pb::NetMode) {
        if self.meta.network != mode {
            Arc::make_mut(&mut self.meta).network = mode;
        }
    }

    pub fn hostname(&self, hostname: &str) -> State {
        self.edit(|m| m.hostname = hostname.to_string())
    }

    /// The platform later execs (and the image config) use; normalized.
    pub fn platform(&self, p: pb::Platform) -> State {
        self.edit(|m| m.platform = Some(Arc::new(normalize_platform(p))))
    }

    pub fn network(&self, mode: pb::NetMode) -> State {
        let mut st = self.clone();
        st.set_network(mode);
        st
    }

    pub fn security(&self, mode: pb::SecurityMode) -> State {
        self.edit(|m| m.security = mode)
    }

    pub fn add_extra_host(&self, host: &str, ip: IpAddr) -> State {
        self.edit(|m| {
            m.extra_hosts.push(pb::HostIp {
                host: host.to_string(),
                ip: ip.to_string(),
            })
        })
    }

    /// `AddUlimit`; `name` is e.g. "nofile".
    pub fn add_ulimit(&self, name: &str, soft: i64, hard: i64) -> State {
        self.edit(|m| {
            m.ulimits.push(pb::Ulimit {
                name: name.to_string(),
                soft,
                hard,
            })
        })
    }

    pub fn cgroup_parent(&self, parent: &str) -> State {
        self.edit(|m| m.cgroup_parent = parent.to_string())
    }

    /// Arguments `run` uses when the `Exec` gives none.
    pub fn args(&self, args: Vec<String>) -> State {
        self.edit(|m| m.args = args)
    }

    pub fn valid_exit_codes(&self, codes: Vec<i32>) -> State {
        self.edit(|m| m.valid_exit_codes = Some(codes))
    }

    /// `Reset`: this state's output with `other`'s settings.
    pub fn reset(&self, other: &State) -> State {
        State {
            out: self.out.clone(),
            meta: Arc::clone(&other.meta),
        }
    }

    pub fn get_env(&self, key: &str) -> Option<&str> {
        self.meta.env.get(key)
    }

    pub fn env(&self) -> &EnvList {
        &self.meta.env
    }

    pub fn get_dir(&self) -> &str {
        &self.meta.dir
    }

    pub fn get_user(&self) -> &str {
        &self.meta.user
    }

    pub fn get_hostname(&self) -> &str {
        &self.meta.hostname
    }

    pub fn get_args(&self) -> &[String] {
        &self.meta.args
    }

    pub fn get_platform(&self) -> Option<&pb::Platform> {
        self.meta.platform.as_deref()
    }

    pub fn get_network(&self) -> pb::NetMode {
        self.meta.network
    }

    pub fn get_security(&self) -> pb::SecurityMode {
        self.meta.security
    }

    /// True when both states point at the same op output.
    pub fn same_output(&self, other: &State) -> bool {
        match (&self.out, &other.out) {
            (Some(a), Some(b)) => a.same(b),
            (None, None) => true,
            _ => false,
        }
    }
}

/// `Scratch`: the empty filesystem.
pub fn scratch() -> State {
    State::from_output(None)
}

//! File ops (client/llb/fileop.go): chains of mkdir/mkfile/rm/copy/symlink actions run as one
//! op. Within the op, action inputs `>= inputs.len()` name the output of earlier action
//! `index - inputs.len()`, and -1 means none, exactly as fileop.go numbers them.

use std::sync::Arc;

use crate::proto::pb;

use super::caps;
use super::constraints::{marshal_constraints, Constraints, OpMetadata};
use super::path;
use super::state::{Node, OpNode, Output, State};
use super::LlbError;

/// A user or group for chown: numeric, or a name looked up in the target's /etc/passwd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserOpt {
    Id(u32),
    Name(String),
}

/// Ownership for created files (`ChownOpt`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chown {
    pub user: Option<UserOpt>,
    pub group: Option<UserOpt>,
}

impl Chown {
    /// `WithUser("user[:group]")`: numbers (and "root") become ids, anything else a name.
    pub fn parse(spec: &str) -> Chown {
        let mut parts = spec.splitn(2, ':');
        let user = parts.next().map(parse_user);
        let group = parts.next().map(parse_user);
        Chown { user, group }
    }

    pub fn ids(uid: u32, gid: u32) -> Chown {
        Chown {
            user: Some(UserOpt::Id(uid)),
            group: Some(UserOpt::Id(gid)),
        }
    }

    fn to_pb(&self, base: i64) -> pb::ChownOpt {
        // An empty name (`--chown=:group`, `user:`) is uid/gid 0, as client/llb marshals it.
        let conv = |u: &UserOpt| pb::UserOpt {
            user: Some(match u {
                UserOpt::Name(name) if name.is_empty() => pb::user_opt::User::ById(0),
                UserOpt::Name(name) => pb::user_opt::User::ByName(pb::NamedUserOpt {
                    name: name.clone(),
                    input: base,
                }),
                UserOpt::Id(id) => pb::user_opt::User::ById(*id),
            }),
        };
        pb::ChownOpt {
            user: self.user.as_ref().map(conv),
            group: self.group.as_ref().map(conv),
        }
    }
}

fn parse_user(s: &str) -> UserOpt {
    if s == "root" {
        return UserOpt::Id(0);
    }
    match s.parse::<i32>() {
        // Go converts the parsed int to uint32, wrapping negatives.
        Ok(n) => UserOpt::Id(n as u32),
        Err(_) => UserOpt::Name(s.to_string()),
    }
}

/// A copy's mode: numeric bits, or a chmod-style string (`modeStr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chmod {
    Mode(u32),
    Str(String),
}

#[derive(Debug, Clone, Default)]
pub struct MkdirOptions {
    pub make_parents: bool,
    pub owner: Option<Chown>,
    /// Unix nanoseconds.
    pub created: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct MkfileOptions {
    pub owner: Option<Chown>,
    pub created: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct RmOptions {
    pub allow_not_found: bool,
    pub allow_wildcard: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SymlinkOptions {
    pub owner: Option<Chown>,
    pub created: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    pub mode: Option<Chmod>,
    pub follow_symlinks: bool,
    pub dir_contents_only: bool,
    pub include_patterns: Vec<String>,
    pub exclude_patterns: Vec<String>,
    /// Paths (within the source) that must exist; only meaningful with include patterns.
    pub required_paths: Vec<String>,
    pub attempt_unpack: bool,
    pub create_dest_path: bool,
    pub allow_wildcard: bool,
    pub allow_empty_wildcard: bool,
    pub owner: Option<Chown>,
    pub created: Option<i64>,
    pub always_replace_existing_dest_paths: bool,
}

/// Where a copy reads from: a state, or the result of another action chain bound to a state
/// (`FileAction.WithState`).
#[derive(Debug, Clone)]
pub enum CopyInput {
    State(State),
    Actions(Arc<Bound>),
}

impl From<&State> for CopyInput {
    fn from(s: &State) -> Self {
        CopyInput::State(s.clone())
    }
}

#[derive(Debug, Clone)]
enum Action {
    Mkdir(String, u32, MkdirOptions),
    Mkfile(String, u32, Vec<u8>, MkfileOptions),
    Rm(String, RmOptions),
    Copy(CopyInput, String, String, Box<CopyOptions>),
    Symlink(String, String, SymlinkOptions),
}

/// An unbound chain of file actions; [`State::file`] binds it to the state it runs on.
#[derive(Debug, Clone)]
pub struct FileAction(Arc<Link>);

#[derive(Debug)]
struct Link {
    prev: Option<FileAction>,
    action: Action,
}

fn start(action: Action) -> FileAction {
    FileAction(Arc::new(Link { prev: None, action }))
}

/// `llb.Mkdir`; mode keeps only permission bits.
pub fn mkdir(path: &str, mode: u32, opts: MkdirOptions) -> FileAction {
    start(Action::Mkdir(path.to_string(), mode, opts))
}

pub fn mkfile(path: &str, mode: u32, data: Vec<u8>, opts: MkfileOptions) -> FileAction {
    start(Action::Mkfile(path.to_string(), mode, data, opts))
}

pub fn rm(path: &str, opts: RmOptions) -> FileAction {
    start(Action::Rm(path.to_string(), opts))
}

/// `llb.Copy`: `src` inside `input` to `dest` in the state the action runs on.
pub fn copy(input: CopyInput, src: &str, dest: &str, opts: CopyOptions) -> FileAction {
    start(Action::Copy(
        input,
        src.to_string(),
        dest.to_string(),
        Box::new(opts),
    ))
}

/// `llb.Symlink`: creates `newpath` pointing at `oldpath`.
pub fn symlink(oldpath: &str, newpath: &str, opts: SymlinkOptions) -> FileAction {
    start(Action::Symlink(
        oldpath.to_string(),
        newpath.to_string(),
        opts,
    ))
}

impl FileAction {
    fn then(&self, action: Action) -> FileAction {
        FileAction(Arc::new(Link {
            prev: Some(self.clone()),
            action,
        }))
    }

    pub fn mkdir(&self, path: &str, mode: u32, opts: MkdirOptions) -> FileAction {
        self.then(Action::Mkdir(path.to_string(), mode, opts))
    }

    pub fn mkfile(&self, path: &str, mode: u32, data: Vec<u8>, opts: MkfileOptions) -> FileAction {
        self.then(Action::Mkfile(path.to_string(), mode, data, opts))
    }

    pub fn rm(&self, path: &str, opts: RmOptions) -> FileAction {
        self.then(Action::Rm(path.to_string(), opts))
    }

    pub fn copy(&self, input: CopyInput, src: &str, dest: &str, opts: CopyOptions) -> FileAction {
        self.then(Action::Copy(
            input,
            src.to_string(),
            dest.to_string(),
            Box::new(opts),
        ))
    }

    pub fn symlink(&self, oldpath: &str, newpath: &str, opts: SymlinkOptions) -> FileAction {
        self.then(Action::Symlink(
            oldpath.to_string(),
            newpath.to_string(),
            opts,
        ))
    }

    /// `WithState`: this chain run on `state`, usable as a copy source.
    pub fn with_state(&self, state: &State) -> CopyInput {
        CopyInput::Actions(self.bind(state))
    }

    /// Copies the chain, every action bound to `state` (fileop.go `bind`).
    fn bind(&self, state: &State) -> Arc<Bound> {
        Arc::new(Bound {
            prev: self.0.prev.as_ref().map(|p| p.bind(state)),
            action: self.0.action.clone(),
            state: state.clone(),
        })
    }
}

/// An action bound to the state it runs on.
#[derive(Debug)]
pub struct Bound {
    prev: Option<Arc<Bound>>,
    action: Action,
    state: State,
}

#[derive(Debug)]
pub(crate) struct FileNode {
    last: Arc<Bound>,
}

impl State {
    /// `State.File`: runs the action chain on this state.
    pub fn file(&self, action: &FileAction, constraints: Constraints) -> State {
        let node = Node {
            op: OpNode::File(FileNode {
                last: action.bind(self),
            }),
            constraints,
        };
        self.with_output(Output::new(node, None))
    }
}

fn push_unique<'a>(outputs: &mut Vec<&'a Output>, o: &'a Output) {
    if !outputs.iter().any(|x| x.same(o)) {
        outputs.push(o);
    }
}

/// `allOutputs`: the marshal walk's input order, last action first.
fn all_outputs<'a>(b: &'a Bound, outputs: &mut Vec<&'a Output>) {
    if let Some(o) = &b.state.out {
        push_unique(outputs, o);
    }
    if let Action::Copy(input, ..) = &b.action {
        match input {
            CopyInput::State(s) => {
                if let Some(o) = &s.out {
                    push_unique(outputs, o);
                }
            }
            CopyInput::Actions(chain) => all_outputs(chain, outputs),
        }
    }
    if let Some(prev) = &b.prev {
        all_outputs(prev, outputs);
    }
}

/// One action placed in the op: its base input (for chown lookups), inputs, and position.
struct Placed<'a> {
    bound: &'a Bound,
    base: i64,
    input: i64,
    input_relative: Option<usize>,
    input2: i64,
    input2_relative: Option<usize>,
}

struct MarshalState<'a, 'f> {
    visited: Vec<(*const Bound, usize)>,
    inputs: Vec<pb::Input>,
    actions: Vec<Placed<'a>>,
    to_input: &'f mut dyn FnMut(&Output) -> Result<pb::Input, LlbError>,
}

impl<'a> MarshalState<'a, '_> {
    fn add_input(&mut self, o: &Output) -> Result<i64, LlbError> {
        let inp = (self.to_input)(o)?;
        if let Some(i) = self.inputs.iter().position(|x| *x == inp) {
            return Ok(i as i64);
        }
        self.inputs.push(inp);
        Ok(self.inputs.len() as i64 - 1)
    }

    /// `marshalState.add`: earlier actions first, then this one; returns its position.
    fn add(&mut self, b: &'a Bound) -> Result<usize, LlbError> {
        let key = b as *const Bound;
        if let Some((_, target)) = self.visited.iter().find(|(k, _)| *k == key) {
            return Ok(*target);
        }
        let prev_target = match &b.prev {
            Some(p) => Some(self.add(p)?),
            None => None,
        };
        let base = match &b.state.out {
            Some(o) => self.add_input(o)?,
            None => -1,
        };
        let mut placed = Placed {
            bound: b,
            base,
            input: if prev_target.is_none() { base } else { -1 },
            input_relative: prev_target,
            input2: -1,
            input2_relative: None,
        };
        if let Action::Copy(input, ..) = &b.action {
            match input {
                CopyInput::State(s) => {
                    if let Some(o) = &s.out {
                        placed.input2 = self.add_input(o)?;
                    }
                }
                CopyInput::Actions(chain) => placed.input2_relative = Some(self.add(chain)?),
            }
        }
        let target = self.actions.len();
        self.visited.push((key, target));
        self.actions.push(placed);
        Ok(target)
    }
}

fn relative_index(input: i64, inputs_len: usize, relative: Option<usize>) -> i64 {
    match relative {
        Some(r) => (inputs_len + r) as i64,
        None => input,
    }
}

/// `normalizePath`: relative paths resolve against `parent`; `keep_slash` preserves a
/// trailing "/" or "/." that tells copy "into this directory".
fn normalize_path(parent: &str, p: &str, keep_slash: bool) -> String {
    let mut out = path::clean(p);
    if !path::is_abs(&out) {
        out = path::join(&["/", parent, &out]);
    }
    if keep_slash {
        path::keep_dir_suffix(p, &mut out);
    }
    out
}

fn copy_source_path(input: &CopyInput, src: &str) -> String {
    let p = path::clean(src);
    let dir = if path::is_abs(&p) {
        "/".to_string()
    } else {
        match input {
            CopyInput::State(s) => s.get_dir().to_string(),
            CopyInput::Actions(chain) => chain.state.get_dir().to_string(),
        }
    };
    path::join(&[&dir, &p])
}

fn time_nanos(t: Option<i64>) -> i64 {
    t.unwrap_or(-1)
}

fn action_to_pb(b: &Bound, base: i64) -> pb::file_action::Action {
    use pb::file_action::Action as A;
    let parent = b.state.get_dir();
    let chown = |o: &Option<Chown>| o.as_ref().map(|c| c.to_pb(base));
    match &b.action {
        Action::Mkdir(p, mode, o) => A::Mkdir(pb::FileActionMkDir {
            path: normalize_path(parent, p, false),
            mode: (mode & 0o777) as i32,
            make_parents: o.make_parents,
            owner: chown(&o.owner),
            timestamp: time_nanos(o.created),
        }),
        Action::Mkfile(p, mode, data, o) => A::Mkfile(pb::FileActionMkFile {
            path: normalize_path(parent, p, false),
            mode: (mode & 0o777) as i32,
            data: data.clone(),
            owner: chown(&o.owner),
            timestamp: time_nanos(o.created),
        }),
        Action::Rm(p, o) => A::Rm(pb::FileActionRm {
            path: normalize_path(parent, p, false),
            allow_not_found: o.allow_not_found,
            allow_wildcard: o.allow_wildcard,
        }),
        Action::Symlink(old, new, o) => A::Symlink(pb::FileActionSymlink {
            oldpath: old.clone(),
            newpath: new.clone(),
            owner: chown(&o.owner),
            timestamp: time_nanos(o.created),
        }),
        Action::Copy(input, src, dest, o) => {
            let (mode, mode_str) = match &o.mode {
                None => (-1, String::new()),
                Some(Chmod::Mode(m)) => (*m as i32, String::new()),
                Some(Chmod::Str(s)) if s.is_empty() => (0, String::new()),
                Some(Chmod::Str(s)) => (0, s.clone()),
            };
            A::Copy(pb::FileActionCopy {
                src: copy_source_path(input, src),
                dest: normalize_path(parent, dest, true),
                owner: chown(&o.owner),
                mode,
                follow_symlink: o.follow_symlinks,
                dir_copy_contents: o.dir_contents_only,
                attempt_unpack_docker_compatibility: o.attempt_unpack,
                create_dest_path: o.create_dest_path,
                allow_wildcard: o.allow_wildcard,
                allow_empty_wildcard: o.allow_empty_wildcard,
                timestamp: time_nanos(o.created),
                include_patterns: o.include_patterns.clone(),
                exclude_patterns: o.exclude_patterns.clone(),
                always_replace_existing_dest_paths: o.always_replace_existing_dest_paths,
                mode_str,
                required_paths: o.required_paths.clone(),
            })
        }
    }
}

impl FileNode {
    pub(crate) fn inputs(&self) -> Vec<&Output> {
        let mut out = Vec::new();
        all_outputs(&self.last, &mut out);
        out
    }

    /// `FileOp.Marshal`. Only `file.base` is recorded: fileop.go's per-action cap hook
    /// (include/exclude patterns, required paths, mode strings, symlinks) iterates an empty
    /// list, so BuildKit never records those caps (`file.copy.requiredpaths` included) and
    /// neither do we, keeping metadata identical.
    pub(crate) fn marshal(
        &self,
        own: &Constraints,
        base: &Constraints,
        to_input: &mut dyn FnMut(&Output) -> Result<pb::Input, LlbError>,
    ) -> Result<(pb::Op, OpMetadata), LlbError> {
        let (mut op, mut md) = marshal_constraints(base, own, own.platform.as_deref());
        md.add_cap(caps::FILE_BASE);
        op.platform = None;
        let mut ms = MarshalState {
            visited: Vec::new(),
            inputs: Vec::new(),
            actions: Vec::new(),
            to_input,
        };
        ms.add(&self.last)?;
        let n_inputs = ms.inputs.len();
        let count = ms.actions.len();
        let actions = ms
            .actions
            .iter()
            .enumerate()
            .map(|(i, st)| pb::FileAction {
                input: relative_index(st.input, n_inputs, st.input_relative),
                secondary_input: relative_index(st.input2, n_inputs, st.input2_relative),
                output: if i + 1 == count { 0 } else { -1 },
                action: Some(action_to_pb(st.bound, st.base)),
            })
            .collect();
        op.inputs = ms.inputs;
        op.op = Some(pb::op::Op::File(pb::FileOp { actions }));
        Ok((op, md))
    }
}

//! RUN: an exec op on the stage's filesystem with the stage's environment, plus its mounts
//! (bind, cache, tmpfs, secret, ssh), network and security modes and heredocs (BuildKit's
//! `dispatchRun`).

use super::copy::check_chosen;
use super::dispatch::{push_all, with_shell, DispatchResult};
use super::names::{summarize_heredoc, uppercase_keyword};
use super::paths;
use super::stage::{line_ranges, Converter, StageState};
use super::ConvertError;
use crate::instructions::{
    parse_mounts, Mount, MountKind, NetworkMode, RunInstruction, SecurityMode, ShareMode,
};
use crate::llb::{self, Constraints, Exec, State};
use crate::proto::pb;
use crate::stages::Source;
use crate::syntax::chomp_heredoc_content;

/// Where a single heredoc with a shebang is written and run from.
const HEREDOC_PIPES: &str = "/dev/pipes/";

impl Converter<'_> {
    pub(super) fn run_instruction(
        &mut self,
        stage: usize,
        index: usize,
        st: &mut StageState,
        c: &RunInstruction,
    ) -> DispatchResult {
        let err = |m: String| ConvertError::at(m, c.range);
        if !c.devices.is_empty() {
            return Err(err(
                "device feature is only supported in Dockerfile frontend 1.14.0-labs or later"
                    .into(),
            ));
        }
        // A RUN may read anything in its stage's filesystem.
        self.use_paths(stage, ["/".to_string()]);
        let mut exec_mounts = Vec::new();
        let mut name = c.code.clone();
        let mut args = c.cmd.cmd_line.clone();
        if let Some(first) = c.cmd.files.first() {
            if args.len() != 1 || !c.cmd.prepend_shell {
                return Err(err(format!(
                    "parsing produced an invalid run command: {args:?}"
                )));
            }
            if c.cmd.files.len() == 1 && is_lone_heredoc(&args[0]) {
                let data = if first.chomp {
                    chomp_heredoc_content(&first.data)
                } else {
                    first.data.clone()
                };
                // Since 1.20 the shebang is looked for after `<<-` removed the leading tabs.
                if data.starts_with("#!") {
                    let script = llb::scratch().dir("/").file(
                        &llb::mkfile(&first.name, 0o755, data.into_bytes(), Default::default()),
                        self.internal_constraints(st, "preparing inline document"),
                    );
                    exec_mounts.push(
                        llb::Mount::bind(HEREDOC_PIPES, &script)
                            .selector("/")
                            .readonly(),
                    );
                    args = vec![paths::join(HEREDOC_PIPES, &first.name)];
                } else {
                    args = vec![data];
                }
                name.push_str(&format!(" ({})", summarize_heredoc(&first.data)));
            } else {
                let mut full = args[0].clone();
                for file in &c.cmd.files {
                    full.push_str(&format!("\n{}{}", file.data, file.name));
                }
                args = vec![full];
            }
        }
        if c.cmd.prepend_shell {
            let shell_cmd = crate::instructions::CommandLine {
                cmd_line: args,
                files: Vec::new(),
                prepend_shell: true,
            };
            args = with_shell(st, &shell_cmd);
        }
        let mounts = {
            let env = st.state.env();
            let expand = |w: &str| super::words::expand_word(&self.lexer, w, env);
            parse_mounts(&c.mounts, &expand).map_err(|e| err(e.message))?
        };
        let sources: Vec<(Source, Option<String>)> = self.graph.dependencies[stage]
            .iter()
            .filter(|d| d.instruction == index)
            .map(|d| (d.source.clone(), d.expanded.clone()))
            .collect();
        let mut from_sources = sources.iter();
        // The graph has a source for each mount whose `from` was not empty as written.
        for (mount, raw) in mounts.iter().zip(&c.mount_from) {
            let dep = if raw.is_empty() {
                None
            } else {
                from_sources.next()
            };
            if let Some((_, Some(chosen))) = dep {
                check_chosen("from", raw, chosen, &mount.from).map_err(err)?;
            }
            let source = dep.filter(|_| !mount.from.is_empty()).map(|(s, _)| s);
            if let Some(m) = self.mount(st, mount, source, stage).map_err(err)? {
                exec_mounts.push(m);
            }
        }
        let step = match secret_masked_env(st.state.env(), &mounts) {
            Some(env) => self.expand_name_with(&env, &name, true),
            None => self.expand_for_name(st, &name, true),
        };
        let step = uppercase_keyword(&step);
        let mut constraints = Constraints::new()
            .description("com.docker.dockerfile.v1.command", &c.code)
            .location(&self.source_map, line_ranges(c.range))
            .custom_name(st.steps.next(&step, false));
        if st.ignore_cache {
            constraints = constraints.ignore_cache();
        }
        let history = st.record.then(|| run_command_string(&args, st));
        let mut exec = Exec::new(args).constraints(constraints);
        if let Some(proxy) = proxy_env(&self.opts.build_args) {
            exec = exec.proxy_env(proxy);
        }
        match c.network {
            NetworkMode::Default => {}
            NetworkMode::None => exec = exec.network(pb::NetMode::None),
            NetworkMode::Host => exec = exec.network(pb::NetMode::Host),
        }
        if c.security == SecurityMode::Insecure {
            exec = exec.security(pb::SecurityMode::Insecure);
        }
        for m in exec_mounts {
            exec = exec.mount(m);
        }
        exec = self.with_run_options(exec);
        for m in &mounts {
            match m.kind {
                MountKind::Secret => {
                    let secret = secret_of(m).map_err(err)?;
                    if let Some(outline) = &mut self.outline {
                        outline.record_secret(stage, &secret.id, m.required, c.range);
                    }
                    exec = exec.secret(secret);
                }
                MountKind::Ssh => {
                    let ssh = ssh_of(m).map_err(err)?;
                    if let Some(outline) = &mut self.outline {
                        let id = if ssh.id.is_empty() {
                            "default"
                        } else {
                            &ssh.id
                        };
                        outline.record_ssh(stage, id, m.required, c.range);
                    }
                    exec = exec.ssh(ssh);
                }
                _ => {}
            }
        }
        st.state = st.state.run(exec).root();
        if let Some(history) = history {
            st.commit(history, true, true);
        }
        Ok(())
    }

    /// The build request's settings for every RUN, each only where the reference's worker cap
    /// check lets it through (extra hosts need none); the reference drops the others silently,
    /// and so does mstage (Docker 28.5's BuildKit lacks the resource limits' cap).
    fn with_run_options(&self, mut exec: Exec) -> Exec {
        let run = &self.opts.run;
        let supports = |cap: &str| {
            self.opts
                .llb_caps
                .as_ref()
                .is_some_and(|caps| caps.contains(cap))
        };
        if supports(llb::caps::EXEC_META_ULIMIT) {
            for (name, soft, hard) in &run.ulimits {
                exec = exec.ulimit(name, *soft, *hard);
            }
        }
        for (host, ip) in &run.extra_hosts {
            exec = exec.extra_host(host, *ip);
        }
        if run.shm_size > 0 && supports(llb::caps::EXEC_MOUNT_TMPFS_SIZE) {
            exec = exec.mount(llb::Mount::tmpfs("/dev/shm", run.shm_size));
        }
        if !run.cgroup_parent.is_empty() && supports(llb::caps::EXEC_META_CGROUP_PARENT) {
            exec = exec.cgroup_parent(&run.cgroup_parent);
        }
        if let Some(res) = &run.resources {
            if supports(llb::caps::EXEC_META_LINUX_RESOURCES) {
                exec = exec.linux_resources(res.clone());
            }
        }
        exec
    }

    /// One `--mount` as an exec mount; secrets and ssh sockets are added separately.
    fn mount(
        &mut self,
        st: &StageState,
        m: &Mount,
        source: Option<&Source>,
        stage: usize,
    ) -> Result<Option<llb::Mount>, String> {
        // An absolute target is kept as written (a trailing slash is part of the op, and so of
        // its cache key); a relative one is joined to the working dir, which cleans it.
        let target = if m.target.starts_with('/') {
            m.target.clone()
        } else {
            paths::join(&format!("/{}", st.state.get_dir()), &m.target)
        };
        // Checked for every kind, ssh included, before the kind is looked at (as the reference).
        if let Some(Source::Stage(s)) = source {
            if *s >= stage {
                return Err(format!(
                    "cannot mount from stage {:?} to {:?}, stage needs to be defined before current command",
                    m.from, m.target
                ));
            }
        }
        if matches!(m.kind, MountKind::Secret | MountKind::Ssh) {
            return Ok(None);
        }
        if target == "/" {
            return Err(format!("invalid mount target {:?}", target));
        }
        let mut from = match source {
            Some(source) => self.source_state(source, None, std::slice::from_ref(&m.source))?,
            None if m.kind == MountKind::Cache => llb::scratch(),
            None => {
                self.context_paths.insert(paths::join("/", &m.source));
                self.context.clone()
            }
        };
        let mut mount = match m.kind {
            MountKind::Tmpfs => llb::Mount::tmpfs(&target, m.size_limit),
            MountKind::Cache => {
                let sharing = match m.sharing {
                    Some(ShareMode::Private) => pb::CacheSharingOpt::Private,
                    Some(ShareMode::Locked) => pb::CacheSharingOpt::Locked,
                    _ => pb::CacheSharingOpt::Shared,
                };
                let id = if m.id.is_empty() {
                    paths::clean(&m.target)
                } else {
                    m.id.clone()
                };
                let namespaced = format!("{}/{id}", self.opts.run.cache_id_namespace);
                llb::Mount::cache(&target, &namespaced, sharing)
            }
            _ => llb::Mount::bind(&target, &from),
        };
        if m.kind == MountKind::Tmpfs {
            from = llb::scratch();
        }
        if m.readonly {
            mount = mount.readonly();
        } else if m.kind == MountKind::Bind {
            mount = mount.no_output();
        }
        let source_path = paths::join("/", &m.source);
        if source_path != "/" {
            mount = mount.selector(&source_path);
        } else if m.uid.is_some() || m.gid.is_some() || m.mode.is_some() {
            from = cache_permissions(st, m, &from);
            mount = mount.selector("/cache");
        }
        if m.kind != MountKind::Tmpfs {
            mount = mount.from(&from);
        }
        Ok(Some(mount))
    }
}

/// Proxy build args reach RUN through BuildKit's proxy settings, outside the cache key and the
/// history, whether or not an ARG declares them (`proxyEnvFromBuildArgs`). Keys match
/// case-insensitively; when several spell one setting, the last in sorted key order wins, as in
/// 1.26 (1.19 took them in Go's random map order).
fn proxy_env(build_args: &std::collections::BTreeMap<String, String>) -> Option<pb::ProxyEnv> {
    let mut proxy = pb::ProxyEnv::default();
    let mut any = false;
    for (key, value) in build_args {
        let field = match fold_ascii_target(key).as_str() {
            "http_proxy" => &mut proxy.http_proxy,
            "https_proxy" => &mut proxy.https_proxy,
            "ftp_proxy" => &mut proxy.ftp_proxy,
            "no_proxy" => &mut proxy.no_proxy,
            "all_proxy" => &mut proxy.all_proxy,
            _ => continue,
        };
        *field = value.clone();
        any = true;
    }
    any.then_some(proxy)
}

/// The key as Go's `strings.EqualFold` compares it with an ASCII word: ASCII letters lower-cased,
/// and the two non-ASCII letters that fold to ASCII ones (`ſ` to `s`, the Kelvin sign to `k`).
fn fold_ascii_target(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '\u{17f}' => 's',
            '\u{212a}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The env a RUN's progress name is expanded with when it exposes secrets as env vars: their
/// values show as `****` (the reference's `withSecretEnvMask`).
fn secret_masked_env(env: &llb::EnvList, mounts: &[Mount]) -> Option<llb::EnvList> {
    let mut names = mounts
        .iter()
        .filter(|m| m.kind == MountKind::Secret)
        .filter_map(|m| m.env.as_deref())
        .peekable();
    names.peek()?;
    let mut masked = env.clone();
    for name in names {
        masked.add_or_replace(name, "****");
    }
    Some(masked)
}

fn is_lone_heredoc(word: &str) -> bool {
    word.trim_start().starts_with("<<") && !word.trim().contains(char::is_whitespace)
}

/// A cache mount with uid/gid/mode gets a directory made with them (`setCacheUIDGID`).
fn cache_permissions(st: &StageState, m: &Mount, from: &State) -> State {
    let id = |v: Option<u64>| u32::try_from(v.unwrap_or(0)).unwrap_or(0);
    let mode = m.mode.map_or(0o755, |v| u32::try_from(v).unwrap_or(0o755));
    from.file(
        &llb::mkdir(
            "/cache",
            mode,
            llb::MkdirOptions {
                owner: Some(llb::Chown::ids(id(m.uid), id(m.gid))),
                ..Default::default()
            },
        ),
        {
            let mut c =
                Constraints::new().custom_name("[internal] setting cache mount permissions");
            c.platform = Some(st.op_platform.clone());
            c
        },
    )
}

fn secret_of(m: &Mount) -> Result<llb::Secret, String> {
    let mut id = if m.source.is_empty() {
        m.id.clone()
    } else {
        m.source.clone()
    };
    if id.is_empty() {
        if m.target.is_empty() {
            return Err("one of source, target required".into());
        }
        id = llb::path::base(&m.target).to_string();
    }
    let mut secret = match &m.env {
        Some(name) => llb::Secret::env(&id, name),
        None => {
            let dest = if m.target.is_empty() {
                format!("/run/secrets/{}", llb::path::base(&id))
            } else {
                m.target.clone()
            };
            llb::Secret::file(&id, &dest)
        }
    };
    if m.env.is_some() && !m.target.is_empty() {
        secret.target = Some(m.target.clone());
    }
    secret.optional = !m.required;
    if m.uid.is_some() || m.gid.is_some() || m.mode.is_some() {
        let id = |v: Option<u64>| u32::try_from(v.unwrap_or(0)).unwrap_or(0);
        secret.uid = id(m.uid);
        secret.gid = id(m.gid);
        secret.mode = m.mode.map_or(0o400, |v| u32::try_from(v).unwrap_or(0o400));
    }
    Ok(secret)
}

/// An ssh agent socket (`dispatchSSH`). The id and target go to the op as written: an empty id
/// is the client's "default" agent, an empty target is numbered by the llb exec, and a relative
/// target is not joined to the working dir.
fn ssh_of(m: &Mount) -> Result<llb::SshMount, String> {
    if !m.source.is_empty() {
        return Err("ssh does not support source".into());
    }
    let id = |v: Option<u64>| u32::try_from(v.unwrap_or(0)).unwrap_or(0);
    Ok(llb::SshMount {
        id: m.id.clone(),
        target: m.target.clone(),
        uid: id(m.uid),
        gid: id(m.gid),
        mode: m.mode.map_or(0o600, |v| u32::try_from(v).unwrap_or(0o600)),
        optional: !m.required,
    })
}

/// RUN's history text: `RUN`, the stage's ARGs (`|N K=V ...`), then the command
/// (`runCommandString`).
fn run_command_string(args: &[String], st: &StageState) -> String {
    let mut build_env: Vec<(&str, &str)> = Vec::new();
    for (key, value) in &st.build_args {
        let v = st
            .state
            .get_env(key)
            .unwrap_or_else(|| value.as_deref().unwrap_or_default());
        match build_env.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = v,
            None => build_env.push((key, v)),
        }
    }
    // "RUN " and the parts joined with spaces.
    let mut out = String::from("RUN ");
    let mut sep = "";
    if !build_env.is_empty() {
        out.push('|');
        out.push_str(&build_env.len().to_string());
        sep = " ";
        for (k, v) in build_env {
            push_all(&mut out, &[sep, k, "=", v]);
        }
    }
    for arg in args {
        push_all(&mut out, &[sep, arg]);
        sep = " ";
    }
    out
}

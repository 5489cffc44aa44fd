//! Conversion of the instructions that change the image config and the build environment but
//! make no layer (ENV, ARG, LABEL, USER, CMD, ...), and the per-instruction dispatch.

use super::image::Healthcheck;
use super::stage::{Converter, StageState};
use super::{expose, paths, ConvertError};
use crate::instructions::{ArgInstruction, CommandLine, Instruction, KeyValuePair};
use crate::llb::{self, Constraints, EnvList};
use crate::stages::NON_ENV_ARGS;
use crate::syntax::shell::{go_quote_list, EnvGetter};
use crate::syntax::SourceRange;

impl EnvGetter for EnvList {
    fn get(&self, key: &str) -> Option<&str> {
        EnvList::get(self, key)
    }

    fn keys(&self) -> Vec<String> {
        EnvList::keys(self).map(str::to_string).collect()
    }
}

pub(super) type DispatchResult<T = ()> = std::result::Result<T, ConvertError>;
type Result<T = ()> = DispatchResult<T>;

impl Converter<'_> {
    pub(super) fn dispatch(
        &mut self,
        stage: usize,
        index: usize,
        instruction: &Instruction,
        st: &mut StageState,
    ) -> Result {
        let range = instruction.range();
        let err = |m: String| ConvertError::at(m, range);
        // Triggers come from strings: no comment above them can change their checks.
        let scope = (!st.steps.onbuild).then_some(range.start_line);
        let (instruction, unmatched) = self.expanded(instruction, st).map_err(err)?;
        if !unmatched.is_empty() {
            let findings = self.undefined_vars(st, unmatched, range, scope);
            let key = (stage, index, 0);
            self.lint_findings
                .extend(findings.into_iter().map(|f| (key, f)));
        }
        let key = (stage, index, 1);
        match &*instruction {
            Instruction::Env(c) => self.env(st, &c.env),
            Instruction::Label(c) => self.label(st, &c.labels),
            Instruction::Maintainer(c) => {
                st.image.author = c.maintainer.clone();
                st.commit(format!("MAINTAINER {}", c.maintainer), false, false);
                Ok(())
            }
            Instruction::Workdir(c) => {
                let finding = crate::lint::stages::workdir(&c.path, st.workdir_set, range, scope);
                self.lint_findings.extend(finding.map(|f| (key, f)));
                st.workdir_set = true;
                self.workdir(st, &c.path, &c.code, range)
            }
            Instruction::User(c) => {
                let user = c.user.clone();
                st.state.set_user(&user);
                st.image.config.user = user.clone();
                st.commit(format!("USER {user}"), false, false);
                Ok(())
            }
            Instruction::Cmd(c) => {
                let args = with_shell(st, &c.cmd);
                st.commit(format!("CMD {}", go_quote_list(&args)), false, false);
                st.image.config.cmd = Some(args);
                st.image.config.args_escaped = true;
                st.cmd_set = true;
                Ok(())
            }
            Instruction::Entrypoint(c) => {
                let args = with_shell(st, &c.cmd);
                st.commit(format!("ENTRYPOINT {}", go_quote_list(&args)), false, false);
                st.image.config.entrypoint = Some(args);
                if !st.cmd_set {
                    st.image.config.cmd = None;
                }
                Ok(())
            }
            Instruction::Healthcheck(c) => {
                let h = &c.health;
                let nanos =
                    |d: std::time::Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
                let config = Healthcheck {
                    test: h.test.clone(),
                    interval: nanos(h.interval),
                    timeout: nanos(h.timeout),
                    start_period: nanos(h.start_period),
                    start_interval: nanos(h.start_interval),
                    retries: i64::from(h.retries),
                };
                st.commit(
                    format!("HEALTHCHECK {}", healthcheck_history(h)),
                    false,
                    false,
                );
                st.image.config.healthcheck = Some(config);
                Ok(())
            }
            Instruction::Expose(c) => {
                let mut words = Vec::new();
                for port in &c.ports {
                    let split = self
                        .lexer
                        .process_words(port, st.state.env())
                        .map_err(|e| err(e.to_string()))?;
                    words.extend(split);
                }
                for word in &words {
                    let findings = crate::lint::stages::expose_port(word, range, scope);
                    self.lint_findings
                        .extend(findings.into_iter().map(|f| (key, f)));
                }
                let ports = expose::parse_ports(&words).map_err(err)?;
                st.commit(format!("EXPOSE [{}]", ports.join(" ")), false, false);
                for p in ports {
                    st.image.config.exposed_ports.insert(p, Default::default());
                }
                Ok(())
            }
            Instruction::Volume(c) => {
                let mut volumes = Vec::new();
                for v in &c.volumes {
                    if v.is_empty() {
                        return Err(err("VOLUME specified can not be an empty string".into()));
                    }
                    volumes.push(v.clone());
                }
                st.commit(format!("VOLUME [{}]", volumes.join(" ")), false, false);
                for v in volumes {
                    st.image.config.volumes.insert(v, Default::default());
                }
                Ok(())
            }
            Instruction::Stopsignal(c) => {
                let signal = c.signal.clone();
                check_signal(&signal).map_err(err)?;
                st.commit(format!("STOPSIGNAL {signal}"), false, false);
                st.image.config.stop_signal = signal;
                Ok(())
            }
            Instruction::Shell(c) => {
                st.commit(format!("SHELL [{}]", c.shell.join(" ")), false, false);
                st.image.config.shell = c.shell.clone();
                Ok(())
            }
            Instruction::Arg(c) => {
                self.arg(st, c)?;
                if let Some(outline) = &mut self.outline {
                    outline.record_arg(stage, c, &st.build_args, &self.opts.build_args);
                }
                Ok(())
            }
            Instruction::Onbuild(c) => {
                st.image.config.on_build.push(c.expression.clone());
                Ok(())
            }
            Instruction::Run(c) => self.run_instruction(stage, index, st, c),
            Instruction::Copy(c) => self.copy(stage, index, st, c),
            Instruction::Add(c) => self.add(stage, index, st, c),
            Instruction::From(_) => Err(err("FROM inside a stage".into())),
        }
    }

    fn env(&self, st: &mut StageState, pairs: &[KeyValuePair]) -> Result {
        for pair in pairs {
            let (key, value) = (&pair.key, &pair.value);
            st.state.set_env(key, value);
            set_env(&mut st.image.config.env, key, value);
        }
        if st.record {
            st.commit(pairs_message("ENV", pairs), false, false);
        }
        Ok(())
    }

    fn label(&self, st: &mut StageState, pairs: &[KeyValuePair]) -> Result {
        if !st.record {
            return Ok(());
        }
        for pair in pairs {
            st.image
                .config
                .labels
                .insert(pair.key.clone(), pair.value.clone());
        }
        st.commit(pairs_message("LABEL", pairs), false, false);
        Ok(())
    }

    /// UndefinedVar for the unset variables an instruction read, except the stage's declared
    /// ARGs and BuildKit's own.
    fn undefined_vars(
        &self,
        st: &StageState,
        unmatched: Vec<String>,
        range: SourceRange,
        scope: Option<usize>,
    ) -> Vec<crate::lint::Finding> {
        let declared = |k: &str| st.build_args.iter().any(|(a, _)| a == k);
        let keys = EnvGetter::keys(st.state.env());
        let options: Vec<&str> = keys.iter().map(String::as_str).collect();
        unmatched
            .iter()
            .filter(|v| !declared(v) && !NON_ENV_ARGS.contains(&v.as_str()))
            .map(|v| crate::lint::stages::undefined_var(v, &options, range, scope))
            .collect()
    }

    /// WORKDIR: sets the directory and creates it (a layer) unless it is `/`.
    pub(super) fn workdir(
        &self,
        st: &mut StageState,
        path: &str,
        code: &str,
        range: SourceRange,
    ) -> Result {
        let wd = paths::normalize_workdir(&st.image.config.working_dir, path);
        st.image.config.working_dir = wd.clone();
        st.state.set_dir(&wd);
        let with_layer = wd != "/";
        if with_layer {
            let owner = Some(st.image.config.user.clone())
                .filter(|u| !u.is_empty())
                .map(|u| llb::Chown::parse(&u));
            let action = llb::mkdir(
                &wd,
                0o755,
                llb::MkdirOptions {
                    make_parents: true,
                    owner,
                    created: st.epoch.as_ref().map(|e| e.nanos),
                },
            );
            let name = super::names::uppercase_keyword(&self.expand_for_name(st, code, false));
            let c = self.step_constraints(st, &name, range);
            st.state = st.state.file(&action, c);
        }
        st.commit(format!("WORKDIR {wd}"), with_layer, false);
        Ok(())
    }

    fn arg(&self, st: &mut StageState, c: &ArgInstruction) -> Result {
        let mut parts = Vec::new();
        for pair in &c.args {
            let given = self.opts.build_args.get(&pair.key).cloned();
            let value = match (&given, &pair.value) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(default)) => Some(
                    self.expand(st, default)
                        .map_err(|m| ConvertError::at(m, c.range))?,
                ),
                (None, None) => self.graph.global_args.get(&pair.key).map(str::to_string),
            };
            if let Some(v) = &value {
                if !NON_ENV_ARGS.contains(&pair.key.as_str()) {
                    st.state.set_env(&pair.key, v);
                }
            }
            st.build_args.push((pair.key.clone(), value.clone()));
            parts.push(match &value {
                Some(v) => format!("{}={v}", pair.key),
                None => pair.key.clone(),
            });
        }
        st.commit(format!("ARG {}", parts.join(" ")), false, false);
        Ok(())
    }

    /// Constraints for an internal helper op (inline files, cache-mount setup).
    pub(super) fn internal_constraints(&self, st: &StageState, name: &str) -> Constraints {
        let mut c = Constraints::new().custom_name(format!("[internal] {name}"));
        c.platform = Some(st.op_platform.clone());
        c
    }
}

/// `ENV k=v ...` / `LABEL k=v ...` history text.
fn pairs_message(keyword: &str, pairs: &[KeyValuePair]) -> String {
    let mut message = String::from(keyword);
    for pair in pairs {
        push_all(&mut message, &[" ", &pair.key, "=", &pair.value]);
    }
    message
}

/// Appends each piece to `out`.
pub(super) fn push_all(out: &mut String, pieces: &[&str]) {
    for piece in pieces {
        out.push_str(piece);
    }
}

/// The config's Env: a redefined key keeps its place (`addEnv`).
fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
        Some(existing) => *existing = entry,
        None => env.push(entry),
    }
}

/// Shell form gets the stage's SHELL (or `/bin/sh -c`) in front (`withShell`).
pub(super) fn with_shell(st: &StageState, cmd: &CommandLine) -> Vec<String> {
    if !cmd.prepend_shell {
        return cmd.cmd_line.clone();
    }
    let mut args = if st.image.config.shell.is_empty() {
        vec!["/bin/sh".to_string(), "-c".to_string()]
    } else {
        st.image.config.shell.clone()
    };
    args.push(cmd.cmd_line.join(" "));
    args
}

/// Go's `%+v` of the reference's `HealthcheckConfig` (1.24 on): field names, the test's words
/// unquoted between brackets, durations in `time.Duration` form, retries as a number.
fn healthcheck_history(h: &crate::instructions::Healthcheck) -> String {
    use crate::instructions::goconv::format_duration;
    format!(
        "{{Test:[{}] Interval:{} Timeout:{} StartPeriod:{} StartInterval:{} Retries:{}}}",
        h.test.join(" "),
        format_duration(h.interval),
        format_duration(h.timeout),
        format_duration(h.start_period),
        format_duration(h.start_interval),
        h.retries
    )
}

/// Signals as `signal.ParseSignal` accepts them: a number, or a name with or without `SIG`.
fn check_signal(s: &str) -> std::result::Result<(), String> {
    const NAMES: [&str; 31] = [
        "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
        "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
        "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM",
    ];
    if let Ok(n) = s.parse::<u32>() {
        return if n == 0 {
            Err(format!("Invalid signal: {s}"))
        } else {
            Ok(())
        };
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    let rt = name
        .strip_prefix("RTMIN")
        .or_else(|| name.strip_prefix("RTMAX"))
        .is_some_and(|rest| {
            rest.is_empty() || rest.trim_start_matches(['+', '-']).parse::<u8>().is_ok()
        });
    if NAMES.contains(&name) || rt || name == "WINCH" || name == "XCPU" || name == "XFSZ" {
        Ok(())
    } else {
        Err(format!("Invalid signal: {s}"))
    }
}

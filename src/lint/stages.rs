//! Rules the reference checks while setting up and dispatching stages: FROM's arguments (every
//! stage), and per-instruction rules of the reachable stages (with their ONBUILD triggers), in
//! the order the reference dispatches them. EXPOSE and WORKDIR, which need expanded words, are
//! checked by conversion (`expose_port`, `workdir` here are their detections).

use std::collections::BTreeSet;

use super::parsed::written_keyword;
use super::rules;
use super::Linter;
use crate::instructions::{suggest, CommandLine, Instruction};
use crate::llb::normalize_image_ref;
use crate::platform::Platform;
use crate::stages::{Base, Stage, StageGraph, Stages};
use crate::syntax::shell::{EnvGetter, EnvList, Lexer};
use crate::syntax::SourceRange;

/// FROM-time rules for every stage: UndefinedArgInFrom, RedundantTargetPlatform and
/// FromPlatformFlagConstDisallowed.
/// Runs before the stage graph is built, whose errors (a FROM that expands to nothing) come
/// after these warnings in the reference.
pub fn check_from(stages: &Stages, env: &EnvList, lexer: &Lexer, lint: &mut Linter) {
    let mut declared: BTreeSet<String> = env.keys().into_iter().collect();
    for arg in &stages.meta_args {
        declared.extend(arg.args.iter().map(|a| a.key.clone()));
    }
    for stage in &stages.stages {
        let range = stage.from.range;
        if let Ok(base) = lexer.process_word(&stage.from.base_name, env) {
            undeclared_args(&base.unmatched, &declared, range, lint);
        }
        let platform = &stage.from.platform;
        if platform.is_empty() {
            continue;
        }
        let Ok(expanded) = lexer.process_word(platform, env) else {
            continue;
        };
        undeclared_args(&expanded.unmatched, &declared, range, lint);
        let only_target_platform = expanded.matched.len() == 1
            && expanded.unmatched.is_empty()
            && expanded.matched.contains("TARGETPLATFORM");
        if only_target_platform && env.get("TARGETPLATFORM") == Some(expanded.value.as_str()) {
            lint.run_in(
                Some(range.start_line),
                &rules::REDUNDANT_TARGET_PLATFORM,
                vec![range],
                format!("Setting platform to predefined {platform} in FROM is redundant as this is the default behavior"),
            );
        }
        if expanded.matched.is_empty() && expanded.unmatched.is_empty() {
            const_platform(&stage.from.name, &expanded.value, range, lint);
        }
    }
}

/// InvalidDefaultArgInFrom: each stage's base name, expanded with the meta ARGs' defaults only,
/// must be a valid image reference. The first expansion failure ends the check, as in the
/// reference.
pub fn check_default_base_names(
    stages: &[Stage],
    defaults: &EnvList,
    lexer: &Lexer,
    lint: &mut Linter,
) {
    for stage in stages {
        let Ok(name) = lexer.process_word(&stage.from.base_name, defaults) else {
            return;
        };
        if normalize_image_ref(&name.value).is_err() {
            lint.run(
                &rules::INVALID_DEFAULT_ARG_IN_FROM,
                vec![stage.from.range],
                format!(
                    "Default value for ARG {} results in empty or invalid base image name",
                    stage.from.base_name
                ),
            );
        }
    }
}

fn undeclared_args(
    unmatched: &BTreeSet<String>,
    declared: &BTreeSet<String>,
    range: SourceRange,
    lint: &mut Linter,
) {
    let options: Vec<&str> = declared.iter().map(String::as_str).collect();
    for arg in unmatched.iter().filter(|a| !declared.contains(*a)) {
        let mut message = format!("FROM argument '{arg}' is not declared");
        if let Some(s) = suggest::search(arg, &options, true) {
            message.push_str(&format!(" (did you mean {s}?)"));
        }
        lint.run_in(
            Some(range.start_line),
            &rules::UNDEFINED_ARG_IN_FROM,
            vec![range],
            message,
        );
    }
}

/// A constant `--platform` is fine when the stage name mentions its OS or architecture.
fn const_platform(stage_name: &str, value: &str, range: SourceRange, lint: &mut Linter) {
    let Ok(p) = Platform::parse(value) else {
        return;
    };
    if stage_name.contains(p.os.as_str()) || stage_name.contains(p.architecture.as_str()) {
        return;
    }
    lint.run_in(
        Some(range.start_line),
        &rules::FROM_PLATFORM_FLAG_CONST_DISALLOWED,
        vec![range],
        format!("FROM --platform flag should not use constant value {value:?}"),
    );
}

/// The last CMD/ENTRYPOINT/HEALTHCHECK of a stage, per kind (the reference's trackers).
#[derive(Default)]
struct UsedOnce {
    cmd: Option<SourceRange>,
    entrypoint: Option<SourceRange>,
    healthcheck: Option<SourceRange>,
}

/// Where a dispatch-time detection happens: stage, step (triggers first), then 0 for what the
/// step's word expansion finds and 1 for its instruction's own rules, the reference's order.
pub type StepKey = (usize, usize, u8);

/// Collects one step's detections with its key and the scope of its `# check=` comments
/// (triggers, parsed from strings, have none).
struct StepFindings<'a> {
    key: StepKey,
    scope: Option<usize>,
    out: &'a mut Vec<(StepKey, super::Finding)>,
}

impl StepFindings<'_> {
    fn push(&mut self, rule: &'static super::Rule, range: SourceRange, message: String) {
        let finding = super::Finding {
            rule,
            ranges: vec![range],
            message,
            scope: self.scope,
        };
        self.out.push((self.key, finding));
    }
}

/// Dispatch-time rules of the reachable stages. `image_has_shell` tells whether the config of
/// the image a stage (by index) is built on sets `Shell` (then shell-form CMD/ENTRYPOINT are
/// deliberate). Conversion adds what needs expanded words; the keys put both in dispatch order.
pub fn check_dispatch(
    graph: &StageGraph,
    image_has_shell: &dyn Fn(usize) -> bool,
) -> Vec<(StepKey, super::Finding)> {
    let mut out = Vec::new();
    let mut shell_set = vec![false; graph.stages.len()];
    for (index, stage) in graph.stages.iter().enumerate() {
        if !graph.reachable.get(index).copied().unwrap_or(false) {
            continue;
        }
        let mut has_shell = match graph.bases.get(index) {
            Some(Base::Stage(base)) => shell_set.get(*base).copied().unwrap_or(false),
            Some(Base::Image(_)) => image_has_shell(index),
            _ => false,
        };
        let mut used = UsedOnce::default();
        let triggers = graph.triggers.get(index).map(Vec::as_slice).unwrap_or(&[]);
        let steps = triggers.iter().map(|i| (true, i));
        let steps = steps.chain(stage.instructions.iter().map(|i| (false, i)));
        for (step, (trigger, instruction)) in steps.enumerate() {
            let mut findings = StepFindings {
                key: (index, step, 1),
                scope: (!trigger).then_some(instruction.range().start_line),
                out: &mut out,
            };
            dispatch_one(instruction, &mut has_shell, &mut used, &mut findings);
        }
        if let Some(slot) = shell_set.get_mut(index) {
            *slot = has_shell;
        }
    }
    out
}

fn dispatch_one(
    i: &Instruction,
    has_shell: &mut bool,
    used: &mut UsedOnce,
    lint: &mut StepFindings<'_>,
) {
    let name = written_keyword(i.code());
    match i {
        Instruction::Env(c) => {
            for pair in &c.env {
                if pair.no_delim {
                    legacy_key_value(name, c.range, lint);
                }
                secret_key("ENV", &pair.key, c.range, lint);
            }
        }
        Instruction::Label(c) => {
            for _ in c.labels.iter().filter(|p| p.no_delim) {
                legacy_key_value(name, c.range, lint);
            }
        }
        Instruction::Arg(c) => {
            for pair in &c.args {
                secret_key("ARG", &pair.key, c.range, lint);
            }
        }
        Instruction::Shell(c) => *has_shell = !c.shell.is_empty(),
        Instruction::Cmd(c) => {
            used_once(name, &mut used.cmd, c.range, lint);
            json_args(name, &c.cmd, *has_shell, c.range, lint);
        }
        Instruction::Entrypoint(c) => {
            used_once(name, &mut used.entrypoint, c.range, lint);
            json_args(name, &c.cmd, *has_shell, c.range, lint);
        }
        Instruction::Healthcheck(c) => used_once(name, &mut used.healthcheck, c.range, lint),
        _ => {}
    }
}

fn legacy_key_value(name: &str, range: SourceRange, lint: &mut StepFindings<'_>) {
    lint.push(
        &rules::LEGACY_KEY_VALUE_FORMAT,
        range,
        format!(
            "\"{name} key=value\" should be used instead of legacy \"{name} key value\" format"
        ),
    );
}

/// The previous instruction of the kind is the one reported: it is the one that is ignored.
/// The `# check=` comment of the current one applies, as in the reference.
fn used_once(
    name: &str,
    last: &mut Option<SourceRange>,
    range: SourceRange,
    lint: &mut StepFindings<'_>,
) {
    if let Some(previous) = last.replace(range) {
        lint.push(
            &rules::MULTIPLE_INSTRUCTIONS_DISALLOWED,
            previous,
            format!("Multiple {name} instructions should not be used in the same stage because only the last one will be used"),
        );
    }
}

fn json_args(
    name: &str,
    cmd: &CommandLine,
    has_shell: bool,
    range: SourceRange,
    lint: &mut StepFindings<'_>,
) {
    if cmd.prepend_shell && !has_shell {
        lint.push(
            &rules::JSON_ARGS_RECOMMENDED,
            range,
            format!("JSON arguments recommended for {name} to prevent unintended behavior related to OS signals"),
        );
    }
}

const SECRET_TOKENS: [&str; 10] = [
    "apikey",
    "auth",
    "credential",
    "credentials",
    "key",
    "password",
    "pword",
    "passwd",
    "secret",
    "token",
];

/// The reference's `(?i)(?:_|^)(?:token1|...)(?:_|$)`: some `_`-separated word of the key.
fn has_word(key: &str, words: &[&str]) -> bool {
    key.split('_')
        .any(|part| words.iter().any(|w| part.eq_ignore_ascii_case(w)))
}

/// Words that make a secret-looking key fine (`public` since 1.8, `file` and `version` since
/// 1.22: a key file's path or a token's version is no secret).
const ALLOWED_TOKENS: [&str; 3] = ["public", "file", "version"];

fn secret_key(instruction: &str, key: &str, range: SourceRange, lint: &mut StepFindings<'_>) {
    if has_word(key, &SECRET_TOKENS) && !has_word(key, &ALLOWED_TOKENS) {
        lint.push(
            &rules::SECRETS_USED_IN_ARG_OR_ENV,
            range,
            format!(
                "Do not use ARG or ENV instructions for sensitive data ({instruction} {key:?})"
            ),
        );
    }
}

/// WorkdirRelativePath, for conversion to call with the expanded path: only the first WORKDIR
/// of a stage chain that sets none absolute counts.
pub fn workdir(
    path: &str,
    workdir_set: bool,
    range: SourceRange,
    scope: Option<usize>,
) -> Option<super::Finding> {
    if workdir_set || path.starts_with('/') {
        return None;
    }
    Some(super::Finding {
        rule: &rules::WORKDIR_RELATIVE_PATH,
        ranges: vec![range],
        message: format!(
            "Relative workdir {path:?} can have unexpected results if the base image changes"
        ),
        scope,
    })
}

/// ExposeProtoCasing and ExposeInvalidFormat for one expanded EXPOSE word
/// (`[ip:]host-port:container-port[/proto]`).
pub fn expose_port(raw: &str, range: SourceRange, scope: Option<usize>) -> Vec<super::Finding> {
    let mut out = Vec::new();
    // Everything before the last two `:`-parts is the IP, then the host port.
    let mut parts = raw.rsplitn(3, ':');
    let container = parts.next().unwrap_or("");
    let host_port = parts.next().unwrap_or("");
    let ip = parts.next().unwrap_or("");
    let proto = container.split_once('/').map_or("", |(_, p)| p);
    if proto != proto.to_lowercase() {
        out.push(super::Finding {
            rule: &rules::EXPOSE_PROTO_CASING,
            ranges: vec![range],
            message: format!("Defined protocol '{raw}' in EXPOSE instruction should be lowercase"),
            scope,
        });
    }
    if !ip.is_empty() || !host_port.is_empty() {
        out.push(super::Finding {
            rule: &rules::EXPOSE_INVALID_FORMAT,
            ranges: vec![range],
            message: format!(
                "EXPOSE instruction should not define an IP address or host-port mapping, found '{raw}'"
            ),
            scope,
        });
    }
    out
}

/// UndefinedVar for one unset variable an instruction read, with a near miss among `options`.
pub fn undefined_var(
    var: &str,
    options: &[&str],
    range: SourceRange,
    scope: Option<usize>,
) -> super::Finding {
    let mut message = format!("Usage of undefined variable '${var}'");
    if let Some(s) = suggest::search(var, options, true) {
        message.push_str(&format!(" (did you mean ${s}?)"));
    }
    super::Finding {
        rule: &rules::UNDEFINED_VAR,
        ranges: vec![range],
        message,
        scope,
    }
}

/// A platform as an image config or a build request gives it (containerd's `Platform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformFields<'a> {
    pub os: &'a str,
    pub os_version: &'a str,
    pub architecture: &'a str,
    pub variant: &'a str,
}

/// InvalidBaseImagePlatform: the image `name` resolved to a config whose OS or architecture
/// is not the platform the stage asked for.
pub fn base_image_platform(
    name: &str,
    expected: PlatformFields<'_>,
    actual: PlatformFields<'_>,
    range: SourceRange,
) -> Option<super::Finding> {
    if expected.os == actual.os && expected.architecture == actual.architecture {
        return None;
    }
    Some(super::Finding {
        rule: &rules::INVALID_BASE_IMAGE_PLATFORM,
        ranges: vec![range],
        message: format!(
            "Base image {name} was pulled with platform {:?}, expected {:?} for current build",
            format_normalized(actual),
            format_normalized(expected)
        ),
        scope: None,
    })
}

/// containerd's `FormatAll(Normalize(p))`: `os[(version)]/arch[/variant]`, aliases resolved.
fn format_normalized(p: PlatformFields<'_>) -> String {
    let os = p.os.to_lowercase();
    if os.is_empty() {
        return "unknown".into();
    }
    let os = if os == "macos" { "darwin".into() } else { os };
    let (arch, variant) = normalize_arch(&p.architecture.to_lowercase(), &p.variant.to_lowercase());
    let mut parts = vec![if p.os_version.is_empty() {
        os
    } else {
        format!("{os}({})", p.os_version)
    }];
    // Go's path.Join drops empty elements.
    parts.extend([arch, variant].into_iter().filter(|s| !s.is_empty()));
    parts.join("/")
}

/// containerd's `normalizeArch`.
fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let (arch, variant) = match (arch, variant) {
        ("i386", _) => ("386", ""),
        ("x86_64" | "x86-64" | "amd64", "v1") => ("amd64", ""),
        ("x86_64" | "x86-64" | "amd64", v) => ("amd64", v),
        ("aarch64" | "arm64", "8" | "v8" | "v8.0") => ("arm64", ""),
        ("aarch64" | "arm64", "9" | "9.0" | "v9.0") => ("arm64", "v9"),
        ("aarch64" | "arm64", v) => ("arm64", v),
        ("armhf", _) => ("arm", "v7"),
        ("armel", _) => ("arm", "v6"),
        ("arm", "" | "7") => ("arm", "v7"),
        ("arm", "5") => ("arm", "v5"),
        ("arm", "6") => ("arm", "v6"),
        ("arm", "8") => ("arm", "v8"),
        (a, v) => (a, v),
    };
    (arch.to_string(), variant.to_string())
}

//! Typed instructions from syntax nodes: the semantics of BuildKit's
//! `frontend/dockerfile/instructions` (dockerfile/1.19.0, stable features only).
//!
//! Values stay unexpanded, as in the reference: variables are expanded later, during conversion,
//! with the stage's environment. Flags are parsed and validated here.

mod bflags;
mod copy;
pub mod csv;
mod expand;
mod from;
pub mod goconv;
mod healthcheck;
mod mount;
mod run;
mod simple;
pub mod suggest;

use crate::syntax::{Node, SourceRange};

pub use bflags::{BFlags, FlagKind};
pub use copy::{AddInstruction, CopyInstruction, SourceContent, SourcesAndDest};
pub use expand::expand_arg_pairs;
pub use from::{FromInstruction, OnbuildInstruction};
pub use healthcheck::{Healthcheck, HealthcheckInstruction};
pub use mount::{
    mount_from_reads_variables, parse_mount, parse_mounts, Expander, Mount, MountError, MountKind,
    ShareMode,
};
pub use run::{parse_device, Device, NetworkMode, RunInstruction, SecurityMode};
pub use simple::{
    ArgInstruction, ArgPair, CmdInstruction, CommandLine, EntrypointInstruction, EnvInstruction,
    ExposeInstruction, KeyValuePair, LabelInstruction, MaintainerInstruction, ShellInlineFile,
    ShellInstruction, StopsignalInstruction, UserInstruction, VolumeInstruction,
    WorkdirInstruction,
};

/// A parse failure for one instruction; `message` is the reference's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InstructionError {
    pub range: SourceRange,
    pub message: String,
}

/// One typed instruction.
#[derive(serde::Serialize, Debug, Clone, PartialEq)]
pub enum Instruction {
    From(FromInstruction),
    Run(RunInstruction),
    Cmd(CmdInstruction),
    Label(LabelInstruction),
    Maintainer(MaintainerInstruction),
    Expose(ExposeInstruction),
    Env(EnvInstruction),
    Add(AddInstruction),
    Copy(CopyInstruction),
    Entrypoint(EntrypointInstruction),
    Volume(VolumeInstruction),
    User(UserInstruction),
    Workdir(WorkdirInstruction),
    Arg(ArgInstruction),
    Onbuild(OnbuildInstruction),
    Stopsignal(StopsignalInstruction),
    Healthcheck(HealthcheckInstruction),
    Shell(ShellInstruction),
}

/// Every instruction keyword, lower-case.
pub const KEYWORDS: [&str; 18] = [
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

macro_rules! each_variant {
    ($self:expr, $i:ident => $e:expr) => {
        match $self {
            Instruction::From($i) => $e,
            Instruction::Run($i) => $e,
            Instruction::Cmd($i) => $e,
            Instruction::Label($i) => $e,
            Instruction::Maintainer($i) => $e,
            Instruction::Expose($i) => $e,
            Instruction::Env($i) => $e,
            Instruction::Add($i) => $e,
            Instruction::Copy($i) => $e,
            Instruction::Entrypoint($i) => $e,
            Instruction::Volume($i) => $e,
            Instruction::User($i) => $e,
            Instruction::Workdir($i) => $e,
            Instruction::Arg($i) => $e,
            Instruction::Onbuild($i) => $e,
            Instruction::Stopsignal($i) => $e,
            Instruction::Healthcheck($i) => $e,
            Instruction::Shell($i) => $e,
        }
    };
}

impl Instruction {
    pub fn range(&self) -> SourceRange {
        each_variant!(self, i => i.range)
    }

    /// The instruction's source text, trimmed (history `created_by`, source maps).
    pub fn code(&self) -> &str {
        each_variant!(self, i => &i.code)
    }

    /// The lower-case keyword (`from`, `run`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            Instruction::From(_) => "from",
            Instruction::Run(_) => "run",
            Instruction::Cmd(_) => "cmd",
            Instruction::Label(_) => "label",
            Instruction::Maintainer(_) => "maintainer",
            Instruction::Expose(_) => "expose",
            Instruction::Env(_) => "env",
            Instruction::Add(_) => "add",
            Instruction::Copy(_) => "copy",
            Instruction::Entrypoint(_) => "entrypoint",
            Instruction::Volume(_) => "volume",
            Instruction::User(_) => "user",
            Instruction::Workdir(_) => "workdir",
            Instruction::Arg(_) => "arg",
            Instruction::Onbuild(_) => "onbuild",
            Instruction::Stopsignal(_) => "stopsignal",
            Instruction::Healthcheck(_) => "healthcheck",
            Instruction::Shell(_) => "shell",
        }
    }
}

/// What every instruction parser reads from the node (BuildKit's `parseRequest`). It owns the
/// node so parsers can move its text into the instruction instead of copying it.
pub(crate) struct Req {
    pub node: Node,
    /// The keyword as written (`FROM`, `from`, `From`).
    pub command: String,
    pub args: Vec<String>,
    /// Trimmed original text.
    pub code: String,
}

impl Req {
    fn new(mut node: Node) -> Self {
        let command = keyword_as_written(&node);
        // ONBUILD's wrapped instruction counts as its arguments, keyword first (`nodeArgs`).
        let args = match &node.nested {
            Some(inner) => {
                let mut a = Vec::with_capacity(inner.args.len() + 1);
                a.push(keyword_as_written(inner));
                a.extend(inner.args.iter().cloned());
                a
            }
            None => std::mem::take(&mut node.args),
        };
        // ONBUILD still reads the untrimmed text; everything else only needs `code`.
        let code = if node.keyword == "onbuild" {
            node.original.trim().to_string()
        } else {
            trimmed_in_place(std::mem::take(&mut node.original))
        };
        Req {
            node,
            command,
            args,
            code,
        }
    }

    /// Moves the trimmed source text out (each parser builds one instruction from it).
    pub fn take_code(&mut self) -> String {
        std::mem::take(&mut self.code)
    }

    /// Parses the node's flags against `flags`.
    pub fn parse_flags(&self, flags: &mut BFlags) -> Result<(), String> {
        flags.parse(&self.node.flags)
    }

    /// Parses the node's flags when the instruction takes none.
    pub fn no_flags(&self) -> Result<(), String> {
        BFlags::new().parse(&self.node.flags)
    }
}

/// `s.trim()` reusing the string's buffer.
fn trimmed_in_place(mut s: String) -> String {
    let end = s.trim_end().len();
    s.truncate(end);
    let start = s.len() - s.trim_start().len();
    s.drain(..start);
    s
}

/// The keyword with its original case, taken from the source text when it is there.
fn keyword_as_written(node: &Node) -> String {
    let first = node
        .original
        .trim()
        .split(['\t', '\u{b}', '\u{c}', '\r', ' ', '\n'])
        .next()
        .unwrap_or("");
    if !first.is_empty() && first.eq_ignore_ascii_case(&node.keyword) {
        first.to_string()
    } else {
        node.keyword.clone()
    }
}

/// Converts a syntax node into a typed instruction.
pub fn parse_instruction(node: &Node) -> Result<Instruction, InstructionError> {
    instruction_from_node(node.clone())
}

/// Converts a syntax node into a typed instruction, reusing the node's text.
pub fn instruction_from_node(node: Node) -> Result<Instruction, InstructionError> {
    let range = node.range;
    let mut req = Req::new(node);
    dispatch(&mut req).map_err(|message| InstructionError { range, message })
}

fn dispatch(req: &mut Req) -> Result<Instruction, String> {
    let keyword = lower_keyword(&req.node.keyword);
    Ok(match keyword.as_ref() {
        "env" => Instruction::Env(simple::parse_env(req)?),
        "maintainer" => Instruction::Maintainer(simple::parse_maintainer(req)?),
        "label" => Instruction::Label(simple::parse_label(req)?),
        "add" => Instruction::Add(copy::parse_add(req)?),
        "copy" => Instruction::Copy(copy::parse_copy(req)?),
        "from" => Instruction::From(from::parse_from(req)?),
        "onbuild" => Instruction::Onbuild(from::parse_onbuild(req)?),
        "workdir" => Instruction::Workdir(simple::parse_workdir(req)?),
        "run" => Instruction::Run(run::parse_run(req)?),
        "cmd" => Instruction::Cmd(simple::parse_cmd(req)?),
        "healthcheck" => Instruction::Healthcheck(healthcheck::parse_healthcheck(req)?),
        "entrypoint" => Instruction::Entrypoint(simple::parse_entrypoint(req)?),
        "expose" => Instruction::Expose(simple::parse_expose(req)?),
        "user" => Instruction::User(simple::parse_user(req)?),
        "volume" => Instruction::Volume(simple::parse_volume(req)?),
        "stopsignal" => Instruction::Stopsignal(simple::parse_stopsignal(req)?),
        "arg" => Instruction::Arg(simple::parse_arg(req)?),
        "shell" => Instruction::Shell(simple::parse_shell(req)?),
        _ => return Err(unknown_instruction(&req.command)),
    })
}

/// The keyword lower-cased; parsed nodes already are, so this rarely allocates.
fn lower_keyword(keyword: &str) -> std::borrow::Cow<'_, str> {
    if keyword
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        std::borrow::Cow::Borrowed(keyword)
    } else {
        std::borrow::Cow::Owned(keyword.to_lowercase())
    }
}

const UNKNOWN_INSTRUCTION: &str = "unknown instruction: ";

/// An unknown "instruction" that reads like the rest of a shell command (`&& make`, `|| true`,
/// `| tee`, `--flag`) right after a RUN that ended on `previous_run_end`: that RUN most likely
/// lost the escape character at the end of its last line, so the error says so.
pub fn hint_missing_continuation(
    mut error: InstructionError,
    previous_run_end: Option<usize>,
    escape: char,
) -> InstructionError {
    let Some(end) = previous_run_end else {
        return error;
    };
    let Some(command) = error.message.strip_prefix(UNKNOWN_INSTRUCTION) else {
        return error;
    };
    let continues_a_command = ["&&", "||", "|", "-"]
        .iter()
        .any(|start| command.starts_with(start));
    if continues_a_command {
        error.message = format!(
            "{} (did you forget a \"{escape}\" at the end of line {end}?)",
            error.message
        );
    }
    error
}

fn unknown_instruction(command: &str) -> String {
    let upper: Vec<String> = KEYWORDS.iter().map(|k| k.to_uppercase()).collect();
    let options: Vec<&str> = upper.iter().map(String::as_str).collect();
    suggest::with_suggestion(
        format!("{UNKNOWN_INSTRUCTION}{command}"),
        command,
        &options,
        false,
    )
}

pub(crate) fn err_at_least_one(command: &str) -> String {
    format!("{command} requires at least one argument")
}

pub(crate) fn err_exactly_one(command: &str) -> String {
    format!("{command} requires exactly one argument")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(command: &str) -> InstructionError {
        InstructionError {
            range: SourceRange {
                start_line: 3,
                end_line: 3,
            },
            message: unknown_instruction(command),
        }
    }

    #[test]
    fn continuation_hint_only_for_what_continues_a_run() {
        let hinted = |command, run_end, escape| {
            hint_missing_continuation(unknown(command), run_end, escape).message
        };
        assert_eq!(
            hinted("&&", Some(2), '\\'),
            "unknown instruction: && (did you forget a \"\\\" at the end of line 2?)"
        );
        assert_eq!(
            hinted("--no-cache", Some(2), '`'),
            "unknown instruction: --no-cache (did you forget a \"`\" at the end of line 2?)"
        );
        assert!(hinted("||", Some(7), '\\').ends_with("line 7?)"));
        assert!(hinted("|", Some(7), '\\').ends_with("line 7?)"));
        // Not after a RUN, or not shell-like: the reference's words alone.
        assert_eq!(hinted("&&", None, '\\'), "unknown instruction: &&");
        assert_eq!(
            hinted("FOO", Some(2), '\\'),
            "unknown instruction: FOO (did you mean FROM?)"
        );
        let other = InstructionError {
            range: SourceRange::default(),
            message: "RUN requires at least one argument".into(),
        };
        assert_eq!(
            hint_missing_continuation(other, Some(2), '\\').message,
            "RUN requires at least one argument"
        );
    }
}

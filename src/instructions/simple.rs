//! Instructions with plain arguments: ENV, LABEL, MAINTAINER, EXPOSE, USER, WORKDIR, VOLUME,
//! STOPSIGNAL, ARG, SHELL, CMD and ENTRYPOINT.

use super::{err_at_least_one, err_exactly_one, Req};
use crate::syntax::SourceRange;

/// `KEY=value` from ENV or LABEL; `no_delim` marks the legacy `ENV KEY value` form.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct KeyValuePair {
    pub key: String,
    pub value: String,
    pub no_delim: bool,
}

/// One ARG name with its optional default and its description comment (`# NAME text`).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ArgPair {
    pub key: String,
    pub value: Option<String>,
    pub comment: String,
}

/// A heredoc attached to RUN/CMD/ENTRYPOINT (BuildKit's `ShellInlineFile`).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ShellInlineFile {
    pub name: String,
    pub data: String,
    pub chomp: bool,
}

/// A command: exec form (`prepend_shell` false, one element per JSON item) or shell form
/// (`prepend_shell` true, the words joined into one element).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    pub cmd_line: Vec<String>,
    pub files: Vec<ShellInlineFile>,
    pub prepend_shell: bool,
}

macro_rules! instruction_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            #[serde(skip)]
    pub range: SourceRange,
            /// The instruction's text, trimmed.
            pub code: String,
            $($(#[$fm])* pub $field: $ty,)*
        }
    };
}

instruction_struct!(EnvInstruction { env: Vec<KeyValuePair> });
instruction_struct!(LabelInstruction { labels: Vec<KeyValuePair> });
instruction_struct!(MaintainerInstruction { maintainer: String });
instruction_struct!(
    /// Ports sorted as strings, as the reference does.
    ExposeInstruction { ports: Vec<String> }
);
instruction_struct!(UserInstruction { user: String });
instruction_struct!(WorkdirInstruction { path: String });
instruction_struct!(VolumeInstruction { volumes: Vec<String> });
instruction_struct!(StopsignalInstruction { signal: String });
instruction_struct!(ArgInstruction { args: Vec<ArgPair> });
instruction_struct!(ShellInstruction { shell: Vec<String> });
instruction_struct!(CmdInstruction { cmd: CommandLine });
instruction_struct!(
    /// An empty `cmd.cmd_line` means the entrypoint is reset (null in the image config).
    EntrypointInstruction { cmd: CommandLine }
);

/// ENV/LABEL arguments come as (key, value, separator) triples from the parser.
fn parse_kvps(args: Vec<String>, command: &str) -> Result<Vec<KeyValuePair>, String> {
    if args.is_empty() {
        return Err(err_at_least_one(command));
    }
    if !args.len().is_multiple_of(3) {
        return Err(format!("Bad input to {command}, too many arguments"));
    }
    let mut out = Vec::with_capacity(args.len() / 3);
    let mut args = args.into_iter();
    while let (Some(key), Some(value), Some(sep)) = (args.next(), args.next(), args.next()) {
        if key.is_empty() {
            return Err(format!("{command} names can not be blank"));
        }
        out.push(KeyValuePair {
            key,
            value,
            no_delim: sep.is_empty(),
        });
    }
    Ok(out)
}

pub(super) fn parse_env(req: &mut Req) -> Result<EnvInstruction, String> {
    req.no_flags()?;
    Ok(EnvInstruction {
        env: parse_kvps(std::mem::take(&mut req.args), "ENV")?,
        range: req.node.range,
        code: req.take_code(),
    })
}

pub(super) fn parse_label(req: &mut Req) -> Result<LabelInstruction, String> {
    req.no_flags()?;
    Ok(LabelInstruction {
        labels: parse_kvps(std::mem::take(&mut req.args), "LABEL")?,
        range: req.node.range,
        code: req.take_code(),
    })
}

/// The single argument of MAINTAINER/WORKDIR/USER/STOPSIGNAL.
fn exactly_one(req: &mut Req, command: &str) -> Result<String, String> {
    match req.args.as_mut_slice() {
        [one] => Ok(std::mem::take(one)),
        _ => Err(err_exactly_one(command)),
    }
}

pub(super) fn parse_maintainer(req: &mut Req) -> Result<MaintainerInstruction, String> {
    let maintainer = exactly_one(req, "MAINTAINER")?;
    req.no_flags()?;
    Ok(MaintainerInstruction {
        maintainer,
        range: req.node.range,
        code: req.take_code(),
    })
}

pub(super) fn parse_workdir(req: &mut Req) -> Result<WorkdirInstruction, String> {
    let path = exactly_one(req, "WORKDIR")?;
    req.no_flags()?;
    Ok(WorkdirInstruction {
        path,
        range: req.node.range,
        code: req.take_code(),
    })
}

pub(super) fn parse_user(req: &mut Req) -> Result<UserInstruction, String> {
    let user = exactly_one(req, "USER")?;
    req.no_flags()?;
    Ok(UserInstruction {
        user,
        range: req.node.range,
        code: req.take_code(),
    })
}

/// STOPSIGNAL never looks at its flags in the reference, so they are ignored here too.
pub(super) fn parse_stopsignal(req: &mut Req) -> Result<StopsignalInstruction, String> {
    let signal = exactly_one(req, "STOPSIGNAL")?;
    Ok(StopsignalInstruction {
        signal,
        range: req.node.range,
        code: req.take_code(),
    })
}

pub(super) fn parse_expose(req: &mut Req) -> Result<ExposeInstruction, String> {
    if req.args.is_empty() {
        return Err(err_at_least_one("EXPOSE"));
    }
    req.no_flags()?;
    let mut ports = std::mem::take(&mut req.args);
    ports.sort();
    Ok(ExposeInstruction {
        ports,
        range: req.node.range,
        code: req.take_code(),
    })
}

pub(super) fn parse_volume(req: &mut Req) -> Result<VolumeInstruction, String> {
    if req.args.is_empty() {
        return Err(err_at_least_one("VOLUME"));
    }
    req.no_flags()?;
    let volumes = req
        .args
        .iter()
        .map(|v| match v.trim() {
            "" => Err("VOLUME specified can not be an empty string".to_string()),
            v => Ok(v.to_string()),
        })
        .collect::<Result<_, _>>()?;
    Ok(VolumeInstruction {
        volumes,
        range: req.node.range,
        code: req.take_code(),
    })
}

/// The text after `NAME ` in the comment lines above, BuildKit's `getComment`.
pub(super) fn comment_for(comments: &[String], name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    comments
        .iter()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or("")
        .to_string()
}

/// ARG splits `NAME=default` itself: a bare NAME declares the argument without a default.
pub(super) fn parse_arg(req: &mut Req) -> Result<ArgInstruction, String> {
    if req.args.is_empty() {
        return Err(err_at_least_one("ARG"));
    }
    let comments = &req.node.comments;
    let args = std::mem::take(&mut req.args)
        .into_iter()
        .map(|mut arg| {
            let (key, value) = match arg.split_once('=') {
                Some(("", _)) => return Err("ARG names can not be blank".to_string()),
                Some((k, _)) => {
                    let value = arg[k.len() + 1..].to_string();
                    arg.truncate(k.len());
                    (arg, Some(value))
                }
                None => (arg, None),
            };
            let comment = comment_for(comments, &key);
            Ok(ArgPair {
                key,
                value,
                comment,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(ArgInstruction {
        args,
        range: req.node.range,
        code: req.take_code(),
    })
}

/// Exec form keeps the JSON items; shell form joins the words with spaces (`handleJSONArgs`).
pub(super) fn json_or_joined(args: &[String], json: bool) -> Vec<String> {
    if args.is_empty() {
        Vec::new()
    } else if json {
        args.to_vec()
    } else {
        vec![args.join(" ")]
    }
}

/// `json_or_joined` taking the arguments by value (a lone shell-form word is moved, not copied).
fn json_or_joined_owned(args: Vec<String>, json: bool) -> Vec<String> {
    if json || args.len() <= 1 {
        args
    } else {
        vec![args.join(" ")]
    }
}

pub(super) fn command_line(req: &mut Req) -> CommandLine {
    let files = std::mem::take(&mut req.node.heredocs)
        .into_iter()
        // As the reference: the raw text; RUN chomps it only where it runs a lone heredoc.
        .map(|h| ShellInlineFile {
            name: h.name,
            data: h.raw_content,
            chomp: h.chomp,
        })
        .collect();
    CommandLine {
        cmd_line: json_or_joined_owned(std::mem::take(&mut req.args), req.node.json),
        files,
        prepend_shell: !req.node.json,
    }
}

pub(super) fn parse_shell(req: &mut Req) -> Result<ShellInstruction, String> {
    req.no_flags()?;
    let shell = json_or_joined(&req.args, req.node.json);
    if shell.is_empty() {
        return Err(err_at_least_one("SHELL"));
    }
    if !req.node.json {
        return Err("SHELL requires the arguments to be in JSON form".to_string());
    }
    Ok(ShellInstruction {
        shell,
        range: req.node.range,
        code: req.take_code(),
    })
}

pub(super) fn parse_cmd(req: &mut Req) -> Result<CmdInstruction, String> {
    req.no_flags()?;
    Ok(CmdInstruction {
        cmd: command_line(req),
        range: req.node.range,
        code: req.take_code(),
    })
}

pub(super) fn parse_entrypoint(req: &mut Req) -> Result<EntrypointInstruction, String> {
    req.no_flags()?;
    Ok(EntrypointInstruction {
        cmd: command_line(req),
        range: req.node.range,
        code: req.take_code(),
    })
}

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
fn parse_kvps(args: &[String], command: &str) -> Result<Vec<KeyValuePair>, String> {
    if args.is_empty() {
        return Err(err_at_least_one(command));
    }
    if !args.len().is_multiple_of(3) {
        return Err(format!("Bad input to {command}, too many arguments"));
    }
    args.chunks_exact(3)
        .map(|t| match t {
            [k, _, _] if k.is_empty() => Err(format!("{command} names can not be blank")),
            [k, v, sep] => Ok(KeyValuePair {
                key: k.clone(),
                value: v.clone(),
                no_delim: sep.is_empty(),
            }),
            _ => Err(format!("Bad input to {command}, too many arguments")),
        })
        .collect()
}

pub(super) fn parse_env(req: &Req) -> Result<EnvInstruction, String> {
    req.no_flags()?;
    Ok(EnvInstruction {
        env: parse_kvps(&req.args, "ENV")?,
        range: req.node.range,
        code: req.code.clone(),
    })
}

pub(super) fn parse_label(req: &Req) -> Result<LabelInstruction, String> {
    req.no_flags()?;
    Ok(LabelInstruction {
        labels: parse_kvps(&req.args, "LABEL")?,
        range: req.node.range,
        code: req.code.clone(),
    })
}

/// The single argument of MAINTAINER/WORKDIR/USER/STOPSIGNAL.
fn exactly_one(req: &Req, command: &str) -> Result<String, String> {
    match req.args.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(err_exactly_one(command)),
    }
}

pub(super) fn parse_maintainer(req: &Req) -> Result<MaintainerInstruction, String> {
    let maintainer = exactly_one(req, "MAINTAINER")?;
    req.no_flags()?;
    Ok(MaintainerInstruction {
        maintainer,
        range: req.node.range,
        code: req.code.clone(),
    })
}

pub(super) fn parse_workdir(req: &Req) -> Result<WorkdirInstruction, String> {
    let path = exactly_one(req, "WORKDIR")?;
    req.no_flags()?;
    Ok(WorkdirInstruction {
        path,
        range: req.node.range,
        code: req.code.clone(),
    })
}

pub(super) fn parse_user(req: &Req) -> Result<UserInstruction, String> {
    let user = exactly_one(req, "USER")?;
    req.no_flags()?;
    Ok(UserInstruction {
        user,
        range: req.node.range,
        code: req.code.clone(),
    })
}

/// STOPSIGNAL never looks at its flags in the reference, so they are ignored here too.
pub(super) fn parse_stopsignal(req: &Req) -> Result<StopsignalInstruction, String> {
    let signal = exactly_one(req, "STOPSIGNAL")?;
    Ok(StopsignalInstruction {
        signal,
        range: req.node.range,
        code: req.code.clone(),
    })
}

pub(super) fn parse_expose(req: &Req) -> Result<ExposeInstruction, String> {
    if req.args.is_empty() {
        return Err(err_at_least_one("EXPOSE"));
    }
    req.no_flags()?;
    let mut ports = req.args.clone();
    ports.sort();
    Ok(ExposeInstruction {
        ports,
        range: req.node.range,
        code: req.code.clone(),
    })
}

pub(super) fn parse_volume(req: &Req) -> Result<VolumeInstruction, String> {
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
        code: req.code.clone(),
    })
}

/// The text after `NAME ` in the comment lines above, BuildKit's `getComment`.
pub(super) fn comment_for(comments: &[String], name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let prefix = format!("{name} ");
    comments
        .iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or("")
        .to_string()
}

/// ARG splits `NAME=default` itself: a bare NAME declares the argument without a default.
pub(super) fn parse_arg(req: &Req) -> Result<ArgInstruction, String> {
    if req.args.is_empty() {
        return Err(err_at_least_one("ARG"));
    }
    let args = req
        .args
        .iter()
        .map(|arg| {
            let (key, value) = match arg.split_once('=') {
                Some(("", _)) => return Err("ARG names can not be blank".to_string()),
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            let comment = comment_for(&req.node.comments, &key);
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
        code: req.code.clone(),
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

pub(super) fn command_line(req: &Req) -> CommandLine {
    let files = req
        .node
        .heredocs
        .iter()
        // As the reference: the raw text; RUN chomps it only where it runs a lone heredoc.
        .map(|h| ShellInlineFile {
            name: h.name.clone(),
            data: h.raw_content.clone(),
            chomp: h.chomp,
        })
        .collect();
    CommandLine {
        cmd_line: json_or_joined(&req.args, req.node.json),
        files,
        prepend_shell: !req.node.json,
    }
}

pub(super) fn parse_shell(req: &Req) -> Result<ShellInstruction, String> {
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
        code: req.code.clone(),
    })
}

pub(super) fn parse_cmd(req: &Req) -> Result<CmdInstruction, String> {
    req.no_flags()?;
    Ok(CmdInstruction {
        cmd: command_line(req),
        range: req.node.range,
        code: req.code.clone(),
    })
}

pub(super) fn parse_entrypoint(req: &Req) -> Result<EntrypointInstruction, String> {
    req.no_flags()?;
    Ok(EntrypointInstruction {
        cmd: command_line(req),
        range: req.node.range,
        code: req.code.clone(),
    })
}

//! RUN and its flags: `--mount`, `--network`, `--security`, `--device`.

use super::bflags::BFlags;
use super::csv::csv_fields;
use super::goconv::{go_quote, parse_bool};
use super::mount::parse_mount;
use super::simple::{command_line, CommandLine};
use super::suggest::with_suggestion;
use super::Req;
use crate::syntax::SourceRange;

#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    #[default]
    Default,
    None,
    Host,
}

impl NetworkMode {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Default => "default",
            NetworkMode::None => "none",
            NetworkMode::Host => "host",
        }
    }
}

/// `--security`: `insecure` runs with all capabilities, which BuildKit allows only with the
/// `security.insecure` entitlement.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SecurityMode {
    #[default]
    Sandbox,
    Insecure,
}

/// A `--device` request (CDI device name). Stable 1.19 parses it but refuses to build with it;
/// that refusal belongs to conversion.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Device {
    pub name: String,
    pub required: bool,
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct RunInstruction {
    #[serde(skip)]
    pub range: SourceRange,
    pub code: String,
    pub cmd: CommandLine,
    /// The `--mount` values as written; conversion parses them with `parse_mounts` and the
    /// stage's expander.
    pub mounts: Vec<String>,
    /// Each mount's `from` as read at parse time (empty when none): stage dependencies.
    pub mount_from: Vec<String>,
    pub network: NetworkMode,
    pub security: SecurityMode,
    pub devices: Vec<Device>,
    /// Flag names given, in first-use order.
    pub flags_used: Vec<String>,
}

pub(super) fn parse_run(req: &mut Req) -> Result<RunInstruction, String> {
    let mut flags = BFlags::new();
    flags
        .strings_flag("device")
        .strings_flag("mount")
        .string_flag("network", "default")
        .string_flag("security", "sandbox");
    req.parse_flags(&mut flags)?;
    let devices = flags
        .values("device")
        .iter()
        .map(|d| parse_device(d))
        .collect::<Result<Vec<_>, _>>()?;
    let mounts = flags.values("mount");
    let mount_from = mounts
        .iter()
        .map(|v| parse_mount(v, None).map(|m| m.from))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.message)?;
    let network = match flags.value("network").as_str() {
        "default" => NetworkMode::Default,
        "none" => NetworkMode::None,
        "host" => NetworkMode::Host,
        other => return Err(format!("invalid network mode {}", go_quote(other))),
    };
    let security = match flags.value("security").as_str() {
        "sandbox" => SecurityMode::Sandbox,
        "insecure" => SecurityMode::Insecure,
        other => return Err(format!("security {} is not valid", go_quote(other))),
    };
    Ok(RunInstruction {
        range: req.node.range,
        code: req.take_code(),
        cmd: command_line(req),
        mounts,
        mount_from,
        network,
        security,
        devices,
        flags_used: flags.used(),
    })
}

/// Parses one `--device` value (`name[,required[=bool]]` or `name=...`).
pub fn parse_device(value: &str) -> Result<Device, String> {
    let fields = csv_fields(value).map_err(|e| format!("failed to parse csv devices: {e}"))?;
    let mut d = Device::default();
    for field in &fields {
        let Some((key, value)) = field.split_once('=') else {
            match field.to_lowercase().as_str() {
                "required" => d.required = true,
                _ if d.name.is_empty() => d.name = field.clone(),
                _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
            }
            continue;
        };
        let key = key.to_lowercase();
        match key.as_str() {
            "name" if !d.name.is_empty() => {
                return Err(format!("device name already set to {}", d.name))
            }
            "name" => d.name = value.to_string(),
            "required" => {
                d.required =
                    parse_bool(value).ok_or_else(|| format!("invalid value for {key}: {value}"))?;
            }
            _ if d.name.is_empty() => d.name = field.clone(),
            _ => {
                let msg = format!("unexpected key '{key}' in '{field}'");
                return Err(with_suggestion(msg, &key, &["name", "required"], true));
            }
        }
    }
    Ok(d)
}

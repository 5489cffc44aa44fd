//! `RUN --mount` values (BuildKit's `parseMount`). The reference parses each value twice: at
//! parse time without an expander (only `from` is read, to find stage dependencies) and during
//! conversion with the stage's expander, which is when every other key is validated.

use super::csv::csv_fields;
use super::goconv::{go_quote, parse_bool, parse_uint, ram_in_bytes};
use super::suggest::with_suggestion;

#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    #[default]
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

impl MountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Bind => "bind",
            MountKind::Cache => "cache",
            MountKind::Tmpfs => "tmpfs",
            MountKind::Secret => "secret",
            MountKind::Ssh => "ssh",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "bind" => MountKind::Bind,
            "cache" => MountKind::Cache,
            "tmpfs" => MountKind::Tmpfs,
            "secret" => MountKind::Secret,
            "ssh" => MountKind::Ssh,
            _ => return None,
        })
    }
}

#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ShareMode {
    Shared,
    Private,
    Locked,
}

impl ShareMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareMode::Shared => "shared",
            ShareMode::Private => "private",
            ShareMode::Locked => "locked",
        }
    }
}

/// One parsed `--mount`. Defaults the converter applies (secret/ssh targets, cache ids, the
/// `shared` sharing mode) are not filled in here, as in the reference.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Mount {
    pub kind: MountKind,
    pub from: String,
    pub source: String,
    pub target: String,
    pub readonly: bool,
    /// tmpfs `size` in bytes; 0 when not given.
    pub size_limit: i64,
    /// `id` (cache id, secret id, ssh id).
    pub id: String,
    pub sharing: Option<ShareMode>,
    pub required: bool,
    /// Secret `env`: the variable to expose the secret as (`Some("")` when given empty).
    pub env: Option<String>,
    pub mode: Option<u64>,
    pub uid: Option<u64>,
    pub gid: Option<u64>,
}

/// A `--mount` value the reference rejects; the message is the reference's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MountError {
    pub message: String,
}

impl From<String> for MountError {
    fn from(message: String) -> Self {
        MountError { message }
    }
}

/// Expands one word with the stage's variables; the error text is reported as is.
pub type Expander<'a> = &'a dyn Fn(&str) -> Result<String, String>;

const ALL_KEYS: [&str; 19] = [
    "type",
    "from",
    "source",
    "target",
    "readonly",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "src",
    "dst",
    "destination",
    "ro",
    "rw",
    "readwrite",
    "env",
];

/// True when a `from` value as written reads variables: a `$` anywhere but last, the
/// reference's test for refusing it. Other values name their source as written.
pub fn mount_from_reads_variables(raw: &str) -> bool {
    raw.find('$').is_some_and(|i| i + 1 != raw.len())
}

/// Parses every value with `expand` (conversion time).
pub fn parse_mounts(values: &[String], expand: Expander) -> Result<Vec<Mount>, MountError> {
    values
        .iter()
        .map(|v| parse_mount(v, Some(expand)))
        .collect()
}

/// Parses one `--mount` value. Without an expander only `from` is read, as written, like the
/// reference's parse-time pass (which refuses a `from` that reads variables; mstage does not).
pub fn parse_mount(value: &str, expand: Option<Expander>) -> Result<Mount, MountError> {
    let fields = csv_fields(value).map_err(|e| format!("failed to parse csv mounts: {e}"))?;
    let mut m = Mount::default();
    let mut ro_auto = true;
    for field in &fields {
        let (key, raw) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v)),
            None => (field.to_lowercase(), None),
        };
        let Some(raw) = raw else {
            if expand.is_some() {
                bare_key(&mut m, &mut ro_auto, &key, field)?;
            }
            continue;
        };
        let value = match expand {
            Some(expand) => expand(raw)?,
            // Kept as written: the stage graph expands it when it reads variables.
            None if key == "from" => raw.to_string(),
            None => continue,
        };
        keyed(&mut m, &mut ro_auto, &key, &value, field)?;
    }
    finish(m, ro_auto)
}

/// A key given without `=value`.
fn bare_key(m: &mut Mount, ro_auto: &mut bool, key: &str, field: &str) -> Result<(), String> {
    match key {
        "readonly" | "ro" => m.readonly = true,
        "readwrite" | "rw" => m.readonly = false,
        "required" if matches!(m.kind, MountKind::Secret | MountKind::Ssh) => {
            m.required = true;
            return Ok(());
        }
        "required" => return Err(unexpected_for_type(key, m.kind)),
        _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
    }
    *ro_auto = false;
    Ok(())
}

fn unexpected_for_type(key: &str, kind: MountKind) -> String {
    format!("unexpected key '{key}' for mount type '{}'", kind.as_str())
}

fn invalid_value(key: &str, value: &str) -> String {
    format!("invalid value for {key}: {value}")
}

fn keyed(
    m: &mut Mount,
    ro_auto: &mut bool,
    key: &str,
    value: &str,
    field: &str,
) -> Result<(), String> {
    match key {
        "type" => {
            m.kind = MountKind::parse(&value.to_lowercase()).ok_or_else(|| {
                let kinds = ["bind", "cache", "tmpfs", "secret", "ssh"];
                let msg = format!("unsupported mount type {}", go_quote(value));
                with_suggestion(msg, value, &kinds, true)
            })?;
        }
        "from" => m.from = value.to_string(),
        "source" | "src" => m.source = value.to_string(),
        "target" | "dst" | "destination" => m.target = value.to_string(),
        "readonly" | "ro" => {
            m.readonly = parse_bool(value).ok_or_else(|| invalid_value(key, value))?;
            *ro_auto = false;
        }
        "readwrite" | "rw" => {
            m.readonly = !parse_bool(value).ok_or_else(|| invalid_value(key, value))?;
            *ro_auto = false;
        }
        "required" if matches!(m.kind, MountKind::Secret | MountKind::Ssh) => {
            m.required = parse_bool(value).ok_or_else(|| invalid_value(key, value))?;
        }
        "size" if m.kind == MountKind::Tmpfs => {
            m.size_limit = ram_in_bytes(value).ok_or_else(|| invalid_value(key, value))?;
        }
        "required" | "size" => return Err(unexpected_for_type(key, m.kind)),
        "id" => m.id = value.to_string(),
        "sharing" => m.sharing = Some(share_mode(value)?),
        "mode" => {
            let v = parse_uint(value, 8, 32)
                .ok_or_else(|| format!("invalid value {value} for mode"))?;
            m.mode = Some(v);
        }
        "uid" => {
            let v = parse_uint(value, 10, 32)
                .ok_or_else(|| format!("invalid value {value} for uid"))?;
            m.uid = Some(v);
        }
        "gid" => {
            let v = parse_uint(value, 10, 32)
                .ok_or_else(|| format!("invalid value {value} for gid"))?;
            m.gid = Some(v);
        }
        "env" => m.env = Some(value.to_string()),
        _ => {
            let msg = format!("unexpected key '{key}' in '{field}'");
            return Err(with_suggestion(msg, key, &ALL_KEYS, true));
        }
    }
    Ok(())
}

fn share_mode(value: &str) -> Result<ShareMode, String> {
    match value.to_lowercase().as_str() {
        "shared" => Ok(ShareMode::Shared),
        "private" => Ok(ShareMode::Private),
        "locked" => Ok(ShareMode::Locked),
        _ => {
            let msg = format!("unsupported sharing value {}", go_quote(value));
            Err(with_suggestion(
                msg,
                value,
                &["shared", "private", "locked"],
                true,
            ))
        }
    }
}

/// Whole-mount checks after all keys are read.
fn finish(mut m: Mount, ro_auto: bool) -> Result<Mount, MountError> {
    let kind = go_quote(m.kind.as_str());
    if !matches!(
        m.kind,
        MountKind::Secret | MountKind::Ssh | MountKind::Cache
    ) {
        for (name, set) in [("mode", m.mode), ("uid", m.uid), ("gid", m.gid)] {
            if set.is_some() {
                return Err(format!("{name} not allowed for {kind} type mounts").into());
            }
        }
    }
    if ro_auto {
        m.readonly = !matches!(m.kind, MountKind::Cache | MountKind::Tmpfs);
    }
    if m.kind == MountKind::Secret {
        let err = if !m.from.is_empty() {
            Some("secret mount should not have a from")
        } else if m.sharing.is_some() {
            Some("secret mount should not define sharing")
        } else if m.source.is_empty() && m.target.is_empty() && m.id.is_empty() {
            Some("invalid secret mount. one of source, target required")
        } else if !m.source.is_empty() && !m.id.is_empty() {
            Some("both source and id can't be set")
        } else {
            None
        };
        if let Some(e) = err {
            return Err(e.to_string().into());
        }
    }
    if m.sharing.is_some() && m.kind != MountKind::Cache {
        return Err(format!("invalid cache sharing set for {} mount", m.kind.as_str()).into());
    }
    Ok(m)
}

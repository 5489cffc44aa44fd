//! `SOURCE_DATE_EPOCH` (1.26's `epoch.go`): a build arg, or a global ARG with a non-empty
//! default, fixes the time the image's history, its `created` (through the exporter) and the
//! directories WORKDIR makes carry. The resolved value replaces the ARG's text, so stages that
//! declare the ARG see the seconds as the reference formats them.

use std::collections::BTreeMap;

use super::contexts::{NamedContext, NamedContexts};
use super::ConvertError;
use crate::instructions::goconv::go_quote;
use crate::llb::State;
use crate::platform::Platform;
use crate::stages::Stage;

pub const KEY: &str = "SOURCE_DATE_EPOCH";

/// Seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch {
    pub seconds: i64,
}

impl Epoch {
    /// The time as Go's `time.Time.MarshalJSON` writes it (RFC 3339, `Z`, no fraction for whole
    /// seconds); Go refuses years outside 0..=9999, so the image config cannot be written then.
    pub fn rfc3339(self) -> Result<String, String> {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        if !(0..=9999).contains(&year) {
            return Err("failed to marshal image config: json: error calling MarshalJSON for type *time.Time: Time.MarshalJSON: year outside of range [0,9999]".to_string());
        }
        Ok(format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        ))
    }

    /// `time.Time.UnixNano`, which LLB file actions carry (Go's arithmetic wraps).
    pub fn nanos(self) -> i64 {
        self.seconds.wrapping_mul(1_000_000_000)
    }
}

/// The epoch as conversion writes it: history's `created` and file actions' timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub created: String,
    pub nanos: i64,
}

impl Stamp {
    pub fn new(epoch: Epoch) -> Result<Stamp, String> {
        Ok(Stamp {
            created: epoch.rfc3339()?,
            nanos: epoch.nanos(),
        })
    }
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// What the build asks for: a build arg (even an empty one) wins over a global ARG, which counts
/// only when it is non-empty (`getBuildArgValue`).
pub fn requested(
    build_args: &BTreeMap<String, String>,
    globals: &[(String, String)],
) -> Option<String> {
    if let Some(v) = build_args.get(KEY) {
        return Some(v.clone());
    }
    globals
        .iter()
        .rev()
        .find(|(k, _)| k == KEY)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

/// Expands a word over a `(key, value)` scope (later pairs win).
pub type Expand<'a> = &'a dyn Fn(&str, &[(String, String)]) -> Result<String, String>;

/// What a source stage is checked with: the build args, the global ARGs without
/// SOURCE_DATE_EPOCH, and word expansion.
pub struct StageScope<'a> {
    pub build_args: &'a BTreeMap<String, String>,
    pub globals: Vec<(String, String)>,
    pub expand: Expand<'a>,
}

/// What a SOURCE_DATE_EPOCH that is not seconds names: a source whose date only BuildKit can
/// tell (a git commit's committer time, an http file's Last-Modified or its archive's newest
/// file), looked up in the reference's order.
#[derive(Debug, Clone)]
pub enum DateSource {
    /// `context`: the main build context.
    MainContext,
    /// A named context (`--build-context NAME=...`).
    NamedContext(NamedContext),
    /// A source-only stage's one remote ADD, by the stage's name.
    Stage { name: String, source: State },
}

impl DateSource {
    /// The progress name the reference gives the metadata request.
    pub fn log_name(&self) -> String {
        match self {
            DateSource::MainContext => "[internal] resolve main build context metadata".into(),
            DateSource::NamedContext(c) => {
                format!("[internal] resolve {KEY} named context {}", c.key)
            }
            DateSource::Stage { name, .. } => {
                format!("[internal] resolve {KEY} source stage {name}")
            }
        }
    }
}

/// A SOURCE_DATE_EPOCH value whose source's date is still to be resolved.
#[derive(Debug, Clone)]
pub struct PendingDate {
    pub value: String,
    pub source: DateSource,
}

/// The date BuildKit gave the source that `value` names (`None`: the source has none, as a
/// local directory), handed back to conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDate {
    pub value: String,
    pub seconds: Option<i64>,
}

/// What a SOURCE_DATE_EPOCH value comes to while converting.
#[derive(Debug, Clone)]
pub enum Resolution {
    Known(Option<Epoch>),
    Source(DateSource),
}

/// The epoch a value names: seconds, `context` (the build context), a named context, or the
/// name of a source-only stage (one remote ADD).
pub fn resolve(
    value: &str,
    stages: &[Stage],
    scope: &StageScope,
    contexts: &NamedContexts,
) -> Result<Resolution, ConvertError> {
    if value.is_empty() {
        return Ok(Resolution::Known(None));
    }
    // Go's strconv.ParseInt(v, 10, 64): an optional sign and decimal digits, nothing else.
    if let Ok(seconds) = value.parse::<i64>() {
        return Ok(Resolution::Known(Some(Epoch { seconds })));
    }
    if value == "context" {
        return Ok(Resolution::Source(DateSource::MainContext));
    }
    // dockerui's NamedContext: the name must be an image reference; the default platform's
    // context (`NAME::os/arch`) first.
    if let Err(e) = crate::llb::normalize_image_ref(value) {
        return Err(ConvertError::At {
            message: format!("invalid context name {value}: {e}"),
            ranges: Vec::new(),
        });
    }
    if let Some(context) = contexts.lookup(value, &Platform::host()) {
        return Ok(Resolution::Source(DateSource::NamedContext(context)));
    }
    let wanted = value.to_lowercase();
    match stages.iter().find(|s| s.name() == Some(wanted.as_str())) {
        Some(stage) => match stage_source(stage, scope) {
            Ok(source) => Ok(Resolution::Source(DateSource::Stage {
                name: wanted,
                source,
            })),
            Err(message) => Err(ConvertError::at(message, stage.from.range)),
        },
        None => Err(ConvertError::At {
            message: format!("invalid {KEY}: {value}"),
            ranges: Vec::new(),
        }),
    }
}

/// Why a value cannot be had without BuildKit (the CLI converts with no gateway).
pub fn needs_buildkit(value: &str, source: &DateSource) -> ConvertError {
    let what = match source {
        DateSource::MainContext => "the build context's date".to_string(),
        DateSource::NamedContext(c) => format!("the date of named context {}", c.key),
        DateSource::Stage { name, .. } => format!("the date of source stage {name}"),
    };
    ConvertError::At {
        message: format!(
            "{KEY}={value} takes {what}, which only BuildKit can resolve (build through BuildKit, or give the seconds)"
        ),
        ranges: Vec::new(),
    }
}

/// `sourceDateEpochStageSource`: the stage's remote source, after the reference's source-only
/// checks in its order.
fn stage_source(stage: &Stage, scope: &StageScope) -> Result<State, String> {
    use crate::instructions::Instruction;
    let base = &stage.from.base_name;
    match (scope.expand)(base, &scope.globals) {
        Err(e) => {
            return Err(format!(
                "failed to process source stage base name {}: {e}",
                go_quote(base)
            ))
        }
        Ok(name) if name != "scratch" => return Err(format!("{KEY} stage must use FROM scratch")),
        Ok(_) => {}
    }
    let mut env = scope.globals.clone();
    let mut source = None;
    for instruction in &stage.instructions {
        match instruction {
            Instruction::Arg(arg) => stage_args(&arg.args, &mut env, scope)?,
            Instruction::Add(_) if source.is_some() => {
                return Err(format!("{KEY} stage must contain exactly one remote ADD"))
            }
            Instruction::Add(add) => source = Some(remote_add(add, &env, scope)?),
            other => {
                return Err(format!(
                "{KEY} stage does not meet source-only requirements: unsupported {} instruction",
                crate::lint::parsed::written_keyword(other.code())
            ))
            }
        }
    }
    source.ok_or_else(|| format!("{KEY} stage must contain exactly one remote ADD"))
}

/// `applySourceDateEpochStageArgs`: a build arg wins, else the default expanded in the scope.
fn stage_args(
    args: &[crate::instructions::ArgPair],
    env: &mut Vec<(String, String)>,
    scope: &StageScope,
) -> Result<(), String> {
    for pair in args {
        let value = match (scope.build_args.get(&pair.key), &pair.value) {
            (Some(given), _) => given.clone(),
            (None, None) => continue,
            (None, Some(default)) => (scope.expand)(default, env)?,
        };
        super::args::add_or_replace(env, &pair.key, &value);
    }
    Ok(())
}

/// `sourceDateEpochAddSource`: one source, an HTTP(S) URL (with a valid checksum) or a git
/// remote, as a source state of its own.
fn remote_add(
    add: &crate::instructions::AddInstruction,
    env: &[(String, String)],
    scope: &StageScope,
) -> Result<State, String> {
    use super::git::{parse_git_ref, GitSource};
    let sources = &add.sources;
    let [path] = sources.source_paths.as_slice() else {
        return Err(format!(
            "{KEY} stage must contain exactly one remote ADD source"
        ));
    };
    if !sources.source_contents.is_empty() {
        return Err(format!(
            "{KEY} stage must contain exactly one remote ADD source"
        ));
    }
    let src = (scope.expand)(path, env)?;
    let checksum = match add.checksum.is_empty() {
        true => String::new(),
        false => (scope.expand)(&add.checksum, env)?,
    };
    if super::copy::is_http_url(&src) {
        if !checksum.is_empty() {
            super::copy::check_digest(&checksum)?;
        }
        return Ok(crate::llb::http_with(
            &src,
            crate::llb::HttpOptions {
                filename: Some(http_filename(&src)),
                checksum: Some(checksum),
                ..Default::default()
            },
        ));
    }
    match parse_git_ref(&src) {
        GitSource::Invalid(e) => Err(e),
        GitSource::Git(r) if !r.indistinguishable_from_local => Ok(super::git::epoch_source_state(
            &r,
            add.keep_git_dir,
            &checksum,
        )),
        _ => Err(format!(
            "{KEY} stage source must be a single HTTP(S) or Git ADD"
        )),
    }
}

/// `sourceDateEpochHTTPFilename`: the URL path's last element, else `__unnamed__`.
fn http_filename(src: &str) -> String {
    let path = crate::llb::giturl::parse_go_url(src)
        .map(|u| u.path)
        .unwrap_or_default();
    match crate::llb::path::base(&path) {
        "." | "/" => "__unnamed__".to_string(),
        base => base.to_string(),
    }
}

/// `setBuildArgValue`: the resolved seconds replace the value where it was given; no epoch
/// removes the key.
pub fn normalize(
    build_args: &mut BTreeMap<String, String>,
    globals: &mut Vec<(String, String)>,
    epoch: Option<Epoch>,
) {
    let value = epoch.map(|e| e.seconds.to_string());
    if build_args.contains_key(KEY) {
        match &value {
            Some(v) => {
                build_args.insert(KEY.to_string(), v.clone());
            }
            None => {
                build_args.remove(KEY);
            }
        }
    }
    if globals.iter().any(|(k, _)| k == KEY) {
        match &value {
            Some(v) => super::args::add_or_replace(globals, KEY, v),
            None => globals.retain(|(k, _)| k != KEY),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_go_marshals_time() {
        let at = |seconds| Epoch { seconds }.rfc3339().expect("in range");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(-5), "1969-12-31T23:59:55Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert!(Epoch {
            seconds: 253_402_300_800
        }
        .rfc3339()
        .is_err());
    }

    #[test]
    fn reads_integers_as_parse_int_does() {
        let same = |w: &str, _: &[(String, String)]| Ok(w.to_string());
        let scope = StageScope {
            build_args: &BTreeMap::new(),
            globals: Vec::new(),
            expand: &same,
        };
        let contexts = NamedContexts::default();
        let r = |v: &str| match resolve(v, &[], &scope, &contexts) {
            Ok(Resolution::Known(epoch)) => Ok(epoch),
            Ok(Resolution::Source(source)) => Err(source.log_name()),
            Err(e) => Err(e.to_string()),
        };
        assert_eq!(r("0017"), Ok(Some(Epoch { seconds: 17 })));
        assert_eq!(r("+3"), Ok(Some(Epoch { seconds: 3 })));
        assert_eq!(r(""), Ok(None));
        assert_eq!(
            r("context"),
            Err("[internal] resolve main build context metadata".to_string())
        );
        assert_eq!(r("abc"), Err("invalid SOURCE_DATE_EPOCH: abc".to_string()));
        assert_eq!(
            r(" 12"),
            Err("invalid context name  12: invalid reference format".to_string())
        );
        assert_eq!(
            r("99999999999999999999"),
            Err("invalid SOURCE_DATE_EPOCH: 99999999999999999999".to_string())
        );
    }
}

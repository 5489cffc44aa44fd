//! HEALTHCHECK: `NONE`, or `CMD` with its timing flags.

use std::time::Duration;

use super::bflags::BFlags;
use super::goconv::{format_duration, go_quote, parse_go_duration, parse_int10};
use super::simple::json_or_joined;
use super::{err_at_least_one, Req};
use crate::syntax::SourceRange;

/// The image config's health check; zero durations and retries mean "inherit the default".
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", args...]` (exec form) or `["CMD-SHELL", command]`.
    pub test: Vec<String>,
    #[serde(serialize_with = "nanos")]
    pub interval: Duration,
    #[serde(serialize_with = "nanos")]
    pub timeout: Duration,
    #[serde(serialize_with = "nanos")]
    pub start_period: Duration,
    #[serde(serialize_with = "nanos")]
    pub start_interval: Duration,
    pub retries: i32,
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct HealthcheckInstruction {
    #[serde(skip)]
    pub range: SourceRange,
    pub code: String,
    pub health: Healthcheck,
}

/// Durations serialize as nanoseconds, the image config's unit.
fn nanos<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

const FLAGS: [&str; 4] = ["interval", "timeout", "start-period", "start-interval"];

pub(super) fn parse_healthcheck(req: &mut Req) -> Result<HealthcheckInstruction, String> {
    let Some((first, args)) = req.args.split_first() else {
        return Err(err_at_least_one("HEALTHCHECK"));
    };
    let typ = first.to_uppercase();
    let health = if typ == "NONE" {
        // The reference does not read flags for NONE.
        if !args.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".to_string());
        }
        Healthcheck {
            test: vec![typ],
            ..Default::default()
        }
    } else {
        check_with_command(req, typ, args)?
    };
    Ok(HealthcheckInstruction {
        range: req.node.range,
        code: req.take_code(),
        health,
    })
}

fn check_with_command(req: &Req, typ: String, args: &[String]) -> Result<Healthcheck, String> {
    let mut flags = BFlags::new();
    for name in FLAGS {
        flags.string_flag(name, "");
    }
    flags.string_flag("retries", "");
    req.parse_flags(&mut flags)?;
    if typ != "CMD" {
        return Err(format!(
            "Unknown type {} in HEALTHCHECK (try CMD)",
            go_quote(&typ)
        ));
    }
    let cmd = json_or_joined(args, req.node.json);
    if cmd.is_empty() {
        return Err("Missing command after HEALTHCHECK CMD".to_string());
    }
    let kind = if req.node.json { "CMD" } else { "CMD-SHELL" };
    let mut test = vec![kind.to_string()];
    test.extend(cmd);
    let [interval, timeout, start_period, start_interval] =
        FLAGS.map(|name| interval_flag(name, &flags.value(name)));
    Ok(Healthcheck {
        test,
        interval: interval?,
        timeout: timeout?,
        start_period: start_period?,
        start_interval: start_interval?,
        retries: retries(&flags.value("retries"))?,
    })
}

/// An optional duration flag: empty or zero is 0; otherwise at least 1ms.
fn interval_flag(name: &str, value: &str) -> Result<Duration, String> {
    if value.is_empty() {
        return Ok(Duration::ZERO);
    }
    let ns = parse_go_duration(value)?;
    if ns == 0 {
        return Ok(Duration::ZERO);
    }
    let minimum = Duration::from_millis(1);
    if ns < minimum.as_nanos() as i128 {
        return Err(format!(
            "Interval {} cannot be less than {}",
            go_quote(name),
            format_duration(minimum)
        ));
    }
    Ok(Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX)))
}

fn retries(value: &str) -> Result<i32, String> {
    if value.is_empty() {
        return Ok(0);
    }
    let n = parse_int10(value, 32)?;
    if n < 0 {
        return Err(format!("--retries cannot be negative ({n})"));
    }
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

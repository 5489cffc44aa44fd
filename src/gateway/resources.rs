//! 1.25's resource limits of RUN steps (dockerui's `parseLinuxResources` and BuildKit's
//! `cpuset.Validate`): `memory`, `memswap`, `cpushares`, `cpuperiod`, `cpuquota`, `cpusetcpus`,
//! `cpusetmems`, checked with the reference's messages.

use std::collections::BTreeMap;

use crate::convert::LinuxResources;
use crate::instructions::goconv::{go_quote, parse_int10, parse_uint};

/// The highest CPU number a cpuset may name.
const MAX_CPU: u64 = 8192;

/// The limits asked for; `None` when none is.
pub fn parse(opts: &BTreeMap<String, String>) -> Result<Option<LinuxResources>, String> {
    let given = |key: &str| opts.get(key).map(String::as_str).filter(|v| !v.is_empty());
    let invalid = |key: &str, v: &str, why: String| format!("invalid {key} value: {v}: {why}");
    let mut res = LinuxResources::default();
    if let Some(v) = given("memory") {
        res.memory = parse_int10(v, 64).map_err(|e| invalid("memory", v, e))?;
        if res.memory <= 0 {
            return Err(invalid("memory", v, "must be > 0".into()));
        }
    }
    if let Some(v) = given("memswap") {
        res.memory_swap = parse_int10(v, 64).map_err(|e| invalid("memswap", v, e))?;
        if res.memory_swap < -1 || res.memory_swap == 0 {
            return Err(invalid(
                "memswap",
                v,
                "must be -1 (unlimited) or > 0".into(),
            ));
        }
    }
    for (key, field) in [
        ("cpushares", &mut res.cpu_shares),
        ("cpuperiod", &mut res.cpu_period),
    ] {
        if let Some(v) = given(key) {
            *field = go_parse_uint(v).map_err(|e| invalid(key, v, e))?;
            if *field == 0 {
                return Err(invalid(key, v, "must be > 0".into()));
            }
        }
    }
    if let Some(v) = given("cpuquota") {
        res.cpu_quota = parse_int10(v, 64).map_err(|e| invalid("cpuquota", v, e))?;
        if res.cpu_quota <= 0 {
            return Err(invalid("cpuquota", v, "must be > 0".into()));
        }
    }
    for (key, field) in [
        ("cpusetcpus", &mut res.cpuset_cpus),
        ("cpusetmems", &mut res.cpuset_mems),
    ] {
        if let Some(v) = given(key) {
            validate_cpuset(v).map_err(|e| invalid(key, v, e))?;
            *field = v.to_string();
        }
    }
    Ok((res != LinuxResources::default()).then_some(res))
}

/// Go's `strconv.ParseUint(v, 10, 64)` with its error text.
fn go_parse_uint(v: &str) -> Result<u64, String> {
    parse_uint(v, 10, 64).ok_or_else(|| {
        let why = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!("strconv.ParseUint: parsing {}: {why}", go_quote(v))
    })
}

/// Go's `strconv.Atoi`, as a cpuset element is read.
fn atoi(s: &str) -> Option<i64> {
    parse_int10(s, 64).ok()
}

/// `cpuset.Validate`: comma-separated CPU numbers and `lo-hi` ranges, each at most `MAX_CPU`.
fn validate_cpuset(value: &str) -> Result<(), String> {
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((lo, hi)) = part.split_once('-') else {
            let n = atoi(part).filter(|n| *n >= 0);
            match n {
                None => return Err(format!("invalid cpuset element {}", go_quote(part))),
                Some(n) if n as u64 > MAX_CPU => {
                    return Err(format!(
                        "cpuset element {} exceeds maximum {MAX_CPU}",
                        go_quote(part)
                    ))
                }
                Some(_) => continue,
            }
        };
        match (atoi(lo.trim()), atoi(hi.trim())) {
            (Some(lo), Some(hi)) if lo >= 0 && hi >= lo => {
                if hi as u64 > MAX_CPU {
                    return Err(format!(
                        "cpuset range {} exceeds maximum {MAX_CPU}",
                        go_quote(part)
                    ));
                }
            }
            _ => return Err(format!("invalid cpuset range {}", go_quote(part))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(pairs: &[(&str, &str)]) -> Result<Option<LinuxResources>, String> {
        let opts = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(&opts)
    }

    #[test]
    fn nothing_asked_is_none() {
        assert_eq!(res(&[]), Ok(None));
        assert_eq!(res(&[("memory", ""), ("cpusetcpus", "")]), Ok(None));
    }

    #[test]
    fn every_limit_read() {
        let r = res(&[
            ("memory", "1000000"),
            ("memswap", "-1"),
            ("cpushares", "512"),
            ("cpuperiod", "100000"),
            ("cpuquota", "50000"),
            ("cpusetcpus", "0-3, 5"),
            ("cpusetmems", "0"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            (
                r.memory,
                r.memory_swap,
                r.cpu_shares,
                r.cpu_period,
                r.cpu_quota
            ),
            (1000000, -1, 512, 100000, 50000)
        );
        assert_eq!(
            (r.cpuset_cpus.as_str(), r.cpuset_mems.as_str()),
            ("0-3, 5", "0")
        );
    }

    #[test]
    fn bad_values_in_the_references_words() {
        let cases = [
            ("memory", "0", "invalid memory value: 0: must be > 0"),
            (
                "memory",
                "1g",
                "invalid memory value: 1g: strconv.ParseInt: parsing \"1g\": invalid syntax",
            ),
            (
                "memswap",
                "-2",
                "invalid memswap value: -2: must be -1 (unlimited) or > 0",
            ),
            (
                "cpushares",
                "-1",
                "invalid cpushares value: -1: strconv.ParseUint: parsing \"-1\": invalid syntax",
            ),
            ("cpuperiod", "0", "invalid cpuperiod value: 0: must be > 0"),
            ("cpuquota", "-5", "invalid cpuquota value: -5: must be > 0"),
            (
                "cpusetcpus",
                "a",
                "invalid cpusetcpus value: a: invalid cpuset element \"a\"",
            ),
            (
                "cpusetcpus",
                "3-1",
                "invalid cpusetcpus value: 3-1: invalid cpuset range \"3-1\"",
            ),
            (
                "cpusetmems",
                "9000",
                "invalid cpusetmems value: 9000: cpuset element \"9000\" exceeds maximum 8192",
            ),
            (
                "cpusetmems",
                "1-9000",
                "invalid cpusetmems value: 1-9000: cpuset range \"1-9000\" exceeds maximum 8192",
            ),
        ];
        for (key, value, message) in cases {
            assert_eq!(
                res(&[(key, value)]),
                Err(message.to_string()),
                "{key}={value}"
            );
        }
    }
}

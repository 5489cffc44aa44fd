//! The build options that shape every RUN step (dockerui's `parseExtraHosts`, `parseShmSize`,
//! `parseUlimits`, the hostname, cgroup parent and cache mount namespace), read into conversion's `RunOptions`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::convert::RunOptions;
use crate::instructions::csv::csv_fields;
use crate::instructions::goconv::parse_int10;

/// The build arg that, when set, replaces the `hostname` option.
const HOSTNAME_ARG: &str = "build-arg:BUILDKIT_SANDBOX_HOSTNAME";
/// The build arg whose value namespaces cache mount ids.
const CACHE_NS_ARG: &str = "build-arg:BUILDKIT_CACHE_MOUNT_NS";

/// The run options of a request, or the reference's message for the first bad value.
pub fn parse(opts: &BTreeMap<String, String>) -> Result<RunOptions, String> {
    let value = |key: &str| opts.get(key).map_or("", String::as_str);
    let extra_hosts = extra_hosts(value("add-hosts"))
        .map_err(|e| format!("failed to parse additional hosts: {e}"))?;
    let shm_size = match value("shm-size") {
        "" => 0,
        v => parse_int10(v, 64).map_err(|e| format!("failed to parse shm size: {e}"))?,
    };
    let ulimits = ulimits(value("ulimit")).map_err(|e| format!("failed to parse ulimit: {e}"))?;
    let resources = super::resources::parse(opts)
        .map_err(|e| format!("failed to parse resource limits: {e}"))?;
    let hostname = match value(HOSTNAME_ARG) {
        "" => value("hostname"),
        arg => arg,
    };
    Ok(RunOptions {
        extra_hosts,
        hostname: hostname.to_string(),
        shm_size,
        ulimits,
        cgroup_parent: value("cgroup-parent").to_string(),
        cache_id_namespace: value(CACHE_NS_ARG).to_string(),
        resources,
    })
}

/// `host=ip` pairs, comma separated (as CSV); hosts are lower-cased like the reference does.
fn extra_hosts(value: &str) -> Result<Vec<(String, IpAddr)>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for field in csv_fields(value)? {
        let lower = field.to_lowercase();
        let Some((host, ip)) = lower.split_once('=') else {
            return Err(format!("invalid key-value pair {field}"));
        };
        let ip = go_parse_ip(ip).ok_or_else(|| format!("failed to parse IP {ip}"))?;
        out.push((host.to_string(), ip));
    }
    Ok(out)
}

/// Go's `net.ParseIP` followed by `String()`: an IPv4-mapped IPv6 address prints as IPv4.
fn go_parse_ip(text: &str) -> Option<IpAddr> {
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        v4 => Some(v4),
    }
}

/// go-units' ulimit names (`as` is left out there too).
const ULIMIT_NAMES: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

fn ulimits(value: &str) -> Result<Vec<(String, i64, i64)>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    csv_fields(value)?.iter().map(|f| ulimit(f)).collect()
}

/// go-units' `ParseUlimit`: `name=soft[:hard]`, hard defaulting to soft.
fn ulimit(field: &str) -> Result<(String, i64, i64), String> {
    let Some((name, limits)) = field.split_once('=') else {
        return Err(format!("invalid ulimit argument: {field}"));
    };
    if !ULIMIT_NAMES.contains(&name) {
        return Err(format!("invalid ulimit type: {name}"));
    }
    let values: Vec<&str> = limits.split(':').collect();
    let (soft, hard) = match values.as_slice() {
        [soft] => {
            let soft = parse_int10(soft, 64)?;
            (soft, soft)
        }
        [soft, hard] => {
            let hard = parse_int10(hard, 64)?;
            (parse_int10(soft, 64)?, hard)
        }
        _ => {
            return Err(format!(
                "too many limit value arguments - {limits}, can only have up to two, `soft[:hard]`"
            ))
        }
    };
    if hard != -1 {
        if soft == -1 {
            return Err(format!(
                "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: {hard}"
            ));
        }
        if soft > hard {
            return Err(format!(
                "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
            ));
        }
    }
    Ok((name.to_string(), soft, hard))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)]) -> Result<RunOptions, String> {
        let opts = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(&opts)
    }

    #[test]
    fn nothing_given_changes_nothing() {
        assert_eq!(run(&[]).unwrap(), RunOptions::default());
        assert_eq!(
            run(&[("add-hosts", ""), ("shm-size", "")]).unwrap(),
            RunOptions::default()
        );
    }

    #[test]
    fn extra_hosts_in_order_lower_cased() {
        let r = run(&[("add-hosts", "MyHost=127.0.0.1,\"v6=::1\",m=::ffff:10.0.0.1")]).unwrap();
        let hosts: Vec<String> = r
            .extra_hosts
            .iter()
            .map(|(h, ip)| format!("{h} {ip}"))
            .collect();
        assert_eq!(hosts, ["myhost 127.0.0.1", "v6 ::1", "m 10.0.0.1"]);
        assert_eq!(
            run(&[("add-hosts", "nohost")]).unwrap_err(),
            "failed to parse additional hosts: invalid key-value pair nohost"
        );
        assert_eq!(
            run(&[("add-hosts", "h=1.2.3")]).unwrap_err(),
            "failed to parse additional hosts: failed to parse IP 1.2.3"
        );
    }

    #[test]
    fn hostname_arg_wins_over_the_option() {
        assert_eq!(run(&[("hostname", "a")]).unwrap().hostname, "a");
        let both = [("hostname", "a"), (HOSTNAME_ARG, "b")];
        assert_eq!(run(&both).unwrap().hostname, "b");
    }

    #[test]
    fn shm_size_cgroup_parent_and_cache_namespace() {
        let r = run(&[
            ("shm-size", "134217728"),
            ("cgroup-parent", "p"),
            (CACHE_NS_ARG, "ns"),
        ])
        .unwrap();
        assert_eq!(
            (
                r.shm_size,
                r.cgroup_parent.as_str(),
                r.cache_id_namespace.as_str()
            ),
            (134217728, "p", "ns")
        );
        assert_eq!(
            run(&[("shm-size", "1g")]).unwrap_err(),
            "failed to parse shm size: strconv.ParseInt: parsing \"1g\": invalid syntax"
        );
    }

    #[test]
    fn ulimits_soft_and_hard() {
        let r = run(&[("ulimit", "nofile=1024:2048,nproc=-1")]).unwrap();
        assert_eq!(
            r.ulimits,
            [("nofile".into(), 1024, 2048), ("nproc".into(), -1, -1)]
        );
        let cases = [
            ("nofile", "invalid ulimit argument: nofile"),
            ("as=1", "invalid ulimit type: as"),
            ("nofile=1:2:3", "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`"),
            ("nofile=3:2", "ulimit soft limit must be less than or equal to hard limit: 3 > 2"),
            ("nofile=-1:2", "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 2"),
            ("nofile=x", "strconv.ParseInt: parsing \"x\": invalid syntax"),
        ];
        for (value, message) in cases {
            assert_eq!(
                run(&[("ulimit", value)]).unwrap_err(),
                format!("failed to parse ulimit: {message}")
            );
        }
    }
}

//! EXPOSE port specs (`[ip:][hostPort:]containerPort[/proto]`, ranges allowed) into the image
//! config's `port/proto` keys, with the reference's validation messages (convert_expose.go).

use std::net::IpAddr;

/// Every container port the specs name, in order, as `port/proto`.
pub fn parse_ports(specs: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for spec in specs {
        out.extend(parse_port(spec)?);
    }
    Ok(out)
}

fn parse_port(raw: &str) -> Result<Vec<String>, String> {
    let (ip, host_port, container) = split_parts(raw);
    let (proto, container) =
        split_proto(container).map_err(|e| format!("invalid port: {}: {e}", go_q(raw)))?;
    if !ip.is_empty() {
        let bare = ip
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .unwrap_or(ip);
        if bare.parse::<IpAddr>().is_err() {
            return Err(format!("invalid IP address: {ip}"));
        }
    }
    let (start, end) =
        port_range(container).map_err(|_| format!("invalid containerPort: {container}"))?;
    if !host_port.is_empty() {
        let (hs, he) =
            port_range(host_port).map_err(|_| format!("invalid hostPort: {host_port}"))?;
        if end - start != he - hs && end != start {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {container} and {host_port}"
            ));
        }
    }
    let proto = proto.to_ascii_lowercase();
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

fn go_q(s: &str) -> String {
    crate::instructions::goconv::go_quote(s)
}

fn split_parts(raw: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = raw.split(':').collect();
    match parts.as_slice() {
        [c] => ("", "", c),
        [h, c] => ("", h, c),
        [ip, h, c] => (ip, h, c),
        _ => {
            // An IPv6 address holds colons: the last two parts are the ports.
            let n = parts.len();
            let ip_len = parts[..n - 2].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
            (&raw[..ip_len], parts[n - 2], parts[n - 1])
        }
    }
}

fn split_proto(raw: &str) -> Result<(&str, &str), String> {
    let (port, proto) = raw.split_once('/').unwrap_or((raw, ""));
    if port.is_empty() {
        return Err("no port specified".into());
    }
    match proto.to_ascii_lowercase().as_str() {
        "" => Ok(("tcp", port)),
        "tcp" | "udp" | "sctp" => Ok((proto, port)),
        _ => Err(format!("invalid proto: {proto}")),
    }
}

fn port_range(ports: &str) -> Result<(u32, u32), ()> {
    let (start, end) = match ports.split_once('-') {
        Some((s, e)) => (s, Some(e)),
        None => (ports, None),
    };
    let number = |s: &str| s.parse::<u32>().ok().filter(|p| *p <= 65535).ok_or(());
    let start = number(start)?;
    let end = match end {
        None => start,
        Some(e) => number(e)?,
    };
    if end < start {
        return Err(());
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_expand_like_the_reference() {
        let specs = [
            "80",
            "8080/UDP",
            "7000-7002",
            "127.0.0.1:81:81/tcp",
            "[::1]:82:82",
        ];
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            parse_ports(&specs).unwrap_or_default(),
            ["80/tcp", "8080/udp", "7000/tcp", "7001/tcp", "7002/tcp", "81/tcp", "82/tcp"]
        );
        assert_eq!(
            parse_ports(&["80/foo".to_string()]),
            Err("invalid port: \"80/foo\": invalid proto: foo".to_string())
        );
    }
}

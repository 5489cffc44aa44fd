//! Go standard-library conversions whose accepted input and error text the reference exposes to
//! users: `strconv.Quote`, `strconv.ParseBool/ParseInt/ParseUint`, `time.ParseDuration` and
//! go-units' `RAMInBytes`.

use std::time::Duration;

/// Go's `strconv.Quote` (also `%q` and `%#v` of a string).
pub use crate::syntax::shell::go_quote;

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(s, base, bits)`: no sign, no underscores (explicit base).
pub fn parse_uint(s: &str, base: u32, bits: u32) -> Option<u64> {
    if s.is_empty() || !s.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    let v = u64::from_str_radix(s, base).ok()?;
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    (v <= max).then_some(v)
}

/// Go's `strconv.ParseInt(s, 10, bits)` with its error text.
pub fn parse_int10(s: &str, bits: u32) -> Result<i64, String> {
    let syntax = || format!("strconv.ParseInt: parsing {}: invalid syntax", go_quote(s));
    let range = || {
        format!(
            "strconv.ParseInt: parsing {}: value out of range",
            go_quote(s)
        )
    };
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    let v: i128 = match s.parse::<i128>() {
        Ok(v) => v,
        Err(_) => return Err(range()),
    };
    let bits = bits.clamp(1, 64);
    let max = (1i128 << (bits - 1)) - 1;
    let min = -(1i128 << (bits - 1));
    if v > max || v < min {
        return Err(range());
    }
    i64::try_from(v).map_err(|_| range())
}

/// Go's `time.ParseDuration`, returning signed nanoseconds.
pub fn parse_go_duration(orig: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        let first = s.as_bytes().first().copied().unwrap_or(0);
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        let (v, rest) = leading_int(s).ok_or_else(invalid)?;
        let pre = rest.len() != s.len();
        s = rest;
        let (mut frac, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            let (f, sc, rest2) = leading_fraction(rest);
            post = rest2.len() != rest.len();
            frac = f;
            scale = sc;
            s = rest2;
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let (unit_str, rest) = s.split_at(unit_len);
        s = rest;
        let unit = duration_unit(unit_str).ok_or_else(|| {
            format!(
                "time: unknown unit {} in duration {}",
                go_quote(unit_str),
                go_quote(orig)
            )
        })?;
        if v > LIMIT / unit {
            return Err(invalid());
        }
        let mut v = v * unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok(-(total as i128));
    }
    if total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(total as i128)
}

fn duration_unit(u: &str) -> Option<u64> {
    Some(match u {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3600 * 1_000_000_000,
        _ => return None,
    })
}

fn leading_int(s: &str) -> Option<(u64, &str)> {
    let mut x: u64 = 0;
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    for b in s.bytes().take(end) {
        if x > (1u64 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(b - b'0');
        if x > 1u64 << 63 {
            return None;
        }
    }
    Some((x, &s[end..]))
}

fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    for b in s.bytes().take(end) {
        if overflow {
            continue;
        }
        if x > ((1u64 << 63) - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(b - b'0');
        if y > 1u64 << 63 {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[end..])
}

/// Go's `Duration.String()` for the non-negative values the reference prints (`1ms`).
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", trim_fraction(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", trim_fraction(ns, 1_000_000));
    }
    let secs = ns / 1_000_000_000;
    let (h, m) = (secs / 3600, (secs / 60) % 60);
    let s = trim_fraction(ns % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

fn trim_fraction(v: u128, unit: u128) -> String {
    let (int, frac) = (v / unit, v % unit);
    if frac == 0 {
        return int.to_string();
    }
    let width = unit.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

/// go-units' `RAMInBytes`: a number with an optional binary unit (`64m`, `1.5GiB`, `512 kb`).
pub fn ram_in_bytes(size: &str) -> Option<i64> {
    let sep = size.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')?;
    let (num, sfx) = if size[sep..].starts_with(' ') {
        (&size[..sep], &size[sep + 1..])
    } else {
        (&size[..=sep], &size[sep + 1..])
    };
    let value = parse_go_float(num)?;
    if value < 0.0 {
        return None;
    }
    if sfx.is_empty() {
        return Some(value as i64);
    }
    let sfx = sfx.to_ascii_lowercase();
    if sfx.len() > 3 {
        return None;
    }
    if sfx.starts_with('b') {
        return (sfx.len() == 1).then_some(value as i64);
    }
    let mul: f64 = match sfx.as_bytes().first() {
        Some(b'k') => 1024.0,
        Some(b'm') => 1024f64.powi(2),
        Some(b'g') => 1024f64.powi(3),
        Some(b't') => 1024f64.powi(4),
        Some(b'p') => 1024f64.powi(5),
        _ => return None,
    };
    let tail_ok = match sfx.len() {
        2 => sfx.ends_with('b'),
        3 => sfx.ends_with("ib"),
        _ => true,
    };
    tail_ok.then_some((value * mul) as i64)
}

/// Decimal floats as Go's `strconv.ParseFloat` reads them (no hex, no `inf` spelled with digits).
fn parse_go_float(num: &str) -> Option<f64> {
    let ok = num
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !ok {
        return None;
    }
    num.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("-2ms"), Ok(-2_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("50ns"), Ok(50));
        assert_eq!(parse_go_duration("3µs"), Ok(3000));
        assert_eq!(
            parse_go_duration("5"),
            Err("time: missing unit in duration \"5\"".into())
        );
        assert_eq!(
            parse_go_duration("5x"),
            Err("time: unknown unit \"x\" in duration \"5x\"".into())
        );
        assert_eq!(
            parse_go_duration(""),
            Err("time: invalid duration \"\"".into())
        );
        assert_eq!(
            parse_go_duration(".s"),
            Err("time: invalid duration \".s\"".into())
        );
        assert_eq!(
            parse_go_duration("99999999999999h"),
            Err("time: invalid duration \"99999999999999h\"".into())
        );
    }

    #[test]
    fn quoting_and_numbers() {
        assert_eq!(go_quote("a\"b\n\u{1}é"), "\"a\\\"b\\n\\x01é\"");
        assert_eq!(parse_uint("0755", 8, 32), Some(0o755));
        assert_eq!(parse_uint("8", 8, 32), None);
        assert_eq!(parse_uint("-1", 10, 32), None);
        assert_eq!(parse_uint("4294967296", 10, 32), None);
        assert_eq!(parse_int10("-3", 32), Ok(-3));
        assert_eq!(
            parse_int10("x", 32),
            Err("strconv.ParseInt: parsing \"x\": invalid syntax".into())
        );
        assert_eq!(
            parse_int10("2147483648", 32),
            Err("strconv.ParseInt: parsing \"2147483648\": value out of range".into())
        );
        assert_eq!(format_duration(Duration::from_millis(1)), "1ms");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    }

    #[test]
    fn ram_sizes() {
        assert_eq!(ram_in_bytes("10"), Some(10));
        assert_eq!(ram_in_bytes("64m"), Some(64 << 20));
        assert_eq!(ram_in_bytes("1.5KiB"), Some(1536));
        assert_eq!(ram_in_bytes("512 kb"), Some(512 << 10));
        assert_eq!(ram_in_bytes("1b"), Some(1));
        assert_eq!(ram_in_bytes("1x"), None);
        assert_eq!(ram_in_bytes("1kx"), None);
        assert_eq!(ram_in_bytes("mb"), None);
        assert_eq!(ram_in_bytes("-1"), None);
    }
}

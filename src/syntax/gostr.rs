//! Go string primitives the reference parser relies on, reproduced so splitting, trimming and
//! quoting behave byte-for-byte like BuildKit (`strings.TrimSpace`, `regexp.Split`, `strconv.Quote`).

/// Go's `unicode.IsSpace`; it matches Rust's White_Space property exactly.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go's `strings.TrimSpace`.
pub(crate) fn trim_space(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`.
pub(crate) fn trim_left_space(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// The class of the reference's `reWhitespace` regexp: `[\t\v\f\r ]`.
fn is_re_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\u{0b}' | '\u{0c}' | '\r' | ' ')
}

/// `reWhitespace.Split(s, n)` with Go's `Regexp.Split` semantics (`n < 0`: no limit), including
/// its quirks: an empty input yields `[""]` and a trailing separator yields a trailing `""`.
pub(crate) fn split_whitespace(s: &str, n: isize) -> Vec<&str> {
    if n == 0 {
        return Vec::new();
    }
    if s.is_empty() {
        return vec![""];
    }
    let mut out = Vec::new();
    let mut beg = 0;
    let mut end = 0;
    for (start, stop) in whitespace_runs(s) {
        if n > 0 && out.len() as isize == n - 1 {
            break;
        }
        end = start;
        if stop != 0 {
            out.push(&s[beg..end]);
        }
        beg = stop;
    }
    if end != s.len() {
        out.push(&s[beg..]);
    }
    out
}

/// Byte ranges of the maximal runs of `[\t\v\f\r ]`, in order.
fn whitespace_runs(s: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let rest = s.get(pos..)?;
        let start = pos + rest.find(is_re_whitespace)?;
        let len = s[start..]
            .find(|c| !is_re_whitespace(c))
            .unwrap_or(s.len() - start);
        pos = start + len;
        Some((start, pos))
    })
}

/// Go's `strings.ToLower`: per-character simple lowercase mapping (no context rules).
pub(crate) fn to_lower(s: &str) -> String {
    s.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

/// Go's `strconv.Quote`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out.push('"');
    out
}

/// Go's `fmt.Sprintf("%q", []string{...})`: `["a" "b"]`.
pub(crate) fn quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '"' | '\\' => {
            out.push('\\');
            out.push(c);
        }
        _ if is_print(c) => out.push(c),
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0b}' => out.push_str("\\v"),
        _ if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
        _ if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        _ => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `strconv.IsPrint` (letters, marks, numbers, punctuation, symbols and ASCII space).
/// Approximation: without Unicode category tables, unassigned code points count as printable;
/// controls, non-ASCII spaces, format characters, private use and noncharacters do not.
fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x20 || (0x7f..=0x9f).contains(&u) || u == 0xad {
        return false;
    }
    if c != ' ' && is_space(c) {
        return false;
    }
    !(is_format(u) || is_private_or_nonchar(u))
}

/// Unicode general category Cf.
fn is_format(u: u32) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (0x0600, 0x0605),
        (0x061c, 0x061c),
        (0x06dd, 0x06dd),
        (0x070f, 0x070f),
        (0x0890, 0x0891),
        (0x08e2, 0x08e2),
        (0x180e, 0x180e),
        (0x200b, 0x200f),
        (0x202a, 0x202e),
        (0x2060, 0x2064),
        (0x2066, 0x206f),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
    ];
    RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&u))
}

fn is_private_or_nonchar(u: u32) -> bool {
    (0xe000..=0xf8ff).contains(&u)
        || u >= 0xf0000
        || (0xfdd0..=0xfdef).contains(&u)
        || (u & 0xfffe) == 0xfffe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_go_regexp_split() {
        assert_eq!(split_whitespace("", -1), vec![""]);
        assert_eq!(split_whitespace("a  b\tc", -1), vec!["a", "b", "c"]);
        assert_eq!(split_whitespace("a b ", -1), vec!["a", "b", ""]);
        assert_eq!(split_whitespace(" a", -1), vec!["", "a"]);
        assert_eq!(split_whitespace("a b c", 2), vec!["a", "b c"]);
        assert_eq!(split_whitespace("abc", 2), vec!["abc"]);
    }

    #[test]
    fn quote_matches_strconv_quote() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\t\n\u{1}\u{7f}"), r#""\t\n\x01\x7f""#);
        assert_eq!(quote("é\u{a0}\u{200b}"), r#""é\u00a0\u200b""#);
        assert_eq!(quote("\u{10ffff}"), r#""\U0010ffff""#);
        assert_eq!(quote_list(&["--a".into(), "b".into()]), r#"["--a" "b"]"#);
    }
}

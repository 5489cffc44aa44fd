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

/// `s == strings.ToLower(s)`, without building the lowered copy.
pub fn is_lower(s: &str) -> bool {
    s.chars().all(|c| maps_to_itself(c.to_lowercase(), c))
}

/// `s == strings.ToUpper(s)`, without building the uppercased copy.
pub fn is_upper(s: &str) -> bool {
    s.chars().all(|c| maps_to_itself(c.to_uppercase(), c))
}

fn maps_to_itself(mut mapped: impl Iterator<Item = char>, c: char) -> bool {
    mapped.next() == Some(c) && mapped.next().is_none()
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
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

/// Go's `strconv.Quote` (the table-based implementation in the shell lexer).
pub(crate) use super::shell::go_quote as quote;

/// Go's `fmt.Sprintf("%q", []string{...})`: `["a" "b"]`.
pub(crate) use super::shell::go_quote_list as quote_list;

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

    /// The casing checks agree with comparing against a cased copy, for every character below
    /// U+3000 (Latin, Greek with its final sigma, Cyrillic, dotted İ...) and a few words.
    #[test]
    fn casing_checks_agree_with_cased_copies() {
        let words = ["RUN", "run", "Run", "ΣΑΣ", "σας", "İ", "ß", "ǅ", ""];
        let chars = (0..0x3000).filter_map(char::from_u32).map(String::from);
        for s in chars.chain(words.iter().map(|w| w.to_string())) {
            assert_eq!(is_lower(&s), s == s.to_lowercase(), "is_lower({s:?})");
            assert_eq!(is_upper(&s), s == s.to_uppercase(), "is_upper({s:?})");
        }
    }
}

//! Go's `unicode.IsLetter`, `unicode.IsDigit`, `unicode.IsSpace` and `strconv.Quote`, which decide
//! what a variable name is and how errors quote words.

use super::unicode_tables::{DECIMAL_DIGIT, GRAPHIC, LETTER};

/// Whether `c` lies in one of the flat inclusive `[start, end, ...]` ranges.
fn in_table(table: &[u32], c: char) -> bool {
    let c = u32::from(c);
    // Ranges are sorted: find the first range whose end is >= c.
    let pairs = table.len() / 2;
    let (mut lo, mut hi) = (0, pairs);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match table.get(2 * mid + 1) {
            Some(&end) if end < c => lo = mid + 1,
            _ => hi = mid,
        }
    }
    matches!((table.get(2 * lo), table.get(2 * lo + 1)), (Some(&s), Some(&e)) if s <= c && c <= e)
}

/// Unicode category L (`unicode.IsLetter`).
pub(super) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_table(LETTER, c)
}

/// Unicode category Nd (`unicode.IsDigit`).
pub(super) fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    in_table(DECIMAL_DIGIT, c)
}

/// Unicode White_Space (`unicode.IsSpace`); Rust's definition is the same property.
pub(super) fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Letters, marks, numbers, punctuation, symbols and the ASCII space (`strconv.IsPrint`).
fn is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    in_table(GRAPHIC, c)
}

/// `c` as Go's `%q` / `strconv.Quote` writes it inside double quotes.
fn push_quoted_char(out: &mut String, c: char) {
    match c {
        '"' | '\\' => {
            out.push('\\');
            out.push(c);
        }
        _ if is_print(c) => out.push(c),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        _ if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        _ if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
        _ => out.push_str(&format!("\\U{:08x}", u32::from(c))),
    }
}

/// Go's `%q` of a string slice: `["a" "b"]`.
pub fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// `s` quoted as Go's `%q` verb quotes a string.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_quoted_char(&mut out, c);
    }
    out.push('"');
    out
}

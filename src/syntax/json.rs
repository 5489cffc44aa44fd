//! The exec-form test: does an argument parse, the way Go's `encoding/json` parses it into
//! `[]any`, as an array of strings? Hand-written (iterative, no recursion) so that what counts as
//! valid, the nesting limit (10000), out-of-range numbers and lone surrogates match Go exactly.

/// How the reference's `parseJSON` classifies an argument.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JsonArray {
    /// Does not start with `[`.
    NotArray,
    /// Not valid JSON (the reference then falls back to shell form).
    Invalid,
    /// Valid JSON array with a non-string element: an error in the reference.
    NotStrings,
    Strings(Vec<String>),
}

/// Go's `maxNestingDepth` in `encoding/json`.
const MAX_DEPTH: usize = 10_000;

pub(crate) fn parse_string_array(text: &str) -> JsonArray {
    let text = super::gostr::trim_left_space(text);
    if !text.starts_with('[') {
        return JsonArray::NotArray;
    }
    let mut p = Parser {
        b: text.as_bytes(),
        pos: 1,
        out_of_range: false,
    };
    let Some(items) = p.top_array() else {
        return JsonArray::Invalid;
    };
    p.skip_ws();
    if p.pos != p.b.len() || p.out_of_range {
        return JsonArray::Invalid;
    }
    items.map_or(JsonArray::NotStrings, JsonArray::Strings)
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    /// A number too large for float64: Go's decoder fails after validation succeeds.
    out_of_range: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// The top-level array, `[` already consumed. `None`: invalid; `Some(None)`: valid with a
    /// non-string element.
    fn top_array(&mut self) -> Option<Option<Vec<String>>> {
        let mut items = Some(Vec::new());
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Some(items);
        }
        loop {
            self.skip_ws();
            if self.peek() == Some(b'"') {
                let s = self.string()?;
                if let Some(items) = items.as_mut() {
                    items.push(s);
                }
            } else {
                self.value(1)?;
                items = None;
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    /// Validates any value, iteratively; `depth` containers are already open.
    fn value(&mut self, depth: usize) -> Option<()> {
        // Open containers: true for an object.
        let mut stack: Vec<bool> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek()? {
                c @ (b'[' | b'{') => {
                    self.pos += 1;
                    if depth + stack.len() + 1 > MAX_DEPTH {
                        return None;
                    }
                    let is_object = c == b'{';
                    stack.push(is_object);
                    self.skip_ws();
                    let close = if is_object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        stack.pop();
                    } else {
                        if is_object {
                            self.object_key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => self.number()?,
            }
            // A value is complete: close containers or move to the next element.
            loop {
                let Some(&is_object) = stack.last() else {
                    return Some(());
                };
                self.skip_ws();
                let close = if is_object { b'}' } else { b']' };
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if is_object {
                            self.skip_ws();
                            self.object_key()?;
                        }
                        break;
                    }
                    c if c == close => {
                        self.pos += 1;
                        stack.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// `"key" :` inside an object.
    fn object_key(&mut self) -> Option<()> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return None;
        }
        self.pos += 1;
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        let text = std::str::from_utf8(self.b.get(start..self.pos)?).ok()?;
        if text.parse::<f64>().map_or(true, |f| f.is_infinite()) {
            self.out_of_range = true;
        }
        Some(())
    }

    /// A string, `"` at `pos`; decoded as Go decodes it.
    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.b.get(self.pos..)?;
            let plain = rest
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            out.push_str(std::str::from_utf8(&rest[..plain]).ok()?);
            self.pos += plain;
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => self.escape(&mut out)?,
                _ => return None,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Option<()> {
        self.pos += 1;
        let c = self.peek()?;
        self.pos += 1;
        let decoded = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => return None,
        };
        out.push(decoded);
        Some(())
    }

    /// After `\u`: four hex digits, joined with a following `\uXXXX` when they form a surrogate
    /// pair; any other surrogate becomes U+FFFD (and the following escape is left alone).
    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4(self.pos)?;
        self.pos += 4;
        if !(0xd800..0xe000).contains(&hi) {
            return char::from_u32(hi);
        }
        let lo = match self.b.get(self.pos..self.pos + 2) {
            Some(b"\\u") => self.hex4(self.pos + 2),
            _ => None,
        };
        match lo {
            Some(lo) if (0xd800..0xdc00).contains(&hi) && (0xdc00..0xe000).contains(&lo) => {
                self.pos += 6;
                char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
            }
            _ => Some('\u{fffd}'),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.b.get(at..at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> JsonArray {
        JsonArray::Strings(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn classifies_like_go() {
        assert_eq!(parse_string_array("echo"), JsonArray::NotArray);
        assert_eq!(parse_string_array(r#" ["a", "b"] "#), strings(&["a", "b"]));
        assert_eq!(parse_string_array("[]"), strings(&[]));
        assert_eq!(parse_string_array("['a']"), JsonArray::Invalid);
        assert_eq!(parse_string_array(r#"["a""#), JsonArray::Invalid);
        assert_eq!(parse_string_array(r#"["a"] x"#), JsonArray::Invalid);
        assert_eq!(parse_string_array(r#"["a", ["b"]]"#), JsonArray::NotStrings);
        assert_eq!(
            parse_string_array(r#"[1, {"k": [null, true]}]"#),
            JsonArray::NotStrings
        );
        assert_eq!(parse_string_array(r#"[1e400]"#), JsonArray::Invalid);
        assert_eq!(parse_string_array(r#"[01]"#), JsonArray::Invalid);
        assert_eq!(parse_string_array(r#"[{"a" 1}]"#), JsonArray::Invalid);
        assert_eq!(parse_string_array(r#"["a",]"#), JsonArray::Invalid);
    }

    #[test]
    fn decodes_escapes_like_go() {
        assert_eq!(
            parse_string_array(r#"["\u00e9\n\/", "\ud83d\ude00", "\ud800x", "\udc00\u0041"]"#),
            strings(&["é\n/", "😀", "\u{fffd}x", "\u{fffd}A"])
        );
        assert_eq!(parse_string_array("[\"a\tb\"]"), JsonArray::Invalid);
    }

    #[test]
    fn nesting_limit() {
        let ok = format!(
            "[{}{}]",
            "[".repeat(MAX_DEPTH - 2),
            "]".repeat(MAX_DEPTH - 2)
        );
        assert_eq!(parse_string_array(&ok), JsonArray::NotStrings);
        let deep = format!("[{}{}]", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(parse_string_array(&deep), JsonArray::Invalid);
    }
}

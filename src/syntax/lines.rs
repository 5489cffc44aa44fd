//! Physical lines: the reference's `bufio.Scanner` with line endings kept, and the per-line
//! trimming rules (comments, CRLF, continuation characters).

use super::gostr::trim_left_space;

/// `bufio.MaxScanTokenSize`: a line of this many bytes or more (newline excluded) stops the scan.
pub(crate) const MAX_LINE_LEN: usize = 64 * 1024;

/// Yields lines with their `\n` kept. On a line too long for the reference's scanner it stops, as
/// the reference does, and remembers it so the parser can report it at the end.
pub(crate) struct LineScanner<'a> {
    rest: &'a str,
    too_long: bool,
}

impl<'a> LineScanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        LineScanner {
            rest: text,
            too_long: false,
        }
    }

    pub(crate) fn too_long(&self) -> bool {
        self.too_long
    }
}

impl<'a> Iterator for LineScanner<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.too_long || self.rest.is_empty() {
            return None;
        }
        let (content_len, line_len) = match self.rest.find('\n') {
            Some(i) => (i, i + 1),
            None => (self.rest.len(), self.rest.len()),
        };
        if content_len >= MAX_LINE_LEN {
            self.too_long = true;
            return None;
        }
        let (line, rest) = self.rest.split_at(line_len);
        self.rest = rest;
        Some(line)
    }
}

pub(crate) fn strip_bom(line: &str) -> &str {
    line.strip_prefix('\u{feff}').unwrap_or(line)
}

/// `trimNewline`: every trailing `\r` and `\n`.
pub(crate) fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

pub(crate) fn is_comment(line: &str) -> bool {
    trim_left_space(line).starts_with('#')
}

/// `isEmptyContinuationLine`: nothing but whitespace.
pub(crate) fn is_blank(line: &str) -> bool {
    trim_left_space(trim_newline(line)).is_empty()
}

/// The comment text the reference keeps for a comment line: its first *byte* dropped, then
/// trimmed. The reference slices bytes, so a line starting with multi-byte whitespace leaves
/// broken bytes, which we render as U+FFFD the way a Go string conversion would.
pub(crate) fn comment_text(line: &str) -> String {
    let mut chars = line.chars();
    let first_len = chars.next().map_or(0, char::len_utf8);
    let broken = "\u{fffd}".repeat(first_len.saturating_sub(1));
    let text = format!("{broken}{}", chars.as_str());
    super::gostr::trim_space(&text).to_string()
}

/// `trimContinuationCharacter`: the reference's regexp ``([^E])E[ \t]*$|^E[ \t]*$`` for escape
/// token `E`. Returns the line without the continuation token and whether the logical line ends.
/// An escape token preceded by another escape token is not a continuation.
pub(crate) fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    let Some(before) = body.strip_suffix(escape) else {
        return (line, true);
    };
    if before.ends_with(escape) {
        return (line, true);
    }
    (before, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_keeps_endings_and_stops_on_long_lines() {
        let lines: Vec<&str> = LineScanner::new("a\r\nb\n\nc").collect();
        assert_eq!(lines, vec!["a\r\n", "b\n", "\n", "c"]);
        let long = format!("a\n{}\nb", "x".repeat(MAX_LINE_LEN));
        let mut scanner = LineScanner::new(&long);
        assert_eq!(scanner.next(), Some("a\n"));
        assert_eq!(scanner.next(), None);
        assert!(scanner.too_long());
        let fits = format!("{}\n", "x".repeat(MAX_LINE_LEN - 1));
        assert_eq!(LineScanner::new(&fits).count(), 1);
    }

    #[test]
    fn continuation_rules() {
        assert_eq!(trim_continuation("RUN a \\", '\\'), ("RUN a ", false));
        assert_eq!(trim_continuation("RUN a \\  \t", '\\'), ("RUN a ", false));
        assert_eq!(trim_continuation("\\", '\\'), ("", false));
        assert_eq!(trim_continuation("RUN a \\\\", '\\'), ("RUN a \\\\", true));
        assert_eq!(trim_continuation("RUN a `", '`'), ("RUN a ", false));
        assert_eq!(trim_continuation("RUN a \\", '`'), ("RUN a \\", true));
        assert_eq!(trim_continuation("RUN a", '\\'), ("RUN a", true));
    }

    #[test]
    fn comment_text_drops_first_byte() {
        assert_eq!(comment_text("# hello \n"), "hello");
        assert_eq!(comment_text("  # x"), "# x");
    }
}

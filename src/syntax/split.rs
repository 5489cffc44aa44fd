//! Splitting a logical line into keyword, `--flags` and the argument text (`split_command.go`),
//! and the quote-aware word splitter the name/value parsers use (`parseWords`).

use std::borrow::Cow;

use super::gostr::{is_space, split_whitespace, trim_space};

/// The keyword as written, the leading `--flags`, and the trimmed rest of the line.
pub(crate) struct Command<'a> {
    pub(crate) keyword: &'a str,
    pub(crate) flags: Vec<String>,
    /// Borrowed from the line unless the flag scan had to repair split characters.
    pub(crate) args: Cow<'a, str>,
}

/// `splitCommand`.
pub(crate) fn split_command(line: &str, escape: char) -> Command<'_> {
    let parts = split_whitespace(trim_space(line), 2);
    let keyword = parts.first().copied().unwrap_or("");
    let (args, flags) = match parts.get(1) {
        Some(rest) => extract_builder_flags(rest, escape),
        None => (Cow::Borrowed(""), Vec::new()),
    };
    let args = match args {
        Cow::Borrowed(args) => Cow::Borrowed(trim_space(args)),
        Cow::Owned(args) => Cow::Owned(trim_space(&args).to_string()),
    };
    Command {
        keyword,
        flags,
        args,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Spaces,
    Word,
    Quote,
}

/// `extractBuilderFlags`: leading words starting with `--`, unquoted; a bare `--` ends them.
///
/// The reference walks *bytes* here and appends each byte as a character, so non-ASCII text in a
/// flag comes out Latin-1-decoded (`é` becomes `Ã©`) and bytes 0x85/0xA0 count as spaces. Kept for
/// fidelity; a remainder starting inside a character is rendered with U+FFFD.
fn extract_builder_flags(line: &str, escape: char) -> (Cow<'_, str>, Vec<String>) {
    let bytes = line.as_bytes();
    let rest_from = |pos: usize| String::from_utf8_lossy(bytes.get(pos..).unwrap_or(&[]));
    let is_escape = |b: u8| b as char == escape;
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = 0u8;
    let mut blank_ok = false;
    let mut pos = 0;
    while pos < bytes.len() {
        let mut b = bytes[pos];
        match phase {
            Phase::Spaces => {
                if is_space(b as char) {
                    pos += 1;
                    continue;
                }
                if b != b'-' || bytes.get(pos + 1) != Some(&b'-') {
                    return (rest_from(pos), words);
                }
                phase = Phase::Word;
                continue;
            }
            Phase::Word => {
                if is_space(b as char) {
                    phase = Phase::Spaces;
                    if word == "--" {
                        return (rest_from(pos), words);
                    }
                    if blank_ok || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    word.clear();
                    blank_ok = false;
                    pos += 1;
                    continue;
                }
                if b == b'\'' || b == b'"' {
                    quote = b;
                    blank_ok = true;
                    phase = Phase::Quote;
                    pos += 1;
                    continue;
                }
            }
            Phase::Quote => {
                if b == quote {
                    phase = Phase::Word;
                    pos += 1;
                    continue;
                }
            }
        }
        if is_escape(b) {
            if pos + 1 == bytes.len() {
                if phase == Phase::Quote {
                    phase = Phase::Word;
                }
                pos += 1;
                continue;
            }
            pos += 1;
            b = bytes[pos];
        }
        word.push(b as char);
        pos += 1;
    }
    if phase != Phase::Spaces && word != "--" && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    (Cow::Borrowed(""), words)
}

/// `parseWords`: whitespace-separated words, quotes and escapes kept in the words.
///
/// Every character is kept except an escape token ending the text, so each word is a slice of
/// `rest` and nothing is copied.
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<&str> {
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut quote = '\0';
    let mut blank_ok = false;
    // Byte range of the word being read.
    let (mut start, mut end) = (0, 0);
    let mut chars = rest.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        if phase == Phase::Spaces {
            if is_space(c) {
                continue;
            }
            phase = Phase::Word;
            (start, end) = (pos, pos);
        }
        let at_end = chars.peek().is_none();
        if phase == Phase::Word {
            if is_space(c) {
                phase = Phase::Spaces;
                if blank_ok || end > start {
                    words.push(&rest[start..end]);
                }
                blank_ok = false;
                continue;
            }
            if c == '\'' || c == '"' {
                quote = c;
                blank_ok = true;
                phase = Phase::Quote;
            } else if c == escape {
                if at_end {
                    continue;
                }
                // The escaped character is kept whatever it is.
                chars.next();
            }
            end = chars.peek().map_or(rest.len(), |&(i, _)| i);
            continue;
        }
        // Inside quotes; the escape token escapes nothing inside single quotes.
        if c == quote {
            phase = Phase::Word;
        }
        if c == escape && quote != '\'' {
            if at_end {
                phase = Phase::Word;
                continue;
            }
            chars.next();
        }
        end = chars.peek().map_or(rest.len(), |&(i, _)| i);
    }
    if phase != Phase::Spaces && (blank_ok || end > start) {
        words.push(&rest[start..end]);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_words_like_reference() {
        let cases: &[(&str, &[&str])] = &[
            ("foo", &["foo"]),
            ("foo bar", &["foo", "bar"]),
            ("foo\\ bar", &["foo\\ bar"]),
            ("foo bar 'abc xyz'", &["foo", "bar", "'abc xyz'"]),
            ("foo bar \"abc xyz\"", &["foo", "bar", "\"abc xyz\""]),
            ("föo bàr \"âbc xÿz\"", &["föo", "bàr", "\"âbc xÿz\""]),
            ("a=''", &["a=''"]),
            ("x\\", &["x"]),
        ];
        for (input, expect) in cases {
            assert_eq!(parse_words(input, '\\'), *expect, "{input}");
        }
    }

    #[test]
    fn flags() {
        let c = split_command("  COPY --from=a --chown=\"x y\" src dst  ", '\\');
        assert_eq!(c.keyword, "COPY");
        assert_eq!(c.flags, ["--from=a", "--chown=x y"]);
        assert_eq!(c.args, "src dst");
        let c = split_command("RUN -- --x", '\\');
        assert!(c.flags.is_empty());
        assert_eq!(c.args, "--x");
        let c = split_command("RUN --a=é x", '\\');
        assert_eq!(c.flags, ["--a=Ã©"]);
        let c = split_command("RUN --only", '\\');
        assert_eq!(
            (c.flags, c.args.into_owned()),
            (vec!["--only".to_string()], String::new())
        );
        let c = split_command("RUN", '\\');
        assert_eq!((c.keyword, c.args.as_ref()), ("RUN", ""));
    }
}

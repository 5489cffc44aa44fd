//! Splitting a logical line into keyword, `--flags` and the argument text (`split_command.go`),
//! and the quote-aware word splitter the name/value parsers use (`parseWords`).

use super::gostr::{is_space, split_whitespace, trim_space};

/// The keyword as written, the leading `--flags`, and the trimmed rest of the line.
pub(crate) struct Command<'a> {
    pub(crate) keyword: &'a str,
    pub(crate) flags: Vec<String>,
    pub(crate) args: String,
}

/// `splitCommand`.
pub(crate) fn split_command(line: &str, escape: char) -> Command<'_> {
    let parts = split_whitespace(trim_space(line), 2);
    let keyword = parts.first().copied().unwrap_or("");
    let (args, flags) = match parts.get(1) {
        Some(rest) => extract_builder_flags(rest, escape),
        None => (String::new(), Vec::new()),
    };
    Command {
        keyword,
        flags,
        args: trim_space(&args).to_string(),
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
fn extract_builder_flags(line: &str, escape: char) -> (String, Vec<String>) {
    let bytes = line.as_bytes();
    let rest_from =
        |pos: usize| String::from_utf8_lossy(bytes.get(pos..).unwrap_or(&[])).into_owned();
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
    (String::new(), words)
}

/// `parseWords`: whitespace-separated words, quotes and escapes kept in the words.
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut word = String::new();
    let mut pos = 0;
    while pos < chars.len() {
        let mut c = chars[pos];
        if phase == Phase::Spaces {
            if is_space(c) {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if phase == Phase::Word {
            if is_space(c) {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                pos += 1;
                continue;
            }
            if c == '\'' || c == '"' {
                quote = c;
                blank_ok = true;
                phase = Phase::Quote;
            } else if c == escape {
                if pos + 1 == chars.len() {
                    pos += 1;
                    continue;
                }
                word.push(c);
                pos += 1;
                c = chars[pos];
            }
            word.push(c);
            pos += 1;
            continue;
        }
        // Inside quotes; the escape token escapes nothing inside single quotes.
        if c == quote {
            phase = Phase::Word;
        }
        if c == escape && quote != '\'' {
            if pos + 1 == chars.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(c);
            c = chars[pos];
        }
        word.push(c);
        pos += 1;
    }
    if phase != Phase::Spaces && (blank_ok || !word.is_empty()) {
        words.push(word);
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
            (c.flags, c.args),
            (vec!["--only".to_string()], String::new())
        );
        let c = split_command("RUN", '\\');
        assert_eq!((c.keyword, c.args), ("RUN", String::new()));
    }
}

//! `# check=` comments above an instruction (dockerfile 1.20's `WithMergedConfigFromComments`):
//! the first comment of the block that reads as a `check` directive adds its `skip=` and
//! `experimental=` rules for that instruction's checks; `error=` there changes nothing.

use super::Config;

/// What the comment block above an instruction adds to the check directive: the first `check`
/// comment's rules, up to its first space. A first `check` comment that does not parse adds
/// nothing, and later ones are not read.
pub fn check_comment(comments: &[String]) -> Option<Config> {
    let value = comments.iter().find_map(|c| check_value(c))?;
    let value = value.split(' ').next().unwrap_or("");
    let parsed = Config::parse(value).ok()?;
    Some(Config {
        error: false,
        ..parsed
    })
}

/// The value of a comment that reads `name = value` (the reference's directive pattern
/// `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` after leading whitespace) when the name is `check`.
fn check_value(comment: &str) -> Option<&str> {
    let line = comment.trim_start();
    let name_len = line
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(line.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, rest) = line.split_at(name_len);
    let value = rest.trim_start_matches(is_re2_space).strip_prefix('=')?;
    let value = value
        .trim_start_matches(is_re2_space)
        .trim_end_matches(is_re2_space);
    // Other directive names (`syntax`, `escape`) and plain comments are passed over alike.
    (!value.is_empty() && name.eq_ignore_ascii_case("check")).then_some(value)
}

/// RE2's `\s`: `[\t\n\f\r ]`.
fn is_re2_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(lines: &[&str]) -> Option<Config> {
        check_comment(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_first_check_comment_counts() {
        let c = of(&["about this", "CHECK = skip=A,B more words", "check=skip=C"]);
        assert_eq!(
            c.map(|c| c.skip),
            Some(vec!["A".to_string(), "B".to_string()])
        );
        assert_eq!(of(&["check=bogus", "check=skip=C"]), None);
        assert_eq!(
            of(&["syntax=x", "check=experimental=all"]).map(|c| c.experimental_all),
            Some(true)
        );
        assert_eq!(of(&["check=error=true"]).map(|c| c.error), Some(false));
        assert_eq!(of(&["# check=skip=A"]), None);
        assert_eq!(of(&["check="]), None);
    }
}

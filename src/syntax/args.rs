//! Per-keyword argument parsers (`line_parsers.go`). Each turns the argument text into the flat
//! argument list of a `Node` (BuildKit's `Next` chain).

use super::error::SyntaxErrorKind;
use super::gostr::{is_space, split_whitespace};
use super::json::{parse_string_array, JsonArray};
use super::split::parse_words;

/// What a line parser produced.
#[derive(Default)]
pub(crate) struct Parsed {
    pub(crate) args: Vec<String>,
    pub(crate) json: bool,
    /// ONBUILD's wrapped instruction text, parsed by the caller (`parseSubCommand`).
    pub(crate) sub_command: Option<String>,
}

impl Parsed {
    fn list(args: Vec<String>) -> Self {
        Parsed {
            args,
            ..Parsed::default()
        }
    }
}

/// The dispatch table; `keyword` is lower-cased.
pub(crate) fn parse_args(
    keyword: &str,
    rest: &str,
    escape: char,
) -> Result<Parsed, SyntaxErrorKind> {
    match keyword {
        "add" | "copy" | "volume" => maybe_json_to_list(rest),
        "arg" => Ok(Parsed::list(owned(parse_words(rest, escape)))),
        "cmd" | "entrypoint" | "run" | "shell" => maybe_json(rest),
        "env" => name_val(rest, "ENV", escape),
        "label" => name_val(rest, "LABEL", escape),
        "expose" | "from" => Ok(whitespace_delimited(rest)),
        "healthcheck" => health_config(rest),
        "maintainer" | "stopsignal" | "user" | "workdir" => Ok(single_string(rest)),
        "onbuild" if rest.is_empty() => Ok(Parsed::default()),
        "onbuild" => Ok(Parsed {
            sub_command: Some(rest.to_string()),
            ..Parsed::default()
        }),
        // `parseIgnore`: an unknown keyword keeps one empty argument, as in the reference's dump.
        _ => Ok(Parsed::list(vec![String::new()])),
    }
}

fn owned(words: Vec<&str>) -> Vec<String> {
    words.into_iter().map(str::to_string).collect()
}

fn single_string(rest: &str) -> Parsed {
    if rest.is_empty() {
        return Parsed::default();
    }
    Parsed::list(vec![rest.to_string()])
}

/// `parseStringsWhitespaceDelimited`.
fn whitespace_delimited(rest: &str) -> Parsed {
    if rest.is_empty() {
        return Parsed::default();
    }
    Parsed::list(owned(split_whitespace(rest, -1)))
}

/// `parseJSON`, with `None` meaning "not JSON: fall back".
fn json(rest: &str) -> Result<Option<Parsed>, SyntaxErrorKind> {
    match parse_string_array(rest) {
        JsonArray::Strings(args) => Ok(Some(Parsed {
            args,
            json: true,
            sub_command: None,
        })),
        JsonArray::NotStrings => Err(SyntaxErrorKind::NotStringArray),
        JsonArray::NotArray | JsonArray::Invalid => Ok(None),
    }
}

/// `parseMaybeJSON`: exec form, or the whole text as one argument.
fn maybe_json(rest: &str) -> Result<Parsed, SyntaxErrorKind> {
    if rest.is_empty() {
        return Ok(Parsed::default());
    }
    Ok(json(rest)?.unwrap_or_else(|| Parsed::list(vec![rest.to_string()])))
}

/// `parseMaybeJSONToList`: exec form, or whitespace-separated words.
fn maybe_json_to_list(rest: &str) -> Result<Parsed, SyntaxErrorKind> {
    Ok(json(rest)?.unwrap_or_else(|| whitespace_delimited(rest)))
}

/// `parseNameVal` for ENV and LABEL: `k=v ...` gives `[k, v, "="]...`; the legacy `k v w` form
/// gives `[k, "v w", ""]`.
fn name_val(rest: &str, key: &'static str, escape: char) -> Result<Parsed, SyntaxErrorKind> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(Parsed::default());
    };
    if !first.contains('=') {
        let parts = split_whitespace(rest, 2);
        let [name, value] = parts.as_slice() else {
            return Err(SyntaxErrorKind::MissingArguments(key));
        };
        return Ok(Parsed::list(vec![
            name.to_string(),
            value.to_string(),
            String::new(),
        ]));
    }
    let mut args = Vec::with_capacity(words.len() * 3);
    for word in words {
        let Some((name, value)) = word.split_once('=') else {
            return Err(SyntaxErrorKind::MissingEquals(word.to_string()));
        };
        args.extend([name.to_string(), value.to_string(), "=".to_string()]);
    }
    Ok(Parsed::list(args))
}

/// `parseHealthConfig`: the type word (`CMD`, `NONE`) then a `parseMaybeJSON` command. The
/// reference finds the word boundary byte by byte (so bytes 0x85/0xA0 split); kept, with a split
/// inside a character rendered as U+FFFD.
fn health_config(rest: &str) -> Result<Parsed, SyntaxErrorKind> {
    let bytes = rest.as_bytes();
    let is_space_byte = |b: &u8| is_space(*b as char);
    let sep = bytes.iter().position(is_space_byte).unwrap_or(bytes.len());
    if sep == 0 {
        return Ok(Parsed::default());
    }
    let next = bytes[sep..]
        .iter()
        .position(|b| !is_space_byte(b))
        .map_or(bytes.len(), |i| sep + i);
    let kind = String::from_utf8_lossy(&bytes[..sep]).into_owned();
    let cmd_text = String::from_utf8_lossy(&bytes[next..]);
    let cmd = maybe_json(&cmd_text)?;
    let mut args = Vec::with_capacity(cmd.args.len() + 1);
    args.push(kind);
    args.extend(cmd.args);
    Ok(Parsed {
        args,
        json: cmd.json,
        sub_command: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(keyword: &str, rest: &str) -> Result<(Vec<String>, bool), String> {
        parse_args(keyword, rest, '\\')
            .map(|p| (p.args, p.json))
            .map_err(|e| e.to_string())
    }

    fn ok(items: &[&str], json: bool) -> Result<(Vec<String>, bool), String> {
        Ok((items.iter().map(|s| s.to_string()).collect(), json))
    }

    #[test]
    fn json_and_fallback() {
        assert_eq!(args("run", r#"["a", "b c"]"#), ok(&["a", "b c"], true));
        assert_eq!(args("run", "['a']"), ok(&["['a']"], false));
        assert_eq!(args("copy", "[\"a\" b"), ok(&["[\"a\"", "b"], false));
        assert_eq!(
            args("cmd", r#"["a", 1]"#),
            Err("when using JSON array syntax, arrays must be comprised of strings only".into())
        );
        assert_eq!(args("run", ""), ok(&[], false));
    }

    #[test]
    fn name_values() {
        assert_eq!(
            args("env", "a=b c=\"d e\""),
            ok(&["a", "b", "=", "c", "\"d e\"", "="], false)
        );
        assert_eq!(args("env", "a b  c"), ok(&["a", "b  c", ""], false));
        assert_eq!(
            args("label", "a"),
            Err("LABEL must have two arguments".into())
        );
        assert_eq!(
            args("env", "a=b c"),
            Err("Syntax error - can't find = in \"c\". Must be of the form: name=value".into())
        );
        assert_eq!(args("arg", "a b=\"c d\""), ok(&["a", "b=\"c d\""], false));
    }

    #[test]
    fn others() {
        assert_eq!(args("healthcheck", "CMD [\"a\"]"), ok(&["CMD", "a"], true));
        assert_eq!(args("healthcheck", "NONE"), ok(&["NONE"], false));
        assert_eq!(args("from", "a  AS b"), ok(&["a", "AS", "b"], false));
        assert_eq!(args("user", "a b"), ok(&["a b"], false));
        assert_eq!(args("frobnicate", "x"), ok(&[""], false));
    }
}

//! FROM (a stage's start) and ONBUILD (a trigger stored as text).

use super::bflags::BFlags;
use super::goconv::go_quote;
use super::simple::comment_for;
use super::{err_at_least_one, Req};
use crate::syntax::SourceRange;

#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct FromInstruction {
    #[serde(skip)]
    pub range: SourceRange,
    pub code: String,
    /// The keyword as written (the casing lints compare it with `as_word`).
    pub command: String,
    /// The image or stage reference, unexpanded.
    pub base_name: String,
    /// The stage name, lower-cased; empty when there is no `AS`.
    pub name: String,
    /// The stage name and the `AS` word as written, for the casing lints.
    pub name_as_written: Option<String>,
    pub as_word: Option<String>,
    /// `--platform`, unexpanded; empty when not given.
    pub platform: String,
    /// The description comment (`# name text` above the line).
    pub comment: String,
}

/// A valid stage name: `^[a-z][a-z0-9-_.]*$`.
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

fn stage_name(args: &[String]) -> Result<String, String> {
    match args {
        [_, as_word, name] if as_word.eq_ignore_ascii_case("as") => {
            let lower = name.to_lowercase();
            if !valid_stage_name(&lower) {
                return Err(format!(
                    "invalid name for build stage: {}, name can't start with a number or contain symbols",
                    go_quote(name)
                ));
            }
            Ok(lower)
        }
        [_] => Ok(String::new()),
        _ => Err("FROM requires either one or three arguments".to_string()),
    }
}

pub(super) fn parse_from(req: &mut Req) -> Result<FromInstruction, String> {
    let name = stage_name(&req.args)?;
    let mut flags = BFlags::new();
    flags.string_flag("platform", "");
    req.parse_flags(&mut flags)?;
    let mut args = std::mem::take(&mut req.args).into_iter();
    let base_name = args.next().unwrap_or_default();
    let (as_word, name_as_written) = (args.next(), args.next());
    Ok(FromInstruction {
        range: req.node.range,
        code: req.take_code(),
        command: std::mem::take(&mut req.command),
        base_name,
        comment: comment_for(&req.node.comments, &name),
        name,
        name_as_written,
        as_word,
        platform: flags.value("platform"),
    })
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct OnbuildInstruction {
    #[serde(skip)]
    pub range: SourceRange,
    pub code: String,
    /// The trigger as stored in the image config: the text after `ONBUILD`, heredocs appended.
    /// The reference does not parse it until the image is used as a base.
    pub expression: String,
}

/// The text with a leading `ONBUILD` (any case) and the blanks around it removed, as the
/// reference's `(?i)^\s*ONBUILD\s*` does.
fn strip_onbuild(original: &str) -> &str {
    let is_space = |c: char| matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ');
    let rest = original.trim_start_matches(is_space);
    match rest.get(..7) {
        Some(word) if word.eq_ignore_ascii_case("onbuild") => {
            rest[7..].trim_start_matches(is_space)
        }
        _ => original,
    }
}

pub(super) fn parse_onbuild(req: &mut Req) -> Result<OnbuildInstruction, String> {
    let Some(trigger) = req.args.first() else {
        return Err(err_at_least_one("ONBUILD"));
    };
    req.no_flags()?;
    let trigger = trigger.trim().to_uppercase();
    match trigger.as_str() {
        "ONBUILD" => return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".to_string()),
        "MAINTAINER" | "FROM" => {
            return Err(format!("{trigger} isn't allowed as an ONBUILD trigger"))
        }
        _ => {}
    }
    let mut expression = strip_onbuild(&req.node.original).to_string();
    // The reference keeps them on the ONBUILD node; accept them on the wrapped node as well.
    let heredocs = match &req.node.nested {
        Some(inner) if req.node.heredocs.is_empty() => &inner.heredocs,
        _ => &req.node.heredocs,
    };
    for h in heredocs {
        expression.push('\n');
        expression.push_str(&h.content);
        expression.push_str(&h.name);
    }
    Ok(OnbuildInstruction {
        range: req.node.range,
        code: req.take_code(),
        expression,
    })
}

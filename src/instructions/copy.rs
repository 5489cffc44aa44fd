//! COPY and ADD: flags, sources and destination, heredoc sources.

use super::bflags::BFlags;
use super::Req;
use crate::syntax::SourceRange;

/// A heredoc used as a source file (`COPY <<EOF /dest`).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct SourceContent {
    /// The heredoc name, used as the file name.
    pub path: String,
    pub data: String,
    /// False when the delimiter was quoted: the data is not expanded.
    pub expand: bool,
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct SourcesAndDest {
    pub dest_path: String,
    pub source_paths: Vec<String>,
    pub source_contents: Vec<SourceContent>,
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct CopyInstruction {
    #[serde(skip)]
    pub range: SourceRange,
    pub code: String,
    pub sources: SourcesAndDest,
    /// `--from` (stage, image or context name), unexpanded; empty when absent.
    pub from: String,
    pub chown: String,
    pub chmod: String,
    pub link: bool,
    pub exclude_patterns: Vec<String>,
    /// `--parents`: keep the sources' directories (from a `/./` pivot, or the root) at the
    /// destination.
    pub parents: bool,
}

#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct AddInstruction {
    #[serde(skip)]
    pub range: SourceRange,
    pub code: String,
    pub sources: SourcesAndDest,
    pub chown: String,
    pub chmod: String,
    pub link: bool,
    pub exclude_patterns: Vec<String>,
    /// Set only when `--keep-git-dir` was given.
    pub keep_git_dir: Option<bool>,
    pub checksum: String,
    /// Set only when `--unpack` was given.
    pub unpack: Option<bool>,
}

fn err_no_destination(command: &str) -> String {
    format!(
        "{command} requires at least two arguments, but only one was provided. Destination could not be determined"
    )
}

/// A heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`) as the reference's `ParseHeredoc` reads it:
/// the delimiter with quotes removed, and whether the body is expanded (no quotes present).
pub(super) fn heredoc_word(word: &str) -> Option<(String, bool)> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let rest = rest.trim_start_matches([' ', '\t', '\n', '\r', '\u{b}', '\u{c}']);
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let (name, quoted) = unquote_single_word(rest)?;
    Some((name, !quoted))
}

/// Removes shell quoting from one word; None when it is not exactly one word.
fn unquote_single_word(s: &str) -> Option<(String, bool)> {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    out.push(q);
                }
            }
            '"' => {
                quoted = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => out.push(e),
                            Some(e) => {
                                out.push('\\');
                                out.push(e);
                            }
                            None => out.push('\\'),
                        },
                        q => out.push(q),
                    }
                }
            }
            '\\' => {
                if let Some(e) = chars.next() {
                    out.push(e);
                }
            }
            c if c.is_whitespace() => {
                if chars.as_str().trim().is_empty() {
                    break;
                }
                return None;
            }
            c => {
                out.push(c);
            }
        }
    }
    (quoted || !out.is_empty()).then_some((out, quoted))
}

fn sources_and_dest(req: &mut Req, command: &str) -> Result<SourcesAndDest, String> {
    let mut srcs = std::mem::take(&mut req.args);
    let Some(dest) = srcs.pop() else {
        return Err(err_no_destination(command));
    };
    if heredoc_word(&dest).is_some() {
        return Err(format!(
            "{command} cannot accept a heredoc as a destination"
        ));
    }
    let mut out = SourcesAndDest {
        dest_path: dest,
        source_paths: Vec::with_capacity(srcs.len()),
        ..Default::default()
    };
    for src in srcs {
        match heredoc_word(&src) {
            Some((name, expand)) => {
                // The parser already removed `<<-` tabs from the body.
                let data = req
                    .node
                    .heredocs
                    .iter()
                    .find(|h| h.name == name)
                    .map(|h| h.content.clone())
                    .unwrap_or_default();
                out.source_contents.push(SourceContent {
                    path: name,
                    data,
                    expand,
                });
            }
            None => out.source_paths.push(src),
        }
    }
    Ok(out)
}

/// ADD takes no `--parents` (only COPY does, in 1.26 too): an unknown flag.
pub(super) fn parse_add(req: &mut Req) -> Result<AddInstruction, String> {
    if req.args.len() < 2 {
        return Err(err_no_destination("ADD"));
    }
    let mut flags = BFlags::new();
    flags
        .string_flag("chown", "")
        .string_flag("chmod", "")
        .bool_flag("link", false)
        .bool_flag("keep-git-dir", false)
        .string_flag("checksum", "")
        .bool_flag("unpack", false)
        .strings_flag("exclude");
    req.parse_flags(&mut flags)?;
    let sources = sources_and_dest(req, "ADD")?;
    let optional = |name: &str| flags.is_used(name).then(|| flags.is_true(name));
    Ok(AddInstruction {
        range: req.node.range,
        code: req.take_code(),
        sources,
        chown: flags.value("chown"),
        chmod: flags.value("chmod"),
        link: flags.is_true("link"),
        exclude_patterns: flags.values("exclude"),
        keep_git_dir: optional("keep-git-dir"),
        checksum: flags.value("checksum"),
        unpack: optional("unpack"),
    })
}

pub(super) fn parse_copy(req: &mut Req) -> Result<CopyInstruction, String> {
    if req.args.len() < 2 {
        return Err(err_no_destination("COPY"));
    }
    let mut flags = BFlags::new();
    flags
        .string_flag("chown", "")
        .string_flag("from", "")
        .string_flag("chmod", "")
        .bool_flag("link", false)
        .strings_flag("exclude")
        .bool_flag("parents", false);
    req.parse_flags(&mut flags)?;
    let sources = sources_and_dest(req, "COPY")?;
    Ok(CopyInstruction {
        range: req.node.range,
        code: req.take_code(),
        sources,
        from: flags.value("from"),
        chown: flags.value("chown"),
        chmod: flags.value("chmod"),
        link: flags.is_true("link"),
        exclude_patterns: flags.values("exclude"),
        parents: flags.is_true("parents"),
    })
}

//! The line loop of BuildKit's `parser.Parse`: directives, comments, continuation lines, one
//! `Node` per logical line, heredoc bodies.
//!
//! Runs in linear time: each physical line is visited once, logical lines and heredoc bodies are
//! appended to growable buffers (amortised O(1) per byte, never rebuilt per line), and the
//! per-line work (splitting, JSON, heredoc lexing) is linear in the line.

use super::args::parse_args;
use super::directives::{DirectiveState, Directives};
use super::error::{SyntaxError, SyntaxErrorKind};
use super::gostr::to_lower;
use super::heredoc::{
    can_contain_heredoc, chomp_heredoc_content, heredocs_from_line, is_terminator,
};
use super::lines::{
    comment_text, is_blank, is_comment, strip_bom, trim_continuation, trim_newline, LineScanner,
};
use super::node::{Node, SourceRange};
use super::split::split_command;

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub directives: Directives,
    pub nodes: Vec<Node>,
    pub warnings: Vec<Warning>,
    /// The escape character in effect (`\` unless an `escape` directive chose `` ` ``).
    pub escape: char,
}

/// A problem the reference reports without failing (empty continuation lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub message: String,
    pub range: SourceRange,
    pub detail: String,
    pub url: String,
}

/// Parses a Dockerfile the way BuildKit's parser does. Unknown keywords are accepted here (the
/// reference rejects them when building instructions, not while parsing).
pub fn parse(text: &str) -> Result<Dockerfile, SyntaxError> {
    Parser {
        lines: LineScanner::new(text),
        directives: DirectiveState::new(),
        current_line: 0,
        warnings: Vec::new(),
    }
    .run()
}

struct Parser<'a> {
    lines: LineScanner<'a>,
    directives: DirectiveState,
    /// Lines consumed so far (the 1-based number of the last one read).
    current_line: usize,
    warnings: Vec<Warning>,
}

impl Parser<'_> {
    fn run(mut self) -> Result<Dockerfile, SyntaxError> {
        let mut nodes = Vec::new();
        let mut comments: Vec<String> = Vec::new();
        let mut line = String::new();
        while let Some(mut raw) = self.lines.next() {
            if self.current_line == 0 {
                raw = strip_bom(raw);
            }
            if is_comment(raw) {
                let text = comment_text(raw);
                if text.is_empty() {
                    comments.clear();
                } else {
                    comments.push(text);
                }
            }
            let trimmed = super::gostr::trim_left_space(trim_newline(raw));
            // The reference locates directive errors at the 0-based line index.
            let is_directive = self
                .directives
                .feed(trimmed)
                .map_err(|kind| SyntaxError::at(kind, self.current_line, 0))?;
            if is_directive {
                comments.pop();
            }
            self.current_line += 1;
            let start = self.current_line;
            let content = if is_comment(trimmed) { "" } else { trimmed };
            let (content, ends) = trim_continuation(content, self.directives.escape);
            if ends && content.is_empty() {
                continue;
            }
            line.clear();
            line.push_str(content);
            let had_empty = self.continuation(&mut line, ends);
            if had_empty {
                self.warn_empty_continuation(&line);
            }
            let mut node = self
                .node_from_line(&line, std::mem::take(&mut comments))
                .map_err(|kind| SyntaxError::at(kind, start, self.current_line))?;
            if can_contain_heredoc(&node) && line.contains("<<") {
                self.read_heredocs(&mut node, &line)
                    .map_err(|kind| SyntaxError::at(kind, start, self.current_line))?;
            }
            let range = SourceRange {
                start_line: start,
                end_line: self.current_line,
            };
            set_range(&mut node, range);
            nodes.push(node);
        }
        if nodes.is_empty() {
            let kind = SyntaxErrorKind::NoInstructions;
            return Err(SyntaxError::at(kind, self.current_line, 0));
        }
        if self.lines.too_long() {
            return Err(SyntaxError::at(
                SyntaxErrorKind::LineTooLong,
                self.current_line,
                0,
            ));
        }
        Ok(Dockerfile {
            escape: self.directives.escape,
            directives: self.directives.found,
            nodes,
            warnings: self.warnings,
        })
    }

    /// Appends continuation lines to `line` until one does not end in the escape character.
    /// Comment lines are skipped; whitespace-only ones too, reported by the return value.
    fn continuation(&mut self, line: &mut String, mut ends: bool) -> bool {
        let mut had_empty = false;
        while !ends {
            let Some(raw) = self.lines.next() else { break };
            // Directive detection is over by now; feeding keeps the reference's line count.
            let _ = self.directives.feed(trim_newline(raw));
            self.current_line += 1;
            if is_comment(raw) {
                continue;
            }
            let content = trim_newline(raw);
            if is_blank(content) {
                had_empty = true;
                continue;
            }
            let (content, end) = trim_continuation(content, self.directives.escape);
            line.push_str(content);
            ends = end;
        }
        had_empty
    }

    fn warn_empty_continuation(&mut self, line: &str) {
        self.warnings.push(Warning {
            message: format!("Empty continuation line found in: {line}"),
            range: SourceRange {
                start_line: self.current_line,
                end_line: self.current_line,
            },
            detail: "Empty continuation lines will become errors in a future release".into(),
            url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/".into(),
        });
    }

    /// `newNodeFromLine`.
    fn node_from_line(&self, line: &str, comments: Vec<String>) -> Result<Node, SyntaxErrorKind> {
        node_from_line(line, self.directives.escape, comments)
    }

    /// Reads the body of each heredoc named on `line`, in order.
    fn read_heredocs(&mut self, node: &mut Node, line: &str) -> Result<(), SyntaxErrorKind> {
        for mut doc in heredocs_from_line(line)? {
            let mut terminated = false;
            for raw in self.lines.by_ref() {
                self.current_line += 1;
                if is_terminator(&doc, raw) {
                    terminated = true;
                    break;
                }
                doc.raw_content.push_str(raw);
            }
            if !terminated {
                return Err(SyntaxErrorKind::UnterminatedHeredoc);
            }
            doc.content = if doc.chomp {
                chomp_heredoc_content(&doc.raw_content)
            } else {
                doc.raw_content.clone()
            };
            node.heredocs.push(doc);
        }
        Ok(())
    }
}

/// The whole ONBUILD chain shares the instruction's lines.
fn set_range(node: &mut Node, range: SourceRange) {
    let mut current = Some(node);
    while let Some(node) = current {
        node.range = range;
        current = node.nested.as_deref_mut();
    }
}

/// How deep `ONBUILD ONBUILD ...` may nest before parsing stops. The reference parser has no
/// limit but its next stage rejects any chain with this same message; the cap keeps recursive
/// walks of `Node` (drop, clone, dump) within a small stack, and the per-level copies of the
/// line within 32x its size, on hostile input.
const MAX_ONBUILD_DEPTH: usize = 32;

/// One logical line to a node (`newNodeFromLine`); ONBUILD's wrapped instruction (which gets no
/// comments) is parsed in the same loop rather than recursively.
fn node_from_line(
    line: &str,
    escape: char,
    comments: Vec<String>,
) -> Result<Node, SyntaxErrorKind> {
    let mut chain: Vec<Node> = Vec::new();
    let mut text = line.to_string();
    let mut comments = comments;
    loop {
        if chain.len() > MAX_ONBUILD_DEPTH {
            return Err(SyntaxErrorKind::OnbuildChain);
        }
        let command = split_command(&text, escape);
        let keyword = to_lower(command.keyword);
        let parsed = parse_args(&keyword, &command.args, escape)?;
        chain.push(Node {
            raw_keyword: command.keyword.to_string(),
            keyword,
            flags: command.flags,
            args: parsed.args,
            nested: None,
            json: parsed.json,
            heredocs: Vec::new(),
            original: std::mem::take(&mut text),
            range: SourceRange::default(),
            comments: std::mem::take(&mut comments),
        });
        match parsed.sub_command {
            Some(rest) => text = rest,
            None => break,
        }
    }
    let mut node = chain.pop().unwrap_or_default();
    while let Some(mut outer) = chain.pop() {
        outer.nested = Some(Box::new(node));
        node = outer;
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_keep_written_text() {
        let df = parse("# about\nFROM x\n# run it\nOnBuild Run  a \\\n  b\n").expect("parses");
        let node = &df.nodes[1];
        assert_eq!(
            (node.keyword.as_str(), node.raw_keyword.as_str()),
            ("onbuild", "OnBuild")
        );
        assert_eq!(node.original, "OnBuild Run  a   b");
        assert_eq!(node.comments, ["run it"]);
        let nested = node.nested.as_deref().expect("nested");
        assert_eq!(nested.raw_keyword, "Run");
        assert_eq!(nested.original, "Run  a   b");
        assert!(nested.comments.is_empty());
        assert_eq!(df.nodes[0].comments, ["about"]);
    }
}

//! The syntax tree: one `Node` per instruction, as BuildKit's parser produces it, with no knowledge
//! of what instructions mean.

/// Lines are 1-based and inclusive, counted in the Dockerfile as given (directives included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct SourceRange {
    pub start_line: usize,
    pub end_line: usize,
}

impl SourceRange {
    /// Each line of the range (just the first when the end is not after it), the way BuildKit
    /// locates an instruction: one range a line.
    pub fn lines(&self) -> std::ops::RangeInclusive<usize> {
        self.start_line..=self.end_line.max(self.start_line)
    }
}

/// A here-document attached to an instruction (`<<EOF`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Heredoc {
    /// The delimiter word, without quotes or `-`.
    pub name: String,
    /// The body, including its trailing newline; tabs already stripped for `<<-`.
    pub content: String,
    /// False when the delimiter was quoted: the body is then taken literally.
    pub expand: bool,
    /// True for `<<-`.
    pub chomp: bool,
    /// The body exactly as written (no tab stripping), as BuildKit stores it; RUN with several
    /// heredocs hands this form to the shell.
    pub raw_content: String,
    /// The file descriptor written before `<<` (`2<<EOF`), 0 when absent.
    pub file_descriptor: u64,
}

/// One instruction line (with its continuations and heredoc bodies).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The instruction keyword, lower-cased (`from`, `run`, ...).
    pub keyword: String,
    /// `--name=value` flags in the order written, verbatim (`--from=builder`).
    pub flags: Vec<String>,
    /// The arguments as the keyword's splitter produced them (BuildKit's `Next` chain).
    pub args: Vec<String>,
    /// For ONBUILD: the instruction it wraps (BuildKit's `Next.Children[0]`).
    pub nested: Option<Box<Node>>,
    /// True when the arguments were written in JSON (exec) form.
    pub json: bool,
    pub heredocs: Vec<Heredoc>,
    /// The instruction's text as written, continuations joined.
    pub original: String,
    /// The keyword exactly as written (BuildKit's `Node.Value`, e.g. `Copy`); the reference quotes
    /// it this way in its error messages.
    pub raw_keyword: String,
    pub range: SourceRange,
    /// Comment lines directly above the instruction, without `#` (stage descriptions use them).
    pub comments: Vec<String>,
}

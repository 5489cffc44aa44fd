//! `.dockerignore` patterns matched against a COPY or ADD source, for CopyIgnoredFile (moby's
//! `patternmatcher`: `**` for any number of directories, `*` and `?` within one, `\` escaping).
//! Patterns with character classes (`[...]`) are compiled by the reference into Go regular
//! expressions whose class syntax this matcher does not model; they never match here.

use super::paths::clean;

/// The patterns of a `.dockerignore` without exclusions (`!`): with one, what a source matches
/// cannot be told statically, and the reference does not check.
pub struct IgnoreMatcher {
    patterns: Vec<Pattern>,
    /// A pattern is `*`, `**` or `**/*`: the context root itself counts as excluded.
    root_ignored: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `*`: any run of characters but `/`.
    Star,
    /// `?`: one character but `/`.
    One,
    /// `**/` inside a pattern: any number of leading directories, none included.
    AnyDirs,
    /// `**` ending a pattern that has other wildcards: anything.
    All,
}

#[derive(Debug)]
enum Pattern {
    Exact(String),
    /// `dir/**`: everything under `dir/`.
    Prefix(String),
    /// `**/name`: `name` anywhere.
    Suffix(String),
    Tokens(Vec<Token>),
    /// A character class: not modelled, never matches.
    Unsupported,
}

impl IgnoreMatcher {
    /// The matcher for `patterns`, `None` when there are none or any is an exclusion.
    pub fn new(patterns: &[String]) -> Option<IgnoreMatcher> {
        let patterns: Vec<String> = patterns
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(clean)
            .collect();
        if patterns.is_empty() || patterns.iter().any(|p| p.starts_with('!')) {
            return None;
        }
        let root_ignored = patterns
            .iter()
            .any(|p| matches!(p.as_str(), "*" | "**" | "**/*"));
        Some(IgnoreMatcher {
            patterns: patterns.iter().map(|p| compile(p)).collect(),
            root_ignored,
        })
    }

    /// Whether the (cleaned) source path is excluded: it or one of its parent directories
    /// matches a pattern. The context root (`.`, `/`) counts only when a pattern is `*`, `**`
    /// or `**/*`.
    pub fn ignores(&self, src: &str) -> bool {
        if (src == "." || src == "/") && !self.root_ignored {
            return false;
        }
        let parents = parent_prefixes(src);
        self.patterns
            .iter()
            .any(|p| p.matches(src) || parents.iter().any(|parent| p.matches(parent)))
    }
}

/// `dir`, `dir/sub`, ... for `dir/sub/file` (Go's `filepath.Dir` split at `/`, each prefix).
fn parent_prefixes(path: &str) -> Vec<String> {
    let parent = match path.rfind('/') {
        None => return Vec::new(),
        Some(0) => "/",
        Some(i) => &path[..i],
    };
    let dirs: Vec<&str> = parent.split('/').collect();
    (1..=dirs.len()).map(|n| dirs[..n].join("/")).collect()
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match self {
            Pattern::Exact(p) => path == p,
            Pattern::Prefix(p) => path.starts_with(p.as_str()),
            Pattern::Suffix(s) => {
                path.ends_with(s.as_str()) || s.strip_prefix('/').is_some_and(|s| path == s)
            }
            Pattern::Tokens(tokens) => {
                let chars: Vec<char> = path.chars().collect();
                match_tokens(tokens, &chars)
            }
            Pattern::Unsupported => false,
        }
    }
}

/// The reference's `Pattern.compile`: the kind of match and, for a wildcard pattern, its
/// tokens.
fn compile(pattern: &str) -> Pattern {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Tokens,
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut kind = Kind::Exact;
    let mut at = 0;
    let mut first = true;
    while let Some(&c) = chars.get(at) {
        at += 1;
        match c {
            '*' if chars.get(at) == Some(&'*') => {
                at += 1;
                if chars.get(at) == Some(&'/') {
                    at += 1;
                }
                if at == chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        tokens.push(Token::All);
                        kind = Kind::Tokens;
                    }
                } else {
                    tokens.push(Token::AnyDirs);
                    kind = Kind::Tokens;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                tokens.push(Token::Star);
                kind = Kind::Tokens;
            }
            '?' => {
                tokens.push(Token::One);
                kind = Kind::Tokens;
            }
            '\\' => match chars.get(at) {
                Some(&next) => {
                    at += 1;
                    tokens.push(Token::Char(next));
                    kind = Kind::Tokens;
                }
                None => tokens.push(Token::Char('\\')),
            },
            '[' | ']' => return Pattern::Unsupported,
            c => tokens.push(Token::Char(c)),
        }
        first = false;
    }
    match kind {
        Kind::Exact => Pattern::Exact(pattern.to_string()),
        Kind::Prefix => Pattern::Prefix(pattern[..pattern.len() - 2].to_string()),
        Kind::Suffix => Pattern::Suffix(pattern[2..].to_string()),
        Kind::Tokens => Pattern::Tokens(tokens),
    }
}

/// Whether the tokens match the whole path (backtracking over the wildcards).
fn match_tokens(tokens: &[Token], path: &[char]) -> bool {
    let Some((token, rest)) = tokens.split_first() else {
        return path.is_empty();
    };
    match token {
        Token::Char(c) => path.first() == Some(c) && match_tokens(rest, &path[1..]),
        Token::One => path.first().is_some_and(|&c| c != '/') && match_tokens(rest, &path[1..]),
        Token::Star => {
            let run = path.iter().take_while(|&&c| c != '/').count();
            (0..=run).any(|n| match_tokens(rest, &path[n..]))
        }
        Token::All => (0..=path.len()).any(|n| match_tokens(rest, &path[n..])),
        Token::AnyDirs => {
            // Nothing, or anything ending in `/`.
            match_tokens(rest, path)
                || (0..path.len())
                    .filter(|&i| path[i] == '/')
                    .any(|i| match_tokens(rest, &path[i + 1..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IgnoreMatcher;

    fn ignores(patterns: &[&str], src: &str) -> bool {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        IgnoreMatcher::new(&patterns).is_some_and(|m| m.ignores(src))
    }

    #[test]
    fn patterns_match_as_the_reference_does() {
        assert!(ignores(&["Dockerfile"], "Dockerfile"));
        assert!(ignores(&["dir"], "dir/sub/file"));
        assert!(ignores(&["dir/**"], "dir/file"));
        assert!(ignores(&["**/*.go"], "a/b/c.go"));
        assert!(ignores(&["**/*.go"], "c.go"));
        assert!(ignores(&["**/name"], "a/name"));
        assert!(ignores(&["*.txt"], "a.txt"));
        assert!(!ignores(&["*.txt"], "dir/a.txt"));
        assert!(ignores(&["a?c"], "abc"));
        assert!(!ignores(&["a?c"], "a/c"));
        assert!(ignores(&["a/**/z"], "a/z"));
        assert!(ignores(&["a/**/z"], "a/b/c/z"));
        assert!(!ignores(&["Dockerfile"], "other"));
        assert!(!ignores(&["[Dd]ockerfile"], "Dockerfile"));
    }

    #[test]
    fn exclusions_and_the_root() {
        assert!(IgnoreMatcher::new(&["a".into(), "!b".into()]).is_none());
        assert!(IgnoreMatcher::new(&[]).is_none());
        assert!(!ignores(&["a"], "."));
        assert!(ignores(&["*"], "."));
        assert!(ignores(&["**/*"], "/"));
    }
}

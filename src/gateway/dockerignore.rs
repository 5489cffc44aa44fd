//! `.dockerignore` files into exclude patterns (moby's `ignorefile.ReadAll`).

use crate::convert::paths::clean;

/// The patterns, or the reference's error for one that can never match (`patternmatcher.New`).
pub fn parse_checked(text: &str) -> Result<Vec<String>, String> {
    let patterns = parse(text);
    match patterns.iter().find(|p| p.as_str() == "!") {
        Some(p) => Err(format!("illegal exclusion pattern: {p:?}")),
        None => Ok(patterns),
    }
}

pub fn parse(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = if pattern.is_empty() {
            String::new()
        } else {
            clean(pattern)
        };
        if cleaned.len() > 1 && cleaned.starts_with('/') {
            cleaned.remove(0);
        }
        out.push(if invert {
            format!("!{cleaned}")
        } else {
            cleaned
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn patterns_are_cleaned_and_relative() {
        let text = "\u{feff}# comment\n\n /abs/x \n!keep/./me\nsub/../y\n";
        assert_eq!(super::parse(text), ["abs/x", "!keep/me", "y"]);
    }
}

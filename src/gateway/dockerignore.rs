//! `.dockerignore` files: read from a client directory, and into exclude patterns (moby's
//! `ignorefile.ReadAll`).

use super::bridge::Bridge;
use super::frontend::FrontendError;
use crate::convert::contexts::DOCKERIGNORE;
use crate::convert::paths::clean;
use crate::llb::{self, Constraints, MarshalOptions};

/// The `.dockerignore` of the client directory `local` (empty when there is none), through a
/// local source that transfers only it, named `progress_name` in the build's progress.
pub async fn read(
    bridge: &Bridge,
    local: &str,
    session_id: &str,
    shared_key_hint: String,
    progress_name: String,
) -> Result<Vec<u8>, FrontendError> {
    let state = llb::local_with(
        local,
        llb::LocalOptions {
            session_id: Some(session_id.to_string()),
            follow_paths: vec![DOCKERIGNORE.into()],
            shared_key_hint: Some(shared_key_hint),
            differ: Some((llb::DiffType::None, false)),
            constraints: Constraints::new().custom_name(progress_name),
            ..Default::default()
        },
    );
    let definition = llb::marshal(&state, &MarshalOptions::default())?;
    let solved = bridge.solve(definition).await?;
    Ok(bridge
        .read_file(&solved, DOCKERIGNORE, None)
        .await
        .unwrap_or_default())
}

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

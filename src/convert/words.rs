//! Word expansion while converting. Most words name no variable and hold no quote or escape;
//! those expand to themselves, so they skip the lexer (and its allocations) entirely.

use std::borrow::Cow;
use std::cell::RefCell;

use super::stage::{Converter, StageState};
use crate::instructions::Instruction;
use crate::llb::EnvList;
use crate::syntax::shell::Lexer;

/// True when `word` expands to itself under any lexer options and environment: no `$`, quote,
/// escape character or `<` (heredoc marker), and no leading byte order mark.
pub fn is_plain(word: &str, escape: char) -> bool {
    if word.starts_with('\u{FEFF}') {
        return false;
    }
    let special = |c: char| matches!(c, '$' | '\'' | '"' | '<') || c == escape;
    match u8::try_from(escape) {
        Ok(e) if e.is_ascii() => !word
            .bytes()
            .any(|b| matches!(b, b'$' | b'\'' | b'"' | b'<') || b == e),
        _ => !word.contains(special),
    }
}

/// `lexer.process_word(word, env)`'s value, without the lexer when the word is plain.
pub fn expand_word(lexer: &Lexer, word: &str, env: &EnvList) -> Result<String, String> {
    if is_plain(word, lexer.escape()) {
        return Ok(word.to_string());
    }
    lexer
        .process_word(word, env)
        .map(|e| e.value)
        .map_err(|e| e.to_string())
}

/// [`expand_word`], noting the unset variables the word read in `unmatched`.
fn expand_tracked(
    lexer: &Lexer,
    word: &str,
    env: &EnvList,
    unmatched: &RefCell<Vec<String>>,
) -> Result<String, String> {
    if is_plain(word, lexer.escape()) {
        return Ok(word.to_string());
    }
    let e = lexer.process_word(word, env).map_err(|e| e.to_string())?;
    unmatched.borrow_mut().extend(e.unmatched);
    Ok(e.value)
}

/// True for the instructions whose words `Instruction::expand_words`/`expand_raw` leave alone;
/// those are dispatched as written, without a copy (a test below keeps this in step).
fn never_expanded(instruction: &Instruction) -> bool {
    matches!(
        instruction,
        Instruction::Arg(_)
            | Instruction::Run(_)
            | Instruction::Cmd(_)
            | Instruction::Entrypoint(_)
            | Instruction::Healthcheck(_)
            | Instruction::Shell(_)
            | Instruction::Onbuild(_)
            | Instruction::Maintainer(_)
            | Instruction::Expose(_)
            | Instruction::From(_)
    )
}

/// True when the instruction's text is plain: every word parsed from it is then plain too
/// (parsing only removes characters; JSON escapes need quotes, heredoc bodies need `<<`).
fn plain_text(instruction: &Instruction) -> bool {
    let code = instruction.code();
    is_plain(code, '\\') && is_plain(code, '`')
}

impl Converter<'_> {
    /// Expands a word with the stage's variables (ENV and ARG values so far).
    pub fn expand(&self, st: &StageState, word: &str) -> Result<String, String> {
        expand_word(&self.lexer, word, st.state.env())
    }

    /// The instruction with the words the reference expands before dispatch expanded with the
    /// stage's variables (ARG expands its own values as it declares them).
    /// Also returns the unset variables the expanded words read (lint's UndefinedVar).
    pub(super) fn expanded<'i>(
        &self,
        instruction: &'i Instruction,
        st: &StageState,
    ) -> Result<(Cow<'i, Instruction>, Vec<String>), String> {
        if never_expanded(instruction) || plain_text(instruction) {
            return Ok((Cow::Borrowed(instruction), Vec::new()));
        }
        let mut out = instruction.clone();
        let env = st.state.env();
        let unmatched = RefCell::new(Vec::new());
        out.expand_words(&|w: &str| expand_tracked(&self.lexer, w, env, &unmatched))?;
        // Heredoc bodies keep their quotes and use `\` whatever the escape directive says.
        let raw = Lexer::new('\\').skip_process_quotes(true);
        out.expand_raw(&|w: &str| expand_tracked(&raw, w, env, &unmatched))?;
        Ok((Cow::Owned(out), unmatched.into_inner()))
    }

    /// An instruction's text with variables expanded where possible, for progress names.
    /// RUN keeps quotes and unset variables as written (`raw`); other instructions do not.
    pub(super) fn expand_for_name<'w>(
        &self,
        st: &StageState,
        code: &'w str,
        raw: bool,
    ) -> Cow<'w, str> {
        self.expand_name_with(st.state.env(), code, raw)
    }

    /// [`Self::expand_for_name`] with an explicit environment.
    pub(super) fn expand_name_with<'w>(
        &self,
        env: &EnvList,
        code: &'w str,
        raw: bool,
    ) -> Cow<'w, str> {
        if is_plain(code, self.lexer.escape()) {
            return Cow::Borrowed(code);
        }
        let lexer = self.lexer.clone().raw_quotes(raw).skip_unset_env(raw);
        match lexer.process_word(code, env) {
            Ok(e) => Cow::Owned(e.value),
            Err(_) => Cow::Borrowed(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instructions::parse_instruction;

    #[test]
    fn plain_words_expand_to_themselves() {
        let env = EnvList::default();
        for escape in ['\\', '`'] {
            let lexer = Lexer::new(escape);
            for word in ["", "a b", "/usr/bin", "x=1", "é ü", "{a}", "a\tb\n"] {
                assert!(is_plain(word, escape), "{word:?}");
                let got = lexer.process_word(word, &env).map(|e| e.value);
                assert_eq!(got.as_deref(), Ok(word), "{word:?}");
            }
            for word in ["$A", "'a'", "\"a\"", "<<EOF", "\u{FEFF}a"] {
                assert!(!is_plain(word, escape), "{word:?}");
            }
            assert!(!is_plain(&format!("a{escape}b"), escape));
        }
    }

    #[test]
    fn instructions_with_plain_text_expand_to_themselves() {
        let dockerfile =
            "FROM a\nENV a=b c=d\nENV k v w\nLABEL x=y\nCOPY --chown=1:2 --chmod=644 a b /c/\n\
            ADD --checksum=sha256:00 x y\nWORKDIR w\nUSER u:g\nVOLUME /v /w\nSTOPSIGNAL 9\n";
        let parsed = crate::syntax::parse(dockerfile).expect("parses");
        let env = EnvList::default();
        for node in &parsed.nodes {
            let instruction = parse_instruction(node).expect("instruction");
            assert!(plain_text(&instruction), "{}", node.original);
            let mut expanded = instruction.clone();
            let lexer = Lexer::new('\\');
            let ex = |w: &str| {
                lexer
                    .process_word(w, &env)
                    .map(|e| e.value)
                    .map_err(|e| e.to_string())
            };
            expanded.expand_words(&ex).expect("expands");
            expanded.expand_raw(&ex).expect("expands");
            assert_eq!(expanded, instruction, "{}", node.original);
        }
        let copy = crate::syntax::parse("COPY <<EOT /x\nhi\nEOT\n").expect("parses");
        let copy = parse_instruction(&copy.nodes[0]).expect("instruction");
        assert!(!plain_text(&copy));
    }

    #[test]
    fn instructions_dispatched_as_written_have_no_expanded_words() {
        let dockerfile = "FROM a\nARG X=$Y\nRUN echo $X\nCMD echo $X\nENTRYPOINT [\"$X\"]\n\
            HEALTHCHECK CMD echo $X\nSHELL [\"$X\"]\nONBUILD RUN $X\nMAINTAINER $X\nEXPOSE $X\n";
        let parsed = crate::syntax::parse(dockerfile).expect("parses");
        for node in &parsed.nodes {
            let instruction = parse_instruction(node).expect("instruction");
            assert!(never_expanded(&instruction));
            let mut expanded = instruction.clone();
            let changed = |_: &str| Ok("changed".to_string());
            expanded.expand_words(&changed).expect("expands");
            expanded.expand_raw(&changed).expect("expands");
            assert_eq!(expanded, instruction, "{}", node.original);
        }
    }
}

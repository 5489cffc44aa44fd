//! Rules the reference checks while parsing (`instructions.Parse`, `validateStageNames`,
//! `validateCommandCasing`): they see every stage, reachable or not. Those of one instruction
//! (casing of FROM, MAINTAINER, descriptions) honour its `# check=` comment; the rest do not.

use std::collections::HashSet;

use super::rules;
use super::Linter;
use crate::instructions::{FromInstruction, Instruction};
use crate::stages::Stages;
use crate::syntax::{is_lower, is_upper, SourceRange, Warning as SyntaxWarning};

/// Stage names that name something else in `--from` and `FROM`.
const RESERVED_STAGE_NAMES: [&str; 2] = ["context", "scratch"];

/// Rules of one instruction, run as it is parsed (so an instruction that fails to parse
/// stops them where the reference's parse stops), with the comment lines above it.
pub fn instruction(instruction: &Instruction, comments: &[String], lint: &mut Linter) {
    match instruction {
        Instruction::From(from) => {
            from_casing(from, lint);
            if !from.name.is_empty() {
                let keys = [from.name.clone()];
                definition_description("FROM", &keys, from.range, comments, lint);
            }
        }
        Instruction::Maintainer(m) => lint.run_in(
            Some(m.range.start_line),
            &rules::MAINTAINER_DEPRECATED,
            vec![m.range],
            "Maintainer instruction is deprecated in favor of using label".into(),
        ),
        Instruction::Arg(arg) => {
            let keys: Vec<String> = arg.args.iter().map(|a| a.key.clone()).collect();
            definition_description("ARG", &keys, arg.range, comments, lint);
        }
        _ => {}
    }
}

/// Rules over all stages, once every instruction parsed: stage names and keyword casing.
pub fn check_stages(stages: &Stages, lint: &mut Linter) {
    stage_names(stages, lint);
    command_casing(stages, lint);
}

/// The keyword as written: the first word of the instruction's text.
pub fn written_keyword(code: &str) -> &str {
    code.split([' ', '\t', '\r', '\n', '\u{b}', '\u{c}'])
        .next()
        .unwrap_or("")
}

/// NoEmptyContinuation, from the parser's warnings (before any instruction's rules).
pub fn empty_continuations(warnings: &[SyntaxWarning], lint: &mut Linter) {
    for w in warnings
        .iter()
        .filter(|w| w.url == rules::NO_EMPTY_CONTINUATION.url)
    {
        lint.run(
            &rules::NO_EMPTY_CONTINUATION,
            vec![w.range],
            "Empty continuation line".into(),
        );
    }
}

/// InvalidDefinitionDescription: a comment right above a FROM with a name or an ARG is taken as
/// its description, so its last line must start with the name (any of an ARG's names).
fn definition_description(
    instruction: &str,
    keys: &[String],
    range: SourceRange,
    comments: &[String],
    lint: &mut Linter,
) {
    let Some(last) = comments.last() else {
        return;
    };
    let first_word = last.split(' ').next().unwrap_or("");
    if keys.is_empty() || keys.iter().any(|k| k == first_word) {
        return;
    }
    let example = match keys {
        [only] => only.as_str(),
        _ => "<arg_key>",
    };
    lint.run_in(
        Some(range.start_line),
        &rules::INVALID_DEFINITION_DESCRIPTION,
        vec![range],
        format!("Comment for {instruction} should follow the format: `# {example} <description>`"),
    );
}

/// StageNameCasing and FromAsCasing, for one FROM line.
fn from_casing(from: &FromInstruction, lint: &mut Linter) {
    let (Some(as_word), Some(name)) = (&from.as_word, &from.name_as_written) else {
        return;
    };
    let scope = Some(from.range.start_line);
    if !is_lower(name) {
        lint.run_in(
            scope,
            &rules::STAGE_NAME_CASING,
            vec![from.range],
            format!("Stage name '{name}' should be lowercase"),
        );
    }
    let command = &from.command;
    // A FROM of mixed case is ConsistentInstructionCasing's business.
    let as_mismatch = if is_lower(command) {
        !is_lower(as_word)
    } else if is_upper(command) {
        !is_upper(as_word)
    } else {
        false
    };
    if as_mismatch {
        lint.run_in(
            scope,
            &rules::FROM_AS_CASING,
            vec![from.range],
            format!("'{as_word}' and '{command}' keywords' casing do not match"),
        );
    }
}

/// ReservedStageName and DuplicateStageName, at the offending FROM.
fn stage_names(stages: &Stages, lint: &mut Linter) {
    let mut seen: HashSet<&str> = HashSet::new();
    for stage in &stages.stages {
        let Some(name) = stage.name() else { continue };
        if RESERVED_STAGE_NAMES.contains(&name) {
            lint.run(
                &rules::RESERVED_STAGE_NAME,
                vec![stage.from.range],
                format!("Stage name should not use the same name as reserved stage {name:?}"),
            );
        }
        if !seen.insert(name) {
            lint.run(
                &rules::DUPLICATE_STAGE_NAME,
                vec![stage.from.range],
                format!("Duplicate stage name {name:?}, stage names should be unique"),
            );
        }
    }
}

/// Every keyword of the stages (FROM lines and their instructions) with its location.
fn stage_keywords(stages: &Stages) -> Vec<(&str, SourceRange)> {
    let mut out = Vec::new();
    for stage in &stages.stages {
        out.push((stage.from.command.as_str(), stage.from.range));
        for i in &stage.instructions {
            out.push((written_keyword(i.code()), i.range()));
        }
    }
    out
}

/// ConsistentInstructionCasing: each keyword is upper or lower case, the majority's.
fn command_casing(stages: &Stages, lint: &mut Linter) {
    let keywords = stage_keywords(stages);
    let (mut lower, mut upper) = (0usize, 0usize);
    for (k, _) in &keywords {
        if is_lower(k) {
            lower += 1;
        } else if is_upper(k) {
            upper += 1;
        }
    }
    let majority_lower = lower > upper;
    for (k, range) in keywords {
        let casing = match majority_lower {
            true if !is_lower(k) => "lowercase",
            false if !is_upper(k) => "uppercase",
            _ => continue,
        };
        lint.run(
            &rules::CONSISTENT_INSTRUCTION_CASING,
            vec![range],
            format!("Command '{k}' should match the case of the command majority ({casing})"),
        );
    }
}

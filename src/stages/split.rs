//! Grouping instructions into stages (BuildKit's `instructions.Parse`).

use super::StageError;
use crate::instructions::{ArgInstruction, FromInstruction, Instruction};

#[derive(Debug, Clone)]
pub struct Stage {
    pub index: usize,
    pub from: FromInstruction,
    pub instructions: Vec<Instruction>,
}

impl Stage {
    /// The stage's name as written, if it has one.
    pub fn name(&self) -> Option<&str> {
        Some(self.from.name.as_str()).filter(|n| !n.is_empty())
    }

    /// How progress output and errors call the stage: its name or `stage-N`.
    pub fn display_name(&self) -> String {
        self.name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("stage-{}", self.index))
    }
}

/// ARGs before the first FROM (the global scope) and the stages.
#[derive(Debug, Clone, Default)]
pub struct Stages {
    pub meta_args: Vec<ArgInstruction>,
    pub stages: Vec<Stage>,
}

pub fn split_stages(instructions: Vec<Instruction>) -> Result<Stages, StageError> {
    let mut out = Stages::default();
    for instruction in instructions {
        out.push(instruction)?;
    }
    out.finish()
}

/// `split_stages` over instructions as they are parsed, so no list of every instruction is ever
/// held. The first parse failure wins over any stage error, as when parsing everything first.
pub fn split_parsed<E>(
    instructions: impl IntoIterator<Item = Result<Instruction, E>>,
) -> Result<Result<Stages, StageError>, E> {
    let mut out = Stages::default();
    let mut stage_error = None;
    for instruction in instructions {
        let instruction = instruction?;
        if stage_error.is_none() {
            stage_error = out.push(instruction).err();
        }
    }
    Ok(match stage_error {
        Some(e) => Err(e),
        None => out.finish(),
    })
}

impl Stages {
    fn push(&mut self, instruction: Instruction) -> Result<(), StageError> {
        let out = self;
        match instruction {
            Instruction::From(from) => out.stages.push(Stage {
                index: out.stages.len(),
                from,
                instructions: Vec::new(),
            }),
            Instruction::Arg(arg) if out.stages.is_empty() => out.meta_args.push(arg),
            other => match out.stages.last_mut() {
                Some(stage) => stage.instructions.push(other),
                None => {
                    return Err(StageError::new(
                        "no build stage in current context",
                        vec![other.range()],
                    ))
                }
            },
        }
        Ok(())
    }

    fn finish(self) -> Result<Stages, StageError> {
        if self.stages.is_empty() {
            return Err(StageError::new(
                "dockerfile contains no stages to build",
                Vec::new(),
            ));
        }
        Ok(self)
    }
}

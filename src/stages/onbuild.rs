//! ONBUILD triggers: instructions a stage runs before its own because its base asked for them.
//! A stage built on an earlier stage runs that stage's ONBUILD instructions (known from the
//! Dockerfile); a stage built on an image runs the image config's `OnBuild` entries (known once the
//! image is resolved). Triggers may read other stages and images, so they add dependencies.

use super::graph::{dependencies_of, names_of, Base, SourceNaming, StageGraph};
use super::scope::{Scope, ScopeRules};
use super::StageError;
use crate::instructions::{instruction_from_node, Instruction};
use crate::syntax::shell::Lexer;
use crate::syntax::{self, SourceRange};

/// Parses triggers as the reference does when a stage uses them: each is a Dockerfile of exactly
/// one instruction, parsed with the default escape, and located at the using stage's FROM line.
pub fn parse_triggers(
    expressions: &[String],
    at: SourceRange,
) -> Result<Vec<Instruction>, StageError> {
    let located = |message: String| StageError::new(message, vec![at]);
    expressions
        .iter()
        .map(|expression| {
            let parsed = syntax::parse(expression).map_err(|e| located(e.to_string()))?;
            let Ok([mut node]) = <[_; 1]>::try_from(parsed.nodes) else {
                return Err(located(
                    "onbuild trigger should be a single expression".into(),
                ));
            };
            node.range = at;
            match instruction_from_node(node).map_err(|e| located(e.message))? {
                // The reference parses FROM into a stage, which is no command.
                Instruction::From(_) => {
                    Err(located("*instructions.Stage is not a command type".into()))
                }
                instruction => Ok(instruction),
            }
        })
        .collect()
}

/// The ONBUILD expressions a stage declares (what a stage built on it runs).
pub fn declared_triggers(instructions: &[Instruction]) -> Vec<String> {
    instructions
        .iter()
        .filter_map(|i| match i {
            Instruction::Onbuild(o) => Some(o.expression.clone()),
            _ => None,
        })
        .collect()
}

impl StageGraph {
    /// Gives `stage` its triggers: they run first, so the stage's steps and dependency indexes
    /// shift behind them. A stage takes triggers once. Returns whether the triggers read another
    /// stage or image (the reference then resolves what became reachable again).
    pub fn add_triggers(
        &mut self,
        stage: usize,
        expressions: &[String],
        lexer: &Lexer,
    ) -> Result<bool, StageError> {
        if std::mem::replace(&mut self.triggered[stage], true) || expressions.is_empty() {
            return Ok(false);
        }
        let at = self.stages[stage].from.range;
        let triggers = parse_triggers(expressions, at)?;
        let by_name = names_of(&self.stages);
        let naming = SourceNaming {
            by_name: &by_name,
            stage_count: self.stages.len(),
            rules: ScopeRules {
                build_args: &self.build_args,
                global_args: &self.global_args,
                lexer,
            },
        };
        // Triggers run first: their words read the scope the stage starts with.
        let start = || Scope::at_start(&self.stages, &self.bases, stage, &naming.rules, false);
        // The reference points every trigger error at the using stage's FROM, and only there.
        let mut deps = dependencies_of(&triggers, &naming, &start)
            .map_err(|e| StageError::new(e.message, vec![at]))?;
        for dep in &mut deps {
            dep.onbuild = true;
        }
        let added = !deps.is_empty();
        let shift = triggers.len();
        for dep in &mut self.dependencies[stage] {
            dep.instruction += shift;
        }
        deps.append(&mut self.dependencies[stage]);
        self.dependencies[stage] = deps;
        self.triggers[stage] = triggers;
        self.reachable = self.reachability();
        Ok(added)
    }

    /// Gives each reachable stage built on an earlier stage that stage's ONBUILD instructions,
    /// until no trigger makes another stage reachable; returns whether any trigger added a
    /// dependency. Stages built on images take theirs once the image is resolved.
    pub fn add_stage_triggers(&mut self, lexer: &Lexer) -> Result<bool, StageError> {
        let mut any = false;
        loop {
            let takes = self.taking_triggers();
            let pending: Vec<(usize, usize)> = (0..self.stages.len())
                .filter(|&s| takes[s] && !self.triggered[s])
                .filter_map(|s| match self.bases[s] {
                    Base::Stage(base) => Some((s, base)),
                    _ => None,
                })
                .collect();
            let mut added = false;
            for (stage, base) in pending {
                let expressions = declared_triggers(&self.stages[base].instructions);
                added |= self.add_triggers(stage, &expressions, lexer)?;
            }
            if !added {
                return Ok(any);
            }
            any = true;
        }
    }

    /// Reachable stages built on an image that have not taken their triggers yet.
    pub fn stages_awaiting_image_triggers(&self) -> Vec<usize> {
        let takes = self.taking_triggers();
        (0..self.stages.len())
            .filter(|&s| takes[s] && !self.triggered[s])
            .filter(|&s| matches!(self.bases[s], Base::Image(_)))
            .collect()
    }

    /// Moves [`Self::steps`] out of the graph: conversion reads each step once, so a big
    /// Dockerfile's instructions are freed stage by stage instead of all living to the end.
    pub fn take_steps(&mut self, stage: usize) -> Vec<(bool, Instruction)> {
        let triggers = std::mem::take(&mut self.triggers[stage]);
        let instructions = std::mem::take(&mut self.stages[stage].instructions);
        let triggers = triggers.into_iter().map(|i| (true, i));
        triggers
            .chain(instructions.into_iter().map(|i| (false, i)))
            .collect()
    }

    /// The steps a stage dispatches in order: its triggers (`true`), then its instructions.
    pub fn steps(&self, stage: usize) -> impl Iterator<Item = (bool, &Instruction)> + '_ {
        let triggers = self.triggers[stage].iter().map(|i| (true, i));
        triggers.chain(self.stages[stage].instructions.iter().map(|i| (false, i)))
    }
}

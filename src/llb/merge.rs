//! Merge and diff ops (client/llb/merge.go, diff.go).

use crate::proto::pb;

use super::caps;
use super::constraints::{marshal_constraints, Constraints, OpMetadata};
use super::state::{scratch, Node, OpNode, Output, State};
use super::LlbError;

/// `llb.Merge`: overlays the states in order. Scratch inputs are dropped; none left gives
/// scratch and one left gives that state itself, as client/llb does.
pub fn merge(states: &[State], constraints: Constraints) -> State {
    let inputs: Vec<&State> = states.iter().filter(|s| !s.is_scratch()).collect();
    let (first, outputs) = match inputs.as_slice() {
        [] => return scratch(),
        [only] => return (*only).clone(),
        [first, ..] => (
            *first,
            inputs.iter().filter_map(|s| s.out.clone()).collect(),
        ),
    };
    let mut c = constraints;
    c.add_cap(caps::MERGE_OP);
    let node = Node {
        op: OpNode::Merge(outputs),
        constraints: c,
    };
    first.with_output(Output::new(node, None))
}

/// `llb.Diff`: the changes that turn `lower` into `upper`.
pub fn diff(lower: &State, upper: &State, constraints: Constraints) -> State {
    if lower.is_scratch() {
        return if upper.is_scratch() {
            scratch()
        } else {
            upper.clone()
        };
    }
    let mut c = constraints;
    c.add_cap(caps::DIFF_OP);
    let node = Node {
        op: OpNode::Diff {
            lower: lower.out.clone(),
            upper: upper.out.clone(),
        },
        constraints: c,
    };
    lower.with_output(Output::new(node, None))
}

pub(crate) fn marshal_merge(
    inputs: &[Output],
    own: &Constraints,
    base: &Constraints,
    to_input: &mut dyn FnMut(&Output) -> Result<pb::Input, LlbError>,
) -> Result<(pb::Op, OpMetadata), LlbError> {
    if inputs.len() < 2 {
        return Err(LlbError::MergeTooFewInputs);
    }
    let (mut op, md) = marshal_constraints(base, own, own.platform.as_deref());
    op.platform = None;
    let mut merge_inputs = Vec::with_capacity(inputs.len());
    for o in inputs {
        merge_inputs.push(pb::MergeInput {
            input: op.inputs.len() as i64,
        });
        op.inputs.push(to_input(o)?);
    }
    op.op = Some(pb::op::Op::Merge(pb::MergeOp {
        inputs: merge_inputs,
    }));
    Ok((op, md))
}

pub(crate) fn marshal_diff(
    lower: Option<&Output>,
    upper: Option<&Output>,
    own: &Constraints,
    base: &Constraints,
    to_input: &mut dyn FnMut(&Output) -> Result<pb::Input, LlbError>,
) -> Result<(pb::Op, OpMetadata), LlbError> {
    let (mut op, md) = marshal_constraints(base, own, own.platform.as_deref());
    op.platform = None;
    let mut index = |o: Option<&Output>, inputs: &mut Vec<pb::Input>| -> Result<i64, LlbError> {
        match o {
            Some(o) => {
                inputs.push(to_input(o)?);
                Ok(inputs.len() as i64 - 1)
            }
            None => Ok(-1),
        }
    };
    let lower = index(lower, &mut op.inputs)?;
    let upper = index(upper, &mut op.inputs)?;
    op.op = Some(pb::op::Op::Diff(pb::DiffOp {
        lower: Some(pb::LowerDiffInput { input: lower }),
        upper: Some(pb::UpperDiffInput { input: upper }),
    }));
    Ok((op, md))
}

//! Lint warnings to BuildKit through the LLBBridge `Warn` call, as the reference's dockerui
//! `Source.Warn` sends them: level 1, `Rule: message (line N)`, the rule's description as
//! detail, its URL, the Dockerfile as source info and the warning's lines as ranges, attached to
//! the vertex that loaded the Dockerfile.

use prost::Message;

use super::bridge::{Bridge, BridgeError};
use super::errors::SourceFile;
use crate::convert::{ConvertError, Converted};
use crate::lint::Warning;
use crate::proto::moby::buildkit::v1::frontend::WarnRequest;
use crate::proto::pb;

/// Sends the warnings of a conversion, also when it failed (a lint failure carries them). Like
/// the reference, a warning BuildKit does not take does not fail the build.
pub async fn send(
    bridge: &Bridge,
    source: &SourceFile,
    converted: &Result<Converted, ConvertError>,
) {
    let warnings = match converted {
        Ok(c) => &c.warnings,
        Err(ConvertError::Lint { warnings, .. }) => warnings,
        Err(_) => return,
    };
    let _ = bridge.warn_all(source, warnings).await;
}

impl Bridge {
    /// Sends each warning, in order.
    pub async fn warn_all(
        &self,
        source: &SourceFile,
        warnings: &[Warning],
    ) -> Result<(), BridgeError> {
        let digest = head_digest(&source.definition);
        let info = pb::SourceInfo {
            filename: source.filename.clone(),
            data: source.data.clone(),
            definition: Some(source.definition.clone()),
            language: "Dockerfile".into(),
        };
        for w in warnings {
            let request = WarnRequest {
                digest: digest.clone(),
                level: 1,
                short: w.short().into_bytes(),
                detail: vec![w.description.as_bytes().to_vec()],
                url: w.url.to_string(),
                info: Some(info.clone()),
                ranges: w
                    .ranges
                    .iter()
                    .map(|r| range(r.start_line, r.end_line))
                    .collect(),
            };
            self.client
                .clone()
                .warn(request)
                .await
                .map_err(|status| BridgeError::Call {
                    call: "warn",
                    status: Box::new(status),
                })?;
        }
        Ok(())
    }
}

/// client/llb's `Definition.Head`: the input of the terminal op, empty when there is none.
fn head_digest(definition: &pb::Definition) -> String {
    definition
        .def
        .last()
        .and_then(|last| pb::Op::decode(last.as_slice()).ok())
        .and_then(|op| op.inputs.into_iter().next())
        .map(|input| input.digest)
        .unwrap_or_default()
}

fn range(start: usize, end: usize) -> pb::Range {
    let position = |line: usize| pb::Position {
        line: i32::try_from(line).unwrap_or(i32::MAX),
        character: 0,
    };
    pb::Range {
        start: Some(position(start)),
        end: Some(position(end)),
    }
}

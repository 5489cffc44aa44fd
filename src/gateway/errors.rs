//! Build failures as BuildKit wants them back: a google.rpc.Status whose details carry
//! `errdefs.Source` records, so buildx prints the Dockerfile lines involved.

use super::frontend::FrontendError;
use crate::llb::State;
use crate::proto::google::{protobuf::Any, rpc::Status};
use crate::syntax::SourceRange;

/// gRPC's UNKNOWN code: what the reference uses for errors that carry no code of their own.
const CODE_UNKNOWN: i32 = 2;
/// How BuildKit's typeurl registry names `errdefs.Source`; the value is its JSON.
const SOURCE_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Source+json";
/// `errdefs.Subrequest`, which tells clients the frontend does not answer a subrequest.
const SUBREQUEST_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Subrequest+json";

/// The Dockerfile as read, for error excerpts and source maps.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub filename: String,
    pub data: Vec<u8>,
    pub state: State,
    /// What was solved to load it; warnings attach to its head vertex.
    pub definition: crate::proto::pb::Definition,
}

pub fn status_for(err: &FrontendError, source: Option<&SourceFile>) -> Status {
    if let FrontendError::UnsupportedRequest(name) = err {
        let detail = Any {
            type_url: SUBREQUEST_TYPE_URL.to_string(),
            value: serde_json::json!({ "name": name }).to_string().into_bytes(),
        };
        return Status {
            code: CODE_UNKNOWN,
            message: err.to_string(),
            details: vec![detail],
        };
    }
    let ranges = match err {
        FrontendError::Convert(e) => e.ranges(),
        _ => Vec::new(),
    };
    // The reference wraps the error once per location, and the last wrap is the detail buildx
    // shows first.
    let details = match source {
        Some(src) => ranges
            .iter()
            .rev()
            .filter(|r| r.start_line > 0)
            .map(|r| source_detail(src, *r))
            .collect(),
        None => Vec::new(),
    };
    Status {
        code: CODE_UNKNOWN,
        message: err.to_string(),
        details,
    }
}

fn source_detail(src: &SourceFile, range: SourceRange) -> Any {
    let position = |line: usize| serde_json::json!({ "line": line });
    let value = serde_json::json!({
        "info": {
            "filename": src.filename,
            "data": crate::llb::base64::encode(&src.data),
            "language": "Dockerfile",
        },
        "ranges": [{ "start": position(range.start_line), "end": position(range.end_line) }],
    });
    Any {
        type_url: SOURCE_TYPE_URL.to_string(),
        value: value.to_string().into_bytes(),
    }
}

//! `--call=graph` (`frontend.graph`, an mstage subrequest): the stage DAG for the target, build
//! args and platform asked for, as `mstage graph` gives it offline. Only the Dockerfile and Ping
//! (for the build platform) are needed: no image is resolved and nothing is solved.

use super::bridge::Bridge;
use super::errors::SourceFile;
use super::frontend::FrontendError;
use super::request::{self, BuildRequest};
use super::subrequests;
use crate::convert::graph::stage_dag;
use crate::convert::ConvertError;

/// Answers with the DAG's JSON and text; parse-time lint warnings go out as the build's would.
pub(super) async fn answer(
    bridge: &Bridge,
    request: &BuildRequest,
    dockerfile: &SourceFile,
) -> Result<subrequests::Metadata, FrontendError> {
    let target = match request.targets().as_slice() {
        [one] => one.clone(),
        _ => return Err(FrontendError::Convert(ConvertError::At {
            message:
                "--call=graph shows the stage graph of one platform: give at most one --platform"
                    .into(),
            ranges: Vec::new(),
        })),
    };
    let caps = bridge.ping().await?;
    let mut opts = request::with_capabilities(request.convert_options(target), &caps);
    opts.filename = dockerfile.filename.clone();
    let text = String::from_utf8_lossy(&dockerfile.data);
    let result = stage_dag(&text, &opts);
    let warnings = match &result {
        Ok((_, warnings)) => warnings.as_slice(),
        Err(ConvertError::Lint { warnings, .. }) => warnings.as_slice(),
        Err(_) => &[],
    };
    // As for a build, a warning BuildKit does not take does not fail the answer.
    let _ = bridge.warn_all(dockerfile, warnings).await;
    let (dag, _) = result?;
    Ok(subrequests::graph(&dag))
}

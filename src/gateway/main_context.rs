//! Where the Dockerfile and the build context come from (dockerui's `initContext`): a git
//! repository or an http(s) file when the context option is such a URL (`docker build
//! https://...`), else the frontend inputs the client handed over, else the client's local
//! directories.

use std::collections::BTreeMap;

use super::bridge::Bridge;
use super::frontend::FrontendError;
use super::request::BuildRequest;
use crate::llb::{self, Constraints, CopyOptions, MarshalOptions, State};
use crate::proto::moby::buildkit::v1::frontend::FileRange;
use crate::proto::pb;

/// dockerui's names of the frontend inputs that carry the Dockerfile and the context.
const DOCKERFILE_INPUT: &str = "dockerfile";
const CONTEXT_INPUT: &str = "context";

/// The file an http(s) context is fetched as (dockerui's `DetectHTTPContext`).
const HTTP_FILENAME: &str = "context";

/// How much of an http(s) context is read to tell an archive from a Dockerfile.
const SNIFF_BYTES: i64 = 1024;

/// The Dockerfile's and the context's sources; `None` is the local directory of that name.
#[derive(Debug, Clone, Default)]
pub struct MainSources {
    pub dockerfile: Option<State>,
    pub context: Option<State>,
    /// The Dockerfile's name in `dockerfile` when it is not the request's (an http(s) file that
    /// is the Dockerfile itself).
    pub filename: Option<String>,
}

/// Reads the context option and the inputs as dockerui does, `contextsubdir` applied.
pub async fn sources(
    bridge: &Bridge,
    request: &BuildRequest,
) -> Result<MainSources, FrontendError> {
    let mut found = detect(bridge, request).await?;
    if let (Some(context), Some(dir)) = (&found.context, &request.context_subdir) {
        found.context = Some(scope_to_subdir(context, dir));
    }
    Ok(found)
}

async fn detect(bridge: &Bridge, request: &BuildRequest) -> Result<MainSources, FrontendError> {
    let value = &request.main_context;
    // The reference dates a git context's files by their commit when SOURCE_DATE_EPOCH is set.
    let dated = request
        .build_args
        .get(crate::convert::epoch::KEY)
        .is_some_and(|v| !v.is_empty());
    let name = format!("[internal] load git source {value}");
    let mtime = if dated { "commit" } else { "" };
    if let Some(git) = crate::convert::git::context_state(value, request.keep_git_dir, mtime, &name)
    {
        let state = git.map_err(FrontendError::MainContext)?;
        return Ok(MainSources {
            dockerfile: Some(state.clone()),
            context: Some(state),
            filename: None,
        });
    }
    if crate::convert::copy::is_http_url(value) {
        return http_context(bridge, value).await;
    }
    // An older BuildKit without the Inputs call has no inputs either.
    let none = BTreeMap::new();
    let inputs = bridge.inputs().await.unwrap_or(&none);
    from_inputs(inputs, request.force_local_dockerfile)
}

/// The inputs named `dockerfile` (unless the Dockerfile's local directory was named) and
/// `context`.
fn from_inputs(
    inputs: &BTreeMap<String, pb::Definition>,
    force_local_dockerfile: bool,
) -> Result<MainSources, FrontendError> {
    let state = |name: &str| {
        inputs
            .get(name)
            .map(llb::from_definition)
            .transpose()
            .map_err(|e| FrontendError::MainContext(format!("invalid input {name}: {e}")))
    };
    Ok(MainSources {
        dockerfile: match force_local_dockerfile {
            true => None,
            false => state(DOCKERFILE_INPUT)?,
        },
        context: state(CONTEXT_INPUT)?,
        filename: None,
    })
}

/// An http(s) context: an archive is unpacked into the context (its Dockerfile read from
/// there); any other file is the Dockerfile itself.
async fn http_context(bridge: &Bridge, url: &str) -> Result<MainSources, FrontendError> {
    let state = llb::http_with(
        url,
        llb::HttpOptions {
            filename: Some(HTTP_FILENAME.into()),
            constraints: Constraints::new().custom_name("[internal] load remote build context"),
            ..Default::default()
        },
    );
    let definition = llb::marshal(&state, &MarshalOptions::default())?;
    let solved = bridge
        .solve(definition)
        .await
        .map_err(|e| FrontendError::MainContext(format!("failed to resolve httpcontext: {e}")))?;
    let head = bridge
        .read_file(
            &solved,
            HTTP_FILENAME,
            Some(FileRange {
                offset: 0,
                length: SNIFF_BYTES,
            }),
        )
        .await
        .map_err(|e| {
            FrontendError::MainContext(format!("failed to read downloaded context: {e}"))
        })?;
    if is_archive(&head) {
        let context = super::archive::unpack_into(&state, HTTP_FILENAME, "/", Constraints::new());
        return Ok(MainSources {
            dockerfile: Some(context.clone()),
            context: Some(context),
            filename: None,
        });
    }
    Ok(MainSources {
        dockerfile: Some(state.clone()),
        context: Some(state),
        filename: Some(HTTP_FILENAME.into()),
    })
}

/// dockerui's `scopeToSubDir`: the context is the directory's contents.
fn scope_to_subdir(context: &State, dir: &str) -> State {
    let opts = CopyOptions {
        dir_contents_only: true,
        ..Default::default()
    };
    let action = llb::copy(context.into(), dir, "/", opts);
    llb::scratch().file(&action, Constraints::new())
}

/// dockerui's `isArchive`: bzip2, gzip or xz magic, or a tar header with a valid checksum.
fn is_archive(header: &[u8]) -> bool {
    const MAGIC: [&[u8]; 3] = [
        &[0x42, 0x5A, 0x68],
        &[0x1F, 0x8B, 0x08],
        &super::archive::XZ_MAGIC,
    ];
    MAGIC.iter().any(|m| header.starts_with(m)) || is_tar_header(header)
}

/// A 512-byte tar header whose checksum field (octal, at 148..156) matches its bytes summed
/// with that field read as spaces, as Go's archive/tar checks the first header.
fn is_tar_header(header: &[u8]) -> bool {
    let Some(block) = header.get(..512) else {
        return false;
    };
    if block.iter().all(|&b| b == 0) {
        return false;
    }
    let field = String::from_utf8_lossy(&block[148..156]);
    let digits = field.trim_matches(|c: char| c == ' ' || c == '\0');
    let Ok(recorded) = u64::from_str_radix(digits, 8) else {
        return false;
    };
    let sum = header_sum(block);
    sum == recorded
}

/// A tar header's bytes summed with its checksum field (148..156) read as spaces.
fn header_sum(block: &[u8]) -> u64 {
    let spaces = 8 * u64::from(b' ');
    let field: u64 = block[148..156].iter().map(|&b| u64::from(b)).sum();
    block.iter().map(|&b| u64::from(b)).sum::<u64>() - field + spaces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_header(name: &str) -> Vec<u8> {
        let mut block = vec![0u8; 512];
        block[..name.len()].copy_from_slice(name.as_bytes());
        block[156] = b'0';
        let sum = header_sum(&block);
        let field = format!("{sum:06o}\0 ");
        block[148..156].copy_from_slice(field.as_bytes());
        block
    }

    #[test]
    fn archives_are_told_from_dockerfiles() {
        assert!(is_archive(&[0x1F, 0x8B, 0x08, 0]));
        assert!(is_archive(&tar_header("Dockerfile")));
        let mut broken = tar_header("Dockerfile");
        broken[0] = b'X';
        assert!(!is_archive(&broken));
        assert!(!is_archive(b"FROM busybox\n"));
        assert!(!is_archive(&[0u8; 512]));
    }

    #[test]
    fn inputs_give_the_dockerfile_unless_its_directory_was_named() {
        let def = llb::marshal(&llb::image("busybox"), &MarshalOptions::default()).unwrap();
        let inputs = BTreeMap::from([(DOCKERFILE_INPUT.to_string(), def)]);
        assert!(from_inputs(&inputs, false).unwrap().dockerfile.is_some());
        assert!(from_inputs(&inputs, true).unwrap().dockerfile.is_none());
        assert!(from_inputs(&inputs, false).unwrap().context.is_none());
    }
}

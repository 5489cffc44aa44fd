//! SOURCE_DATE_EPOCH that names a source (`context`, a named context or a source-only stage):
//! its date resolved through BuildKit before conversion, as 1.26's
//! `resolveSourceDateEpochFromState` does. The source's one source op goes to
//! ResolveSourceMeta: a git commit's committer time, else an http file's Last-Modified, else for
//! an http file the newest regular file of the archive it is. Conversion then gets the seconds.

use std::collections::BTreeMap;

use super::archive;
use super::bridge::{Bridge, BridgeError};
use super::frontend::FrontendError;
use crate::convert::epoch::{DateSource, PendingDate, SourceDate};
use crate::convert::{self, ConvertError, ConvertOptions};
use crate::llb::{self, MarshalOptions, State};
use crate::platform::Platform;
use crate::proto::moby::buildkit::v1::frontend::ResolveSourceMetaResponse;
use crate::proto::pb;

/// `pb.AttrHTTPFilename`.
const HTTP_FILENAME_ATTR: &str = "http.filename";

/// Resolves the date each parse left pending and parses again with it; a source named by
/// several platforms' parses is resolved once.
pub async fn resolve_pending(
    bridge: &Bridge,
    text: &str,
    builds: &mut [(
        &mut ConvertOptions,
        &mut Result<convert::Parsed, ConvertError>,
    )],
) -> Result<(), FrontendError> {
    let mut dates: BTreeMap<String, Option<i64>> = BTreeMap::new();
    for (opts, parsed) in builds.iter_mut() {
        let Some(PendingDate { value, source }) =
            parsed.as_ref().ok().and_then(|p| p.date_source()).cloned()
        else {
            continue;
        };
        let key = source.log_name();
        let seconds = match dates.get(&key) {
            Some(seconds) => *seconds,
            None => {
                let seconds = source_date(bridge, &source, opts).await?;
                dates.insert(key, seconds);
                seconds
            }
        };
        opts.source_date = Some(SourceDate { value, seconds });
        **parsed = convert::parse(text, opts);
    }
    Ok(())
}

/// The date (Unix seconds) of the source, `None` when BuildKit tells none.
async fn source_date(
    bridge: &Bridge,
    source: &DateSource,
    opts: &ConvertOptions,
) -> Result<Option<i64>, FrontendError> {
    let state = source_state(source, opts)?;
    let marshal = MarshalOptions {
        caps: opts.llb_caps.clone(),
        ..Default::default()
    };
    let Some(op) = single_source(&llb::marshal(&state, &marshal)?) else {
        return Ok(None);
    };
    let git_object = op.identifier.starts_with("git://");
    // A BuildKit without the call tells nothing; the reference's client answers the same.
    let meta = bridge
        .resolve_source_meta(op.clone(), &source.log_name(), git_object)
        .await
        .map_err(in_buildkit_words)?
        .unwrap_or_default();
    if let Some(dated) = date_from_metadata(&meta).map_err(FrontendError::SourceDate)? {
        return Ok(dated);
    }
    let is_http = crate::convert::copy::is_http_url(&op.identifier);
    let filename = op
        .attrs
        .get(HTTP_FILENAME_ATTR)
        .cloned()
        .unwrap_or_default();
    if !is_http || filename.is_empty() {
        return Ok(None);
    }
    archive::newest_file_time(bridge, op, &filename).await
}

/// The state the value names: the main context as dockerui's `MainContext` gives it, a named
/// context as loaded, or the stage's remote source.
fn source_state(source: &DateSource, opts: &ConvertOptions) -> Result<State, FrontendError> {
    Ok(match source {
        DateSource::MainContext => opts.main_context_state(None),
        // The reference loads it with no platform: the frontend's own.
        DateSource::NamedContext(context) => context
            .state(&Platform::host(), &opts.session_id, None)
            .map_err(FrontendError::SourceDate)?,
        DateSource::Stage { source, .. } => source.clone(),
    })
}

/// `sourceOpFromState`: the definition's source op when it has exactly one.
fn single_source(definition: &pb::Definition) -> Option<pb::SourceOp> {
    let mut found = None;
    for bytes in &definition.def {
        let op = <pb::Op as prost::Message>::decode(bytes.as_slice()).ok()?;
        if let Some(pb::op::Op::Source(source)) = op.op {
            if found.is_some() {
                return None;
            }
            found = Some(source);
        }
    }
    found
}

/// `sourceDateEpochFromMetadata`: `Some` when the metadata dates the source (a git commit
/// object, an http Last-Modified), holding `None` for a commit without a readable time.
fn date_from_metadata(meta: &ResolveSourceMetaResponse) -> Result<Option<Option<i64>>, String> {
    if let Some(git) = meta.git.as_ref().filter(|g| !g.commit_object.is_empty()) {
        return committer_time(&git.commit_object).map(Some);
    }
    if let Some(time) = meta.http.as_ref().and_then(|h| h.last_modified.as_ref()) {
        return Ok(Some(Some(time.seconds)));
    }
    Ok(None)
}

/// gitobject's `Parse` and `ToCommit`: the committer's time of a raw commit object.
fn committer_time(raw: &[u8]) -> Result<Option<i64>, String> {
    let text = String::from_utf8_lossy(raw);
    if text.starts_with("object ") {
        return Err("not a commit object".into());
    }
    let mut headers: BTreeMap<&str, &str> = BTreeMap::new();
    for line in text.split('\n').take_while(|l| !l.is_empty()) {
        if let Some((key, value)) = line.split_once(' ') {
            headers.entry(key).or_insert(value);
        }
    }
    for required in ["tree", "author", "committer"] {
        if !headers.contains_key(required) {
            return Err(format!("invalid commit object: missing {required} header"));
        }
    }
    Ok(headers.get("committer").and_then(|c| actor_time(c)))
}

/// gitobject's `parseActor`: `Name <email> SECONDS +HHMM`, the time after the last `>`.
fn actor_time(actor: &str) -> Option<i64> {
    let actor = actor.trim();
    let (start, end) = (actor.rfind('<')?, actor.rfind('>')?);
    if end < start {
        return None;
    }
    let mut fields = actor[end + 1..].split_whitespace();
    let seconds = fields.next()?.parse::<i64>().ok()?;
    let zone = fields.next()?;
    let zone_ok = zone.len() == 5 && (zone.starts_with('+') || zone.starts_with('-'));
    zone_ok.then_some(seconds)
}

/// A failed call in BuildKit's words alone, as the reference passes such errors on.
pub(super) fn in_buildkit_words(e: BridgeError) -> FrontendError {
    match e {
        BridgeError::Call { status, .. } => FrontendError::SourceDate(status.message().to_string()),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_committer_time() {
        let commit = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1609556645 +0100\ncommitter C <c@x> 1651820889 -0700\n\nfirst\n";
        assert_eq!(committer_time(commit), Ok(Some(1_651_820_889)));
        let bad_zone = b"tree t\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 5 UTC\n\nm\n";
        assert_eq!(committer_time(bad_zone), Ok(None));
        assert_eq!(
            committer_time(b"tree t\nauthor A <a@x> 1 +0000\n\nm\n"),
            Err("invalid commit object: missing committer header".to_string())
        );
        assert!(committer_time(b"object abc\ntype commit\n").is_err());
    }
}

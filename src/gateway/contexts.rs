//! Named contexts loaded before conversion: what only BuildKit can tell of them (dockerui's
//! `NamedContext.load`), for the contexts the builds use. A local directory's `.dockerignore`
//! is read; a frontend input's definition is fetched.

use std::collections::BTreeSet;

use tokio::task::JoinSet;

use super::bridge::Bridge;
use super::frontend::FrontendError;
use super::request::BuildRequest;
use crate::convert::contexts::{ContextSource, NamedContexts, DOCKERIGNORE};

/// The request's named contexts, with those in `used` loaded.
pub async fn load(
    bridge: &Bridge,
    request: &BuildRequest,
    used: BTreeSet<String>,
) -> Result<NamedContexts, FrontendError> {
    let mut contexts = request.named_contexts.clone();
    let mut reads = JoinSet::new();
    for key in used.iter().cloned() {
        let Some(ContextSource::Local(local)) = contexts.0.get(&key) else {
            continue;
        };
        // A `local-sessionid:` of the directory names the session holding it, as dockerui reads it.
        let (bridge, session) = (bridge.clone(), request.session_of(&local.name).to_string());
        let local = local.name.clone();
        reads.spawn(async move {
            let data = super::dockerignore::read(
                &bridge,
                &local,
                &session,
                format!("context:{key}-{DOCKERIGNORE}"),
                format!("[context {key}] load {DOCKERIGNORE}"),
            )
            .await;
            (key, data)
        });
    }
    let input_keys: Vec<&String> = used
        .iter()
        .filter(|key| matches!(contexts.0.get(*key), Some(ContextSource::Input(_))))
        .collect();
    if !input_keys.is_empty() {
        let inputs = bridge.inputs().await?;
        for key in input_keys {
            if let Some(ContextSource::Input(input)) = contexts.0.get_mut(key) {
                input.definition = inputs.get(&input.name).cloned();
            }
        }
    }
    while let Some(joined) = reads.join_next().await {
        let (key, data) = joined.map_err(|e| FrontendError::Task(e.to_string()))?;
        let patterns = super::dockerignore::parse(&String::from_utf8_lossy(&data?));
        if let Some(ContextSource::Local(local)) = contexts.0.get_mut(&key) {
            local.excludes = Some(patterns);
        }
    }
    Ok(contexts)
}

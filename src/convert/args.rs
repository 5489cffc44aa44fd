//! The global ARG scope: built-in platform ARGs, `--build-arg` values and the ARGs declared before
//! the first FROM (BuildKit's `defaultArgs` and `buildMetaArgs`).

use std::collections::BTreeMap;

use super::{ConvertError, ConvertOptions};
use crate::instructions::ArgInstruction;
use crate::platform::Platform;
use crate::syntax::shell::{EnvList, KeyCase, Lexer};

/// The build's platforms: where it runs and what it builds for.
#[derive(Debug, Clone)]
pub struct Platforms {
    pub build: Platform,
    pub target: Platform,
    /// True when no `--platform` was given: images then keep their own platform.
    pub implicit_target: bool,
}

impl Platforms {
    pub fn new(opts: &ConvertOptions) -> Platforms {
        Platforms {
            build: opts.build_platform.clone(),
            target: opts
                .target_platform
                .clone()
                .unwrap_or_else(|| opts.build_platform.clone()),
            implicit_target: opts.target_platform.is_none(),
        }
    }
}

/// Built-in ARGs, overridable by build args, then the meta ARGs in order.
pub fn global_args(
    platforms: &Platforms,
    opts: &ConvertOptions,
    target_stage: &str,
    meta_args: &[ArgInstruction],
    lexer: &Lexer,
) -> Result<EnvList, ConvertError> {
    let pairs = global_arg_pairs(platforms, opts, target_stage, meta_args, lexer)?;
    Ok(EnvList::from_pairs(pairs, KeyCase::Unix))
}

/// [`global_args`] as `(key, value)` pairs in definition order, before they become a scope.
pub fn global_arg_pairs(
    platforms: &Platforms,
    opts: &ConvertOptions,
    target_stage: &str,
    meta_args: &[ArgInstruction],
    lexer: &Lexer,
) -> Result<Vec<(String, String)>, ConvertError> {
    global_args_with(
        platforms,
        opts,
        target_stage,
        meta_args,
        lexer,
        &opts.build_args,
    )
}

/// The global ARGs as if no build arg set a meta ARG (built-ins still take theirs), which
/// InvalidDefaultArgInFrom checks base names with.
pub fn default_global_args(
    platforms: &Platforms,
    opts: &ConvertOptions,
    target_stage: &str,
    meta_args: &[ArgInstruction],
    lexer: &Lexer,
) -> Result<EnvList, ConvertError> {
    let none = BTreeMap::new();
    let pairs = global_args_with(platforms, opts, target_stage, meta_args, lexer, &none)?;
    Ok(EnvList::from_pairs(pairs, KeyCase::Unix))
}

fn global_args_with(
    platforms: &Platforms,
    opts: &ConvertOptions,
    target_stage: &str,
    meta_args: &[ArgInstruction],
    lexer: &Lexer,
    meta_build_args: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, ConvertError> {
    let (b, t) = (&platforms.build, &platforms.target);
    let target_stage = if target_stage.is_empty() {
        "default"
    } else {
        target_stage
    };
    let builtins = [
        ("BUILDPLATFORM", b.to_string()),
        ("BUILDOS", b.os.clone()),
        ("BUILDOSVERSION", String::new()),
        ("BUILDARCH", b.architecture.clone()),
        ("BUILDVARIANT", b.variant.clone()),
        ("TARGETPLATFORM", t.to_string()),
        ("TARGETOS", t.os.clone()),
        ("TARGETOSVERSION", String::new()),
        ("TARGETARCH", t.architecture.clone()),
        ("TARGETVARIANT", t.variant.clone()),
        ("TARGETSTAGE", target_stage.to_string()),
    ];
    let mut env = Vec::<(String, String)>::new();
    for (key, value) in builtins {
        let value = opts.build_args.get(key).cloned().unwrap_or(value);
        add_or_replace(&mut env, key, &value);
    }
    for arg in meta_args {
        for pair in &arg.args {
            let value = match (meta_build_args.get(&pair.key), &pair.value) {
                (Some(given), _) => Some(given.clone()),
                (None, Some(default)) => {
                    let current = EnvList::from_pairs(env.iter().cloned(), KeyCase::Unix);
                    let expanded = lexer
                        .process_word(default, &current)
                        .map_err(|e| ConvertError::at(e.to_string(), arg.range))?;
                    Some(expanded.value)
                }
                (None, None) => None,
            };
            if let Some(value) = value {
                add_or_replace(&mut env, &pair.key, &value);
            }
        }
    }
    Ok(env)
}

/// BuildKit's `EnvList.AddOrReplace`: a redefined key moves to the end.
pub fn add_or_replace(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.to_string(), value.to_string()));
}

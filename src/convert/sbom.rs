//! What an SBOM scanner scans besides the target (the reference's `SBOMTargets`): the stages
//! and the build context that the `BUILDKIT_SBOM_SCAN_STAGE` and `BUILDKIT_SBOM_SCAN_CONTEXT`
//! ARGs enable. They take effect only where an ARG declares them (globally or in the stage), as
//! in the reference; a build arg only gives that ARG its value.

use std::collections::BTreeMap;

use crate::instructions::goconv::parse_bool;
use crate::llb::State;
use crate::syntax::shell::{EnvGetter, EnvList};

const SCAN_CONTEXT: &str = "BUILDKIT_SBOM_SCAN_CONTEXT";
const SCAN_STAGE: &str = "BUILDKIT_SBOM_SCAN_STAGE";

/// The name the build context is scanned under.
const CONTEXT_EXTRA: &str = "context";

/// What a converted stage asks to have scanned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageScan {
    /// Scan this stage's filesystem, when it is not the target.
    pub stage: bool,
    /// Scan the build context, when this stage is the target.
    pub context: bool,
    /// The stage's steps ignore the cache (`--no-cache`, `--no-cache-filter`): so does a scan
    /// of it.
    pub ignore_cache: bool,
}

impl StageScan {
    /// The stage's settings: the global ARG's value, then each of the stage's ARGs (its base
    /// stage's included) in turn, the last one winning.
    pub fn of(
        stage_name: &str,
        globals: &EnvList,
        stage_args: &[(String, Option<String>)],
        ignore_cache: bool,
    ) -> StageScan {
        let enabled = |key: &str| {
            let global = globals.get(key).map(|v| enabled_for_stage(stage_name, v));
            let own = stage_args
                .iter()
                .rev()
                .filter(|(k, _)| k == key)
                .find_map(|(_, v)| v.as_deref())
                .map(|v| enabled_for_stage(stage_name, v));
            own.or(global).unwrap_or(false)
        };
        StageScan {
            stage: enabled(SCAN_STAGE),
            context: enabled(SCAN_CONTEXT),
            ignore_cache,
        }
    }
}

/// A boolean as Go's ParseBool reads it, else a comma-separated list of stage names.
fn enabled_for_stage(stage_name: &str, value: &str) -> bool {
    match parse_bool(value) {
        Some(enabled) => enabled,
        None => value.split(',').any(|name| name == stage_name),
    }
}

/// The filesystems scanned beside the target's, by name (a stage's name, or `context`).
#[derive(Debug, Clone, Default)]
pub struct SbomTargets {
    pub extras: BTreeMap<String, State>,
    /// The target or a scanned stage ignores the cache: the scan must not be cached either.
    pub ignore_cache: bool,
}

impl SbomTargets {
    /// From each converted stage's settings (`None` for stages not converted) and filesystem.
    pub fn collect(
        target: usize,
        scans: &[Option<StageScan>],
        stages: &[Option<State>],
        names: impl Fn(usize) -> String,
        context: &State,
    ) -> SbomTargets {
        let mut targets = SbomTargets::default();
        for (index, scan) in scans.iter().enumerate() {
            let Some(scan) = scan else { continue };
            if index == target {
                targets.ignore_cache |= scan.ignore_cache;
                if scan.context {
                    targets
                        .extras
                        .insert(CONTEXT_EXTRA.to_string(), context.clone());
                }
                continue;
            }
            if let (true, Some(Some(state))) = (scan.stage, stages.get(index)) {
                targets.extras.insert(names(index), state.clone());
                targets.ignore_cache |= scan.ignore_cache;
            }
        }
        targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::shell::KeyCase;

    fn globals(pairs: &[(&str, &str)]) -> EnvList {
        EnvList::from_pairs(
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            KeyCase::Unix,
        )
    }

    fn arg(key: &str, value: Option<&str>) -> (String, Option<String>) {
        (key.to_string(), value.map(str::to_string))
    }

    #[test]
    fn booleans_or_stage_lists() {
        assert!(enabled_for_stage("build", "true"));
        assert!(enabled_for_stage("build", "1"));
        assert!(!enabled_for_stage("build", "false"));
        assert!(enabled_for_stage("build", "base,build"));
        assert!(!enabled_for_stage("build", "base, build"));
        assert!(!enabled_for_stage("build", "yes"));
    }

    #[test]
    fn stage_args_override_the_global_one_and_the_last_wins() {
        let g = globals(&[(SCAN_STAGE, "true"), (SCAN_CONTEXT, "final")]);
        let scan = StageScan::of("build", &g, &[], false);
        assert!(scan.stage && !scan.context);
        let off = [arg(SCAN_STAGE, Some("1")), arg(SCAN_STAGE, Some("other"))];
        assert!(!StageScan::of("build", &g, &off, false).stage);
        // An ARG without a value leaves what was there.
        let bare = [arg(SCAN_STAGE, None)];
        assert!(StageScan::of("build", &g, &bare, false).stage);
        assert_eq!(
            StageScan::of("x", &globals(&[]), &[], true),
            StageScan {
                ignore_cache: true,
                ..Default::default()
            }
        );
    }

    #[test]
    fn extras_are_other_stages_and_the_targets_context() {
        let enabled = StageScan {
            stage: true,
            context: true,
            ignore_cache: false,
        };
        let cached_off = StageScan {
            ignore_cache: true,
            ..enabled
        };
        let scans = [Some(enabled), None, Some(cached_off), Some(enabled)];
        let stages = [
            Some(crate::llb::scratch()),
            None,
            Some(crate::llb::scratch()),
            Some(crate::llb::scratch()),
        ];
        let names = |i: usize| format!("s{i}");
        let targets = SbomTargets::collect(3, &scans, &stages, names, &crate::llb::scratch());
        let keys: Vec<&str> = targets.extras.keys().map(String::as_str).collect();
        assert_eq!(keys, ["context", "s0", "s2"]);
        assert!(targets.ignore_cache);
        let only_target =
            SbomTargets::collect(0, &scans[..1], &stages, names, &stages[0].clone().unwrap());
        assert_eq!(only_target.extras.keys().collect::<Vec<_>>(), ["context"]);
        assert!(!only_target.ignore_cache);
    }
}

//! A stage's variables as far as they are known when stages are chosen. `COPY --from` and
//! `RUN --mount from=` words that read variables are expanded then, before any image is
//! resolved, so pruning and the up-front image resolution see the stage or image they name. The
//! scope mirrors conversion's (ENV and ARG values in the stage's environment, a base stage's
//! carried over), but holds only what the Dockerfile and the build args set: ENV that a base
//! image sets is unknown until the image is resolved.

use std::collections::{BTreeMap, BTreeSet};

use super::graph::Base;
use super::onbuild::{declared_triggers, parse_triggers};
use super::Stage;
use crate::instructions::{ArgInstruction, Instruction, KeyValuePair};
use crate::syntax::shell::{EnvGetter, EnvList, Lexer};
use crate::syntax::SourceRange;

/// ARGs that configure BuildKit itself and never reach the stage's environment.
pub const NON_ENV_ARGS: [&str; 2] = ["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"];

/// What ARG values come from: `--build-arg` values and the global ARGs.
pub(super) struct ScopeRules<'a> {
    pub build_args: &'a BTreeMap<String, String>,
    pub global_args: &'a EnvList,
    pub lexer: &'a Lexer,
}

/// A stage's variables at one point of the stage, as far as the Dockerfile tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Scope {
    /// ENV and ARG values set so far (conversion's environment, without a base image's ENV).
    vars: BTreeMap<String, String>,
    /// ENV values the Dockerfile set: the image config's, which a stage built on this one
    /// applies again.
    config: BTreeMap<String, String>,
    /// Variables whose value is not known yet, with why.
    unknown: BTreeMap<String, String>,
    /// Set when an ENV name itself could not be known: any variable may have changed.
    opaque: Option<String>,
    /// The stage family starts from an image, whose ENV is unknown.
    from_image: bool,
}

impl Scope {
    /// The scope before a stage's first step (`triggers`: after the ONBUILD triggers its base
    /// stage gives it, which run first; those of a base image are not known yet).
    pub(super) fn at_start(
        stages: &[Stage],
        bases: &[Base],
        stage: usize,
        rules: &ScopeRules,
        triggers: bool,
    ) -> Scope {
        // The stage and the stages it is built on, up to the one built on an image or scratch
        // (a base is always an earlier stage, so the walk ends).
        let mut family = vec![stage];
        let mut root = stage;
        while let Some(&Base::Stage(parent)) = bases.get(root) {
            if parent >= root {
                break;
            }
            family.push(parent);
            root = parent;
        }
        family.pop();
        let mut scope = Scope {
            from_image: matches!(bases.get(root), Some(Base::Image(_))),
            ..Scope::default()
        };
        let mut parent = root;
        for &child in family.iter().rev() {
            for instruction in &stages[parent].instructions {
                scope.apply(instruction, rules);
            }
            scope = scope.into_child(&stages[parent].display_name());
            if triggers || child != stage {
                scope.apply_triggers(&stages[parent], stages[child].from.range, rules);
            }
            parent = child;
        }
        scope
    }

    /// Follows the ONBUILD triggers `base` declares, as a stage built on it runs them.
    fn apply_triggers(&mut self, base: &Stage, at: SourceRange, rules: &ScopeRules) {
        let expressions = declared_triggers(&base.instructions);
        if expressions.is_empty() {
            return;
        }
        match parse_triggers(&expressions, at) {
            Ok(triggers) => triggers.iter().for_each(|t| self.apply(t, rules)),
            Err(e) => {
                self.opaque = Some(format!(
                    "the ONBUILD triggers of stage {:?} do not parse: {e}",
                    base.display_name()
                ));
            }
        }
    }

    /// The scope of a stage built on this one: the config's ENV is applied again, which on an
    /// image-based family may replace ARG values with the image's ENV.
    fn into_child(mut self, parent: &str) -> Scope {
        if self.from_image {
            let args: Vec<String> = self
                .vars
                .keys()
                .filter(|k| !self.config.contains_key(*k))
                .cloned()
                .collect();
            for key in args {
                self.vars.remove(&key);
                let why = format!(
                    "stage {parent:?} sets it with ARG, and a stage built on it applies the base image's ENV again, which may replace it"
                );
                self.unknown.insert(key, why);
            }
        }
        for (key, value) in &self.config {
            if !self.unknown.contains_key(key) {
                self.vars.insert(key.clone(), value.clone());
            }
        }
        self
    }

    /// Follows one instruction: ENV and ARG change the scope, nothing else does.
    pub(super) fn apply(&mut self, instruction: &Instruction, rules: &ScopeRules) {
        match instruction {
            Instruction::Env(env) => {
                let line = env.range.start_line;
                for pair in &env.env {
                    self.apply_env(pair, line, rules.lexer);
                }
            }
            Instruction::Arg(arg) => self.apply_arg(arg, rules),
            _ => {}
        }
    }

    fn apply_env(&mut self, pair: &KeyValuePair, line: usize, lexer: &Lexer) {
        let key = match self.value_of(&pair.key, line, lexer) {
            Ok(key) => key,
            Err(why) => {
                self.opaque = Some(why.replacen("its value", "an ENV name", 1));
                return;
            }
        };
        let value = self.value_of(&pair.value, line, lexer);
        if let Ok(v) = &value {
            self.config.insert(key.clone(), v.clone());
        } else {
            self.config.remove(&key);
        }
        self.set(key, value);
    }

    /// The reference's `dispatchArg`: a build arg, else the default, else the global value.
    fn apply_arg(&mut self, arg: &ArgInstruction, rules: &ScopeRules) {
        let line = arg.range.start_line;
        for pair in &arg.args {
            let value = match (rules.build_args.get(&pair.key), &pair.value) {
                (Some(given), _) => Ok(given.clone()),
                (None, Some(default)) => self.value_of(default, line, rules.lexer),
                (None, None) => match rules.global_args.get(&pair.key) {
                    Some(global) => Ok(global.to_string()),
                    None => continue,
                },
            };
            if !NON_ENV_ARGS.contains(&pair.key.as_str()) {
                self.set(pair.key.clone(), value);
            }
        }
    }

    fn set(&mut self, key: String, value: Result<String, String>) {
        match value {
            Ok(v) => {
                self.unknown.remove(&key);
                self.vars.insert(key, v);
            }
            Err(why) => {
                self.vars.remove(&key);
                self.unknown.insert(key, why);
            }
        }
    }

    /// An ENV or ARG word's value, or why it is not known yet.
    fn value_of(&self, word: &str, line: usize, lexer: &Lexer) -> Result<String, String> {
        let expanded = lexer
            .process_word(word, &self.vars)
            .map_err(|e| format!("its value on line {line} does not expand: {e}"))?;
        match self.first_unknown(&expanded.unmatched) {
            Some(var) if self.unknown.contains_key(var) => Err(format!(
                "its value on line {line} reads {var}, which is not known either"
            )),
            Some(var) => Err(format!(
                "its value on line {line} reads {var}, which only a base image's ENV could set"
            )),
            None => Ok(expanded.value),
        }
    }

    /// The first unset variable whose value may yet be set: one with a known reason, or, in a
    /// family built on an image, any (the image's ENV may set it).
    fn first_unknown<'s>(&self, unset: &'s BTreeSet<String>) -> Option<&'s str> {
        let pending = unset.iter().find(|v| self.unknown.contains_key(*v));
        pending
            .or_else(|| unset.iter().next().filter(|_| self.from_image))
            .map(String::as_str)
    }

    /// Expands a `--from`/`from=` word (`flag` as written, e.g. `--from`) to the stage or image
    /// name it picks; every variable it reads must be known, and the name must not be empty.
    pub(super) fn source_name(
        &self,
        flag: &str,
        word: &str,
        lexer: &Lexer,
    ) -> Result<String, String> {
        let what = format!("{flag}={word}");
        if let Some(why) = &self.opaque {
            return Err(format!(
                "{what}: variables are not known when stages are chosen: {why}"
            ));
        }
        let expanded = lexer
            .process_word(word, &self.vars)
            .map_err(|e| format!("{what}: {e}"))?;
        if let Some(var) = expanded.unmatched.iter().next() {
            return Err(match self.unknown.get(var) {
                Some(why) => format!("{what}: {var} is not known when stages are chosen: {why}"),
                None if self.from_image => format!(
                    "{what}: {var} is not set by a build arg, ARG or ENV of the Dockerfile before this line; ENV from a base image is not known when stages are chosen"
                ),
                None => format!(
                    "{what}: {var} is not set by a build arg, ARG or ENV of the Dockerfile before this line"
                ),
            });
        }
        if expanded.value.is_empty() {
            return Err(format!(
                "{what} names no stage or image (it expands to nothing)"
            ));
        }
        Ok(expanded.value)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Source, StageGraph};

    /// The graph of `dockerfile` with `build_args`; a global ARG `G=g` stands for the meta ARGs.
    fn graph(dockerfile: &str, build_args: &[(&str, &str)]) -> Result<StageGraph, String> {
        crate::stages::test_graph(dockerfile, &[("G", "g")], build_args).map_err(|e| {
            format!(
                "{}: {}",
                e.ranges.first().map_or(0, |r| r.start_line),
                e.message
            )
        })
    }

    /// What the last stage's first `--from`/`from=` reads, and whether the other stages run.
    fn chosen(
        dockerfile: &str,
        build_args: &[(&str, &str)],
    ) -> Result<(Source, Vec<bool>), String> {
        let g = graph(dockerfile, build_args)?;
        let last = g.stages.len() - 1;
        let dep = g.dependencies[last].first().expect("a dependency");
        Ok((dep.source.clone(), g.reachable.clone()))
    }

    const TWO: &str = "FROM busybox AS a\nFROM busybox AS b\n";

    #[test]
    fn a_stage_arg_picks_the_stage_and_prunes_the_other() {
        let df = format!("{TWO}FROM scratch\nARG SRC=a\nCOPY --from=$SRC / /\n");
        let (source, reachable) = chosen(&df, &[]).unwrap();
        assert_eq!(
            (source, reachable),
            (Source::Stage(0), vec![true, false, true])
        );
        let (source, reachable) = chosen(&df, &[("SRC", "b")]).unwrap();
        assert_eq!(
            (source, reachable),
            (Source::Stage(1), vec![false, true, true])
        );
        // A build arg nothing declares is not visible.
        let df = format!("{TWO}FROM scratch\nCOPY --from=${{SRC:-a}} / /\n");
        assert!(chosen(&df, &[("SRC", "b")])
            .unwrap_err()
            .contains("SRC is not set"));
    }

    #[test]
    fn arg_values_follow_the_reference() {
        // Without a default or build arg, an ARG takes the global ARG's value.
        let df = "FROM busybox AS g\nFROM scratch\nARG G\nCOPY --from=$G / /\n";
        assert_eq!(chosen(df, &[]).unwrap().0, Source::Stage(0));
        // A default is expanded in the stage's scope; a declared build arg wins over it.
        let df = format!("{TWO}FROM scratch\nENV P=a\nARG SRC=${{P}}\nCOPY --from=$SRC / /\n");
        assert_eq!(chosen(&df, &[]).unwrap().0, Source::Stage(0));
        assert_eq!(chosen(&df, &[("SRC", "b")]).unwrap().0, Source::Stage(1));
        // BuildKit's own ARGs never reach the environment.
        let df = "FROM scratch\nARG BUILDKIT_SBOM_SCAN_STAGE=x\nCOPY --from=$BUILDKIT_SBOM_SCAN_STAGE / /\n";
        assert!(chosen(df, &[]).unwrap_err().contains("is not set"));
    }

    #[test]
    fn env_carries_into_stages_built_on_the_stage() {
        let df = format!(
            "{TWO}FROM scratch AS p\nENV SRC=b\nFROM p\nRUN --mount=from=$SRC,target=/m x\n"
        );
        assert_eq!(chosen(&df, &[]).unwrap().0, Source::Stage(1));
        // So do ARG values when the family starts from scratch (no image ENV to replace them).
        let df = format!("{TWO}FROM scratch AS p\nARG SRC=b\nFROM p\nCOPY --from=$SRC / /\n");
        assert_eq!(chosen(&df, &[]).unwrap().0, Source::Stage(1));
        // A base stage's ONBUILD triggers run first.
        let df =
            format!("{TWO}FROM scratch AS p\nONBUILD ENV SRC=a\nFROM p\nCOPY --from=$SRC / /\n");
        assert_eq!(chosen(&df, &[]).unwrap().0, Source::Stage(0));
    }

    #[test]
    fn what_an_image_may_set_is_refused_at_its_line() {
        let df = format!("{TWO}FROM busybox\nRUN true\nCOPY --from=$SRC / /\n");
        assert_eq!(
            chosen(&df, &[]).unwrap_err(),
            "5: --from=$SRC: SRC is not set by a build arg, ARG or ENV of the Dockerfile before \
             this line; ENV from a base image is not known when stages are chosen"
        );
        let df = format!("{TWO}FROM busybox\nENV SRC=${{PREFIX}}a\nRUN --mount=from=$SRC x\n");
        assert_eq!(
            chosen(&df, &[]).unwrap_err(),
            "5: from=$SRC: SRC is not known when stages are chosen: its value on line 4 reads \
             PREFIX, which only a base image's ENV could set"
        );
        let df = format!("{TWO}FROM busybox AS p\nARG SRC=a\nFROM p\nCOPY --from=$SRC / /\n");
        assert!(chosen(&df, &[]).unwrap_err().contains(
            "stage \"p\" sets it with ARG, and a stage built on it applies the base image's ENV again"
        ));
        // From scratch an unset variable is known to be unset, but still names nothing.
        let df = format!("{TWO}FROM scratch\nCOPY --from=$SRC / /\n");
        assert_eq!(
            chosen(&df, &[]).unwrap_err(),
            "4: --from=$SRC: SRC is not set by a build arg, ARG or ENV of the Dockerfile before this line"
        );
        let df = format!("{TWO}FROM scratch\nARG SRC=\nCOPY --from=$SRC / /\n");
        assert!(chosen(&df, &[])
            .unwrap_err()
            .ends_with("names no stage or image (it expands to nothing)"));
    }

    #[test]
    fn literal_names_are_taken_as_written() {
        let (source, _) = chosen(&format!("{TWO}FROM scratch\nCOPY --from=b / /\n"), &[]).unwrap();
        assert_eq!(source, Source::Stage(1));
        let g = graph("FROM scratch\nRUN --mount=from=img$,target=/m x\n", &[]).unwrap();
        let dep = &g.dependencies[0][0];
        assert_eq!(
            (&dep.source, &dep.expanded),
            (&Source::Image("img$".into()), &None)
        );
        // An expanded name may also be an image or a stage index.
        let df = format!("{TWO}FROM scratch\nARG SRC=alpine\nCOPY --from=$SRC / /\n");
        assert_eq!(chosen(&df, &[]).unwrap().0, Source::Image("alpine".into()));
        assert_eq!(chosen(&df, &[("SRC", "1")]).unwrap().0, Source::Stage(1));
    }
}

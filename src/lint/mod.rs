//! BuildKit's Dockerfile linter (the reference's `linter` package): a rule table, the
//! `# check=` directive (`skip=`, `error=`, `experimental=`) or the `BUILDKIT_DOCKERFILE_CHECK`
//! build arg in its place, `# check=` comments above an instruction (`comments`), and a
//! `Linter` that collects the warnings each phase detects. With `error=true` any warning fails
//! the build after conversion.
//!
//! Detections live beside the facts they need: `parsed` reads syntax nodes and the stage list,
//! `stages` walks the reachable stages as the reference's dispatch does; conversion pushes the
//! few that need expanded words.

pub mod comments;
pub mod parsed;
pub mod rules;
pub mod stages;

pub use rules::Rule;

use std::collections::BTreeMap;

use crate::syntax::SourceRange;

/// One warning, as the reference hands it to BuildKit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub rule: &'static str,
    pub message: String,
    pub description: &'static str,
    pub url: &'static str,
    pub ranges: Vec<SourceRange>,
}

impl Warning {
    /// The reference's `LintFormatShort`: `Rule: message (line N)`.
    pub fn short(&self) -> String {
        match self.start_line() {
            0 => format!("{}: {}", self.rule, self.message),
            line => format!("{}: {} (line {line})", self.rule, self.message),
        }
    }

    /// The first range's first line, 0 when the warning has no location.
    pub fn start_line(&self) -> usize {
        self.ranges.first().map_or(0, |r| r.start_line)
    }
}

/// A detection not yet filtered by the check directive (conversion collects these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    pub ranges: Vec<SourceRange>,
    pub message: String,
    /// The first line of the instruction whose `# check=` comments apply, if any.
    pub scope: Option<usize>,
}

/// A `# check=` value the reference rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("failed to parse check options: {}", self.reason())]
    InvalidOption(String),
    #[error("failed to parse check options: {}", self.reason())]
    InvalidBool { option: String, value: String },
}

impl CheckError {
    /// What is wrong with the value (`ParseLintOptions`' own words), without saying where it
    /// came from.
    pub fn reason(&self) -> String {
        match self {
            CheckError::InvalidOption(o) => format!("invalid check option {o:?}"),
            CheckError::InvalidBool { option, value } => format!(
                "failed to parse check option {option:?}: strconv.ParseBool: parsing {value:?}: invalid syntax"
            ),
        }
    }
}

/// The `# check=` directive's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub skip_all: bool,
    pub skip: Vec<String>,
    pub experimental_all: bool,
    pub experimental: Vec<String>,
    pub error: bool,
}

impl Config {
    /// Parses the directive's value the way the reference's `ParseLintOptions` does.
    pub fn parse(check: &str) -> Result<Config, CheckError> {
        let mut config = Config::default();
        let check = check.trim();
        if check.is_empty() {
            return Ok(config);
        }
        // Go's SplitN(.., 3): a third part keeps any further `;`.
        for part in check.splitn(3, ';') {
            let Some((key, value)) = part.split_once('=') else {
                return Err(CheckError::InvalidOption(part.to_string()));
            };
            let value = value.trim();
            match key.trim() {
                "skip" => set_list(value, &mut config.skip_all, &mut config.skip),
                "experimental" => set_list(
                    value,
                    &mut config.experimental_all,
                    &mut config.experimental,
                ),
                "error" => {
                    config.error =
                        crate::instructions::goconv::parse_bool(value).ok_or_else(|| {
                            CheckError::InvalidBool {
                                option: part.to_string(),
                                value: value.to_string(),
                            }
                        })?
                }
                other => return Err(CheckError::InvalidOption(other.to_string())),
            }
        }
        Ok(config)
    }
}

fn set_list(value: &str, all: &mut bool, list: &mut Vec<String>) {
    if value == "all" {
        *all = true;
    } else {
        *list = value.split(',').map(|r| r.trim().to_string()).collect();
    }
}

/// Collects warnings, honouring the check directive and the `# check=` comments above each
/// instruction (which add rules to skip or enable for that instruction's rules only).
#[derive(Debug, Clone, Default)]
pub struct Linter {
    config: Config,
    /// By an instruction's first line: what its comments add to the directive.
    scoped: BTreeMap<usize, Config>,
    warnings: Vec<Warning>,
}

impl Linter {
    pub fn new(config: Config) -> Self {
        Linter {
            config,
            scoped: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Records the `# check=` comment of an instruction starting at `line`, if it has one.
    pub fn add_scope(&mut self, line: usize, comments: &[String]) {
        if let Some(config) = comments::check_comment(comments) {
            self.scoped.insert(line, config);
        }
    }

    /// A linter configured by the Dockerfile's own `# check=` directive, if any. As for every
    /// directive the reference reads, its value ends at the first space.
    pub fn from_directive(check: Option<&str>) -> Result<Self, CheckError> {
        let value = check.unwrap_or("").split(' ').next().unwrap_or("");
        Ok(Linter::new(Config::parse(value)?))
    }

    fn enabled(&self, rule: &Rule, scope: Option<usize>) -> bool {
        let scoped = scope.and_then(|line| self.scoped.get(&line));
        let mut configs = std::iter::once(&self.config).chain(scoped);
        let named = |list: &[String]| list.iter().any(|r| r == rule.name);
        if rule.experimental {
            configs.any(|c| c.experimental_all || named(&c.experimental))
        } else {
            !configs.any(|c| c.skip_all || named(&c.skip))
        }
    }

    /// Records a warning of `rule` at `ranges`, unless the directive turns the rule off.
    pub fn run(&mut self, rule: &'static Rule, ranges: Vec<SourceRange>, message: String) {
        self.run_in(None, rule, ranges, message);
    }

    /// [`Self::run`] for a rule of the instruction starting at line `scope`, whose own
    /// `# check=` comment also applies.
    pub fn run_in(
        &mut self,
        scope: Option<usize>,
        rule: &'static Rule,
        ranges: Vec<SourceRange>,
        message: String,
    ) {
        if !self.enabled(rule, scope) {
            return;
        }
        self.warnings.push(Warning {
            rule: rule.name,
            message,
            description: rule.description,
            url: rule.url,
            ranges,
        });
    }

    /// Records findings conversion collected, in order.
    pub fn run_all(&mut self, findings: impl IntoIterator<Item = Finding>) {
        for f in findings {
            self.run_in(f.scope, f.rule, f.ranges, f.message);
        }
    }

    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// With `error=true` and at least one warning: the reference's build failure, rules sorted
    /// and listed once.
    pub fn error(&self) -> Option<String> {
        if !self.config.error || self.warnings.is_empty() {
            return None;
        }
        let mut names: Vec<&str> = self.warnings.iter().map(|w| w.rule).collect();
        names.sort_unstable();
        names.dedup();
        Some(format!(
            "lint violation found for rules: {}",
            names.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_directive() {
        let c = Config::parse("skip=A,B;error=true").unwrap_or_default();
        assert_eq!(c.skip, vec!["A", "B"]);
        assert!(c.error);
        let c = Config::parse(" skip=all ; experimental=all").unwrap_or_default();
        assert!(c.skip_all && c.experimental_all);
        assert_eq!(
            Config::parse("foo").map_err(|e| e.to_string()),
            Err("failed to parse check options: invalid check option \"foo\"".into())
        );
        assert_eq!(
            Config::parse("bar=1").map_err(|e| e.to_string()),
            Err("failed to parse check options: invalid check option \"bar\"".into())
        );
        assert!(Config::parse("error=yes").is_err());
    }

    #[test]
    fn skipped_rules_are_not_recorded() {
        let mut l =
            Linter::from_directive(Some("skip=FromAsCasing;error=true")).unwrap_or_default();
        l.run(&rules::FROM_AS_CASING, vec![], "x".into());
        assert_eq!(l.error(), None);
        l.run(&rules::MAINTAINER_DEPRECATED, vec![], "y".into());
        l.run(&rules::DUPLICATE_STAGE_NAME, vec![], "z".into());
        assert_eq!(
            l.error().as_deref(),
            Some("lint violation found for rules: DuplicateStageName, MaintainerDeprecated")
        );
    }
}

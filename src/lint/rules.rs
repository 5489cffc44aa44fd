//! The rule table: names, descriptions and documentation URLs exactly as the reference's
//! `linter/ruleset.go` (dockerfile/1.26.0) has them. Messages are formatted at the detection site.

/// One lint rule.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub description: &'static str,
    /// Empty for rules the reference gives no documentation page.
    pub url: &'static str,
    /// Experimental rules run only when `# check=experimental=` names them (or `all`).
    pub experimental: bool,
}

const fn rule(name: &'static str, description: &'static str, url: &'static str) -> Rule {
    Rule {
        name,
        description,
        url,
        experimental: false,
    }
}

#[cfg(test)]
const DOCS: &str = "https://docs.docker.com/go/dockerfile/rule/";

macro_rules! url {
    ($slug:literal) => {
        concat!("https://docs.docker.com/go/dockerfile/rule/", $slug, "/")
    };
}

pub static STAGE_NAME_CASING: Rule = rule(
    "StageNameCasing",
    "Stage names should be lowercase",
    url!("stage-name-casing"),
);
pub static FROM_AS_CASING: Rule = rule(
    "FromAsCasing",
    "The 'as' keyword should match the case of the 'from' keyword",
    url!("from-as-casing"),
);
pub static NO_EMPTY_CONTINUATION: Rule = rule(
    "NoEmptyContinuation",
    "Empty continuation lines will become errors in a future release",
    url!("no-empty-continuation"),
);
pub static CONSISTENT_INSTRUCTION_CASING: Rule = rule(
    "ConsistentInstructionCasing",
    "All commands within the Dockerfile should use the same casing (either upper or lower)",
    url!("consistent-instruction-casing"),
);
pub static DUPLICATE_STAGE_NAME: Rule = rule(
    "DuplicateStageName",
    "Stage names should be unique",
    url!("duplicate-stage-name"),
);
pub static RESERVED_STAGE_NAME: Rule = rule(
    "ReservedStageName",
    "Reserved words should not be used as stage names",
    url!("reserved-stage-name"),
);
pub static JSON_ARGS_RECOMMENDED: Rule = rule(
    "JSONArgsRecommended",
    "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
    url!("json-args-recommended"),
);
pub static MAINTAINER_DEPRECATED: Rule = rule(
    "MaintainerDeprecated",
    "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
    url!("maintainer-deprecated"),
);
pub static UNDEFINED_ARG_IN_FROM: Rule = rule(
    "UndefinedArgInFrom",
    "FROM command must use declared ARGs",
    url!("undefined-arg-in-from"),
);
pub static WORKDIR_RELATIVE_PATH: Rule = rule(
    "WorkdirRelativePath",
    "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
    url!("workdir-relative-path"),
);
pub static UNDEFINED_VAR: Rule = rule(
    "UndefinedVar",
    "Variables should be defined before their use",
    url!("undefined-var"),
);
pub static MULTIPLE_INSTRUCTIONS_DISALLOWED: Rule = rule(
    "MultipleInstructionsDisallowed",
    "Multiple instructions of the same type should not be used in the same stage",
    url!("multiple-instructions-disallowed"),
);
pub static LEGACY_KEY_VALUE_FORMAT: Rule = rule(
    "LegacyKeyValueFormat",
    "Legacy key/value format with whitespace separator should not be used",
    url!("legacy-key-value-format"),
);
pub static REDUNDANT_TARGET_PLATFORM: Rule = rule(
    "RedundantTargetPlatform",
    "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
    url!("redundant-target-platform"),
);
pub static SECRETS_USED_IN_ARG_OR_ENV: Rule = rule(
    "SecretsUsedInArgOrEnv",
    "Sensitive data should not be used in the ARG or ENV commands",
    url!("secrets-used-in-arg-or-env"),
);
pub static FROM_PLATFORM_FLAG_CONST_DISALLOWED: Rule = rule(
    "FromPlatformFlagConstDisallowed",
    "FROM --platform flag should not use a constant value",
    url!("from-platform-flag-const-disallowed"),
);
pub static EXPOSE_PROTO_CASING: Rule = rule(
    "ExposeProtoCasing",
    "Protocol in EXPOSE instruction should be lowercase",
    url!("expose-proto-casing"),
);
pub static EXPOSE_INVALID_FORMAT: Rule = rule(
    "ExposeInvalidFormat",
    "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
    url!("expose-invalid-format"),
);

pub static INVALID_DEFAULT_ARG_IN_FROM: Rule = rule(
    "InvalidDefaultArgInFrom",
    "Default value for global ARG results in an empty or invalid base image name",
    url!("invalid-default-arg-in-from"),
);
/// The reference gives this rule no documentation page.
pub static INVALID_BASE_IMAGE_PLATFORM: Rule = rule(
    "InvalidBaseImagePlatform",
    "Base image platform does not match expected target platform",
    "",
);

/// On by default since dockerfile 1.21.
pub static COPY_IGNORED_FILE: Rule = rule(
    "CopyIgnoredFile",
    "Attempting to Copy file that is excluded by .dockerignore",
    url!("copy-ignored-file"),
);
pub static INVALID_DEFINITION_DESCRIPTION: Rule = Rule {
    name: "InvalidDefinitionDescription",
    description: "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.",
    url: url!("invalid-definition-description"),
    experimental: true,
};

/// Every rule mstage detects, for listings and tests.
pub static ALL: [&Rule; 22] = [
    &STAGE_NAME_CASING,
    &FROM_AS_CASING,
    &NO_EMPTY_CONTINUATION,
    &CONSISTENT_INSTRUCTION_CASING,
    &DUPLICATE_STAGE_NAME,
    &RESERVED_STAGE_NAME,
    &JSON_ARGS_RECOMMENDED,
    &MAINTAINER_DEPRECATED,
    &UNDEFINED_ARG_IN_FROM,
    &WORKDIR_RELATIVE_PATH,
    &UNDEFINED_VAR,
    &MULTIPLE_INSTRUCTIONS_DISALLOWED,
    &LEGACY_KEY_VALUE_FORMAT,
    &REDUNDANT_TARGET_PLATFORM,
    &SECRETS_USED_IN_ARG_OR_ENV,
    &FROM_PLATFORM_FLAG_CONST_DISALLOWED,
    &EXPOSE_PROTO_CASING,
    &EXPOSE_INVALID_FORMAT,
    &INVALID_DEFAULT_ARG_IN_FROM,
    &INVALID_BASE_IMAGE_PLATFORM,
    &COPY_IGNORED_FILE,
    &INVALID_DEFINITION_DESCRIPTION,
];

#[cfg(test)]
mod tests {
    #[test]
    fn urls_follow_the_docs_pattern() {
        for rule in super::ALL {
            if rule.name == "InvalidBaseImagePlatform" {
                assert!(rule.url.is_empty());
                continue;
            }
            assert!(rule.url.starts_with(super::DOCS), "{}", rule.name);
        }
    }
}

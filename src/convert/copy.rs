//! COPY and ADD: one file op whose copy actions read the build context, another stage, an image,
//! inline heredoc files or URLs (BuildKit's `dispatchCopy`). `--link` copies onto scratch and
//! merges the result, so the layer does not depend on what it lands on.

use super::dispatch::{push_all, DispatchResult};
use super::git::{git_state, parse_git_ref, GitSettings, GitSource};
use super::names::uppercase_keyword;
use super::paths;
use super::stage::{Converter, StageState};
use super::ConvertError;
use crate::instructions::{AddInstruction, CopyInstruction, SourcesAndDest};
use crate::llb::{self, Chmod, Constraints, CopyInput, CopyOptions, FileAction, State};
use crate::stages::Source;
use crate::syntax::SourceRange;

/// What differs between COPY and ADD once their flags are read.
struct CopySpec<'a> {
    is_add: bool,
    /// The stage and step, for lint findings.
    step: (usize, usize),
    code: &'a str,
    range: SourceRange,
    sources: &'a SourcesAndDest,
    /// Where local source paths are read: the context, or the `--from` stage or image.
    from: State,
    from_context: bool,
    chown: &'a str,
    chmod: &'a str,
    link: bool,
    /// `COPY --parents`.
    parents: bool,
    exclude_patterns: &'a [String],
    checksum: &'a str,
    keep_git_dir: Option<bool>,
    unpack: Option<bool>,
}

impl Converter<'_> {
    pub(super) fn copy(
        &mut self,
        stage: usize,
        index: usize,
        st: &mut StageState,
        c: &CopyInstruction,
    ) -> DispatchResult {
        let (from, from_context) = if c.from.is_empty() {
            (self.context.clone(), true)
        } else {
            let found = self.graph.dependencies[stage]
                .iter()
                .find(|d| d.instruction == index);
            let expanded = found.and_then(|d| d.expanded.clone());
            let dep = found.map(|d| d.source.clone()).unwrap_or(Source::Scratch);
            if let Some(chosen) = &expanded {
                let here = self
                    .expand(st, &c.from)
                    .map_err(|m| ConvertError::at(m, c.range))?;
                check_chosen("--from", &c.from, chosen, &here)
                    .map_err(|m| ConvertError::at(m, c.range))?;
            }
            if let Source::Stage(s) = dep {
                if s >= stage {
                    return Err(ConvertError::at(
                        format!(
                            "cannot copy from stage {:?}, it needs to be defined before current stage {:?}",
                            expanded.as_deref().unwrap_or(&c.from),
                            self.graph.stages[stage].display_name()
                        ),
                        c.range,
                    ));
                }
            }
            (
                self.source_state(&dep, Some(c.range), &c.sources.source_paths)
                    .map_err(|m| ConvertError::at(m, c.range))?,
                false,
            )
        };
        self.copy_files(
            st,
            CopySpec {
                is_add: false,
                step: (stage, index),
                code: &c.code,
                range: c.range,
                sources: &c.sources,
                from,
                from_context,
                chown: &c.chown,
                chmod: &c.chmod,
                link: c.link,
                parents: c.parents,
                exclude_patterns: &c.exclude_patterns,
                checksum: "",
                keep_git_dir: None,
                unpack: None,
            },
        )
    }

    pub(super) fn add(
        &mut self,
        stage: usize,
        index: usize,
        st: &mut StageState,
        c: &AddInstruction,
    ) -> DispatchResult {
        self.copy_files(
            st,
            CopySpec {
                is_add: true,
                step: (stage, index),
                code: &c.code,
                range: c.range,
                sources: &c.sources,
                from: self.context.clone(),
                from_context: true,
                chown: &c.chown,
                chmod: &c.chmod,
                link: c.link,
                parents: false,
                exclude_patterns: &c.exclude_patterns,
                checksum: &c.checksum,
                keep_git_dir: c.keep_git_dir,
                unpack: c.unpack,
            },
        )
    }

    fn copy_files(&mut self, st: &mut StageState, spec: CopySpec) -> DispatchResult {
        let err = |m: String| ConvertError::at(m, spec.range);
        let dest = paths::relative_to_workdir(st.state.get_dir(), &spec.sources.dest_path);
        let mode = parse_chmod(spec.chmod).map_err(err)?;
        check_checksum(&spec).map_err(err)?;
        let owner = Some(spec.chown)
            .filter(|c| !c.is_empty())
            .map(llb::Chown::parse);
        let base_opts = CopyOptions {
            mode: mode.clone(),
            create_dest_path: true,
            owner,
            exclude_patterns: spec.exclude_patterns.to_vec(),
            ..Default::default()
        };
        let name = uppercase_keyword(&self.expand_for_name(st, spec.code, false));
        let step_name = st.steps.next(&name, false);
        let mut message = String::from(if spec.is_add { "ADD" } else { "COPY" });
        if spec.parents {
            message.push_str(" --parents");
        }
        if !spec.chown.is_empty() {
            push_all(&mut message, &[" --chown=", spec.chown]);
        }
        if !spec.chmod.is_empty() {
            push_all(&mut message, &[" --chmod=", spec.chmod]);
        }
        let mut git_settings = GitSettings {
            keep_git_dir: spec.keep_git_dir,
            checksum: spec.checksum.to_string(),
        };
        let mut chain: Option<FileAction> = None;
        let mut push = |input: CopyInput, src: &str, opts: CopyOptions| {
            chain = Some(match &chain {
                None => llb::copy(input, src, &dest, opts),
                Some(a) => a.copy(input, src, &dest, opts),
            });
        };
        for src in &spec.sources.source_paths {
            push_all(&mut message, &[" ", src]);
            match parse_git_ref(src) {
                GitSource::Invalid(e) => return Err(err(e)),
                GitSource::Git(r) if !r.indistinguishable_from_local => {
                    if !spec.is_add {
                        return Err(err("source can't be a git ref for COPY".into()));
                    }
                    let git = git_state(&r, &mut git_settings, &step_name).map_err(err)?;
                    if !is_http_url(src) {
                        // The reference records every ADD source that is not an http(s)
                        // URL as a context path, git remotes included.
                        self.context_paths.insert(paths::join("/", src));
                    }
                    push(CopyInput::from(&git), "/", base_opts.clone());
                    continue;
                }
                _ => {}
            }
            if is_http_url(src) {
                if !spec.is_add {
                    return Err(err("source can't be a URL for COPY".into()));
                }
                let filename = url_filename(src);
                let checksum = git_settings.checksum.as_str();
                if !checksum.is_empty() {
                    check_digest(checksum).map_err(|m| err(m.into()))?;
                }
                let http = llb::http_with(
                    src,
                    llb::HttpOptions {
                        checksum: Some(checksum.to_string()).filter(|c| !c.is_empty()),
                        filename: Some(filename.clone()),
                        constraints: Constraints::new()
                            .custom_name(step_name.clone())
                            .description("com.docker.dockerfile.v1.command", ""),
                        ..Default::default()
                    },
                );
                let opts = CopyOptions {
                    attempt_unpack: spec.unpack.unwrap_or(false),
                    ..base_opts.clone()
                };
                push(CopyInput::from(&http), &filename, opts);
                continue;
            }
            if spec.from_context {
                self.check_ignored(st, &spec, src);
                self.context_paths.insert(paths::join("/", src));
            }
            let local = if spec.parents {
                parents_source(src)
            } else {
                LocalSource {
                    dir: paths::normalize("/", src, false),
                    include_patterns: Vec::new(),
                    required_paths: Vec::new(),
                }
            };
            let opts = CopyOptions {
                follow_symlinks: true,
                dir_contents_only: true,
                include_patterns: local.include_patterns,
                required_paths: local.required_paths,
                attempt_unpack: spec.unpack.unwrap_or(spec.is_add),
                allow_wildcard: true,
                allow_empty_wildcard: true,
                ..base_opts.clone()
            };
            push(CopyInput::from(&spec.from), &local.dir, opts);
        }
        for content in &spec.sources.source_contents {
            push_all(&mut message, &[" <<", &content.path]);
            let inline = llb::scratch().file(
                &llb::mkfile(
                    &content.path,
                    0o644,
                    content.data.clone().into_bytes(),
                    Default::default(),
                ),
                self.internal_constraints(st, "preparing inline document"),
            );
            push(CopyInput::from(&inline), &content.path, base_opts.clone());
        }
        push_all(&mut message, &[" ", &spec.sources.dest_path]);
        let Some(chain) = chain else {
            return Err(err(format!("{} requires at least two arguments", message)));
        };
        let mut constraints = Constraints::new()
            .custom_name(step_name.clone())
            .location(&self.source_map, super::stage::line_ranges(spec.range));
        if st.ignore_cache {
            constraints = constraints.ignore_cache();
        }
        let merge_supported = self
            .opts
            .llb_caps
            .as_ref()
            .is_some_and(|caps| caps.contains(llb::caps::MERGE_OP));
        st.state = if merge_supported && spec.link && spec.chmod.is_empty() {
            self.linked_copy(st, &chain, constraints, &step_name, &name)
        } else {
            st.state.file(&chain, constraints)
        };
        st.commit(message, true, true);
        Ok(())
    }

    /// `--link`: the copy runs on scratch and is merged onto the stage.
    fn linked_copy(
        &self,
        st: &mut StageState,
        chain: &FileAction,
        constraints: Constraints,
        step_name: &str,
        name: &str,
    ) -> State {
        // The reference uses a random group id; any id unique within the build does, and
        // the platforms of a multi-platform build are one build.
        let group = format!(
            "{}{}-{}",
            st.steps.platform, st.steps.stage_name, st.steps.index
        );
        st.steps.index -= 1;
        let link_name = st.steps.next(&format!("LINK {name}"), false);
        let mut copy_constraints = constraints.clone().progress_group(&group, step_name, true);
        copy_constraints.platform = Some(st.op_platform.clone());
        let copied = llb::scratch().file(chain, copy_constraints);
        llb::merge(
            &[st.state.clone(), copied],
            constraints
                .progress_group(&group, step_name, false)
                .custom_name(link_name),
        )
        .reset(&st.state)
    }
}

/// What a copy of a local (context, stage or image) source reads.
struct LocalSource {
    dir: String,
    include_patterns: Vec<String>,
    required_paths: Vec<String>,
}

/// `COPY --parents`: the source splits at its first `/./` (without one, at the root) into the
/// directory read and an include pattern below it, so the directories the pattern walks
/// through are recreated at the destination. A path without wildcards must exist.
fn parents_source(src: &str) -> LocalSource {
    let (parent, pattern) = src.split_once("/./").unwrap_or(("/", src));
    let pattern = paths::normalize("/", pattern, false);
    let required_paths = if contains_wildcards(parent) || contains_wildcards(&pattern) {
        Vec::new()
    } else {
        let joined = llb::path::join(&[parent, &pattern]);
        vec![paths::normalize("/", &joined, false)]
    };
    LocalSource {
        dir: paths::normalize("/", parent, false),
        include_patterns: vec![pattern.strip_prefix('/').unwrap_or(&pattern).to_string()],
        required_paths,
    }
}

/// Whether a path has glob characters outside backslash escapes (`containsWildcards`).
fn contains_wildcards(name: &str) -> bool {
    let mut bytes = name.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'*' | b'?' | b'[' => return true,
            b'\\' => {
                bytes.next();
            }
            _ => {}
        }
    }
    false
}

/// `--chmod`: octal up to 07777, or a symbolic mode (`u+x,g-w`).
impl Converter<'_> {
    /// CopyIgnoredFile: a source from the build context that `.dockerignore` excludes.
    fn check_ignored(&mut self, st: &StageState, spec: &CopySpec, src: &str) {
        let src = paths::clean(src);
        if !self.ignore.as_ref().is_some_and(|m| m.ignores(&src)) {
            return;
        }
        let command = if spec.is_add { "Add" } else { "Copy" };
        let finding = crate::lint::Finding {
            rule: &crate::lint::rules::COPY_IGNORED_FILE,
            ranges: vec![spec.range],
            message: format!(
                "Attempting to {command} file {src:?} that is excluded by .dockerignore"
            ),
            scope: (!st.steps.onbuild).then_some(spec.range.start_line),
        };
        let (stage, index) = spec.step;
        self.lint_findings.push(((stage, index, 1), finding));
    }
}

fn parse_chmod(chmod: &str) -> Result<Option<Chmod>, String> {
    if chmod.is_empty() {
        return Ok(None);
    }
    let bad = || {
        format!(
            "invalid chmod parameter: '{chmod}'. it should be octal string and between 0 and 07777"
        )
    };
    if chmod.starts_with(|c: char| c.is_ascii_digit()) {
        return match u32::from_str_radix(chmod, 8) {
            Ok(m) if m <= 0o7777 => Ok(Some(Chmod::Mode(m))),
            _ => Err(bad()),
        };
    }
    let valid_clause = |clause: &str| {
        let ops = clause.trim_start_matches(['u', 'g', 'o', 'a']);
        !ops.is_empty()
            && ops.starts_with(['+', '-', '='])
            && ops.chars().all(|c| "+-=rwxXstugo".contains(c))
    };
    if chmod.split(',').all(valid_clause) {
        Ok(Some(Chmod::Str(chmod.to_string())))
    } else {
        Err(format!("invalid mode: {chmod}"))
    }
}

fn check_checksum(spec: &CopySpec) -> Result<(), String> {
    if spec.checksum.is_empty() {
        return Ok(());
    }
    if !spec.is_add {
        return Err("checksum can't be specified for COPY".into());
    }
    match spec.sources.source_paths.as_slice() {
        [one] if is_http_url(one) || parse_git_ref(one).is_git() => Ok(()),
        [_] => Err("checksum requires HTTP(S) or Git sources".into()),
        _ => Err("checksum can't be specified for multiple sources".into()),
    }
}

/// `digest.Parse`: `algorithm:hex` with a known algorithm and the right length.
pub(super) fn check_digest(d: &str) -> Result<(), &'static str> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err("invalid checksum digest format");
    };
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        a if !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b)) =>
        {
            return Err("unsupported digest algorithm")
        }
        _ => return Err("invalid checksum digest format"),
    };
    if hex.len() != len {
        return Err("invalid checksum digest length");
    }
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("invalid checksum digest format");
    }
    Ok(())
}

/// An http(s) URL, as the reference tells remote sources from local paths.
pub fn is_http_url(src: &str) -> bool {
    src.starts_with("http://") || src.starts_with("https://")
}

/// The file name an ADD of a URL saves under (`path.Base` of the URL's path).
fn url_filename(url: &str) -> String {
    let path = url
        .split_once("://")
        .map(|(_, rest)| rest.split_once('/').map_or("", |(_, p)| p))
        .unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    match path.trim_end_matches('/').rsplit('/').next() {
        Some(base) if !base.is_empty() && base != "." => base.to_string(),
        _ => "__unnamed__".to_string(),
    }
}

/// A `--from`/`from=` word that reads variables must name here what it named when stages were
/// chosen: that choice decided what was resolved and what was pruned.
pub(super) fn check_chosen(flag: &str, word: &str, chosen: &str, here: &str) -> Result<(), String> {
    if chosen == here {
        return Ok(());
    }
    Err(format!(
        "{flag}={word} expands to {here:?} here but to {chosen:?} when stages were chosen \
         (a base image's ENV, a named context replacing a stage or an ONBUILD trigger changed a \
         variable it reads); \
         set the variable with ARG or ENV in the Dockerfile"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chmod_accepts_octal_and_symbolic_modes() {
        assert_eq!(parse_chmod("755"), Ok(Some(Chmod::Mode(0o755))));
        assert_eq!(
            parse_chmod("u+x,g-w"),
            Ok(Some(Chmod::Str("u+x,g-w".into())))
        );
        assert!(parse_chmod("10000").is_err());
        assert!(parse_chmod("64a").is_err());
        assert!(parse_chmod("z+q").is_err());
    }

    #[test]
    fn checksums_are_digests() {
        let hex = "f924f9de03dcbb7d617555ef2b4fdd500a63a55420b403d73636298e66483cc3";
        assert_eq!(check_digest(&format!("sha256:{hex}")), Ok(()));
        assert_eq!(check_digest(hex), Err("invalid checksum digest format"));
        assert_eq!(
            check_digest(&format!("md5:{hex}")),
            Err("unsupported digest algorithm")
        );
        assert_eq!(
            check_digest("sha256:abc"),
            Err("invalid checksum digest length")
        );
    }

    #[test]
    fn parents_pivot_at_the_first_dot_segment() {
        let cases: [(&str, &str, &str, &[&str]); 8] = [
            ("foo1/foo2/bar", "/", "foo1/foo2/bar", &["/foo1/foo2/bar"]),
            ("foo1/foo2/ba*", "/", "foo1/foo2/ba*", &[]),
            ("/test/a/b/./c/d", "/test/a/b", "c/d", &["/test/a/b/c/d"]),
            ("/test/a/./b/./c", "/test/a", "b/c", &["/test/a/b/c"]),
            ("./test/a/b/c/d", "/", "test/a/b/c/d", &["/test/a/b/c/d"]),
            ("/test/a/b/c/d/.", "/", "test/a/b/c/d/.", &["/test/a/b/c/d"]),
            ("/test/a/b*/./c/**/e", "/test/a/b*", "c/**/e", &[]),
            ("x/./", "/x", "", &["/x"]),
        ];
        for (src, dir, pattern, required) in cases {
            let got = parents_source(src);
            assert_eq!(got.dir, dir, "{src}");
            assert_eq!(got.include_patterns, [pattern], "{src}");
            assert_eq!(got.required_paths, required, "{src}");
        }
    }

    #[test]
    fn wildcards_outside_escapes() {
        assert!(contains_wildcards("a/*.txt"));
        assert!(contains_wildcards("a[bc]"));
        assert!(!contains_wildcards("a/\\*b"));
        assert!(!contains_wildcards("plain/path"));
    }

    #[test]
    fn url_file_names() {
        assert_eq!(
            url_filename("https://example.com/dir/file.tar?x=1"),
            "file.tar"
        );
        assert_eq!(url_filename("https://example.com/"), "__unnamed__");
        assert_eq!(url_filename("https://example.com"), "__unnamed__");
    }
}

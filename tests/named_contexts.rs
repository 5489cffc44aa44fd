//! Named contexts (`--build-context NAME=…`) of every kind through the real engine, each case
//! built with mstage and compared with what the reference 1.26 built from the same input.
//!
//! A case is a folder in tests/named_contexts/ holding a `Dockerfile` (no syntax line) and
//! `flags` (extra `buildx build` arguments, one a line), where these placeholders are replaced:
//! - `{case}`: a copy of the case folder, for local directory contexts (`{case}/dir`);
//! - `{git}`: `git://127.0.0.1:PORT/repo.git`, a repository served by `git daemon`, made from
//!   the case's `git/` folder: tag `v1` holds its files, `main` adds `after-v1.txt`;
//! - `{git-http}`: `http://127.0.0.1:PORT/repo.git`, the same repository as plain files over
//!   HTTP (git's "dumb" protocol), which BuildKit must recognize as git by its `.git`;
//! - `{http}`: `http://127.0.0.1:PORT`, serving the case's `http/` folder;
//! - `{oci}`: `oci-layout://<layout>@sha256:…`, an OCI layout built here from the case's
//!   `oci/` folder (a Dockerfile and its context) with the engine's own frontend, its times
//!   fixed (SOURCE_DATE_EPOCH=0, rewrite-timestamp) so its digest does not change.
//!
//! An optional `context/` folder is the main build context. `expected/` holds what the
//! reference gave: `llb.json`, the `--call=convertllb` answer canonicalized by
//! tests/common/llb.rs (with the ports, paths and layout digest above as placeholders);
//! `tree.txt`, the built file tree (modes, owners, contents; tests/common/tree.rs); and
//! `config.json`, the image config without timestamps. Layer diff ids are compared only for
//! cases without `{case}` or git inputs, whose files' times come from the client or the
//! checkout.
//!
//! A case with a `pending` file (saying what mstage does not do yet) is skipped with that reason
//! unless `MSTAGE_PENDING=1`; delete the file once mstage does it.
//!
//! Record with `MSTAGE_RECORD=1 cargo test --test named_contexts` (it builds with
//! `peer/dockerfile:1.26.0`, or `MSTAGE_REFERENCE_IMAGE`); review the diff. Needs the engine and
//! the image, like tests/e2e.rs, and git for cases using `{git}`.

mod common;

use common::docker::{buildx_build, engine_ready, frontend_image, missing, tail};
use common::serve::{git_available, make_tagged_repo, GitDaemon, HttpServer};

use std::path::{Path, PathBuf};

use serde_json::Value;

fn reference_image() -> String {
    std::env::var("MSTAGE_REFERENCE_IMAGE").unwrap_or_else(|_| "peer/dockerfile:1.26.0".into())
}

/// What a case's flags refer to, set up once for the case; the servers stop when it is dropped.
struct Inputs {
    work: PathBuf,
    case_copy: PathBuf,
    git: Option<GitDaemon>,
    git_http: Option<HttpServer>,
    http: Option<HttpServer>,
    oci: Option<(PathBuf, String)>,
}

impl Inputs {
    fn prepare(case_dir: &Path, work: &Path) -> Result<Inputs, String> {
        let case_copy = work.join("case");
        std::fs::create_dir_all(&case_copy).map_err(|e| e.to_string())?;
        common::docker::copy_context(case_dir, &case_copy);
        let mut inputs = Inputs {
            work: work.to_path_buf(),
            case_copy,
            git: None,
            git_http: None,
            http: None,
            oci: None,
        };
        if case_dir.join("git").is_dir() {
            let repos = work.join("repos");
            std::fs::create_dir_all(&repos).map_err(|e| e.to_string())?;
            make_tagged_repo(&case_dir.join("git"), &repos);
            inputs.git = Some(GitDaemon::start(&repos).ok_or("git daemon did not start")?);
            inputs.git_http = Some(HttpServer::start(&repos).ok_or("no http server")?);
        }
        if case_dir.join("http").is_dir() {
            let server = HttpServer::start(&case_dir.join("http")).ok_or("no http server")?;
            inputs.http = Some(server);
        }
        if case_dir.join("oci").is_dir() {
            inputs.oci = Some(build_layout(&case_dir.join("oci"), &work.join("layout"))?);
        }
        Ok(inputs)
    }

    fn expand(&self, flag: &str) -> String {
        let mut flag = flag.replace("{case}", &self.case_copy.display().to_string());
        if let Some(git) = &self.git {
            flag = flag.replace("{git}", &format!("git://127.0.0.1:{}/repo.git", git.port));
        }
        if let Some(server) = &self.git_http {
            let remote = format!("http://127.0.0.1:{}/repo.git", server.port);
            flag = flag.replace("{git-http}", &remote);
        }
        if let Some(http) = &self.http {
            flag = flag.replace("{http}", &format!("http://127.0.0.1:{}", http.port));
        }
        if let Some((layout, digest)) = &self.oci {
            flag = flag.replace(
                "{oci}",
                &format!("oci-layout://{}@{digest}", layout.display()),
            );
        }
        flag
    }

    /// What varies from run to run in a conversion, with the words that replace it.
    fn placeholders(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(git) = &self.git {
            out.push((format!("127.0.0.1:{}", git.port), "{git-host}".into()));
        }
        if let Some(server) = &self.git_http {
            out.push((
                format!("127.0.0.1:{}", server.port),
                "{git-http-host}".into(),
            ));
        }
        if let Some(http) = &self.http {
            out.push((format!("127.0.0.1:{}", http.port), "{http-host}".into()));
        }
        if let Some((_, digest)) = &self.oci {
            out.push((digest.clone(), "{oci-digest}".into()));
        }
        out.push((self.work.display().to_string(), "{work}".into()));
        out
    }
}

/// An OCI layout at `dest` built from `dir` with the engine's built-in frontend; its digest.
fn build_layout(dir: &Path, dest: &Path) -> Result<(PathBuf, String), String> {
    let out = buildx_build()
        .args(["--build-arg", "SOURCE_DATE_EPOCH=0"])
        .arg(format!(
            "--output=type=oci,tar=false,rewrite-timestamp=true,dest={}",
            dest.display()
        ))
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "OCI layout build: {}",
            tail(&String::from_utf8_lossy(&out.stderr))
        ));
    }
    Ok((dest.to_path_buf(), common::oci::top_digest(dest)?))
}

/// What one frontend made of a case.
#[derive(Debug, PartialEq)]
struct Outcome {
    llb: Value,
    tree: String,
    config: Value,
}

fn run_case(
    case_dir: &Path,
    inputs: &Inputs,
    frontend: &str,
    tag: &str,
) -> Result<Outcome, String> {
    let main = inputs.work.join(format!("main-{tag}"));
    std::fs::create_dir_all(&main).map_err(|e| e.to_string())?;
    common::docker::copy_context(&case_dir.join("context"), &main);
    common::docker::write_with_syntax(&case_dir.join("Dockerfile"), &main, frontend);
    let flags = std::fs::read_to_string(case_dir.join("flags")).unwrap_or_default();
    let flags: Vec<String> = flags
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| inputs.expand(l))
        .collect();

    let call = buildx_build()
        .arg("--call=convertllb")
        .args(&flags)
        .arg(&main)
        .output()
        .map_err(|e| e.to_string())?;
    let llb =
        common::llb::result_json(&String::from_utf8_lossy(&call.stdout)).ok_or_else(|| {
            format!(
                "convertllb gave no result.json: {}",
                tail(&String::from_utf8_lossy(&call.stderr))
            )
        })?;
    let llb = common::llb::canonical(&llb, &inputs.placeholders());

    let tar = inputs.work.join(format!("out-{tag}.tar"));
    let layout = inputs.work.join(format!("out-{tag}-oci"));
    let build = buildx_build()
        .args(&flags)
        .arg(format!("--output=type=tar,dest={}", tar.display()))
        .arg(format!(
            "--output=type=oci,tar=false,dest={}",
            layout.display()
        ))
        .arg(&main)
        .output()
        .map_err(|e| e.to_string())?;
    if !build.status.success() {
        return Err(format!(
            "build failed: {}",
            tail(&String::from_utf8_lossy(&build.stderr))
        ));
    }
    let tree = common::tree::listing(&tar, &inputs.work.join(format!("tree-{tag}")))?;
    let mut config = common::oci::config_without_times(&layout)?;
    let raw_flags = std::fs::read_to_string(case_dir.join("flags")).unwrap_or_default();
    if raw_flags.contains("{case}") || raw_flags.contains("{git") {
        if let Some(ids) = config["rootfs"]["diff_ids"].as_array_mut() {
            ids.iter_mut()
                .for_each(|id| *id = Value::String("(varies with file times)".into()));
        }
    }
    Ok(Outcome { llb, tree, config })
}

fn read_expected(dir: &Path) -> Result<Outcome, String> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).map_err(|e| format!("expected/{name}: {e}"))
    };
    let json = |name: &str| -> Result<Value, String> {
        serde_json::from_str(&read(name)?).map_err(|e| format!("expected/{name}: {e}"))
    };
    Ok(Outcome {
        llb: json("llb.json")?,
        tree: read("tree.txt")?,
        config: json("config.json")?,
    })
}

fn write_expected(dir: &Path, outcome: &Outcome) {
    std::fs::create_dir_all(dir).expect("expected/");
    let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("json") + "\n";
    std::fs::write(dir.join("llb.json"), pretty(&outcome.llb)).expect("write llb.json");
    std::fs::write(dir.join("tree.txt"), &outcome.tree).expect("write tree.txt");
    std::fs::write(dir.join("config.json"), pretty(&outcome.config)).expect("write config.json");
}

/// How `got` differs from `want`, one paragraph per part that differs.
fn differences(want: &Outcome, got: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    if want.llb != got.llb {
        out.push(format!(
            "LLB differs\n--- want\n{}\n--- got\n{}",
            pretty(&want.llb),
            pretty(&got.llb)
        ));
    }
    if want.tree != got.tree {
        out.push(format!(
            "file tree differs\n--- want\n{}--- got\n{}",
            want.tree, got.tree
        ));
    }
    // RUN and WORKDIR layers carry the time they were made, whatever the frontend.
    let masked = common::named_contexts::masked;
    if masked(&want.config) != masked(&got.config) {
        out.push(format!(
            "image config differs\n--- want\n{}\n--- got\n{}",
            pretty(&want.config),
            pretty(&got.config)
        ));
    }
    out
}

#[test]
fn named_contexts_build_what_the_reference_builds() {
    let record = std::env::var_os("MSTAGE_RECORD").is_some();
    if !engine_ready() {
        return;
    }
    let frontend = if record {
        reference_image()
    } else {
        frontend_image()
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/named_contexts");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/named_contexts")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases in {}", root.display());
    let only = std::env::var("MSTAGE_ONLY").ok();
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        if let Ok(reason) = std::fs::read_to_string(dir.join("pending")) {
            if std::env::var_os("MSTAGE_PENDING").is_none() {
                eprintln!(
                    "skipping {name} (MSTAGE_PENDING=1 runs it): {}",
                    reason.trim()
                );
                continue;
            }
        }
        if dir.join("git").is_dir() && !git_available() {
            missing(&format!("git, for case {name}"));
            continue;
        }
        let work = std::env::temp_dir().join(format!("mstage-named-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        let got =
            Inputs::prepare(dir, &work).and_then(|inputs| run_case(dir, &inputs, &frontend, "x"));
        let _ = std::fs::remove_dir_all(&work);
        let got = match got {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let expected_dir = dir.join("expected");
        if record {
            write_expected(&expected_dir, &got);
            continue;
        }
        match read_expected(&expected_dir) {
            Ok(want) => failures.extend(
                differences(&want, &got)
                    .into_iter()
                    .map(|d| format!("{name}: {d}")),
            ),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

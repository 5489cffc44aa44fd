//! SOURCE_DATE_EPOCH naming a source (1.24's `context`, a named context, a source-only stage)
//! through the real engine: the date BuildKit tells of a git commit, an http file's
//! Last-Modified or its archive's newest file must date the image (`created`, the history the
//! build adds, WORKDIR directories) as the reference's does.
//!
//! The sources come from `tests/source_date_epoch_sources/fixture/`, served on loopback: `repo/`
//! as the git repository `{git}/repo.git` (committed at fixed times), `www/` over http with
//! Last-Modified (`{http}`) and without (`{http_plain}`), plus `arch.tar.{gz,bz2,xz,zst}` made
//! from `archive/` (members and files at fixed times). Each case folder holds `case.json`
//! (build args, `context` URL, `build_contexts`, the paths whose times matter) and, unless the
//! context is the repository, a `Dockerfile`; `expected.json` holds what the reference did, on
//! the engine's BuildKit (v0.25) and on a current standalone one (`remote`, BuildKit v0.32,
//! when MSTAGE_BUILDKITD names it; see tests/remote_cases.rs). Times within a day of the build
//! are recorded as "recent" (build or checkout times). The reference also runs beside mstage
//! when it is there and must agree.
//!
//! Record with `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test
//! source_date_epoch_sources` (with MSTAGE_BUILDKITD set, for both builders); review the diff.

mod common;

use common::builder::{finish, Through, Work};
use common::docker::{docker, engine_ready, missing};
use common::servers::{git_daemon, http_server, Served};

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The fixture's fixed times (Unix seconds).
const AUTHOR_TIME: i64 = 1_609_556_645; // 2021-01-02T03:04:05Z
const COMMIT_TIME: i64 = 1_651_820_889; // 2022-05-06T07:08:09Z
const FILE_TIME: i64 = 1_583_298_367; // 2020-03-04T05:06:07Z, file.txt
const ARCHIVE_TIME: i64 = 1_514_764_800; // 2018-01-01T00:00:00Z, the archives themselves
const MEMBER_TIMES: [(&str, u64); 2] = [("inner1", 1_546_300_800), ("inner2", 1_559_894_950)];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[allow(dead_code)]
    notes: String,
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    /// The build context when not the case's folder (a URL with placeholders).
    #[serde(default)]
    context: Option<String>,
    #[serde(default)]
    build_contexts: BTreeMap<String, String>,
    /// Paths whose modification time is recorded.
    #[serde(default)]
    mtimes: Vec<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Default)]
#[serde(deny_unknown_fields)]
struct Observed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    created: Option<String>,
    /// `created` of the history entries after the base image's.
    history: Vec<Option<String>>,
    mtimes: BTreeMap<String, String>,
}

/// What the reference did, by builder.
#[derive(Serialize, Deserialize, PartialEq, Debug, Default)]
#[serde(deny_unknown_fields)]
struct Expected {
    engine: Option<Observed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remote: Option<Observed>,
}

/// The served fixture: its servers and the placeholders' values.
struct Fixture {
    _servers: Vec<Served>,
    vars: Vec<(&'static str, String)>,
}

fn fixture(work: &Path) -> Option<Fixture> {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/source_date_epoch_sources/fixture");
    make_repo(&source.join("repo"), &work.join("git"));
    let www = work.join("www");
    std::fs::create_dir_all(&www).expect("www dir");
    std::fs::copy(source.join("www/file.txt"), www.join("file.txt")).expect("copy file.txt");
    set_mtime(&www.join("file.txt"), FILE_TIME);
    make_archives(&source.join("archive"), &www);
    let git = git_daemon(&work.join("git"))?;
    let http = http_server(&www, true)?;
    let plain = http_server(&www, false)?;
    let vars = vec![
        ("{git}", format!("git://127.0.0.1:{}", git.port)),
        ("{http_plain}", format!("http://127.0.0.1:{}", plain.port)),
        ("{http}", format!("http://127.0.0.1:{}", http.port)),
    ];
    Some(Fixture {
        _servers: vec![git, http, plain],
        vars,
    })
}

impl Fixture {
    fn expand(&self, text: &str) -> String {
        self.vars
            .iter()
            .fold(text.to_string(), |t, (k, v)| t.replace(k, v))
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=mstage",
            "-c",
            "user.email=mstage@example.com",
        ])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", format!("@{AUTHOR_TIME} +0100"))
        .env("GIT_COMMITTER_DATE", format!("@{COMMIT_TIME} -0700"))
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `<base>/repo.git`: `files` committed once at the fixed times.
fn make_repo(files: &Path, base: &Path) {
    let work = base.join("work");
    std::fs::create_dir_all(&work).expect("repo dir");
    for entry in std::fs::read_dir(files).expect("fixture repo") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, work.join(path.file_name().expect("name"))).expect("copy");
    }
    git(&work, &["init", "-q"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "fixture"]);
    git(base, &["clone", "-q", "--bare", "work", "repo.git"]);
}

fn set_mtime(path: &Path, seconds: i64) {
    let status = Command::new("touch")
        .arg("-d")
        .arg(format!("@{seconds}"))
        .arg(path)
        .status()
        .expect("touch");
    assert!(status.success());
}

/// `arch.tar` of `dir`'s members at their fixed times, compressed every way the cases use.
fn make_archives(dir: &Path, www: &Path) {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, mtime) in MEMBER_TIMES {
        let data = std::fs::read(dir.join(name)).expect("archive member");
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_cksum();
        builder
            .append_data(&mut header, name, data.as_slice())
            .expect("tar");
    }
    let tar = builder.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).expect("gzip");
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    std::io::Write::write_all(&mut bz, &tar).expect("bzip2");
    let zst = ruzstd::encoding::compress_to_vec(
        tar.as_slice(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    let files = [
        ("arch.tar.gz", gz.finish().expect("gzip")),
        ("arch.tar.bz2", bz.finish().expect("bzip2")),
        ("arch.tar.zst", zst),
        ("arch.tar", tar),
    ];
    for (name, data) in files {
        std::fs::write(www.join(name), data).expect("write archive");
    }
    let status = Command::new("xz")
        .arg("-k")
        .arg(www.join("arch.tar"))
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "xz (the xz-utils package)"
    );
    for name in ["arch.tar.gz", "arch.tar.bz2", "arch.tar.zst", "arch.tar.xz"] {
        set_mtime(&www.join(name), ARCHIVE_TIME);
    }
}

/// A time as RFC 3339 seconds, or "recent" within a day of now (a build's or checkout's).
fn shown(seconds: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    if (now - seconds).abs() < 86_400 {
        return "recent".into();
    }
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{seconds}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An RFC 3339 time from an image config, shown as [`shown`] does.
fn shown_rfc3339(time: &str) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", time, "+%s"])
        .output()
        .expect("date");
    let seconds = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_default();
    shown(seconds)
}

/// The base image's history length, which the build's entries follow.
fn base_history_len() -> usize {
    let out = docker()
        .args(["history", "-q", "busybox"])
        .output()
        .expect("docker history");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// Builds the case with `frontend` into an OCI layout tar and reads what it dates.
fn observe(
    through: &Through,
    frontend: &str,
    dir: &Path,
    case: &Case,
    fx: &Fixture,
    work: &Path,
) -> Observed {
    let oci = work.join("image.tar");
    let metadata = work.join("metadata.json");
    let mut cmd = through.buildx_build(&metadata);
    cmd.arg("--build-arg")
        .arg(format!("BUILDKIT_SYNTAX={frontend}"));
    for (k, v) in &case.build_args {
        cmd.arg("--build-arg").arg(format!("{k}={}", fx.expand(v)));
    }
    for (k, v) in &case.build_contexts {
        cmd.arg("--build-context")
            .arg(format!("{k}={}", fx.expand(v)));
    }
    cmd.arg("--output")
        .arg(format!("type=oci,dest={}", oci.display()));
    match &case.context {
        Some(url) => cmd.arg(fx.expand(url)),
        None => {
            let ctx = work.join("ctx");
            std::fs::create_dir_all(&ctx).expect("ctx");
            let text = std::fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
            std::fs::write(ctx.join("Dockerfile"), fx.expand(&text)).expect("write Dockerfile");
            cmd.arg(&ctx)
        }
    };
    if let Err(log) = finish(cmd, &metadata) {
        let error = log
            .lines()
            .rev()
            .find(|l| l.starts_with("ERROR:"))
            .unwrap_or("no ERROR line");
        return Observed {
            error: Some(error.to_string()),
            ..Default::default()
        };
    }
    let files = untar(&std::fs::read(&oci).expect("OCI tar"));
    let config = image_config(&files);
    let history: Vec<Option<String>> = config["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|e| e["created"].as_str().map(shown_rfc3339))
                .collect()
        })
        .unwrap_or_default();
    let base = base_history_len().min(history.len());
    Observed {
        error: None,
        created: config["created"].as_str().map(shown_rfc3339),
        history: history[base..].to_vec(),
        mtimes: layer_mtimes(&files, &config_manifest(&files), &case.mtimes),
    }
}

fn untar(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut archive = tar::Archive::new(data);
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("tar entry");
        let name = entry
            .path()
            .expect("path")
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read");
        out.insert(name, data);
    }
    out
}

fn blob(files: &BTreeMap<String, Vec<u8>>, digest: &str) -> serde_json::Value {
    let path = format!("blobs/{}", digest.replace(':', "/"));
    serde_json::from_slice(files.get(&path).unwrap_or_else(|| panic!("{path}"))).expect("JSON blob")
}

/// The image manifest (the first that is not an attestation, in an index).
fn config_manifest(files: &BTreeMap<String, Vec<u8>>) -> serde_json::Value {
    let index: serde_json::Value =
        serde_json::from_slice(&files["index.json"]).expect("index.json");
    let mut manifest = blob(
        files,
        index["manifests"][0]["digest"].as_str().expect("digest"),
    );
    while let Some(entries) = manifest["manifests"].as_array().cloned() {
        let image = entries
            .iter()
            .find(|m| m["platform"]["os"] != "unknown")
            .expect("an image manifest");
        manifest = blob(files, image["digest"].as_str().expect("digest"));
    }
    manifest
}

fn image_config(files: &BTreeMap<String, Vec<u8>>) -> serde_json::Value {
    let manifest = config_manifest(files);
    blob(
        files,
        manifest["config"]["digest"]
            .as_str()
            .expect("config digest"),
    )
}

/// The times of `paths` in the image's layers, a later layer's entry winning.
fn layer_mtimes(
    files: &BTreeMap<String, Vec<u8>>,
    manifest: &serde_json::Value,
    paths: &[String],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for layer in manifest["layers"].as_array().into_iter().flatten() {
        let path = format!(
            "blobs/{}",
            layer["digest"].as_str().expect("digest").replace(':', "/")
        );
        let gz = flate2::read::GzDecoder::new(files[&path].as_slice());
        let mut archive = tar::Archive::new(gz);
        for entry in archive.entries().expect("layer") {
            let entry = entry.expect("layer entry");
            let name = format!(
                "/{}",
                entry
                    .path()
                    .expect("path")
                    .to_string_lossy()
                    .trim_start_matches("./")
                    .trim_end_matches('/')
            );
            if paths.contains(&name) {
                out.insert(name, shown(entry.header().mtime().expect("mtime") as i64));
            }
        }
    }
    out
}

/// Runs every case on `through`, comparing with the recorded `expected.json` entry `which`.
fn check_cases(through: &Through, which: &str) -> Vec<String> {
    let record = std::env::var("MSTAGE_RECORD").as_deref() == Ok("1");
    let work = Work::new(&format!("sde-sources-{which}"));
    let Some(fx) = fixture(&work.dir) else {
        missing("git daemon or python3 serving on loopback");
        return Vec::new();
    };
    let mut problems = Vec::new();
    for (name, dir) in &common::case_dirs("source_date_epoch_sources") {
        let case: Case =
            serde_json::from_slice(&std::fs::read(dir.join("case.json")).expect("case.json"))
                .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
        let path = dir.join("expected.json");
        let mut expected: Expected = std::fs::read(&path)
            .ok()
            .map(|d| {
                serde_json::from_slice(&d).unwrap_or_else(|e| panic!("{name}/expected.json: {e}"))
            })
            .unwrap_or_default();
        let slot = match which {
            "remote" => &mut expected.remote,
            _ => &mut expected.engine,
        };
        for (frontend, is_reference) in through.frontends() {
            let case_work = work.dir.join(format!("{name}-{is_reference}"));
            std::fs::create_dir_all(&case_work).expect("case work");
            let got = observe(through, frontend, dir, &case, &fx, &case_work);
            if record {
                *slot = Some(got);
                continue;
            }
            let ok = slot.as_ref() == Some(&got);
            eprintln!(
                "{} {which} {name} ({frontend})",
                if ok { "ok  " } else { "FAIL" }
            );
            if !ok {
                problems.push(format!(
                    "{which} {name} ({frontend}): got {got:?}\n want {slot:?}"
                ));
            }
        }
        if record {
            let text = serde_json::to_string_pretty(&expected).expect("JSON") + "\n";
            std::fs::write(&path, text).expect("write expected.json");
        }
    }
    problems
}

/// Both tests record into the same files.
static RECORDING: Mutex<()> = Mutex::new(());

#[test]
fn source_dates_on_the_engine() {
    let _one = RECORDING.lock().unwrap_or_else(|e| e.into_inner());
    if !engine_ready() {
        return;
    }
    common::assert_no_problems(&check_cases(&Through::local_engine(), "engine"));
}

#[test]
fn source_dates_on_a_current_buildkit() {
    let _one = RECORDING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(setup) = common::nodes::setup() else {
        return;
    };
    let addr = common::nodes::node(None, &[]);
    let through = setup.through(common::nodes::builder(&[(&addr, None)]), "");
    common::assert_no_problems(&check_cases(&through, "remote"));
}

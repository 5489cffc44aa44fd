//! SOURCE_DATE_EPOCH naming a source (1.24's `context`, a named context, a source-only stage)
//! through the real engine: the date BuildKit tells of a git commit, an http file's
//! Last-Modified or its archive's newest file must date the image (`created`, the history the
//! build adds, WORKDIR directories) as the reference's does.
//!
//! The sources come from `tests/source_date_epoch_sources/fixture/`, served on loopback: `repo/`
//! as the git repository `{git}/repo.git` (committed at fixed times), `www/` over http with
//! Last-Modified (`{http}`) and without (`{http_plain}`), plus `arch.tar.{gz,bz2,xz,zst}` made
//! from `archive/` (members and files at fixed times), `nested.tar.gz` (the newest file deep in
//! folders, at a fractional time) and `truncated.tar.gz` (a first header, then a cut). Each
//! case folder holds `case.json` (build args, `context` URL, `build_contexts`, the paths whose
//! times matter) and, unless the context is the repository, a `Dockerfile`; `expected.json`
//! holds what the reference did, on the engine's BuildKit (v0.25) and on a current standalone
//! one (`remote`, BuildKit v0.32, when MSTAGE_BUILDKITD names it; see tests/remote_cases.rs).
//! Times within a day of the build are recorded as "recent" (build or checkout times). The
//! reference also runs beside mstage when it is there and must agree.
//!
//! Record with `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test
//! source_date_epoch_sources` (with MSTAGE_BUILDKITD set, for both builders); review the diff.

mod common;

use common::builder::{finish, Through, Work};
use common::docker::{docker, engine_ready, missing};
use common::serve::LoopbackServer as Served;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The fixture's fixed times (Unix seconds).
const AUTHOR_TIME: i64 = 1_609_556_645; // 2021-01-02T03:04:05Z
const COMMIT_TIME: i64 = 1_651_820_889; // 2022-05-06T07:08:09Z
const FILE_TIME: i64 = 1_583_298_367; // 2020-03-04T05:06:07Z, file.txt
const ARCHIVE_TIME: i64 = 1_514_764_800; // 2018-01-01T00:00:00Z, the archives themselves
const MEMBER_TIMES: [(&str, i64); 2] = [("inner1", 1_546_300_800), ("inner2", 1_559_894_950)];
/// `nested.tar.gz`: paths below `nested/` at their times (`touch -d`), the newest regular file
/// deep down at a fractional time (Go's `Unix()` keeps 08:09:10), its folders and a symlink newer.
const NESTED: [(&str, &str); 5] = [
    ("top", "@1546300800"),                // 2019-01-01T00:00:00Z
    ("sub/deep/newest", "@1559894950.75"), // 2019-06-07T08:09:10.75Z
    ("sub/link", "@1640995200"),           // 2022-01-01, a symlink
    ("sub/deep", "@1672531200"),           // 2023-01-01, folders
    ("sub", "@1672531200"),
];

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
    let git = Served::start(&work.join("git"))?;
    let http = Served::python_http(&www, true)?;
    let plain = Served::python_http(&www, false)?;
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
    touch(path, &format!("@{seconds}"));
}

/// Sets the time of `path` itself (a symlink not followed) to `stamp` as `touch -d` reads it.
fn touch(path: &Path, stamp: &str) {
    let status = Command::new("touch")
        .args(["-h", "-d", stamp])
        .arg(path)
        .status()
        .expect("touch");
    assert!(status.success());
}

/// Runs a fixture tool (`tar`, a compressor) in `dir`.
fn tool(dir: &Path, program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).current_dir(dir).status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "{program} {args:?} (the fixture needs tar, gzip, bzip2, xz and zstd)"
    );
}

/// `arch.tar` (ustar) of `dir`'s members at their fixed times, compressed every way the cases
/// use.
fn make_archives(dir: &Path, www: &Path) {
    let members = www.join("members");
    std::fs::create_dir_all(&members).expect("members dir");
    for (name, mtime) in MEMBER_TIMES {
        std::fs::copy(dir.join(name), members.join(name)).expect("archive member");
        set_mtime(&members.join(name), mtime);
    }
    let names: Vec<&str> = MEMBER_TIMES.iter().map(|(name, _)| *name).collect();
    let mut args = vec![
        "--format=ustar",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--mode=0644",
        "-cf",
        "../arch.tar",
    ];
    args.extend(names);
    tool(&members, "tar", &args);
    tool(www, "gzip", &["-kn", "arch.tar"]);
    tool(www, "bzip2", &["-k", "arch.tar"]);
    tool(www, "xz", &["-k", "arch.tar"]);
    tool(www, "zstd", &["-qk", "arch.tar"]);
    make_nested(www);
    make_truncated(www);
    for name in ["arch.tar.gz", "arch.tar.bz2", "arch.tar.zst", "arch.tar.xz"] {
        set_mtime(&www.join(name), ARCHIVE_TIME);
    }
}

/// `nested.tar.gz`, a pax archive of [`NESTED`] (without the atime and ctime records, which
/// would change from run to run).
fn make_nested(www: &Path) {
    let root = www.join("nested");
    std::fs::create_dir_all(root.join("sub/deep")).expect("nested dirs");
    std::fs::write(root.join("top"), "top\n").expect("top");
    std::fs::write(root.join("sub/deep/newest"), "newest\n").expect("newest");
    std::os::unix::fs::symlink("../top", root.join("sub/link")).expect("symlink");
    for (path, stamp) in NESTED {
        touch(&root.join(path), stamp);
    }
    tool(
        &root,
        "tar",
        &[
            "--format=pax",
            "--pax-option=delete=atime,delete=ctime",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "-cf",
            "../nested.tar",
            "top",
            "sub",
        ],
    );
    tool(www, "gzip", &["-n", "nested.tar"]);
}

/// `truncated.tar.gz`: the first half of a gzip'd tar whose one member (incompressible bytes)
/// is too big for it, so its first header reads and the rest does not.
fn make_truncated(www: &Path) {
    let root = www.join("truncated");
    std::fs::create_dir_all(&root).expect("truncated dir");
    let mut state: u32 = 1;
    let noise: Vec<u8> = (0..256 * 1024)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(root.join("big"), noise).expect("big");
    set_mtime(&root.join("big"), MEMBER_TIMES[0].1);
    tool(
        &root,
        "tar",
        &["--format=ustar", "-cf", "../truncated.tar", "big"],
    );
    tool(www, "gzip", &["-n", "truncated.tar"]);
    let whole = std::fs::read(www.join("truncated.tar.gz")).expect("truncated.tar.gz");
    std::fs::write(www.join("truncated.tar.gz"), &whole[..whole.len() / 2]).expect("truncate");
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

/// Builds the case with `frontend` into an OCI layout tar and reads what it dates; the image's
/// history past the base image's `base_history` entries.
fn observe(
    through: &Through,
    frontend: &str,
    dir: &Path,
    case: &Case,
    fx: &Fixture,
    work: &Path,
    base_history: usize,
) -> Observed {
    let layout = work.join("image");
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
        .arg(format!("type=oci,dest={},tar=false", layout.display()));
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
    let manifest = image_manifest(&layout);
    let config = blob(&layout, &manifest["config"]["digest"]);
    let history: Vec<Option<String>> = config["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|e| e["created"].as_str().map(shown_rfc3339))
                .collect()
        })
        .unwrap_or_default();
    let base = base_history.min(history.len());
    Observed {
        error: None,
        created: config["created"].as_str().map(shown_rfc3339),
        history: history[base..].to_vec(),
        mtimes: layer_mtimes(&layout, &manifest, &case.mtimes),
    }
}

fn blob_path(layout: &Path, digest: &serde_json::Value) -> PathBuf {
    let digest = digest.as_str().expect("digest");
    layout.join("blobs").join(digest.replace(':', "/"))
}

fn blob(layout: &Path, digest: &serde_json::Value) -> serde_json::Value {
    let path = blob_path(layout, digest);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&data).expect("JSON blob")
}

/// The image manifest (the first that is not an attestation, in an index).
fn image_manifest(layout: &Path) -> serde_json::Value {
    let index = std::fs::read(layout.join("index.json")).expect("index.json");
    let index: serde_json::Value = serde_json::from_slice(&index).expect("index.json");
    let mut manifest = blob(layout, &index["manifests"][0]["digest"]);
    while let Some(entries) = manifest["manifests"].as_array().cloned() {
        let image = entries
            .iter()
            .find(|m| m["platform"]["os"] != "unknown")
            .expect("an image manifest");
        manifest = blob(layout, &image["digest"]);
    }
    manifest
}

/// The times of `paths` in the image's layers, a later layer's entry winning.
fn layer_mtimes(
    layout: &Path,
    manifest: &serde_json::Value,
    paths: &[String],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for layer in manifest["layers"].as_array().into_iter().flatten() {
        let list = Command::new("tar")
            .args(["--numeric-owner", "--full-time", "-tvzf"])
            .arg(blob_path(layout, &layer["digest"]))
            .env("TZ", "UTC")
            .output()
            .expect("tar");
        assert!(list.status.success(), "tar -tvzf on a layer");
        // `drwxr-xr-x 0/0 0 2019-06-07 08:09:10 w/`, a link's name followed by ` -> target`
        for line in String::from_utf8_lossy(&list.stdout).lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(day), Some(time)) = (fields.get(3), fields.get(4)) else {
                continue;
            };
            let rest = fields.get(5..).unwrap_or_default().join(" ");
            let name = rest.split(" -> ").next().unwrap_or_default();
            let name = format!("/{}", name.trim_start_matches("./").trim_end_matches('/'));
            if paths.contains(&name) {
                out.insert(name, shown_rfc3339(&format!("{day}T{time}Z")));
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
    let base_history = base_history_len();
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
            let got = observe(through, frontend, dir, &case, &fx, &case_work, base_history);
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

//! Named contexts as `docker buildx bake` and `docker compose build` pass them, through the real
//! engine with mstage, compared with what the reference 1.26 built from the same input.
//!
//! tests/bake_compose/bake/ is a bake project whose target has `contexts = { src = "./dir" }`,
//! bake-group/ two such targets in one group, bake-target/ a target with a `target:` context;
//! tests/bake_compose/compose/ a compose project whose service has `additional_contexts` of a
//! directory and a `docker-image://`. Each `Dockerfile*` gets `# syntax=<frontend>`; the builds
//! must name that image in their progress (the syntax line is honoured, not bypassed). Compose
//! builds twice: through buildx bake (`COMPOSE_BAKE=true`) and through compose's own BuildKit
//! client on the docker API (`COMPOSE_BAKE=false`), both on the docker driver. Compared: the
//! built file tree (tests/common/tree.rs) and the image config without timestamps or layer
//! diff ids (the directories' file times come from the client), recorded from the reference in
//! tests/bake_compose/expected/. The compose image is read back from the image store by
//! building `FROM <it>` with the engine's own frontend to tar and OCI outputs.
//!
//! Record with `MSTAGE_RECORD=1 cargo test --test bake_compose` (it builds with
//! `peer/dockerfile:1.26.0`, or `MSTAGE_REFERENCE_IMAGE`). Skips with a printed reason without
//! the engine, the image or `docker compose`, like tests/e2e.rs.

mod common;

use common::docker::{buildx_build, docker, engine_ready, frontend_image, missing, tail};

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn reference_image() -> String {
    std::env::var("MSTAGE_REFERENCE_IMAGE").unwrap_or_else(|_| "peer/dockerfile:1.26.0".into())
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bake_compose")
}

/// A build's file tree and image config.
#[derive(Debug, PartialEq)]
struct Outcome {
    tree: String,
    config: Value,
}

/// A copy of the project `name` in `work`, each `Dockerfile*` behind `# syntax=<frontend>`.
fn project(name: &str, work: &Path, frontend: &str) -> Result<PathBuf, String> {
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let source = data_dir().join(name);
    common::docker::copy_context(&source, &dir);
    for entry in std::fs::read_dir(&source).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        if file_name.starts_with("Dockerfile") {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            std::fs::write(
                dir.join(&*file_name),
                format!("# syntax={frontend}\n{text}"),
            )
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(dir)
}

/// Fails unless the build's output shows BuildKit loading `frontend` as the syntax image.
fn check_frontend_used(out: &Output, frontend: &str) -> Result<(), String> {
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("build failed: {}", tail(&text)));
    }
    let resolved = text.lines().any(|l| {
        l.contains("resolve image config for docker-image://") && l.trim_end().ends_with(frontend)
    });
    if resolved {
        Ok(())
    } else {
        Err(format!(
            "the build did not load the syntax image {frontend}: {}",
            tail(&text)
        ))
    }
}

fn outcome(tar: &Path, layout: &Path, scratch: &Path) -> Result<Outcome, String> {
    let tree = common::tree::listing(tar, scratch)?;
    let mut config = common::oci::config_without_times(layout)?;
    if let Some(ids) = config["rootfs"]["diff_ids"].as_array_mut() {
        ids.iter_mut()
            .for_each(|id| *id = Value::String("(varies with file times)".into()));
    }
    Ok(Outcome { tree, config })
}

/// `docker buildx bake <targets>` in the bake project `name`; the outcome of each target of
/// `outputs`, whose outputs the bake file sets to `out-<target>.tar` and `out-<target>-oci`.
fn bake(
    name: &str,
    targets: &[&str],
    outputs: &[&str],
    work: &Path,
    frontend: &str,
) -> Result<Vec<(String, Outcome)>, String> {
    let dir = project(name, work, frontend)?;
    let out = docker()
        .args(["buildx", "bake", "--progress", "plain"])
        .args(targets)
        .current_dir(&dir)
        .output()
        .map_err(|e| e.to_string())?;
    check_frontend_used(&out, frontend)?;
    outputs
        .iter()
        .map(|target| {
            let got = outcome(
                &dir.join(format!("out-{target}.tar")),
                &dir.join(format!("out-{target}-oci")),
                &dir.join(format!("tree-{target}")),
            )?;
            Ok((format!("{name}-{target}"), got))
        })
        .collect()
}

/// Checks each target `bake` built against its recorded outcome.
fn check_bake(name: &str, targets: &[&str], outputs: &[&str]) {
    let work = std::env::temp_dir().join(format!("mstage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let mut problems = Vec::new();
    match bake(name, targets, outputs, &work, &frontend()) {
        Ok(built) => {
            for (prefix, got) in built {
                let what = format!("bake {prefix}");
                check(&prefix, &what, Ok(got), &mut problems);
            }
        }
        Err(e) => problems.push(format!("bake {name}: {e}")),
    }
    let _ = std::fs::remove_dir_all(&work);
    common::assert_no_problems(&problems);
}

/// `image` from the engine's store as a tar of its files and an OCI layout.
fn export_image(image: &str, work: &Path) -> Result<Outcome, String> {
    let ctx = work.join("export");
    std::fs::create_dir_all(&ctx).map_err(|e| e.to_string())?;
    std::fs::write(ctx.join("Dockerfile"), format!("FROM {image}\n")).map_err(|e| e.to_string())?;
    let tar = ctx.join("out.tar");
    let layout = ctx.join("out-oci");
    let out = buildx_build()
        .arg(format!("--output=type=tar,dest={}", tar.display()))
        .arg(format!(
            "--output=type=oci,tar=false,dest={}",
            layout.display()
        ))
        .arg(&ctx)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "reading back {image}: {}",
            tail(&String::from_utf8_lossy(&out.stderr))
        ));
    }
    let got = outcome(&tar, &layout, &ctx.join("tree"));
    let _ = std::fs::remove_dir_all(&ctx);
    got
}

/// `docker compose build` of the compose project, through bake or compose's own builder.
fn compose(work: &Path, frontend: &str, through_bake: bool) -> Result<Outcome, String> {
    let mode = if through_bake { "bake" } else { "internal" };
    let name = format!("compose-{mode}");
    let dir = work.join(&name);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    common::docker::copy_context(&data_dir().join("compose"), &dir);
    common::docker::write_with_syntax(&data_dir().join("compose/Dockerfile"), &dir, frontend);
    let image = format!("mstage-test-compose:{}-{mode}", std::process::id());
    let yaml = std::fs::read_to_string(dir.join("compose.yaml")).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("compose.yaml"), yaml.replace("{image}", &image))
        .map_err(|e| e.to_string())?;
    let out = docker()
        .args([
            "compose",
            "-p",
            "mstage-test",
            "--progress",
            "plain",
            "build",
        ])
        .env("COMPOSE_BAKE", through_bake.to_string())
        .current_dir(&dir)
        .output()
        .map_err(|e| e.to_string())?;
    let got = check_frontend_used(&out, frontend).and_then(|()| export_image(&image, work));
    let _ = docker().args(["image", "rm", "-f", &image]).output();
    got.map_err(|e| format!("COMPOSE_BAKE={through_bake}: {e}"))
}

fn compose_available() -> bool {
    docker()
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn read_expected(prefix: &str) -> Result<Outcome, String> {
    let dir = data_dir().join("expected");
    let read = |name: String| {
        std::fs::read_to_string(dir.join(&name)).map_err(|e| format!("expected/{name}: {e}"))
    };
    let config = read(format!("{prefix}-config.json"))?;
    Ok(Outcome {
        tree: read(format!("{prefix}-tree.txt"))?,
        config: serde_json::from_str(&config).map_err(|e| e.to_string())?,
    })
}

fn write_expected(prefix: &str, outcome: &Outcome) {
    let dir = data_dir().join("expected");
    std::fs::create_dir_all(&dir).expect("expected/");
    let config = serde_json::to_string_pretty(&outcome.config).expect("json") + "\n";
    std::fs::write(dir.join(format!("{prefix}-tree.txt")), &outcome.tree).expect("write tree");
    std::fs::write(dir.join(format!("{prefix}-config.json")), config).expect("write config");
}

/// Compares `got` with the recorded `prefix` outcome (or records it), adding what differs.
fn check(prefix: &str, what: &str, got: Result<Outcome, String>, problems: &mut Vec<String>) {
    let got = match got {
        Ok(got) => got,
        Err(e) => {
            problems.push(format!("{what}: {e}"));
            return;
        }
    };
    if std::env::var_os("MSTAGE_RECORD").is_some() {
        write_expected(prefix, &got);
        return;
    }
    match read_expected(prefix) {
        Err(e) => problems.push(format!("{what}: {e}")),
        Ok(want) if want == got => {}
        Ok(want) => problems.push(format!(
            "{what}: differs from the reference\n--- want\n{}{}\n--- got\n{}{}",
            want.tree,
            serde_json::to_string_pretty(&want.config).unwrap_or_default(),
            got.tree,
            serde_json::to_string_pretty(&got.config).unwrap_or_default()
        )),
    }
}

fn frontend() -> String {
    if std::env::var_os("MSTAGE_RECORD").is_some() {
        reference_image()
    } else {
        frontend_image()
    }
}

#[test]
fn bake_with_a_directory_context_builds_what_the_reference_builds() {
    if engine_ready() {
        check_bake("bake", &[], &["default"]);
    }
}

/// Two targets of one bake share their directories: buildx sends each local directory once,
/// in one session named by `local-sessionid:<name>` options.
#[test]
fn bake_group_sharing_a_directory_builds_what_the_reference_builds() {
    if engine_ready() {
        check_bake("bake-group", &[], &["one", "two"]);
    }
}

/// `contexts = { base = "target:base" }`: buildx builds `base` and hands it to `main` as a
/// frontend input (`input:` context).
#[test]
fn bake_target_context_builds_what_the_reference_builds() {
    if engine_ready() {
        check_bake("bake-target", &["main"], &["main"]);
    }
}

#[test]
fn compose_additional_contexts_build_what_the_reference_builds() {
    if !engine_ready() {
        return;
    }
    if !compose_available() {
        missing("docker compose");
        return;
    }
    let work = std::env::temp_dir().join(format!("mstage-compose-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let frontend = frontend();
    let mut problems = Vec::new();
    let through_bake = compose(&work, &frontend, true);
    let internal = compose(&work, &frontend, false);
    if std::env::var_os("MSTAGE_RECORD").is_some() {
        // Recorded once, from the build through bake; compose's own builder must agree.
        if let (Ok(a), Ok(b)) = (&through_bake, &internal) {
            if a != b {
                problems.push(format!("compose's two builders differ:\n{a:?}\n{b:?}"));
            }
        }
    }
    check(
        "compose",
        "compose through bake",
        through_bake,
        &mut problems,
    );
    if std::env::var_os("MSTAGE_RECORD").is_none() {
        check("compose", "compose's own builder", internal, &mut problems);
    } else if let Err(e) = internal {
        problems.push(format!("compose's own builder: {e}"));
    }
    let _ = std::fs::remove_dir_all(&work);
    common::assert_no_problems(&problems);
}

//! Named contexts as `docker buildx bake` and `docker compose build` pass them, through the real
//! engine with mstage (and the reference, when it is in the engine), compared with what the
//! reference 1.26 built from the same input.
//!
//! tests/bake_compose/bake/ is a bake project whose target has `contexts = { src = "./dir" }`,
//! bake-group/ two such targets in one group, bake-target/ a target with a `target:` context;
//! the bake harness is tests/common/bake.rs's, and tests/remote_cases.rs bakes the same projects
//! on a standalone BuildKit node. tests/bake_compose/compose/ is a compose project whose service
//! has `additional_contexts` of a directory and a `docker-image://`. Compose builds twice: through
//! buildx bake (`COMPOSE_BAKE=true`) and through compose's own BuildKit client on the docker API
//! (`COMPOSE_BAKE=false`), both on the docker driver, and is compared as the bake projects are
//! (tests/common/bake.rs), read back from the image store by building `FROM <it>` with the
//! engine's own frontend to tar and OCI outputs.
//!
//! Record with `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test
//! bake_compose`. Skips with a printed reason without the engine, the image or `docker
//! compose`, like tests/e2e.rs.

mod common;

use common::bake::{check_bake, check_frontend_used, data_dir, outcome, Outcome};
use common::builder::Through;
use common::docker::{buildx_build, docker, engine_ready, frontend_image, missing, tail};

use std::path::Path;

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

/// Compares a compose build with the recorded outcome (or records it), adding what differs.
fn check(what: &str, got: Result<Outcome, String>, problems: &mut Vec<String>) {
    match got {
        Ok(got) => common::bake::check("", "compose", what, &got, problems),
        Err(e) => problems.push(format!("{what}: {e}")),
    }
}

/// Bakes `targets` of the project `name` on the engine and checks each target of `outputs`.
fn check_local_bake(name: &str, targets: &[&str], outputs: &[&str]) {
    if engine_ready() {
        let through = Through::local_engine();
        common::assert_no_problems(&check_bake(&through, name, targets, outputs));
    }
}

fn compose_available() -> bool {
    docker()
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn bake_with_a_directory_context_builds_what_the_reference_builds() {
    check_local_bake("bake", &[], &["default"]);
}

/// Two targets of one bake share their directories: buildx sends each local directory once,
/// in one session named by `local-sessionid:<name>` options.
#[test]
fn bake_group_sharing_a_directory_builds_what_the_reference_builds() {
    check_local_bake("bake-group", &[], &["one", "two"]);
}

/// `contexts = { base = "target:base" }`: buildx builds `base` and hands it to `main` as a
/// frontend input (`input:` context).
#[test]
fn bake_target_context_builds_what_the_reference_builds() {
    check_local_bake("bake-target", &["main"], &["main"]);
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
    let frontend = frontend_image();
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
    check("compose through bake", through_bake, &mut problems);
    if std::env::var_os("MSTAGE_RECORD").is_none() {
        check("compose's own builder", internal, &mut problems);
    } else if let Err(e) = internal {
        problems.push(format!("compose's own builder: {e}"));
    }
    let _ = std::fs::remove_dir_all(&work);
    common::assert_no_problems(&problems);
}

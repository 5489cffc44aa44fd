//! Errors of the offline CLI (`mstage llb`), for Dockerfiles whose errors mstage explains beyond
//! the reference. Each case is an end-to-end case (tests/e2e/<case>/) whose `error` lines name the
//! message; offline the message comes with the file and line instead of the engine's excerpt.

use std::path::Path;
use std::process::Command;

/// The lines of an e2e case's expected error that are mstage's own message.
fn messages(case: &Path) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(case.join("case.json")).expect("case.json"))
            .expect("case.json");
    json["error"]
        .as_array()
        .expect("an error case")
        .iter()
        .filter_map(|line| line.as_str())
        .filter(|line| line.starts_with("dockerfile parse error"))
        .map(str::to_string)
        .collect()
}

#[test]
fn missing_continuation_is_explained_offline() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/missing-continuation");
    let wanted = messages(&case);
    assert!(!wanted.is_empty(), "the case names no parse error");
    // The e2e Dockerfile gets a syntax line first, so its lines are one further down there.
    let dockerfile = case.join("Dockerfile");
    let out = Command::new(env!("CARGO_BIN_EXE_mstage"))
        .args(["llb", "-f"])
        .arg(&dockerfile)
        .output()
        .expect("mstage llb");
    assert!(!out.status.success(), "a broken Dockerfile converted");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let offline = "dockerfile parse error on line 4: unknown instruction: && \
                   (did you forget a \"\\\" at the end of line 3?)";
    assert!(
        stderr.contains(&format!("Dockerfile:4: {offline}")),
        "mstage llb said: {stderr}"
    );
    // The same words as through the engine, but for the syntax line's shift.
    assert_eq!(
        wanted,
        [offline
            .replace("line 4", "line 5")
            .replace("line 3", "line 4")]
    );
}

/// Offline the build context is a local directory, which has no date (as with the reference's
/// converter); a source stage's date needs BuildKit (tests/source_date_epoch_sources.rs).
#[test]
fn a_source_date_offline() {
    let local = Command::new(env!("CARGO_BIN_EXE_mstage"))
        .args(["llb", "-f"])
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/source_date_epoch_sources/context-local/Dockerfile"),
        )
        .output()
        .expect("mstage llb");
    assert!(
        local.status.success(),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
    let dir = std::env::temp_dir().join(format!("mstage-sde-offline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let dockerfile = dir.join("Dockerfile");
    std::fs::write(
        &dockerfile,
        "ARG SOURCE_DATE_EPOCH=src\nFROM scratch AS src\nADD https://example.invalid/a.tar /a\n\
         FROM busybox\nCOPY --from=src /a /a\n",
    )
    .expect("write");
    let stage = Command::new(env!("CARGO_BIN_EXE_mstage"))
        .args(["llb", "-f"])
        .arg(&dockerfile)
        .output()
        .expect("mstage llb");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!stage.status.success(), "converted without a date");
    let stderr = String::from_utf8_lossy(&stage.stderr);
    assert!(
        stderr.contains("takes the date of source stage src, which only BuildKit can resolve"),
        "mstage llb said: {stderr}"
    );
}

#[test]
fn stage_typos_are_told_offline() {
    let dockerfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/stage-typo/Dockerfile");
    let out = Command::new(env!("CARGO_BIN_EXE_mstage"))
        .args(["llb", "-f"])
        .arg(&dockerfile)
        .output()
        .expect("mstage llb");
    // Offline nothing fails to resolve: the build converts, with the hint as a warning.
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "Dockerfile:5: warning: buidler is read as an image, not a stage: \
             did you mean stage \"builder\"?"
        ),
        "mstage llb said: {stderr}"
    );
}

/// `COPY --from=$SRC` with SRC unset (mstage expands variables there, the reference refuses
/// them): the same message as through the engine, at the COPY line.
#[test]
fn an_unset_from_variable_is_told_offline() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/from-variable-unset");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(case.join("case.json")).expect("case.json"))
            .expect("case.json");
    let wanted = json["error"]
        .as_array()
        .and_then(|lines| {
            lines
                .iter()
                .filter_map(|l| l.as_str())
                .find(|l| l.starts_with("--from="))
        })
        .expect("the case names the message");
    let out = Command::new(env!("CARGO_BIN_EXE_mstage"))
        .args(["llb", "-f"])
        .arg(case.join("Dockerfile"))
        .output()
        .expect("mstage llb");
    assert!(!out.status.success(), "converted with SRC unset");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Offline the Dockerfile has no syntax line: the COPY is on line 4.
    assert!(
        stderr.contains(&format!("Dockerfile:4: {wanted}")),
        "mstage llb said: {stderr}"
    );
}

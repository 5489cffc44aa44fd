//! The frontend image as BuildKit reads it before starting it: its labels and its size.

mod common;

use common::docker::{engine_ready, frontend_image, run};

/// The optional frontend features mstage implements, the only caps the image may claim
/// (see the top-level Dockerfile for each cap and why it is not claimed yet).
const IMPLEMENTED_CAPS: &[&str] = &[
    "moby.buildkit.frontend.inputs",
    "moby.buildkit.frontend.subrequests",
    "moby.buildkit.frontend.contexts",
    "moby.buildkit.frontend.gitquerystring",
];

const MAX_IMAGE_BYTES: u64 = 5_000_000;

fn labels() -> serde_json::Map<String, serde_json::Value> {
    let json = run(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Labels}}",
        &frontend_image(),
    ]);
    serde_json::from_str(&json).expect("labels JSON")
}

#[test]
fn image_declares_only_implemented_caps() {
    if !engine_ready() {
        return;
    }
    let labels = labels();
    let caps = labels
        .get("moby.buildkit.frontend.caps")
        .and_then(|v| v.as_str())
        .expect("the image lacks the moby.buildkit.frontend.caps label");
    for cap in caps.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let name = cap.split('+').next().unwrap_or(cap);
        assert!(
            IMPLEMENTED_CAPS.contains(&name),
            "the image claims {name}, which mstage does not implement"
        );
    }
    assert_eq!(
        labels
            .get("moby.buildkit.frontend.network.none")
            .and_then(|v| v.as_str()),
        Some("true")
    );
}

#[test]
fn image_stays_small() {
    if !engine_ready() {
        return;
    }
    let size: u64 = run(&[
        "image",
        "inspect",
        "--format",
        "{{.Size}}",
        &frontend_image(),
    ])
    .parse()
    .expect("image size");
    assert!(
        size < MAX_IMAGE_BYTES,
        "{} is {size} bytes, over {MAX_IMAGE_BYTES}",
        frontend_image()
    );
}

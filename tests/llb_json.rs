//! dump-llb style JSON: one object per op with its digest and metadata.

use mstage::llb::{self, Constraints, MarshalOptions};

#[test]
fn one_json_object_per_op() {
    let opts = MarshalOptions {
        constraints: Constraints::new().platform(llb::platform("linux", "arm64", "v8")),
        caps: None,
    };
    let st = llb::image("busybox").file(
        &llb::mkfile("/f", 0o644, b"hi".to_vec(), Default::default()),
        Constraints::new(),
    );
    let def = llb::marshal(&st, &opts).expect("marshal");
    let lines = llb::definition_to_json_lines(&def).expect("json");
    assert_eq!(lines.len(), def.def.len());
    let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("valid json");
    assert_eq!(
        first,
        serde_json::json!({
            "Op": {
                "Op": {"source": {"identifier": "docker-image://docker.io/library/busybox:latest"}},
                "platform": {"Architecture": "arm64", "OS": "linux"},
                "constraints": {}
            },
            "Digest": llb::digest_of(&def.def[0]),
            "OpMetadata": {"caps": {"source.image": true}}
        })
    );
    let file: serde_json::Value = serde_json::from_str(&lines[1]).expect("valid json");
    assert_eq!(
        file["Op"]["Op"]["file"]["actions"][0],
        serde_json::json!({
            "input": 0, "secondaryInput": -1, "output": 0,
            "Action": {"mkfile": {"path": "/f", "mode": 0o644, "data": "aGk=", "timestamp": -1}}
        })
    );
    let terminal: serde_json::Value = serde_json::from_str(&lines[2]).expect("valid json");
    assert_eq!(
        terminal["Op"]["inputs"][0]["digest"],
        llb::digest_of(&def.def[1])
    );
    assert_eq!(terminal["Op"]["Op"], serde_json::json!({}));
}

//! Several platforms at once through the engine's own BuildKit: the cases of
//! tests/multi_platform/ (see tests/common/multi_platform.rs for their layout and what is
//! compared), each output equal to `expected/<output>.json`, recorded from the reference with
//! `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test multi_platform`.
//! The same cases run on a remote BuildKit node (tests/remote_cases.rs) and split across two
//! nodes (tests/mixed_nodes.rs). Needs the engine and the image; skips without them, except under
//! CI=true.

mod common;

use common::builder::Through;
use common::docker::engine_ready;

#[test]
fn multi_platform_cases() {
    if !engine_ready() {
        return;
    }
    let through = Through::local_engine();
    let problems = common::multi_platform::check_cases(&through, &|_, _| true, &|_, _| Vec::new());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

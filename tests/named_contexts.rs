//! Named contexts (`--build-context NAME=...`) through the engine's own BuildKit: the cases of
//! tests/named_contexts/ (see tests/common/named_contexts.rs for their layout and what is
//! compared). The same cases run on a remote BuildKit node in tests/remote_cases.rs.
//!
//! Record with `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test
//! named_contexts`; review the diff. Needs the engine and the image, like tests/e2e.rs.

mod common;

use common::builder::Through;
use common::docker::engine_ready;

#[test]
fn image_contexts_build_what_the_reference_builds() {
    if !engine_ready() {
        return;
    }
    let problems = common::named_contexts::check_cases(&Through::local_engine());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

//! Named contexts (`--build-context NAME=…`) of every kind through the engine's own BuildKit,
//! each case of tests/named_contexts/ built with mstage (and the reference, when it is in the
//! engine) and compared with what the reference 1.26 built from the same input: the harness and
//! the cases' layout are tests/common/named_contexts.rs's; tests/remote_cases.rs runs the same
//! cases on a standalone BuildKit node.
//!
//! Record with `MSTAGE_RECORD=1 MSTAGE_IMAGE=peer/dockerfile:1.26.0 cargo test --test
//! named_contexts`; review the diff. Needs the engine and the image, like tests/e2e.rs, and git
//! for the cases serving a repository.

mod common;

use common::builder::Through;
use common::docker::engine_ready;

#[test]
fn named_contexts_build_what_the_reference_builds() {
    if !engine_ready() {
        return;
    }
    let through = Through::local_engine();
    common::assert_no_problems(&common::named_contexts::check_cases(&through));
}

//! The multi-platform, named-context and bake cases (tests/multi_platform/,
//! tests/named_contexts/, tests/bake_compose/) through a standalone BuildKit node, as a remote
//! cluster runs them: `hack/remote-buildkit-up`'s default node (every platform the machine runs,
//! host networking, so the git and http servers the named-context cases start on loopback are
//! reachable), the frontends pulled from the local registry by digest, and the base images and
//! `docker-image://` contexts from its docker.io mirror (tests/common/nodes.rs). Same harnesses
//! and expectations as on the engine's own BuildKit (where the node legitimately differs, its
//! own `expected/remote-*` files say so); the reference runs too when it is in the engine, and
//! mstage must agree with it on the node.
//!
//! Needs a current buildkitd, which CI cannot build: MSTAGE_BUILDKITD names one; without it the
//! tests print why they skip.

mod common;

use std::sync::Mutex;

use common::builder::Through;
use common::nodes::{builder, node, setup};

/// The tests push the same images and share the node; one at a time.
static NODE: Mutex<()> = Mutex::new(());

/// What results recorded for the remote node alone are named with (`expected/remote-…`).
const REMOTE: &str = "remote-";

/// The remote node's builder and the pushed frontends, results compared with the expected files
/// named `<prefix>…`, or None when the tests skip.
fn remote(expected_prefix: &'static str) -> Option<Through> {
    let setup = setup()?;
    let addr = node(None, &[]);
    Some(setup.through(builder(&[(&addr, None)]), expected_prefix))
}

#[test]
fn multi_platform_cases_on_a_remote_node() {
    let _one = NODE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(through) = remote("") else {
        return;
    };
    let problems = common::multi_platform::check_cases(&through, &|_, _| true, &|_, _| Vec::new());
    common::assert_no_problems(&problems);
}

#[test]
fn named_contexts_on_a_remote_node() {
    let _one = NODE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(through) = remote(REMOTE) else {
        return;
    };
    common::assert_no_problems(&common::named_contexts::check_cases(&through));
}

/// The bake projects of tests/bake_compose/ (a directory context, a group of two targets sharing
/// one, a `target:` context) baked with `--builder` of the remote node.
#[test]
fn bake_projects_on_a_remote_node() {
    let _one = NODE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(through) = remote(REMOTE) else {
        return;
    };
    let mut problems = Vec::new();
    for (name, targets, outputs) in [
        ("bake", &[][..], &["default"][..]),
        ("bake-group", &[], &["one", "two"]),
        ("bake-target", &["main"], &["main"]),
    ] {
        problems.extend(common::bake::check_bake(&through, name, targets, outputs));
    }
    common::assert_no_problems(&problems);
}

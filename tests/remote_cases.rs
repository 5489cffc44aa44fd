//! The multi-platform and named-context cases (tests/multi_platform/, tests/named_contexts/)
//! through a standalone BuildKit node, as a remote cluster runs them: `hack/remote-buildkit-up`'s
//! default node (every platform the machine runs), the frontends pulled from the local registry
//! by digest, and the base images and `docker-image://` contexts from its docker.io mirror
//! (tests/common/nodes.rs). Same expectations as on the engine's own BuildKit; the reference runs
//! too when it is in the engine, and must agree.
//!
//! Needs a current buildkitd, which CI cannot build: MSTAGE_BUILDKITD names one; without it the
//! tests print why they skip.

mod common;

use std::sync::Mutex;

use common::nodes::{builder, node, setup};

/// The tests push the same images and share the node; one at a time.
static NODE: Mutex<()> = Mutex::new(());

/// The remote node's builder and the pushed frontends, or None when the tests skip.
fn remote() -> Option<common::builder::Through> {
    let setup = setup()?;
    let addr = node(None, &[]);
    Some(setup.through(builder(&[(&addr, None)]), ""))
}

#[test]
fn multi_platform_cases_on_a_remote_node() {
    let _one = NODE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(through) = remote() else {
        return;
    };
    let problems = common::multi_platform::check_cases(&through, &|_, _| true, &|_, _| Vec::new());
    common::assert_no_problems(&problems);
}

#[test]
fn named_contexts_on_a_remote_node() {
    let _one = NODE.lock().unwrap_or_else(|e| e.into_inner());
    let Some(through) = remote() else {
        return;
    };
    common::assert_no_problems(&common::named_contexts::check_cases(&through));
}

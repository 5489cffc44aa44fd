//! Phase timings for the gateway, on stderr when `MSTAGE_TRACE` is set in the frontend's
//! environment (an image with `ENV MSTAGE_TRACE=1`). BuildKit writes a frontend's stderr to its
//! own log, so the lines land in the engine's log, not the build output.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

struct Clock {
    start: Instant,
}

static CLOCK: OnceLock<Option<Clock>> = OnceLock::new();

fn clock() -> Option<&'static Clock> {
    CLOCK
        .get_or_init(|| {
            std::env::var_os("MSTAGE_TRACE").map(|_| Clock {
                start: Instant::now(),
            })
        })
        .as_ref()
}

/// Starts the clock; call first thing so later marks measure from process start.
pub fn start() {
    mark("start");
}

/// Logs `what` with the time since `start` and the wall clock (to line up with the engine's log).
/// `what` is only formatted when tracing is on (pass `format_args!`).
pub fn mark(what: impl std::fmt::Display) {
    if let Some(clock) = clock() {
        let since = clock.start.elapsed().as_secs_f64() * 1000.0;
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        eprintln!("mstage-trace {wall:.6} +{since:.2}ms {what}");
    }
}

//! How long maskgate waits on a server (an object store, an HTTP server, a database) before it
//! gives up with a retryable error: `[run] network_timeout_s`, `MASKGATE_NETWORK_TIMEOUT`.
//! A plan sets it when it resolves; every network client reads it when it is opened, so one
//! setting bounds connecting, each request and each wait for an answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Seconds, documented in the README. object_store's own request timeout is also 30 s.
pub const DEFAULT_TIMEOUT_S: u64 = 30;

static TIMEOUT_S: AtomicU64 = AtomicU64::new(DEFAULT_TIMEOUT_S);

/// The longest one connect, request or wait for a reply may take.
pub fn timeout() -> Duration {
    Duration::from_secs(TIMEOUT_S.load(Ordering::Relaxed))
}

/// Sets [`timeout`] for the clients opened from now on (at least one second).
pub fn set_timeout_s(seconds: u64) {
    TIMEOUT_S.store(seconds.max(1), Ordering::Relaxed);
}

/// What to do about a server that did not answer in time or could not be reached.
pub fn retry_hint() -> String {
    format!(
        "check that the server is up and reachable, then retry; a slow server needs a larger [run] network_timeout_s or MASKGATE_NETWORK_TIMEOUT (now {} s)",
        timeout().as_secs()
    )
}

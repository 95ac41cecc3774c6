//! How long maskgate waits on a server (an object store, an HTTP server, a database) before it
//! gives up with a retryable error: `[run] network_timeout_s`, `MASKGATE_NETWORK_TIMEOUT`.
//! A plan resolves it into a [`Network`] and hands it to every client it opens, so one setting
//! bounds connecting, each request and each wait for an answer (no process-wide state).

use std::time::Duration;

/// Seconds, documented in docs/src/configuration.md. object_store's own request timeout is
/// also 30 s.
pub const DEFAULT_TIMEOUT_S: u64 = 30;

/// The network settings a client is opened with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    /// The longest one connect, request or wait for a reply may take.
    pub timeout: Duration,
}

impl Default for Network {
    fn default() -> Network {
        Network::with_timeout_s(DEFAULT_TIMEOUT_S)
    }
}

impl Network {
    /// At least one second.
    pub fn with_timeout_s(seconds: u64) -> Network {
        Network {
            timeout: Duration::from_secs(seconds.max(1)),
        }
    }

    /// What to do about a server that did not answer in time or could not be reached.
    pub fn retry_hint(&self) -> String {
        format!(
            "check that the server is up and reachable, then retry; a slow server needs a larger [run] network_timeout_s or MASKGATE_NETWORK_TIMEOUT (now {} s)",
            self.timeout.as_secs()
        )
    }
}

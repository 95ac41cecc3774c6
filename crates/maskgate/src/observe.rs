//! How a caller watches and stops a run: the library reports progress and polls for
//! cancellation through an [`Observer`] it is given, and never prints or keeps global state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Progress and cancellation, supplied by the caller (a terminal progress bar, a Python
/// callback, nothing at all). Called from worker threads.
pub trait Observer: Sync {
    /// Scoring starts on `total` samples (all corpora together).
    fn started(&self, _total: u64) {}
    /// One more sample is finished (scored, or recorded as a problem).
    fn advanced(&self) {}
    /// Arm `arm` made (or took from the cache) one sample's prediction in `seconds`: the
    /// measurement a progress line shows per arm, never a result.
    fn predicted(&self, _arm: &str, _seconds: f64) {}
    /// Scoring is over (also after a cancellation).
    fn finished(&self) {}
    /// When true, workers take no new samples; finished predictions stay in the cache.
    fn cancelled(&self) -> bool {
        false
    }
}

/// The observer that watches nothing.
pub struct Silent;

impl Observer for Silent {}

/// A cancellation flag a signal handler can set while the run polls it.
#[derive(Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Asks the run to stop; returns whether it had been asked already.
    pub fn cancel(&self) -> bool {
        self.0.swap(true, Ordering::Relaxed)
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

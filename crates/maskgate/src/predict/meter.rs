//! A model arm's cost as it happens: each inference's latency, the time around it, the session's
//! load time and the process's resident memory. Only raw numbers: `crate::cost` summarises them.

use crate::cost::RawArm;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Meter {
    /// This host, as the cache stores it beside a latency.
    pub host: String,
    latencies: Mutex<Vec<u64>>,
    cached: Mutex<Vec<crate::cost::Timing>>,
    outside: Mutex<Vec<u64>>,
    load_ns: Mutex<Option<u64>>,
    rss_before_load: Mutex<Option<u64>>,
    rss_peak: AtomicU64,
    repeats: Mutex<Vec<Vec<u64>>>,
    untimed: AtomicU64,
    /// Cache keys this run inferred: a later hit on one (a duplicate photo) was timed already.
    timed_keys: Mutex<std::collections::BTreeSet<String>>,
}

fn push<T>(list: &Mutex<Vec<T>>, v: T) {
    if let Ok(mut l) = list.lock() {
        l.push(v);
    }
}

impl Meter {
    pub fn new(host: String) -> Meter {
        Meter {
            host,
            ..Default::default()
        }
    }

    /// Just before the session is created.
    pub fn before_load(&self) {
        if let Ok(mut r) = self.rss_before_load.lock() {
            *r = resident_bytes();
        }
    }

    pub fn loaded(&self, ns: u64) {
        if let Ok(mut l) = self.load_ns.lock() {
            *l = Some(ns);
        }
    }

    /// One inference of this run: its latency and the time outside the model for the photo.
    /// After the first, the resident memory is read once: a run's first photo goes through the
    /// arms one at a time, so the rise since the session's creation is this arm's (its session,
    /// arena and buffers), not another arm's.
    pub fn inferred(&self, latency_ns: u64, outside_ns: u64) {
        push(&self.latencies, latency_ns);
        push(&self.outside, outside_ns);
        if self.rss_peak.load(Ordering::Relaxed) == 0 {
            if let Some(rss) = resident_bytes() {
                let _ =
                    self.rss_peak
                        .compare_exchange(0, rss, Ordering::Relaxed, Ordering::Relaxed);
            }
        }
    }

    /// A photo this run inferred, by its cache key.
    pub fn timed_key(&self, key: &str) {
        if let Ok(mut k) = self.timed_keys.lock() {
            k.insert(key.to_string());
        }
    }

    /// A prediction served from the cache under `key`, with the latency and host it was
    /// measured with (entries older than cost measurement have none). A duplicate of a photo
    /// this run timed is not counted again.
    pub fn served(&self, key: &str, timed: Option<crate::cost::Timing>) {
        if self.timed_keys.lock().is_ok_and(|k| k.contains(key)) {
            return;
        }
        match timed {
            Some(t) => push(&self.cached, t),
            None => {
                self.untimed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// One `--cost-repeat` round over the seeded subset.
    pub fn repeated(&self, latencies: Vec<u64>) {
        push(&self.repeats, latencies);
    }

    /// The measurements so far.
    pub fn raw(
        &self,
        name: &str,
        model_bytes: u64,
        intra_threads: usize,
        exclusive: bool,
    ) -> RawArm {
        let copy = |l: &Mutex<Vec<u64>>| l.lock().map(|l| l.clone()).unwrap_or_default();
        let peak = self.rss_peak.load(Ordering::Relaxed);
        RawArm {
            name: name.to_string(),
            model_bytes,
            load_ns: self.load_ns.lock().ok().and_then(|l| *l),
            latencies: copy(&self.latencies),
            cached: self.cached.lock().map(|l| l.clone()).unwrap_or_default(),
            outside: copy(&self.outside),
            rss_before_load: self.rss_before_load.lock().ok().and_then(|r| *r),
            rss_peak: (peak > 0).then_some(peak),
            intra_threads,
            exclusive,
            repeats: self.repeats.lock().map(|l| l.clone()).unwrap_or_default(),
            cached_untimed: self.untimed.load(Ordering::Relaxed) as usize,
        }
    }
}

/// The process's resident memory (Linux: `VmRSS` of `/proc/self/status`), in bytes.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

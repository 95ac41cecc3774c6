//! A model arm's cost as it happens: each inference's latency, the time around it, the session's
//! load time and the memory its own load and first inference took. Only raw numbers:
//! `crate::cost` summarises them.

use crate::cost::{RawArm, Timing};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Meter {
    /// This host and this run, as the cache stores them beside a latency.
    pub host: String,
    pub run: String,
    /// (ordinal in this run, ns): the ordinal decides warm-up, as it does in a cached replay.
    latencies: Mutex<Vec<(u64, u64)>>,
    /// By cache key: a photo served twice (a duplicate) counts once, as it did when timed.
    cached: Mutex<BTreeMap<String, Timing>>,
    outside: Mutex<Vec<u64>>,
    load_ns: Mutex<Option<u64>>,
    /// The resident memory the session's creation took, and the arm's first inference.
    load_rise: Mutex<Option<u64>>,
    first_rise: Mutex<Option<u64>>,
    first_claimed: AtomicBool,
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

fn set<T>(slot: &Mutex<Option<T>>, v: T) {
    if let Ok(mut s) = slot.lock() {
        *s = Some(v);
    }
}

/// Resident memory read around `work`: what it added (never negative).
pub fn rise_around<T>(work: impl FnOnce() -> T) -> (T, Option<u64>) {
    let before = resident_bytes();
    let out = work();
    let rise = before
        .zip(resident_bytes())
        .map(|(b, a)| a.saturating_sub(b));
    (out, rise)
}

impl Meter {
    pub fn new(host: String, run: String) -> Meter {
        Meter {
            host,
            run,
            ..Default::default()
        }
    }

    /// The session was created in `ns`, taking `rise` bytes of resident memory.
    pub fn loaded(&self, ns: u64, rise: Option<u64>) {
        set(&self.load_ns, ns);
        if let Some(r) = rise {
            set(&self.load_rise, r);
        }
    }

    /// Whether this caller measures the arm's first inference's memory (one caller does).
    pub fn claim_first(&self) -> bool {
        !self.first_claimed.swap(true, Ordering::Relaxed)
    }

    pub fn first_inference_rise(&self, rise: Option<u64>) {
        if let Some(r) = rise {
            set(&self.first_rise, r);
        }
    }

    /// One inference of this run: its place in the arm's order, its latency and the time
    /// outside the model for the photo.
    pub fn inferred(&self, ordinal: u64, latency_ns: u64, outside_ns: u64) {
        push(&self.latencies, (ordinal, latency_ns));
        push(&self.outside, outside_ns);
    }

    /// A photo this run inferred, by its cache key (before the entry is stored, so no other
    /// worker can be served it first).
    pub fn timed_key(&self, key: &str) {
        if let Ok(mut k) = self.timed_keys.lock() {
            k.insert(key.to_string());
        }
    }

    /// A prediction served from the cache under `key`, with the latency, host and run it was
    /// measured in (entries older than cost measurement have none). A duplicate of a photo this
    /// run timed is not counted again, nor a key served twice.
    pub fn served(&self, key: &str, timed: Option<Timing>) {
        if self.timed_keys.lock().is_ok_and(|k| k.contains(key)) {
            return;
        }
        match timed {
            Some(t) if t.run == self.run => {}
            Some(t) => {
                if let Ok(mut c) = self.cached.lock() {
                    c.entry(key.to_string()).or_insert(t);
                }
            }
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
        let get = |s: &Mutex<Option<u64>>| s.lock().ok().and_then(|s| *s);
        let mut latencies = self.latencies.lock().map(|l| l.clone()).unwrap_or_default();
        latencies.sort_unstable();
        let (load_rise, first_rise) = (get(&self.load_rise), get(&self.first_rise));
        RawArm {
            name: name.to_string(),
            model_bytes,
            load_ns: get(&self.load_ns),
            latencies,
            cached: self
                .cached
                .lock()
                .map(|c| c.values().cloned().collect())
                .unwrap_or_default(),
            cached_untimed: self.untimed.load(Ordering::Relaxed) as usize,
            outside: self.outside.lock().map(|l| l.clone()).unwrap_or_default(),
            memory_rise: load_rise.map(|l| l + first_rise.unwrap_or(0)),
            intra_threads,
            exclusive,
            repeats: self.repeats.lock().map(|l| l.clone()).unwrap_or_default(),
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

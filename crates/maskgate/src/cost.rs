//! What each model arm costs, measured while the run scores: latency per photo, throughput,
//! load time, memory and model size, on this host. Measurements, not results: they never enter
//! `metrics.csv`, `samples.jsonl` or `report.json` (which stay byte-identical with cost on or
//! off); they go to `cost.json` and the reports' Cost section, and cost criteria read them.
//!
//! The raw timings come from the arms (`predict::cost::Meter`); everything here is a pure
//! function of them, so the statistics are checked against numpy on recorded timings.

use maskgate_core::quantile::{mean, percentile_sorted};
use maskgate_core::stats::{percentile_interval, Rng};
use serde::Serialize;

/// The latency percentiles reported, as (name, q).
pub const PERCENTILES: [(&str, f64); 4] =
    [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)];

/// Bootstrap draws of a percentile's interval.
const INTERVAL_DRAWS: usize = 1000;

/// Where the timings were taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Host {
    pub cpu: String,
    pub arch: String,
    /// The vector extensions ONNX Runtime's CPU kernels choose between.
    pub cpu_features: Vec<String>,
    /// Cores this process may use.
    pub cores: usize,
    pub execution_provider: String,
    pub onnxruntime: String,
}

impl Host {
    /// This machine, with the cores this process may use, running models on
    /// `execution_provider` with ONNX Runtime `onnxruntime`.
    pub fn of_this_host(execution_provider: &str, onnxruntime: &str) -> Host {
        let hw = crate::shard::Hardware::of_this_host(execution_provider);
        Host {
            cpu: hw.cpu,
            arch: hw.arch,
            cpu_features: hw.cpu_features,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            execution_provider: hw.execution_provider,
            onnxruntime: onnxruntime.to_string(),
        }
    }

    /// One line naming the host, as the cache stores it beside a latency.
    pub fn key(&self) -> String {
        format!(
            "{}; {}; {}; {} cores; {}; onnxruntime {}",
            self.cpu,
            self.arch,
            self.cpu_features.join(","),
            self.cores,
            self.execution_provider,
            self.onnxruntime
        )
    }
}

/// One inference's latency and where it was measured: what a cached prediction keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    pub ns: u64,
    /// [`Host::key`] of the machine.
    pub host: String,
    /// The run that measured it (one id per process), and the inference's place in that run's
    /// order for its arm (the first few are warm-up).
    pub run: String,
    pub ordinal: u64,
}

/// One arm's raw measurements (nanoseconds), in completion order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawArm {
    pub name: String,
    pub model_bytes: u64,
    /// Creating the ONNX Runtime session; `None` when the run never loaded the model.
    pub load_ns: Option<u64>,
    /// Inference latencies measured in this run (input in, session run, outputs out), each
    /// with its ordinal in the arm's order (the first `warmup` are warm-up).
    pub latencies: Vec<(u64, u64)>,
    /// Latencies of predictions served from the cache, as they were measured.
    pub cached: Vec<Timing>,
    /// Predictions served from cache entries that kept no latency.
    pub cached_untimed: usize,
    /// Per photo, the arm's work outside the model: pre- and post-processing.
    pub outside: Vec<u64>,
    /// The resident memory the session's creation and the arm's first inference added (bytes),
    /// each read around that work alone.
    pub memory_rise: Option<u64>,
    /// ONNX Runtime intra-op threads, and whether inferences take every core in turn.
    pub intra_threads: usize,
    pub exclusive: bool,
    /// `--cost-repeat`: the seeded subset's latencies, one list per repeat.
    pub repeats: Vec<Vec<u64>>,
}

/// Latency statistics in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latency {
    /// Latencies the statistics are over (after warm-up).
    pub n: usize,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// 95% bootstrap intervals (percentile method, seeded) of p50 and p95.
    pub p50_ci95: Option<[f64; 2]>,
    pub p95_ci95: Option<[f64; 2]>,
}

/// One arm's cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArmCost {
    pub arm: String,
    pub model_mb: f64,
    pub load_ms: Option<f64>,
    /// Inferences timed in this run, warm-up excluded (`latency` is over these)…
    pub measured: usize,
    pub warmup_excluded: usize,
    /// …and predictions served from the cache (their original latencies, `cached_latency`).
    pub from_cache: usize,
    /// Cached latencies measured on another host than this run's.
    pub from_other_hosts: usize,
    /// The run every latency used was measured in: `"this run"`, an earlier run's id when all
    /// came from the cache of one run on this host, or `None` for a mix (no latency criterion).
    pub timed_in: Option<String>,
    pub latency: Option<Latency>,
    pub cached_latency: Option<Latency>,
    /// Photos a second of one session, photo after photo: 1000 / mean latency (ms). (A light
    /// model may run a session per busy worker side by side; a service's throughput is this
    /// times its sessions.)
    pub throughput_per_s: Option<f64>,
    /// Mean per-photo time outside the model (pre- and post-processing), ms.
    pub outside_ms: Option<f64>,
    /// The resident memory the session's creation and the arm's first inference added, each read
    /// around that work alone (MiB): the session, its arena and buffers for one photo.
    pub memory_peak_mb: Option<f64>,
    pub intra_threads: usize,
    pub exclusive: bool,
    /// With `[cost] price_per_hour`: what 1,000 photos cost at the measured mean latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_per_1000: Option<f64>,
    /// `--cost-repeat`: each repeat's p50 over the seeded subset, and their spread.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repeat_p50_ms: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_spread_ms: Option<f64>,
}

/// `cost.json`: the host and every model arm's cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostReport {
    /// Marks the file as measurements: they differ from run to run.
    pub kind: &'static str,
    pub host: Host,
    pub warmup: usize,
    /// Worker threads of the run (`None`: one per core).
    pub threads: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_hour: Option<f64>,
    pub arms: Vec<ArmCost>,
}

impl CostReport {
    pub fn arm(&self, name: &str) -> Option<&ArmCost> {
        self.arms.iter().find(|a| a.arm == name)
    }
}

const MS: f64 = 1e6;
const MIB: f64 = 1024.0 * 1024.0;

/// Latency statistics of `ns` (milliseconds; numpy's linear percentiles), with seeded
/// bootstrap intervals of p50 and p95; `None` for no latencies.
pub fn latency_stats(ns: &[u64], seed: u64) -> Option<Latency> {
    if ns.is_empty() {
        return None;
    }
    let ms: Vec<f64> = ns.iter().map(|&v| v as f64 / MS).collect();
    let mut sorted = ms.clone();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| percentile_sorted(&sorted, q);
    let interval = |q: f64| -> Option<[f64; 2]> {
        if ms.len() < 2 {
            return None;
        }
        let rng = Rng::keyed(seed, "cost latency");
        let draws: Vec<f64> = (0..INTERVAL_DRAWS)
            .map(|d| {
                let mut r = rng.stream(d as u64);
                // Drawn from the sorted latencies: the interval depends on the set, not on
                // the order parallel workers finished in.
                let mut drawn: Vec<f64> = (0..sorted.len())
                    .map(|_| sorted[r.below(sorted.len())])
                    .collect();
                drawn.sort_by(f64::total_cmp);
                percentile_sorted(&drawn, q)
            })
            .collect();
        percentile_interval(draws, 0.95).map(|(lo, hi)| [lo, hi])
    };
    Some(Latency {
        n: ms.len(),
        mean_ms: mean(&ms).unwrap_or(0.0),
        p50_ms: at(0.5),
        p90_ms: at(0.9),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        p50_ci95: interval(0.5),
        p95_ci95: interval(0.95),
    })
}

/// What to summarise with.
#[derive(Clone, Copy, Debug)]
pub struct Summarise<'a> {
    pub host: &'a Host,
    /// The first inferences of each arm, dropped as warm-up.
    pub warmup: usize,
    pub seed: u64,
    pub price_per_hour: Option<f64>,
}

/// One arm's cost from its raw measurements.
pub fn summarise(raw: &RawArm, how: Summarise) -> ArmCost {
    // Warm-up by ordinal, the same rule a cached replay of this run applies.
    let timed: Vec<u64> = (raw.latencies.iter())
        .filter(|(ordinal, _)| *ordinal >= how.warmup as u64)
        .map(|(_, ns)| *ns)
        .collect();
    let warmup_excluded = raw.latencies.len() - timed.len();
    let timed = &timed[..];
    let host = how.host.key();
    // A cached latency that was warm-up in its own run stays out, as it would have there.
    let cached: Vec<u64> = (raw.cached.iter())
        .filter(|t| t.ordinal >= how.warmup as u64)
        .map(|t| t.ns)
        .collect();
    let runs: std::collections::BTreeSet<&str> =
        raw.cached.iter().map(|t| t.run.as_str()).collect();
    let all_here = raw.cached.iter().all(|t| t.host == host);
    let timed_in = match (
        raw.latencies.is_empty(),
        raw.cached.is_empty(),
        raw.cached_untimed,
    ) {
        (false, true, 0) => Some(THIS_RUN.to_string()),
        (true, false, 0) if runs.len() == 1 && all_here => runs.first().map(|r| r.to_string()),
        _ => None,
    };
    let latency = latency_stats(timed, how.seed);
    let cached_latency = latency_stats(&cached, how.seed);
    // Throughput and price from the latencies a criterion would read: this run's, else those
    // of the one earlier run the cache served.
    let mean_ms = match timed_in.as_deref() {
        Some(THIS_RUN) | None => latency.as_ref(),
        Some(_) => cached_latency.as_ref(),
    }
    .map(|l| l.mean_ms);
    let repeat_p50_ms: Vec<f64> = raw
        .repeats
        .iter()
        .filter_map(|r| latency_stats(r, how.seed).map(|l| l.p50_ms))
        .collect();
    let repeat_spread_ms = (repeat_p50_ms.len() > 1).then(|| {
        let (lo, hi) = repeat_p50_ms
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        hi - lo
    });
    ArmCost {
        arm: raw.name.clone(),
        model_mb: raw.model_bytes as f64 / MIB,
        load_ms: raw.load_ns.map(|ns| ns as f64 / MS),
        measured: timed.len(),
        warmup_excluded,
        from_cache: raw.cached.len() + raw.cached_untimed,
        from_other_hosts: raw.cached.iter().filter(|t| t.host != host).count(),
        timed_in,
        cached_latency,
        latency,
        throughput_per_s: mean_ms.filter(|&m| m > 0.0).map(|m| 1000.0 / m),
        outside_ms: mean(
            &raw.outside
                .iter()
                .map(|&v| v as f64 / MS)
                .collect::<Vec<_>>(),
        ),
        memory_peak_mb: raw.memory_rise.map(|b| b as f64 / MIB),
        intra_threads: raw.intra_threads,
        exclusive: raw.exclusive,
        cost_per_1000: how
            .price_per_hour
            .zip(mean_ms)
            .map(|(price, ms)| price * ms * 1000.0 / 3.6e6),
        repeat_p50_ms,
        repeat_spread_ms,
    }
}

/// The cost metrics criteria may name, each with which side is better.
pub const METRICS: [(&str, bool); 5] = [
    ("latency.p95_ms", true),
    ("latency.p50_ms", true),
    ("throughput.per_s", false),
    ("memory.peak_mb", true),
    ("model.mb", true),
];

/// Whether cost metric `name` is read from latencies (and so from one run's timings).
pub fn metric_needs_latency(name: &str) -> bool {
    name.starts_with("latency.") || name.starts_with("throughput.")
}

/// Whether `name` is a cost metric, and if so whether lower is better.
pub fn metric(name: &str) -> Option<bool> {
    METRICS
        .iter()
        .find(|(m, _)| *m == name)
        .map(|(_, lower)| *lower)
}

/// An id for this run's timings, unique per process (a pinned `run_id` repeats across runs).
pub fn run_nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", std::process::id(), nanos)
}

/// What `timed_in` says of latencies measured in this run.
pub const THIS_RUN: &str = "this run";

/// Why an arm's value of cost metric `name` cannot be used, or the value. Latency and
/// throughput need every latency measured in one run on this host: this one, or one earlier run
/// whose predictions the cache served whole.
pub fn value(cost: &ArmCost, name: &str) -> Result<f64, String> {
    let timed = || -> Result<&Latency, String> {
        let latency = match cost.timed_in.as_deref() {
            Some(THIS_RUN) => cost.latency.as_ref(),
            Some(_) => cost.cached_latency.as_ref(),
            None if cost.from_cache > 0 => {
                let why = match (cost.from_other_hosts, cost.measured) {
                    (0, 0) => "timed in several runs".to_string(),
                    (0, now) => format!("beside {now} timed now"),
                    (other, _) => format!("{other} of them timed on another host"),
                };
                return Err(format!(
                    "{} of {}'s latencies come from the prediction cache, {why}; run with --no-cache to time every photo in one run",
                    cost.from_cache, cost.arm
                ));
            }
            None => None,
        };
        latency.ok_or_else(|| {
            format!(
                "{} has no latency measured after {} warm-up inferences",
                cost.arm, cost.warmup_excluded
            )
        })
    };
    match name {
        "latency.p95_ms" => Ok(timed()?.p95_ms),
        "latency.p50_ms" => Ok(timed()?.p50_ms),
        "throughput.per_s" => {
            timed()?;
            cost.throughput_per_s
                .ok_or_else(|| format!("{} has no throughput", cost.arm))
        }
        "memory.peak_mb" => cost.memory_peak_mb.ok_or_else(|| {
            format!(
                "{}'s memory was not measured (its model never loaded in this run)",
                cost.arm
            )
        }),
        "model.mb" => Ok(cost.model_mb),
        other => Err(format!("unknown cost metric {other:?}")),
    }
}

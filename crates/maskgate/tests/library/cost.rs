//! Cost statistics against numpy on recorded timings, and the summary's bookkeeping (warm-up,
//! cache, price), with no wall clock in any assertion.

use maskgate::cost::{latency_stats, summarise, Host, RawArm, Summarise, Timing, THIS_RUN};
use maskgate_core::stats::Rng;
use std::path::Path;

/// Latencies (ns) shaped like real ones: a floor, a long right tail, and ties.
fn timings(n: usize, seed: u64) -> Vec<u64> {
    let mut rng = Rng::keyed(seed, "cost timings");
    (0..n)
        .map(|_| {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let tail = (-u.max(1e-12).ln()).powf(1.5);
            // Rounded to microseconds now and then: equal latencies happen.
            let ns = 4_000_000.0 + 900_000.0 * tail;
            if rng.below(4) == 0 {
                (ns / 1000.0).round() as u64 * 1000
            } else {
                ns as u64
            }
        })
        .collect()
}

#[test]
fn latency_percentiles_equal_numpys() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join("vendor/parity/bin/python");
    assert!(
        python.exists(),
        "run `bash scripts/setup_parity.sh` (it installs numpy)"
    );
    let sets: Vec<Vec<u64>> = [1usize, 2, 3, 7, 24, 100, 1000]
        .iter()
        .enumerate()
        .map(|(i, &n)| timings(n, i as u64))
        .collect();
    let input = serde_json::to_string(&sets).unwrap();
    let script = "import json, sys, numpy as np\n\
                  sets = json.load(sys.stdin)\n\
                  out = []\n\
                  for ns in sets:\n\
                  \x20   ms = np.array(ns, dtype=np.float64) / 1e6\n\
                  \x20   out.append([repr(float(v)) for v in np.percentile(ms, [50, 90, 95, 99])] + [repr(float(ms.mean()))])\n\
                  print(json.dumps(out))\n";
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let numpy: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(numpy.len(), sets.len());
    for (ns, want) in sets.iter().zip(&numpy) {
        let l = latency_stats(ns, 1).expect("latencies given");
        assert_eq!(l.n, ns.len());
        let got = [l.p50_ms, l.p90_ms, l.p95_ms, l.p99_ms];
        for (g, w) in got.iter().zip(want) {
            // Text numpy wrote, parsed with correct rounding: the same double, bit for bit.
            assert_eq!(
                g.to_bits(),
                w.parse::<f64>().unwrap().to_bits(),
                "n = {}",
                ns.len()
            );
        }
        let mean: f64 = want[4].parse().unwrap();
        assert!((l.mean_ms - mean).abs() <= 1e-12 * mean, "n = {}", ns.len());
        // Intervals are seeded: the same latencies give the same interval, which holds p50.
        if let Some([lo, hi]) = l.p50_ci95 {
            assert!(lo <= l.p50_ms && l.p50_ms <= hi);
            assert_eq!(latency_stats(ns, 1).unwrap().p50_ci95, l.p50_ci95);
        }
    }
}

fn timing(ns: u64, host: &str, run: &str, ordinal: u64) -> Timing {
    Timing {
        ns,
        host: host.into(),
        run: run.into(),
        ordinal,
    }
}

fn host() -> Host {
    Host {
        cpu: "test cpu".into(),
        arch: "x86_64".into(),
        cpu_features: vec!["avx2".into()],
        cores: 2,
        execution_provider: "cpu".into(),
        onnxruntime: "1.31.1".into(),
    }
}

#[test]
fn warm_up_cache_memory_and_price_are_accounted() {
    let h = host();
    let raw = RawArm {
        name: "cand".into(),
        model_bytes: 3 * 1024 * 1024,
        load_ns: Some(80_000_000),
        // Ordinals 0 and 1 are warm-up: slow, and left out, whatever order they finished in.
        latencies: vec![
            (2, 10_000_000),
            (0, 90_000_000),
            (3, 12_000_000),
            (1, 50_000_000),
            (4, 14_000_000),
        ],
        cached: vec![
            timing(11_000_000, &h.key(), "earlier", 5),
            timing(13_000_000, "another host", "earlier", 6),
        ],
        cached_untimed: 1,
        outside: vec![2_000_000; 5],
        memory_rise: Some(64 << 20),
        intra_threads: 2,
        exclusive: false,
        repeats: vec![vec![10_000_000, 12_000_000], vec![11_000_000, 15_000_000]],
    };
    let c = summarise(
        &raw,
        Summarise {
            host: &h,
            warmup: 2,
            seed: 3,
            price_per_hour: Some(3.6),
        },
    );
    assert_eq!((c.measured, c.warmup_excluded), (3, 2));
    assert_eq!((c.from_cache, c.from_other_hosts), (3, 1));
    let l = c.latency.as_ref().unwrap();
    assert_eq!((l.p50_ms, l.mean_ms), (12.0, 12.0));
    assert_eq!(c.throughput_per_s, Some(1000.0 / 12.0));
    assert_eq!(c.model_mb, 3.0);
    assert_eq!(c.load_ms, Some(80.0));
    assert_eq!(c.memory_peak_mb, Some(64.0));
    assert_eq!(c.outside_ms, Some(2.0));
    // 3.6 an hour is 0.001 a second: 12 ms a photo, 0.012 per 1,000 photos.
    assert!((c.cost_per_1000.unwrap() - 0.012).abs() < 1e-15);
    assert_eq!(c.repeat_p50_ms, [11.0, 13.0]);
    assert_eq!(c.repeat_spread_ms, Some(2.0));
    // A latency criterion cannot use latencies partly from the cache; size and memory can.
    let err = maskgate::cost::value(&c, "latency.p95_ms").unwrap_err();
    assert!(
        err.contains("3 of cand's latencies come from the prediction cache")
            && err.contains("timed on another host"),
        "{err}"
    );
    assert_eq!(c.timed_in, None);
    assert_eq!(maskgate::cost::value(&c, "model.mb"), Ok(3.0));
    assert_eq!(maskgate::cost::value(&c, "memory.peak_mb"), Ok(64.0));
    let fresh = summarise(
        &RawArm {
            cached: vec![],
            cached_untimed: 0,
            ..raw
        },
        Summarise {
            host: &h,
            warmup: 2,
            seed: 3,
            price_per_hour: None,
        },
    );
    assert_eq!(maskgate::cost::value(&fresh, "latency.p50_ms"), Ok(12.0));
    assert_eq!(fresh.timed_in.as_deref(), Some(THIS_RUN));
    assert!(fresh.cost_per_1000.is_none());

    // Served whole from the cache of one earlier run on this host: that run's latencies
    // decide, its warm-up (ordinals below 2) left out as it was there.
    let replay = |cached: Vec<Timing>| {
        summarise(
            &RawArm {
                name: "cand".into(),
                cached,
                ..Default::default()
            },
            Summarise {
                host: &h,
                warmup: 2,
                seed: 3,
                price_per_hour: None,
            },
        )
    };
    let replayed = replay(vec![
        timing(90_000_000, &h.key(), "earlier", 0),
        timing(20_000_000, &h.key(), "earlier", 2),
        timing(30_000_000, &h.key(), "earlier", 3),
    ]);
    assert_eq!(replayed.timed_in.as_deref(), Some("earlier"));
    assert_eq!(maskgate::cost::value(&replayed, "latency.p50_ms"), Ok(25.0));
    // Two earlier runs mixed: no one run's timings.
    let mixed = replay(vec![
        timing(20_000_000, &h.key(), "a", 2),
        timing(30_000_000, &h.key(), "b", 3),
    ]);
    assert!(maskgate::cost::value(&mixed, "latency.p50_ms")
        .unwrap_err()
        .contains("timed in several runs"));
}

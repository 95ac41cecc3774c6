//! The paired tests against scipy itself (`tools/scipy_paired_reference.py`, scipy 1.17.1 from
//! PyPI in `vendor/parity`, installed by `scripts/setup_parity.sh`): Wilcoxon signed-rank p-values and statistics,
//! exact McNemar p-values and Hodges–Lehmann shifts with their intervals, on seeded cases that
//! reach every branch (exact, permutation, normal; ties, zeros; n from 1 to 120).

use maskgate_core::stats::{sign_test, Rng};
use maskgate_core::wilcoxon::{hodges_lehmann, wilcoxon, Method};
use std::path::Path;

fn cases() -> (Vec<Vec<f64>>, Vec<(usize, usize)>) {
    let mut rng = Rng::keyed(20261207, "scipy-reference");
    let mut uniform = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut sets = Vec::new();
    for n in (1..=60).chain([75, 120]) {
        // Continuous (no ties), coarse (ties), and coarse with zeros, shifted or not.
        for (grain, shift) in [
            (0.0, 0.0),
            (0.0, 0.2),
            (0.05, 0.0),
            (0.1, 0.15),
            (0.25, 0.0),
        ] {
            let d: Vec<f64> = (0..n)
                .map(|_| {
                    let v = uniform() - 0.5 + shift;
                    if grain > 0.0 {
                        (v / grain).round() * grain
                    } else {
                        v
                    }
                })
                .collect();
            sets.push(d);
        }
    }
    let flips = vec![
        (0, 0),
        (0, 1),
        (1, 1),
        (5, 5),
        (3, 10),
        (0, 30),
        (12, 2),
        (100, 140),
        (450, 500),
        (7, 0),
    ];
    (sets, flips)
}

#[test]
fn wilcoxon_hodges_lehmann_and_mcnemar_equal_scipy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The venv's own interpreter (its link, not its target, so the venv's packages load).
    let python = root.join("vendor/parity/bin/python");
    assert!(
        python.exists(),
        "run `bash scripts/setup_parity.sh` (it installs scipy)"
    );
    let (sets, flips) = cases();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scipy-reference");
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("cases.json");
    // scipy returns NaN where every difference is zero; maskgate has no test there.
    let tested: Vec<&Vec<f64>> = sets
        .iter()
        .filter(|d| d.iter().any(|v| *v != 0.0))
        .collect();
    std::fs::write(
        &input,
        serde_json::json!({
            "wilcoxon": tested,
            "mcnemar": flips,
            "hl": sets.iter().filter(|d| d.len() <= 120).collect::<Vec<_>>(),
        })
        .to_string(),
    )
    .unwrap();
    let out = std::process::Command::new(&python)
        .arg(root.join("tools/scipy_paired_reference.py"))
        .arg(&input)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wilcoxon_ref = reference["wilcoxon"].as_array().unwrap();
    assert_eq!(wilcoxon_ref.len(), tested.len(), "scipy scored every case");
    assert!(tested.len() > 250);
    let mut methods = std::collections::BTreeMap::new();
    let mut worst = 0.0f64;
    for (d, r) in tested.iter().zip(wilcoxon_ref) {
        let w = wilcoxon(d).expect("a non-zero difference");
        *methods.entry(w.method.as_str()).or_insert(0) += 1;
        let (stat, p) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
        assert_eq!(w.statistic, stat, "statistic, n = {}: {d:?}", d.len());
        worst = worst.max((w.p - p).abs());
        assert!(
            (w.p - p).abs() <= 1e-12,
            "p {} vs scipy {p} ({:?}, n = {})",
            w.p,
            w.method,
            d.len()
        );
    }
    eprintln!(
        "scipy {}: {} Wilcoxon cases {methods:?}, largest |p - scipy's p| = {worst:e}",
        reference["scipy"],
        tested.len()
    );
    // Every branch was reached.
    for m in [Method::Exact, Method::Permutation, Method::Asymptotic] {
        assert!(
            methods.get(m.as_str()).copied().unwrap_or(0) >= 10,
            "{methods:?}"
        );
    }
    for ((b, c), r) in flips.iter().zip(reference["mcnemar"].as_array().unwrap()) {
        let p = r.as_f64().unwrap();
        assert!(
            (sign_test(*b, *c) - p).abs() <= 1e-12,
            "McNemar ({b}, {c}): {} vs scipy {p}",
            sign_test(*b, *c)
        );
    }
    let hl_ref = reference["hl"].as_array().unwrap();
    assert_eq!(hl_ref.len(), sets.len());
    for (d, r) in sets.iter().zip(hl_ref) {
        let (shift, [lo, hi]) = hodges_lehmann(d, 0.95).unwrap();
        // Bit patterns, so no JSON float parsing stands between the two.
        let f = |v: &serde_json::Value| f64::from_bits(v.as_u64().unwrap());
        assert_eq!(shift, f(&r[0]), "HL shift, n = {}", d.len());
        assert_eq!(
            [lo, hi],
            [f(&r[1][0]), f(&r[1][1])],
            "HL interval, n = {}",
            d.len()
        );
    }
}

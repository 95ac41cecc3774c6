//! How many samples each arm failed on, and why: read from a finished report's scores and the
//! samples of the run whose ground truth would not load, so a run, a compare and a merge are
//! judged alike. Pure; the caller decides what to print and which exit status a finding maps
//! to.
//!
//! A sample counts as failed for an arm when its score records a fail reason, or when its
//! ground truth could not be loaded at all (then every arm lacks it). Only samples of the run
//! count: a corpus's listing problems name samples `limit` or `dedupe` may have left out. It counts as unscored
//! when nothing of the arm's prediction could be used: a reason that voids the prediction
//! (photo unreadable, inference failed, prediction missing, …), or no score at all.

use crate::model::FailReason;
use crate::read::Problem;
use crate::report::Report;
use std::collections::BTreeMap;

/// The default of `max_failed_share`: more than this share of an arm's samples failed ends
/// the run with a warning.
pub const DEFAULT_MAX_FAILED_SHARE: f64 = 0.10;

/// One arm's failures over every corpus of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmFailures {
    pub arm: String,
    /// Samples the arm was to score (loaded or not).
    pub samples: usize,
    /// Samples with a fail reason, or whose ground truth could not be loaded.
    pub failed: usize,
    /// Samples of which nothing could be scored.
    pub unscored: usize,
    /// Failed samples per cause: a fail reason's code, or a load problem's kind.
    pub causes: BTreeMap<String, usize>,
    /// The arm a variant post-processes (the report's `arm_details` say so); `None` for a
    /// real arm.
    pub from: Option<String>,
}

impl ArmFailures {
    /// The arm scored no sample it was given.
    pub fn scored_nothing(&self) -> bool {
        self.samples > 0 && self.unscored == self.samples
    }

    pub fn failed_share(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.failed as f64 / self.samples as f64
        }
    }

    /// One line per cause: `CODE: N samples; to fix: …` (largest count first, then by name).
    pub fn cause_lines(&self) -> Vec<String> {
        let mut causes: Vec<(&String, &usize)> = self.causes.iter().collect();
        causes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        causes
            .into_iter()
            .map(|(cause, n)| {
                let samples = if *n == 1 { "sample" } else { "samples" };
                match FailReason::from_code(cause) {
                    // The report's and the terminal's message for the reason, the count as its detail.
                    Some(r) => r.message(Some(&format!("{n} {samples}"))),
                    None => format!(
                        "{cause}: {n} {samples} whose ground truth could not be loaded (the report's Input problems list them)"
                    ),
                }
            })
            .collect()
    }
}

/// Every arm's failures, in the report's arm order. `unloaded` holds, per corpus, the samples
/// of the run whose ground truth could not be loaded (`Scored::load_problems`), not the
/// corpus's listing problems: those may name samples the run never took.
pub fn arm_failures(report: &Report, unloaded: &[Vec<Problem>]) -> Vec<ArmFailures> {
    let mut by_arm: BTreeMap<&str, ArmFailures> = report
        .arms
        .iter()
        .map(|a| {
            (
                a.as_str(),
                ArmFailures {
                    arm: a.clone(),
                    samples: 0,
                    failed: 0,
                    unscored: 0,
                    causes: BTreeMap::new(),
                    from: variant_source(report, a),
                },
            )
        })
        .collect();
    for s in &report.samples {
        let Some(f) = by_arm.get_mut(&*s.arm) else {
            continue;
        };
        f.samples += 1;
        if let Some(r) = s.fail_reason {
            f.failed += 1;
            *f.causes.entry(r.code().to_string()).or_default() += 1;
            if r.voids_prediction() {
                f.unscored += 1;
            }
        }
    }
    // A sample whose ground truth would not load has no score for any arm: it counts against
    // every arm, under its first problem's kind.
    for problems in unloaded {
        let mut kinds: BTreeMap<&str, &str> = BTreeMap::new();
        for p in problems {
            kinds.entry(p.sample.as_str()).or_insert(p.kind.as_str());
        }
        for kind in kinds.values() {
            for f in by_arm.values_mut() {
                f.samples += 1;
                f.failed += 1;
                f.unscored += 1;
                *f.causes.entry(kind.to_string()).or_default() += 1;
            }
        }
    }
    report
        .arms
        .iter()
        .filter_map(|a| by_arm.remove(a.as_str()))
        .collect()
}

/// The arm `arm` is a variant of, as the report's `arm_details` record it.
fn variant_source(report: &Report, arm: &str) -> Option<String> {
    report
        .arm_details
        .iter()
        .find(|d| d["kind"] == "variant" && d["name"] == arm)
        .and_then(|d| d["from"].as_str())
        .map(str::to_string)
}

/// One block per selected arm: `heading`, then one line per cause. A variant whose failures
/// are its source arm's (it copies them: a sample its arm failed on fails it alike) is named
/// in the source's heading instead of repeating the block, so a failed arm with a sweep
/// reads as one block.
fn blocks(
    failures: &[ArmFailures],
    selected: impl Fn(&ArmFailures) -> bool,
    heading: impl Fn(&ArmFailures) -> String,
) -> Vec<String> {
    let same = |a: &ArmFailures, b: &ArmFailures| {
        (a.samples, a.failed, a.unscored, &a.causes) == (b.samples, b.failed, b.unscored, &b.causes)
    };
    let source_of = |v: &ArmFailures| {
        v.from.as_deref().and_then(|from| {
            failures
                .iter()
                .find(|a| a.arm == from && selected(a) && same(a, v))
        })
    };
    let mut lines = Vec::new();
    for f in failures
        .iter()
        .filter(|f| selected(f) && source_of(f).is_none())
    {
        let alike: Vec<&str> = failures
            .iter()
            .filter(|v| selected(v) && source_of(v).is_some_and(|s| s.arm == f.arm))
            .map(|v| v.arm.as_str())
            .collect();
        let mut head = heading(f);
        if !alike.is_empty() {
            head.push_str(&format!("; so did its variants {}", alike.join(", ")));
        }
        lines.push(head);
        lines.extend(f.cause_lines().into_iter().map(|l| format!("  {l}")));
    }
    lines
}

/// The arms that scored no sample, each as a heading line and one line per cause: a run with
/// such an arm has no comparison to stand on, whatever its tables show.
pub fn unscored_arms(failures: &[ArmFailures]) -> Vec<String> {
    blocks(failures, ArmFailures::scored_nothing, |f| {
        format!("arm {} scored no sample: all {} failed", f.arm, f.samples)
    })
}

/// The arms (that scored something) whose failed share is above `max_share`, as a summary.
pub fn failed_share_warnings(failures: &[ArmFailures], max_share: f64) -> Vec<String> {
    blocks(
        failures,
        |f| !f.scored_nothing() && f.failed_share() > max_share,
        |f| {
            format!(
                "arm {}: {} of {} samples failed ({:.1}%, more than max_failed_share = {max_share})",
                f.arm,
                f.failed,
                f.samples,
                100.0 * f.failed_share(),
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(
        samples: usize,
        failed: usize,
        unscored: usize,
        causes: &[(&str, usize)],
    ) -> ArmFailures {
        ArmFailures {
            arm: "a".into(),
            samples,
            failed,
            unscored,
            causes: causes.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            from: None,
        }
    }

    #[test]
    fn variants_that_fail_as_their_arm_did_share_its_block() {
        let model = arm(4, 4, 4, &[("INFERENCE_FAILED", 4)]);
        let variant = |name: &str, f: &ArmFailures| ArmFailures {
            arm: name.into(),
            from: Some("a".into()),
            ..f.clone()
        };
        let mut worse = variant("v3", &model);
        *worse.causes.get_mut("INFERENCE_FAILED").unwrap() = 3;
        worse.causes.insert("POSTPROCESS_FAILED".into(), 1);
        let all = [
            model.clone(),
            variant("v1", &model),
            variant("v2", &model),
            worse,
        ];
        let lines = unscored_arms(&all);
        assert_eq!(
            lines[0],
            "arm a scored no sample: all 4 failed; so did its variants v1, v2"
        );
        assert!(lines[1].starts_with("  INFERENCE_FAILED: 4 samples; to fix: "));
        // A variant that failed otherwise keeps its own block.
        assert_eq!(lines[2], "arm v3 scored no sample: all 4 failed");
        assert_eq!(lines.len(), 5, "{lines:?}");
    }

    #[test]
    fn an_arm_that_scored_nothing_is_an_error_with_one_line_per_cause() {
        let f = arm(
            5,
            5,
            5,
            &[
                ("IMAGE_UNREADABLE", 1),
                ("INFERENCE_FAILED", 3),
                ("gt_unreadable", 1),
            ],
        );
        assert!(f.scored_nothing());
        let lines = unscored_arms(std::slice::from_ref(&f));
        assert_eq!(lines[0], "arm a scored no sample: all 5 failed");
        // Largest count first; a fail reason says what to do, a load problem where to look.
        assert!(
            lines[1].starts_with("  INFERENCE_FAILED: 3 samples; to fix: "),
            "{lines:?}"
        );
        assert!(
            lines[2].starts_with("  IMAGE_UNREADABLE: 1 sample; to fix: "),
            "{lines:?}"
        );
        assert!(
            lines[3].starts_with("  gt_unreadable: 1 sample whose ground truth"),
            "{lines:?}"
        );
        assert_eq!(lines.len(), 4);
        // The error supersedes the warning.
        assert!(failed_share_warnings(&[f], 0.1).is_empty());
    }

    #[test]
    fn the_warning_starts_above_the_share() {
        let f = arm(10, 1, 0, &[("PRED_MISSING", 1)]);
        assert!(!f.scored_nothing());
        assert!(failed_share_warnings(std::slice::from_ref(&f), 0.1).is_empty());
        let lines = failed_share_warnings(&[f], 0.05);
        assert_eq!(
            lines[0],
            "arm a: 1 of 10 samples failed (10.0%, more than max_failed_share = 0.05)"
        );
        assert!(lines[1].starts_with("  PRED_MISSING: 1 sample; to fix: "));
        // An arm given no sample has nothing to warn about.
        assert!(!arm(0, 0, 0, &[]).scored_nothing());
        assert!(failed_share_warnings(&[arm(0, 0, 0, &[])], 0.0).is_empty());
    }
}

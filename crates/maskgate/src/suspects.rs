//! Suspect labels: samples where every arm agrees with every other (pairwise mask IoU at least
//! `agreement`) while all of them disagree with the ground truth (each arm's mIoU at most
//! `truth_iou`). When independent models agree and the label does not, the label is the likelier
//! error, so these are a label-review queue. They count like any sample unless
//! `exclude_suspects` drops them from the aggregates the verdict reads. Pure: a function of the
//! scores.

use crate::score::SampleScore;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SuspectSettings {
    /// The lowest pairwise IoU between arms' masks that counts as agreeing.
    pub agreement: f64,
    /// The highest mIoU against the ground truth that counts as disagreeing.
    pub truth_iou: f64,
    /// Drop suspects from the aggregates, comparisons and verdict (still listed everywhere).
    pub exclude: bool,
}

pub const DEFAULT_AGREEMENT: f64 = 0.9;
pub const DEFAULT_TRUTH_IOU: f64 = 0.5;

impl Default for SuspectSettings {
    fn default() -> Self {
        SuspectSettings {
            agreement: DEFAULT_AGREEMENT,
            truth_iou: DEFAULT_TRUTH_IOU,
            exclude: false,
        }
    }
}

/// One suspect sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suspect {
    pub corpus: String,
    pub id: String,
    pub hash: String,
    /// The lowest IoU between two arms' masks.
    pub agreement: f64,
    /// Each arm's mIoU against the ground truth, by arm name.
    pub miou: BTreeMap<String, f64>,
}

/// The suspects among `samples` (sorted by arm, corpus, id), judged by the independent `arms`
/// (models or prediction files, not variants of them), in (corpus, id) order. A sample needs
/// two such arms or more, every one scored without a failure.
pub fn find(samples: &[SampleScore], arms: &[&str], s: &SuspectSettings) -> Vec<Suspect> {
    if arms.len() < 2 {
        return Vec::new();
    }
    let mut by_sample: BTreeMap<(&str, &str), Vec<&SampleScore>> = BTreeMap::new();
    for x in samples.iter().filter(|x| arms.contains(&&*x.arm)) {
        by_sample.entry((&x.corpus, &x.id)).or_default().push(x);
    }
    let arms = arms.len();
    by_sample
        .into_iter()
        .filter_map(|((corpus, id), scores)| {
            if scores.len() != arms || scores.iter().any(|x| x.fail_reason.is_some()) {
                return None;
            }
            let agreement = scores
                .iter()
                .map(|x| x.agreement)
                .try_fold(f64::INFINITY, |lo, a| a.map(|a| lo.min(a)))?;
            let miou: BTreeMap<String, f64> = scores
                .iter()
                .map(|x| x.miou().map(|m| (x.arm.to_string(), m)))
                .collect::<Option<_>>()?;
            (agreement >= s.agreement && miou.values().all(|&m| m <= s.truth_iou)).then(|| {
                Suspect {
                    corpus: corpus.to_string(),
                    id: id.to_string(),
                    hash: scores[0].hash.clone(),
                    agreement,
                    miou,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{ClassScore, ClassScores};
    use maskgate_core::Counts;
    use std::sync::Arc;

    fn score(arm: &str, id: &str, tp: u64, agreement: Option<f64>) -> SampleScore {
        let c = ClassScore::from_counts(Counts {
            tp,
            fp: 10 - tp,
            fn_: 10 - tp,
        });
        SampleScore {
            instance_eval: None,
            arm: Arc::from(arm),
            corpus: Arc::from("c"),
            id: id.into(),
            hash: format!("h{id}"),
            source: None,
            notes: None,
            failure_class: None,
            fail_reason: None,
            fail_detail: None,
            instances: None,
            classes: ClassScores::from_iter([("fg".to_string(), c)]),
            overlaps: Default::default(),
            noise: None,
            agreement,
            suspect: false,
            properties: None,
        }
    }

    #[test]
    fn agreeing_arms_against_the_truth_make_a_suspect() {
        // tp 2 of union 18: mIoU 0.11; tp 9: 9/11 = 0.82.
        let samples = vec![
            score("a", "1", 2, Some(0.95)),
            score("a", "2", 9, Some(0.95)),
            score("a", "3", 2, Some(0.5)),
            score("b", "1", 2, Some(0.95)),
            score("b", "2", 2, Some(0.95)),
            score("b", "3", 2, Some(0.5)),
        ];
        let found = find(&samples, &["a", "b"], &SuspectSettings::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].id.as_str(), found[0].agreement), ("1", 0.95));
        assert!(find(&samples[..3], &["a"], &SuspectSettings::default()).is_empty());
        // b as a variant of a: one independent arm, no suspects.
        assert!(find(&samples, &["a"], &SuspectSettings::default()).is_empty());
        let mut failed = samples.clone();
        failed[0].fail_reason = Some(crate::model::FailReason::PredMaskInvalid);
        assert!(find(&failed, &["a", "b"], &SuspectSettings::default()).is_empty());
    }
}

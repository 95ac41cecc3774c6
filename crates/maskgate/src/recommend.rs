//! The composite score of each group (an arm or a variant) — a weighted sum of class-level
//! aggregates, each averaged over a named set of classes — its delta against the baseline, and
//! the recommended group: the highest score; ties go to the baseline, then to the name.

use crate::decide::criteria::resolve_metric;
use crate::evaluation::Evaluation;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Scores closer than this count as tied (they come from sums of rounded means).
pub const SCORE_TIE: f64 = 1e-12;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// Label in tables and the rationale, e.g. `strong_module_mIoU`.
    pub name: String,
    pub weight: f64,
    /// A class-level aggregate (`iou.mean`, `leakage.mean`, `pass_rate`, ...) averaged over
    /// `classes`, or `overlap.<measure>`: the mean of a face-module overlap measure
    /// (e.g. `overlap.forehead_hair_overlap`), which takes no classes.
    pub metric: String,
    /// A class set name (`[score.class_sets]`), a class, or a list of classes.
    #[serde(default)]
    pub classes: Option<ClassSel>,
}

/// The overlap measure a term reads, if it is an `overlap.<measure>` term.
pub fn overlap_of(t: &Term) -> Option<&str> {
    t.metric.strip_prefix("overlap.")
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum ClassSel {
    One(String),
    Many(Vec<String>),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupScoreSpec {
    #[serde(default)]
    pub class_sets: BTreeMap<String, Vec<String>>,
    #[serde(rename = "term")]
    pub terms: Vec<Term>,
}

impl GroupScoreSpec {
    /// Resolves every term's metric and classes now, so a typo fails before any work.
    /// `overlaps` are the overlap measures the corpora define.
    pub fn validate(&self, classes: &[String], overlaps: &[String]) -> Result<(), String> {
        if self.terms.is_empty() {
            return Err("[score] needs at least one [[score.term]]".into());
        }
        for t in &self.terms {
            if let Some(m) = overlap_of(t) {
                if !overlaps.iter().any(|o| o == m) {
                    return Err(format!(
                        "score term {:?}: no overlap measure {m:?} (the corpora define: {})",
                        t.name,
                        if overlaps.is_empty() {
                            "none".to_string()
                        } else {
                            overlaps.join(", ")
                        }
                    ));
                }
                if t.classes.is_some() {
                    return Err(format!(
                        "score term {:?}: an overlap term takes no classes",
                        t.name
                    ));
                }
                continue;
            }
            if t.classes.is_none() {
                return Err(format!("score term {:?}: `classes` is missing", t.name));
            }
            resolve_metric(&t.metric, true).map_err(|e| format!("score term {:?}: {e}", t.name))?;
            for c in self.classes_of(t) {
                if !classes.contains(&c) {
                    return Err(format!(
                        "score term {:?}: unknown class or class set {c:?}",
                        t.name
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn classes_of(&self, t: &Term) -> Vec<String> {
        match &t.classes {
            None => Vec::new(),
            Some(ClassSel::One(s)) => self
                .class_sets
                .get(s)
                .cloned()
                .unwrap_or_else(|| vec![s.clone()]),
            Some(ClassSel::Many(v)) => v.clone(),
        }
    }

    /// "maximize A (+1) while penalizing B (−1) and C (−0.5)", from the weights.
    pub fn rationale(&self) -> String {
        let fmt = |t: &Term| {
            format!(
                "{} ({}{})",
                t.name,
                if t.weight >= 0.0 { "+" } else { "−" },
                t.weight.abs()
            )
        };
        let up: Vec<String> = self
            .terms
            .iter()
            .filter(|t| t.weight > 0.0)
            .map(fmt)
            .collect();
        let down: Vec<String> = self
            .terms
            .iter()
            .filter(|t| t.weight < 0.0)
            .map(fmt)
            .collect();
        let join = |v: &[String]| match v.len() {
            0 => String::new(),
            1 => v[0].clone(),
            n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
        };
        match (up.is_empty(), down.is_empty()) {
            (false, false) => format!("maximize {} while penalizing {}", join(&up), join(&down)),
            (false, true) => format!("maximize {}", join(&up)),
            (true, false) => format!("minimize {}", join(&down)),
            (true, true) => "all weights are zero".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupScore {
    pub group: String,
    pub corpus: String,
    /// Each term's value (mean over its classes of the class aggregate).
    pub terms: BTreeMap<String, Option<f64>>,
    pub score: Option<f64>,
    pub delta_vs_baseline: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupScores {
    pub terms: Vec<(String, f64, String)>,
    pub scores: Vec<GroupScore>,
    pub recommended_group: Option<String>,
    pub rationale: String,
}

/// Picks the recommendation from (group, score) pairs: highest score; a tie with the baseline
/// keeps the baseline; other ties go to the smaller name. Groups without a score never win.
pub fn recommend(scores: &[(String, Option<f64>)], baseline: &str) -> Option<String> {
    let best = scores
        .iter()
        .filter_map(|(_, s)| *s)
        .fold(f64::NEG_INFINITY, f64::max);
    if !best.is_finite() {
        return None;
    }
    let mut tied: Vec<&String> = scores
        .iter()
        .filter(|(_, s)| s.is_some_and(|v| best - v <= SCORE_TIE))
        .map(|(g, _)| g)
        .collect();
    tied.sort();
    if tied.iter().any(|g| *g == baseline) {
        return Some(baseline.to_string());
    }
    tied.first().map(|g| g.to_string())
}

pub fn score_groups(evaluation: &Evaluation, spec: &GroupScoreSpec) -> GroupScores {
    let baseline = &evaluation.baseline;
    let mut scores = Vec::new();
    for corpus in &evaluation.corpora {
        for arm in &evaluation.arms {
            let mut terms = BTreeMap::new();
            let mut total = Some(0.0);
            for t in &spec.terms {
                if let Some(m) = overlap_of(t) {
                    let v = evaluation
                        .overlaps
                        .iter()
                        .find(|o| o.arm == *arm && o.corpus == corpus.name && o.measure == m)
                        .and_then(|o| o.mean);
                    terms.insert(t.name.clone(), v);
                    total = total.zip(v).map(|(s, v)| s + t.weight * v);
                    continue;
                }
                let column = resolve_metric(&t.metric, true)
                    .map(|m| m.column)
                    .unwrap_or_default();
                let vals: Vec<f64> = spec
                    .classes_of(t)
                    .iter()
                    .filter_map(|c| {
                        evaluation
                            .row(arm, &corpus.name, "all", "all", c)
                            .and_then(|r| r.stat(&column))
                            .flatten()
                    })
                    .collect();
                let v = maskgate_core::quantile::mean(&vals);
                terms.insert(t.name.clone(), v);
                total = total.zip(v).map(|(s, v)| s + t.weight * v);
            }
            scores.push(GroupScore {
                group: arm.clone(),
                corpus: corpus.name.clone(),
                terms,
                score: total,
                delta_vs_baseline: None,
            });
        }
    }
    let base: BTreeMap<String, Option<f64>> = scores
        .iter()
        .filter(|s| &s.group == baseline)
        .map(|s| (s.corpus.clone(), s.score))
        .collect();
    for s in &mut scores {
        s.delta_vs_baseline = s
            .score
            .zip(base.get(&s.corpus).copied().flatten())
            .map(|(a, b)| a - b);
    }
    // Across corpora: the mean score of each group decides.
    let mut per_group: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    for s in &scores {
        per_group.entry(s.group.clone()).or_default().push(s.score);
    }
    let overall: Vec<(String, Option<f64>)> = per_group
        .into_iter()
        .map(|(g, v)| {
            let all: Option<Vec<f64>> = v.into_iter().collect();
            (g, all.and_then(|a| maskgate_core::quantile::mean(&a)))
        })
        .collect();
    let recommended_group = recommend(&overall, baseline);
    let mut rationale = spec.rationale();
    if let Some(r) = &recommended_group {
        let score_of = |g: &str| overall.iter().find(|(n, _)| n == g).and_then(|(_, s)| *s);
        let (rs, bs) = (score_of(r), score_of(baseline));
        rationale = if r == baseline {
            let best_other = overall
                .iter()
                .filter(|(g, s)| g != baseline && s.is_some())
                .max_by(|a, b| {
                    a.1.unwrap_or(f64::MIN)
                        .total_cmp(&b.1.unwrap_or(f64::MIN))
                        .then(b.0.cmp(&a.0))
                });
            match best_other {
                Some((g, s)) => format!("{rationale}; no group beats the baseline {baseline} (score {}), best other {g} at {}", crate::fmt::short(bs), crate::fmt::short(*s)),
                None => format!("{rationale}; the baseline {baseline} is the only scored group"),
            }
        } else {
            format!(
                "{rationale}; {r} scores {} vs the baseline's {} (Δ {})",
                crate::fmt::short(rs),
                crate::fmt::short(bs),
                crate::fmt::delta(rs.zip(bs).map(|(a, b)| a - b))
            )
        };
    }
    GroupScores {
        terms: spec
            .terms
            .iter()
            .map(|t| (t.name.clone(), t.weight, t.metric.clone()))
            .collect(),
        scores,
        recommended_group,
        rationale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[(&str, Option<f64>)]) -> Vec<(String, Option<f64>)> {
        v.iter().map(|(g, x)| (g.to_string(), *x)).collect()
    }

    #[test]
    fn tie_rules() {
        assert_eq!(
            recommend(&s(&[("base", Some(1.0)), ("v1", Some(2.0))]), "base").as_deref(),
            Some("v1")
        );
        assert_eq!(
            recommend(&s(&[("base", Some(2.0)), ("v1", Some(2.0))]), "base").as_deref(),
            Some("base"),
            "a tie keeps the baseline"
        );
        assert_eq!(
            recommend(
                &s(&[("base", Some(1.0)), ("vb", Some(2.0)), ("va", Some(2.0))]),
                "base"
            )
            .as_deref(),
            Some("va"),
            "then the name"
        );
        assert_eq!(
            recommend(&s(&[("base", None), ("v", Some(0.5))]), "base").as_deref(),
            Some("v")
        );
        assert_eq!(recommend(&s(&[("base", None)]), "base"), None);
        assert_eq!(
            recommend(&s(&[("base", Some(1.0)), ("v", Some(1.0 + 1e-13))]), "base").as_deref(),
            Some("base"),
            "within the tie tolerance"
        );
    }

    #[test]
    fn rationale_from_weights() {
        let spec: GroupScoreSpec = toml::from_str(
            "[class_sets]\nstrong = [\"skin\"]\n[[term]]\nname = \"strong_module_mIoU\"\nweight = 1.0\nmetric = \"iou.mean\"\nclasses = \"strong\"\n[[term]]\nname = \"hair_leak\"\nweight = -1.0\nmetric = \"leakage.mean\"\nclasses = \"hair\"\n[[term]]\nname = \"eye_leak\"\nweight = -0.5\nmetric = \"leakage.mean\"\nclasses = [\"eyes\"]\n",
        )
        .unwrap();
        assert_eq!(
            spec.rationale(),
            "maximize strong_module_mIoU (+1) while penalizing hair_leak (−1) and eye_leak (−0.5)"
        );
        assert!(spec
            .validate(&["skin".into(), "hair".into(), "eyes".into()], &[])
            .is_ok());
        assert!(spec
            .validate(&["skin".into()], &[])
            .unwrap_err()
            .contains("hair"));
    }
}

//! The criteria file (TOML): τ, bootstrap settings, the failure-class taxonomy and the
//! `[[criterion]]` list. Parsed and validated before any work; every error names the file and
//! the line of the offending criterion.

use crate::error::{Error, Result};
use crate::taxonomy::FailureClass;
use serde::Deserialize;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which side of a metric is better: a `max_drop` on leakage limits its rise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// A resolved metric: the statistic column it reads and which way is better.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MetricRef {
    /// As written, e.g. `iou.mean`.
    pub name: String,
    /// Column of a class row (`MetricsRow`) when scoped to a class, of a summary row otherwise;
    /// `fail_rate.<CODE>` reads the summary's fail rates.
    pub column: String,
    pub per_class: bool,
    pub better: Better,
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Min(f64),
    Max(f64),
    MaxDrop(f64),
    MinGain(f64),
    NoninferiorityMargin(f64),
    /// A cost metric of the arm at most this multiple of the baseline's.
    MaxRatio(f64),
}

impl Rule {
    pub fn needs_baseline(&self) -> bool {
        !matches!(self, Rule::Min(_) | Rule::Max(_))
    }
    /// The rule's number.
    pub fn bound(&self) -> f64 {
        match *self {
            Rule::Min(v)
            | Rule::Max(v)
            | Rule::MaxDrop(v)
            | Rule::MinGain(v)
            | Rule::NoninferiorityMargin(v)
            | Rule::MaxRatio(v) => v,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Rule::Min(v) => format!("min {v}"),
            Rule::Max(v) => format!("max {v}"),
            Rule::MaxDrop(v) => format!("max_drop {v}"),
            Rule::MinGain(v) => format!("min_gain {v}"),
            Rule::NoninferiorityMargin(v) => format!("noninferiority_margin {v}"),
            Rule::MaxRatio(v) => format!("max_ratio {v}"),
        }
    }
}

/// Apply a criterion to every group of a grouping instead of one scope.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum Per {
    Class,
    Group(String),
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Criterion {
    pub id: String,
    pub description: String,
    pub line: usize,
    pub metric: MetricRef,
    pub arm: String,
    pub corpus: Option<String>,
    pub class: Option<String>,
    pub group_by: String,
    pub group: String,
    pub per: Option<Per>,
    pub rule: Rule,
    pub min_n: Option<usize>,
    /// What a check is decided on: the point estimate (the team's artifact decides), or the
    /// bootstrap interval at `confidence`.
    pub basis: Basis,
    pub confidence: f64,
    /// For a group-wise criterion on `basis = "ci"`: how its family of checks is corrected.
    pub multiplicity: Multiplicity,
}

/// `multiplicity = "holm" | "none"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Multiplicity {
    /// Holm's step-down: family-wise error ≤ 1 − confidence.
    Holm,
    /// Each group at the criterion's own level; the report says the family is uncorrected.
    None,
}

/// `basis = "point" | "ci"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    Point,
    Ci,
}

/// How the criteria were pinned before the run, if they were.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CriteriaPin {
    /// The sha256 the criteria file was pinned to (and has: a mismatch stops the run).
    pub sha256: String,
    /// Where the pin came from: `[run] criteria_sha256` or the lock file's path.
    pub source: String,
}

#[derive(Clone, Debug)]
pub struct CriteriaFile {
    pub path: PathBuf,
    pub pass_iou: Option<f64>,
    pub resamples: Option<usize>,
    pub seed: Option<u64>,
    /// `[noise]`: the inference-noise check's ε and strictness, pre-registered with the rest.
    pub noise_epsilon: Option<f64>,
    pub strict: Option<bool>,
    pub taxonomy: Vec<FailureClass>,
    pub criteria: Vec<Criterion>,
    /// The sha256 of the file's bytes (what `criteria_sha256` pins).
    pub sha256: String,
    /// Distinct signed approvals `maskgate verify` requires before a deploy (default 0).
    pub requires_approval: u32,
    /// `[suspects]`: what makes a suspect label and whether the verdict leaves them out.
    pub suspect_agreement: Option<f64>,
    pub suspect_truth_iou: Option<f64>,
    pub exclude_suspects: Option<bool>,
    /// `[slices] bins`: the quantile bins a `per = "slice:…"` criterion's groups are.
    pub slice_bins: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    pass_iou: Option<f64>,
    requires_approval: Option<u32>,
    bootstrap: Option<RawBootstrap>,
    noise: Option<RawNoise>,
    suspects: Option<RawSuspects>,
    slices: Option<RawSlices>,
    #[serde(default)]
    failure_class: Vec<RawFailureClass>,
    #[serde(default)]
    criterion: Vec<RawCriterion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoise {
    epsilon: Option<f64>,
    strict: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuspects {
    agreement: Option<f64>,
    truth_iou: Option<f64>,
    exclude: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlices {
    bins: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBootstrap {
    resamples: Option<usize>,
    seed: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(toml::Value),
    Many(Vec<toml::Value>),
}

impl OneOrMany {
    fn strings(self) -> Vec<String> {
        let list = match self {
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) => v,
        };
        list.into_iter()
            .map(|v| match v {
                toml::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFailureClass {
    name: toml::Spanned<String>,
    notes: Option<String>,
    source: Option<OneOrMany>,
    #[serde(default)]
    meta: BTreeMap<String, OneOrMany>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    id: toml::Spanned<String>,
    #[serde(default)]
    description: String,
    metric: String,
    arm: String,
    corpus: Option<String>,
    class: Option<String>,
    group_by: Option<String>,
    group: Option<String>,
    per: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    max_drop: Option<f64>,
    min_gain: Option<f64>,
    noninferiority_margin: Option<f64>,
    max_ratio: Option<f64>,
    min_n: Option<usize>,
    basis: Option<String>,
    confidence: Option<f64>,
    multiplicity: Option<String>,
}

/// The groupings a criterion may name (besides `all`).
pub const GROUPINGS: [&str; 2] = ["source", "failure_class"];

/// A grouping a criterion may name: [`GROUPINGS`], or a sample property's quantile bins
/// (`slice:<property>`, `crate::slices`).
pub fn is_grouping(name: &str) -> bool {
    GROUPINGS.contains(&name) || crate::slices::is_grouping(name)
}

fn groupings_text() -> String {
    let slices: Vec<String> = (crate::score::properties::PROPERTIES.iter())
        .map(|p| format!("\"{}\"", p.grouping))
        .collect();
    format!(
        "\"source\", \"failure_class\" or one of {}",
        slices.join(", ")
    )
}

/// The name a criterion gives a statistic column: `<metric>.<stat>` for a metric's statistic
/// (`iou_p10` is `iou.p10`; the summary's `miou_<stat>` are IoU's per-sample statistics, so
/// `iou.<stat>` too), the column's own name otherwise (`pass_rate`, `n`).
fn criteria_name(column: &str) -> String {
    use crate::score::metrics::{IOU, NAMES};
    if let Some(stat) = column.strip_prefix("miou_") {
        return format!("{}.{stat}", NAMES[IOU]);
    }
    // The longest name that prefixes the column: `bbox_iou_mean` is bbox_iou's, not iou's.
    let owner = NAMES
        .iter()
        .filter_map(|m| Some((*m, column.strip_prefix(m)?.strip_prefix('_')?)))
        .max_by_key(|(m, _)| m.len());
    match owner {
        Some((m, stat)) => format!("{m}.{stat}"),
        None => column.to_string(),
    }
}

/// Resolves `metric` (`<metric>.<stat>`, `pass_rate`, `n`, `fail_rate.<CODE>`,
/// `overlap.<measure>`) for a class scope or a whole-sample scope: a statistic is one of the
/// columns aggregate declares for that scope ([`ROW_STATS`], [`SUMMARY_STATS`]) and is oriented
/// by that column's `lower_is_better`.
pub fn resolve_metric(name: &str, per_class: bool) -> std::result::Result<MetricRef, String> {
    use crate::aggregate::{column, ROW_STATS, SUMMARY_STATS};
    use crate::score::metrics;
    let resolved = |column: String, better: Better| MetricRef {
        name: name.to_string(),
        column,
        per_class,
        better,
    };
    if !per_class {
        match name.split_once('.') {
            // A face-module overlap measure's mean (lower is better: every built-in one is a leak).
            Some(("overlap", m)) if !m.is_empty() => {
                return Ok(resolved(name.to_string(), Better::Lower))
            }
            Some(("fail_rate", code)) => {
                if !crate::model::FailReason::ALL
                    .iter()
                    .any(|f| f.code() == code)
                {
                    return Err(format!("unknown fail reason {code:?} in {name:?}"));
                }
                return Ok(resolved(name.to_string(), Better::Lower));
            }
            _ => {}
        }
    }
    // COCOeval's numbers (`map`, `map50`, …): over every class without one, of the class with.
    if crate::aggregate::INSTANCE_STATS.contains(&name) {
        return Ok(resolved(name.to_string(), Better::Higher));
    }
    // Without a class, `miou.<stat>` is another name of the per-sample mIoU's `iou.<stat>`.
    let wanted = match name.strip_prefix("miou.") {
        Some(stat) if !per_class => format!("{}.{stat}", metrics::NAMES[metrics::IOU]),
        _ => name.to_string(),
    };
    // `n` is a class row's last column; a summary row has it too, outside its statistics.
    let columns: Vec<&'static str> = if per_class {
        ROW_STATS.to_vec()
    } else {
        SUMMARY_STATS.iter().copied().chain(["n"]).collect()
    };
    if let Some(col) = columns.iter().find(|c| criteria_name(c) == wanted) {
        let better = match column(col).is_some_and(|c| c.lower_is_better) {
            true => Better::Lower,
            false => Better::Higher,
        };
        return Ok(resolved(col.to_string(), better));
    }
    let known: Vec<String> = (columns.iter().map(|c| criteria_name(c)))
        .chain(crate::aggregate::INSTANCE_STATS.map(str::to_string))
        .collect();
    Err(if per_class {
        format!(
            "unknown metric {name:?} for a class scope (use one of {})",
            known.join(", ")
        )
    } else {
        format!(
            "unknown metric {name:?} without a class (use one of {}, fail_rate.<CODE>, overlap.<measure>, or give a class; iou.<stat> is the per-sample mIoU's)",
            known.join(", ")
        )
    })
}

impl CriteriaFile {
    pub fn load(path: &Path) -> Result<CriteriaFile> {
        let text = crate::limits::read_text(path)?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<CriteriaFile> {
        let raw: RawFile = crate::tomlfile::parse(path, text)?;
        if let Some(t) = raw.pass_iou {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::file(
                    path,
                    format!("pass_iou must be within [0, 1], got {t}"),
                ));
            }
        }
        let mut taxonomy = Vec::new();
        let mut class_names = BTreeSet::new();
        for fc in raw.failure_class {
            let line = crate::tomlfile::line_of(text, fc.name.span().start);
            let name = fc.name.into_inner();
            if !class_names.insert(name.clone()) {
                return Err(Error::input(
                    path,
                    line,
                    format!("failure class {name:?} is defined twice"),
                ));
            }
            let meta = fc.meta.into_iter().map(|(k, v)| (k, v.strings())).collect();
            let c = FailureClass::new(
                &name,
                fc.notes.as_deref(),
                fc.source.map(OneOrMany::strings),
                meta,
            )
            .map_err(|m| Error::input(path, line, m))?;
            taxonomy.push(c);
        }
        let mut criteria = Vec::new();
        let mut ids = BTreeSet::new();
        for c in raw.criterion {
            let line = crate::tomlfile::line_of(text, c.id.span().start);
            let id = c.id.into_inner();
            let err = |m: String| Error::input(path, line, format!("criterion {id:?}: {m}"));
            let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !id_ok {
                return Err(err("ids are letters, digits, '.', '_' and '-' (starting with a letter or digit), so the verdict line can quote them verbatim".into()));
            }
            if !ids.insert(id.clone()) {
                return Err(err("id is used twice".into()));
            }
            let rules: Vec<Rule> = [
                c.min.map(Rule::Min),
                c.max.map(Rule::Max),
                c.max_drop.map(Rule::MaxDrop),
                c.min_gain.map(Rule::MinGain),
                c.noninferiority_margin.map(Rule::NoninferiorityMargin),
                c.max_ratio.map(Rule::MaxRatio),
            ]
            .into_iter()
            .flatten()
            .collect();
            let rule =
                match rules.as_slice() {
                    [r] => *r,
                    [] => return Err(err(
                        "no rule: give one of min, max, max_drop, min_gain, noninferiority_margin, max_ratio"
                            .into(),
                    )),
                    _ => return Err(err("more than one rule; give exactly one".into())),
                };
            if !rule.bound().is_finite() {
                return Err(err(format!(
                    "{}: the bound must be a finite number",
                    rule.describe()
                )));
            }
            let per = match c.per.as_deref() {
                None => None,
                Some("class") => Some(Per::Class),
                Some(g) if is_grouping(g) => Some(Per::Group(g.to_string())),
                Some(other) => {
                    return Err(err(format!(
                        "per = {other:?}: use \"class\", {}",
                        groupings_text()
                    )))
                }
            };
            if per == Some(Per::Class) && c.class.is_some() {
                return Err(err("both per = \"class\" and class given".into()));
            }
            if matches!(per, Some(Per::Group(_))) && (c.group_by.is_some() || c.group.is_some()) {
                return Err(err(
                    "per = <grouping> replaces group_by/group; give one or the other".into(),
                ));
            }
            let group_by = c.group_by.unwrap_or_else(|| "all".into());
            if group_by != "all" && !is_grouping(&group_by) {
                return Err(err(format!(
                    "group_by = {group_by:?}: use \"all\", {}",
                    groupings_text()
                )));
            }
            let group = match (group_by.as_str(), c.group) {
                ("all", None) => "all".to_string(),
                ("all", Some(g)) => return Err(err(format!("group = {g:?} needs a group_by"))),
                (_, Some(g)) => g,
                (gb, None) => {
                    return Err(err(format!(
                        "group_by = {gb:?} needs a group (or use per = {gb:?})"
                    )))
                }
            };
            let sliced = |g: &str| crate::slices::is_grouping(g);
            if c.class.is_some()
                && (matches!(&per, Some(Per::Group(g)) if sliced(g)) || sliced(&group_by))
            {
                return Err(err(
                    "slice bins are judged on the per-sample summaries (mIoU and the metrics' sample means): drop class".into(),
                ));
            }
            let per_class = c.class.is_some() || per == Some(Per::Class);
            if let Some(lower) = crate::cost::metric(&c.metric) {
                // A cost is the arm's, measured on this host: no scope, no interval.
                let scoped = [
                    ("corpus", c.corpus.is_some()),
                    ("class", c.class.is_some()),
                    ("group_by", group_by != "all"),
                    ("per", per.is_some()),
                    ("min_n", c.min_n.is_some()),
                    ("basis", c.basis.is_some()),
                    ("confidence", c.confidence.is_some()),
                    ("multiplicity", c.multiplicity.is_some()),
                ];
                if let Some((key, _)) = scoped.iter().find(|(_, given)| *given) {
                    return Err(err(format!(
                        "{key} does not apply to cost metric {:?}: a cost is the arm's, over every photo it ran on",
                        c.metric
                    )));
                }
                match rule {
                    Rule::Min(_) | Rule::Max(_) => {}
                    Rule::MaxRatio(r) if lower && r > 0.0 => {}
                    Rule::MaxRatio(_) if lower => {
                        return Err(err("max_ratio must be above 0".into()))
                    }
                    Rule::MaxRatio(_) => {
                        return Err(err(format!(
                            "max_ratio limits a cost that is better lower; {:?} is better higher: use min",
                            c.metric
                        )))
                    }
                    other => {
                        return Err(err(format!(
                            "{} does not apply to cost metric {:?}: use min, max or max_ratio",
                            other.describe(),
                            c.metric
                        )))
                    }
                }
                criteria.push(Criterion {
                    id,
                    description: c.description,
                    line,
                    metric: MetricRef {
                        name: c.metric.clone(),
                        column: c.metric,
                        per_class: false,
                        better: if lower { Better::Lower } else { Better::Higher },
                    },
                    arm: c.arm,
                    corpus: None,
                    class: None,
                    group_by: "all".into(),
                    group: "all".into(),
                    per: None,
                    rule,
                    min_n: None,
                    basis: Basis::Point,
                    confidence: 0.95,
                    multiplicity: Multiplicity::Holm,
                });
                continue;
            }
            if matches!(rule, Rule::MaxRatio(_)) {
                return Err(err(format!(
                    "max_ratio applies to cost metrics ({}), not {:?}",
                    crate::cost::METRICS.map(|(m, _)| m).join(", "),
                    c.metric
                )));
            }
            let metric = resolve_metric(&c.metric, per_class).map_err(err)?;
            if metric.column.starts_with("overlap.") && (group_by != "all" || per.is_some()) {
                return Err(err(
                    "overlap measures are means per arm and corpus: no group_by or per".into(),
                ));
            }
            if metric.column == "n" && rule.needs_baseline() {
                return Err(err("metric \"n\" only takes min/max".into()));
            }
            let basis = match c.basis.as_deref() {
                None | Some("point") => Basis::Point,
                Some("ci") => Basis::Ci,
                Some(other) => {
                    return Err(err(format!(
                        "basis = {other:?}: use \"point\" (the estimate decides) or \"ci\" (its interval does)"
                    )))
                }
            };
            let confidence = c.confidence.unwrap_or(0.95);
            if !(confidence > 0.5 && confidence < 1.0) {
                return Err(err(format!(
                    "confidence = {confidence}: give a level between 0.5 and 1 (e.g. 0.95)"
                )));
            }
            if c.confidence.is_some() && basis == Basis::Point {
                return Err(err(
                    "confidence applies to basis = \"ci\"; add it, or drop confidence".into(),
                ));
            }
            if basis == Basis::Ci && matches!(rule, Rule::NoninferiorityMargin(_)) {
                return Err(err(
                    "noninferiority_margin is decided on its 95% interval already; drop basis"
                        .into(),
                ));
            }
            let multiplicity = match c.multiplicity.as_deref() {
                None | Some("holm") => Multiplicity::Holm,
                Some("none") => Multiplicity::None,
                Some(other) => {
                    return Err(err(format!(
                        "multiplicity = {other:?}: use \"holm\" (the default) or \"none\""
                    )))
                }
            };
            if c.multiplicity.is_some() && (per.is_none() || basis != Basis::Ci) {
                return Err(err(
                    "multiplicity applies to a group-wise criterion (per = …) on basis = \"ci\""
                        .into(),
                ));
            }
            criteria.push(Criterion {
                id,
                description: c.description,
                line,
                metric,
                arm: c.arm,
                corpus: c.corpus,
                class: c.class,
                group_by,
                group,
                per,
                rule,
                min_n: c.min_n,
                basis,
                confidence,
                multiplicity,
            });
        }
        let (resamples, seed) = raw
            .bootstrap
            .map(|b| (b.resamples, b.seed))
            .unwrap_or_default();
        Ok(CriteriaFile {
            path: path.to_path_buf(),
            pass_iou: raw.pass_iou,
            resamples,
            seed,
            noise_epsilon: raw.noise.as_ref().and_then(|n| n.epsilon),
            strict: raw.noise.as_ref().and_then(|n| n.strict),
            taxonomy,
            criteria,
            sha256: hex::encode(sha2::Sha256::digest(text.as_bytes())),
            requires_approval: raw.requires_approval.unwrap_or(0),
            suspect_agreement: raw.suspects.as_ref().and_then(|x| x.agreement),
            suspect_truth_iou: raw.suspects.as_ref().and_then(|x| x.truth_iou),
            exclude_suspects: raw.suspects.as_ref().and_then(|x| x.exclude),
            slice_bins: raw.slices.as_ref().and_then(|x| x.bins),
        })
    }

    /// Checks names against what the run has, before any scoring: arms, corpora, classes and
    /// failure classes. Every problem is reported at once.
    pub fn validate(
        &self,
        arms: &[String],
        baseline: &str,
        corpora: &BTreeMap<String, Vec<String>>,
    ) -> Result<()> {
        let mut problems = Vec::new();
        let fc_names: BTreeSet<&str> = self.taxonomy.iter().map(|c| c.name.as_str()).collect();
        for c in &self.criteria {
            let mut p = |m: String| {
                problems.push(format!(
                    "{}:{}: criterion {:?}: {m}",
                    self.path.display(),
                    c.line,
                    c.id
                ))
            };
            if !arms.contains(&c.arm) {
                p(format!(
                    "unknown arm {:?} (arms: {})",
                    c.arm,
                    arms.join(", ")
                ));
            } else if c.arm == baseline && c.rule.needs_baseline() {
                p(format!(
                    "{} compares the baseline {baseline:?} with itself",
                    c.rule.describe()
                ));
            }
            if let Some(k) = &c.corpus {
                if !corpora.contains_key(k) {
                    p(format!(
                        "unknown corpus {k:?} (corpora: {})",
                        corpora.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            if let Some(class) = &c.class {
                let in_scope: Vec<&Vec<String>> = match &c.corpus {
                    Some(k) => corpora.get(k).into_iter().collect(),
                    None => corpora.values().collect(),
                };
                if !in_scope.iter().any(|cls| cls.contains(class)) {
                    let known: BTreeSet<&String> = in_scope.into_iter().flatten().collect();
                    p(format!(
                        "unknown class {class:?} (classes: {})",
                        known.into_iter().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            let uses_fc =
                c.group_by == "failure_class" || c.per == Some(Per::Group("failure_class".into()));
            if uses_fc && self.taxonomy.is_empty() {
                p("uses failure classes but the file defines no [[failure_class]]".into());
            }
            if c.group_by == "failure_class"
                && c.group != crate::taxonomy::UNCLASSIFIED
                && !fc_names.contains(c.group.as_str())
            {
                p(format!("unknown failure class {:?}", c.group));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Usage(problems.join("\n")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_resolve_to_declared_columns_with_their_direction() {
        let ok = |name: &str, per_class: bool| {
            let m = resolve_metric(name, per_class).unwrap();
            (m.column, m.better)
        };
        let (higher, lower) = (Better::Higher, Better::Lower);
        assert_eq!(ok("iou.p10", true), ("iou_p10".into(), higher));
        assert_eq!(ok("iou.micro", true), ("iou_micro".into(), higher));
        assert_eq!(ok("bbox_iou.mean", true), ("bbox_iou_mean".into(), higher));
        assert_eq!(ok("leakage.mean", true), ("leakage_mean".into(), lower));
        assert_eq!(ok("leakage.mean", false), ("leakage_mean".into(), lower));
        assert_eq!(ok("iou.median", false), ("miou_median".into(), higher));
        assert_eq!(ok("miou.p90", false), ("miou_p90".into(), higher));
        assert_eq!(ok("pass_rate", true), ("pass_rate".into(), higher));
        assert_eq!(ok("n", false), ("n".into(), higher));
        assert_eq!(ok("fail_rate.PRED_MISSING", false).1, lower);
        for (name, per_class) in [
            ("iou.micro", false),
            ("dice.median", true),
            ("miou.mean", true),
            ("pass.rate", true),
            ("iou_mean", true),
            ("fail_rate.PRED_MISSING", true),
        ] {
            let err = resolve_metric(name, per_class).unwrap_err();
            assert!(err.contains("unknown metric"), "{name}: {err}");
        }
        let err = resolve_metric("dice.mean", false).unwrap_err();
        assert!(
            err.contains("give a class") && err.contains("coverage.mean"),
            "{err}"
        );
    }
}

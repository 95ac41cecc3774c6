//! Stage 6, **decide**: the verdict is a pure function of the report's aggregates and
//! comparisons and the team's criteria. Each criterion expands into checks (one per corpus and,
//! with `per`, per class or group); a criterion fails if any check fails, is inconclusive if none
//! fails but one could not be decided (too few samples, an undefined value, an empty scope), and
//! passes otherwise. The run is `go` only if every criterion passes; `no-go` if any fails (the
//! first failed one in file order is the deciding one); `inconclusive` otherwise.

pub mod criteria;

use crate::compare::StatDraws;
use crate::compare::SUMMARY_STATS;
use crate::cost::CostReport;
use crate::evaluation::{CorpusInfo, Evaluation};
use criteria::{Basis, Better, Criterion, Multiplicity, Per, Rule};
use serde::Serialize;

/// Slack for comparing a value with its bound: a delta of two rounded means may land 1 ulp past
/// a bound it equals on paper, and "equal to the bound" passes.
pub const BOUND_EPSILON: f64 = 1e-12;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Inconclusive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recommendation {
    Go,
    NoGo,
    Inconclusive,
}

impl Status {
    /// The status word every report writes (as `report.json` spells it); each renderer
    /// stresses a failure its own way.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Inconclusive => "inconclusive",
        }
    }
}

impl Recommendation {
    pub fn as_str(&self) -> &'static str {
        match self {
            Recommendation::Go => "go",
            Recommendation::NoGo => "no-go",
            Recommendation::Inconclusive => "inconclusive",
        }
    }
    /// Process exit code: 0 go, 1 no-go or inconclusive.
    pub fn exit_code(&self) -> u8 {
        match self {
            Recommendation::Go => 0,
            _ => 1,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub corpus: String,
    pub group_by: String,
    pub group: String,
    pub class: Option<String>,
    /// Samples with a defined value in scope (the arm's).
    pub n: Option<usize>,
    pub value: Option<f64>,
    pub baseline: Option<f64>,
    /// `arm − baseline`.
    pub delta: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub bound: f64,
    /// How far the compared quantity is from the bound, positive on the passing side (the
    /// same units as the metric): what "closest to failing" is measured by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// The compared quantity against its bound, e.g. `lower bound 0.043 vs -0.01`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against: Option<String>,
    /// The smallest true Δ this check's samples detect with 80% power at two-sided 5%, from
    /// the bootstrap's standard error ((hi − lo) / 3.92 of its 95% interval).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mde: Option<f64>,
    /// For a check whose interval holds its bound (noise-level): the samples in scope that
    /// would make the bound the detectable effect, n·(mde / bound)², at the same power.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_needed: Option<usize>,
    /// On `basis = "ci"`: the interval the check was decided on (of the gain for a rule against
    /// the baseline, of the arm's own statistic for min/max) and its level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis_interval: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis_level: Option<f64>,
    pub status: Status,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CriterionResult {
    pub id: String,
    pub description: String,
    pub metric: String,
    pub arm: String,
    pub rule: String,
    pub status: Status,
    pub reason: String,
    pub checks: Vec<Check>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub recommendation: Recommendation,
    /// Failed criteria in file order (the first decides); for an inconclusive run, the
    /// inconclusive ones.
    pub deciding_criteria: Vec<String>,
    /// The passing check with the smallest margin: what a go came closest to failing on.
    pub closest: Option<Closest>,
    pub criteria: Vec<CriterionResult>,
    /// The inference-noise check, when on (ε > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseVerdict>,
}

/// The inference-noise check's settings (`noise_epsilon`, `strict`): ε 0 turns it off.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Noise {
    pub epsilon: f64,
    pub strict: bool,
}

/// What the noise check found: every check decided again with each model arm's pixels within
/// ε of a decision set against the truth for candidates and toward it for the baseline.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NoiseVerdict {
    pub epsilon: f64,
    pub strict: bool,
    /// Pixels within ε of a decision, per measured arm, over every scored sample.
    pub pixels: std::collections::BTreeMap<String, u64>,
    /// Arms with nothing to measure (prediction files, variants): their masks stay as they are.
    pub unmeasured: Vec<String>,
    /// The checks whose status the flipped pixels change, in criteria order.
    pub flips: Vec<Flip>,
}

impl NoiseVerdict {
    pub fn robust(&self) -> bool {
        self.flips.is_empty()
    }

    /// The check in one sentence, for the verdict's summary.
    pub fn sentence(&self) -> String {
        let eps = fmt(self.epsilon);
        if self.pixels.is_empty() {
            return format!(
                "Inference noise (ε = {eps}) was not checked: no arm runs a model (prediction files and variants have no probabilities)."
            );
        }
        let total: u64 = self.pixels.values().sum();
        let per_arm = self
            .pixels
            .iter()
            .map(|(a, n)| format!("{a} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let unmeasured = match self.unmeasured.is_empty() {
            true => String::new(),
            false => format!(
                " ({} not measured: no probabilities)",
                self.unmeasured.join(", ")
            ),
        };
        if self.robust() {
            return format!(
                "Robust to inference noise (ε = {eps}): no check changes status with the {total} pixels within ε of a decision ({per_arm}){unmeasured} set against each candidate and toward the baseline."
            );
        }
        let flips = self
            .flips
            .iter()
            .map(|f| {
                format!(
                    "{} on {} ({} → {})",
                    f.criterion,
                    f.scope,
                    f.from.as_str(),
                    f.to.as_str()
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let then = match self.strict {
            true => "strict: counted inconclusive",
            false => "--strict would count them inconclusive",
        };
        format!(
            "Inference noise (ε = {eps}) could flip {} of the checks with the {total} pixels within ε of a decision ({per_arm}){unmeasured} set against each candidate and toward the baseline: {flips} ({then}).",
            self.flips.len()
        )
    }
}

/// One check that inference noise could flip.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Flip {
    pub criterion: String,
    pub scope: String,
    /// The status as measured, and with the near pixels flipped.
    pub from: Status,
    pub to: Status,
    /// The flipped check's reason.
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Closest {
    pub criterion: String,
    /// Corpus (and group) of the check.
    pub scope: String,
    pub against: String,
    pub margin: f64,
}

struct Scope<'a> {
    corpus: &'a str,
    group_by: &'a str,
    group: &'a str,
    class: Option<&'a str>,
}

/// `corpus[, group_by=group][, class c]`: a check's scope as every sentence writes it.
pub fn scope_text(corpus: &str, group_by: &str, group: &str, class: Option<&str>) -> String {
    let mut s = corpus.to_string();
    if group_by != "all" {
        s += &format!(", {group_by}={group}");
    }
    if let Some(c) = class {
        s += &format!(", class {c}");
    }
    s
}

impl Scope<'_> {
    fn describe(&self, arm: &str) -> String {
        format!(
            "{arm} on {}",
            scope_text(self.corpus, self.group_by, self.group, self.class)
        )
    }
}

impl Check {
    /// The check's scope, as its reason writes it.
    pub fn scope(&self) -> String {
        scope_text(
            &self.corpus,
            &self.group_by,
            &self.group,
            self.class.as_deref(),
        )
    }
}

/// (value, n) of `c.metric` for `arm` in `scope`; `None` when the arm has no row there.
fn measure(r: &Evaluation, c: &Criterion, arm: &str, s: &Scope) -> Option<(Option<f64>, usize)> {
    let col = c.metric.column.as_str();
    if crate::aggregate::INSTANCE_STATS.contains(&col) {
        // COCOeval's numbers: the instance row of the scope (every class, or the class).
        let class = s.class.unwrap_or(crate::aggregate::ALL_CLASSES);
        let row =
            crate::aggregate::find_row(&r.instances, arm, s.corpus, s.group_by, s.group, class)?;
        return Some((row.stat(col).flatten(), row.images));
    }
    if let Some(class) = s.class {
        let row = r.row(arm, s.corpus, s.group_by, s.group, class)?;
        let n = if col == "n" {
            row.n
        } else {
            row.n - row.n_empty
        };
        return Some((row.stat(col).flatten(), n));
    }
    if let Some(m) = col.strip_prefix("overlap.") {
        let row = r
            .overlaps
            .iter()
            .find(|o| o.arm == arm && o.corpus == s.corpus && o.measure == m)?;
        return Some((row.mean, row.n));
    }
    let sum = r.summary(arm, s.corpus, s.group_by, s.group)?;
    if let Some(code) = col.strip_prefix("fail_rate.") {
        return Some((sum.fail_rates.get(code).copied(), sum.n));
    }
    if col == "n" {
        return Some((Some(sum.n as f64), sum.n));
    }
    let i = SUMMARY_STATS.iter().position(|n| *n == col)?;
    Some((sum.stats()[i], sum.n_scored))
}

fn fmt(v: f64) -> String {
    crate::fmt::short(Some(v))
}

/// A bound as the criteria file wrote it (not rounded: it is the team's number).
fn bound_text(b: f64) -> String {
    crate::fmt::num(b)
}

/// The paired-bootstrap 95% interval of `arm − baseline` for the criterion's metric in scope.
fn delta_ci(r: &Evaluation, c: &Criterion, s: &Scope) -> Option<[f64; 2]> {
    r.comparisons
        .iter()
        .find(|x| x.arm == c.arm && x.corpus == s.corpus)
        .and_then(|x| x.delta(s.group_by, s.group, s.class))
        .and_then(|d| d.ci95.get(c.metric.column.as_str()).copied().flatten())
}

fn check(r: &Evaluation, c: &Criterion, s: Scope) -> Check {
    let base_name = &r.baseline;
    let (bound, relative) = match c.rule {
        Rule::Min(b) | Rule::Max(b) => (b, false),
        Rule::MaxDrop(b) | Rule::MinGain(b) | Rule::NoninferiorityMargin(b) => (b, true),
        // A cost rule: decided by `cost_check`, never on a metric's scope.
        Rule::MaxRatio(b) => (b, true),
    };
    let mut out = Check {
        corpus: s.corpus.to_string(),
        group_by: s.group_by.to_string(),
        group: s.group.to_string(),
        class: s.class.map(str::to_string),
        n: None,
        value: None,
        baseline: None,
        delta: None,
        ci95: None,
        bound,
        margin: None,
        against: None,
        mde: None,
        n_needed: None,
        basis_interval: None,
        basis_level: None,
        status: Status::Inconclusive,
        reason: String::new(),
    };
    let what = format!("{} of {}", c.metric.name, s.describe(&c.arm));
    let Some((value, n)) = measure(r, c, &c.arm, &s) else {
        out.reason = format!("{what}: no samples in scope");
        return out;
    };
    out.n = Some(n);
    out.value = value;
    if let Some(min_n) = c.min_n {
        if n < min_n {
            out.reason = format!("{what}: n = {n} < min_n {min_n}");
            return out;
        }
    }
    let Some(v) = value else {
        out.reason = format!("{what}: undefined (no defined values)");
        return out;
    };
    let metric = &c.metric.name;
    let (ok, reason) = if !relative {
        (out.margin, out.against) = match c.rule {
            Rule::Min(b) => (
                Some(v - b),
                Some(format!("{metric} {} vs min {}", fmt(v), bound_text(b))),
            ),
            _ => (
                Some(bound - v),
                Some(format!("{metric} {} vs max {}", fmt(v), bound_text(bound))),
            ),
        };
        match c.rule {
            Rule::Min(b) => (
                v + BOUND_EPSILON >= b,
                format!(
                    "{what} = {} {} min {}",
                    fmt(v),
                    if v + BOUND_EPSILON >= b { "≥" } else { "<" },
                    bound_text(b)
                ),
            ),
            _ => (
                v - BOUND_EPSILON <= bound,
                format!(
                    "{what} = {} {} max {}",
                    fmt(v),
                    if v - BOUND_EPSILON <= bound {
                        "≤"
                    } else {
                        ">"
                    },
                    bound_text(bound)
                ),
            ),
        }
    } else {
        let Some((bv, _)) = measure(r, c, base_name, &s) else {
            out.reason = format!("{what}: baseline {base_name} has no samples in scope");
            return out;
        };
        let Some(bv) = bv else {
            out.reason = format!("{what}: baseline value undefined");
            return out;
        };
        out.baseline = Some(bv);
        let delta = v - bv;
        out.delta = Some(delta);
        // Positive `gain` is an improvement whichever way the metric points.
        let gain = if c.metric.better == Better::Higher {
            delta
        } else {
            -delta
        };
        let vs = format!("{what} = {} vs baseline {}", fmt(v), fmt(bv));
        out.ci95 = delta_ci(r, c, &s);
        // The interval of the gain (positive = better), whichever way the metric points.
        let gain_ci = out.ci95.map(|[lo, hi]| {
            if c.metric.better == Better::Higher {
                [lo, hi]
            } else {
                [-hi, -lo]
            }
        });
        match c.rule {
            Rule::MaxDrop(b) => {
                let drop = -gain;
                out.margin = Some(b - drop);
                out.against = Some(format!(
                    "Δ {} vs max_drop {}",
                    crate::fmt::delta(Some(gain)),
                    bound_text(b)
                ));
                let pass = drop - BOUND_EPSILON <= b;
                (
                    pass,
                    if drop < 0.0 {
                        format!(
                            "{vs}: better by {} (max_drop {})",
                            fmt(-drop),
                            bound_text(b)
                        )
                    } else {
                        format!(
                            "{vs}: worse by {} {} max_drop {}",
                            fmt(drop),
                            if drop - BOUND_EPSILON <= b {
                                "≤"
                            } else {
                                ">"
                            },
                            bound_text(b)
                        )
                    } + &match gain_ci {
                        // A pass the interval does not back: say how large a drop it allows.
                        Some([lo, _]) if pass && -lo - BOUND_EPSILON > b => format!(
                            "; pass on the point estimate: the 95% CI allows a drop of {}",
                            fmt(-lo)
                        ),
                        _ => String::new(),
                    },
                )
            }
            Rule::MinGain(b) => {
                out.margin = Some(gain - b);
                out.against = Some(format!("gain {} vs min_gain {}", fmt(gain), bound_text(b)));
                let pass = gain + BOUND_EPSILON >= b;
                (
                    pass,
                    format!(
                        "{vs}: gain {} {} min_gain {}",
                        fmt(gain),
                        if pass { "≥" } else { "<" },
                        bound_text(b)
                    ) + &match gain_ci {
                        // A pass the interval does not back: say how small a gain it allows.
                        Some([lo, _]) if pass && lo + BOUND_EPSILON < b => format!(
                            "; pass on the point estimate: the 95% CI allows a gain of only {}",
                            fmt(lo)
                        ),
                        _ => String::new(),
                    },
                )
            }
            _ => {
                let Some([lo, hi]) = out.ci95 else {
                    out.reason = format!("{vs}: no bootstrap interval for this delta");
                    return out;
                };
                // Lower bound of the improvement's 95% CI.
                let worst = if c.metric.better == Better::Higher {
                    lo
                } else {
                    -hi
                };
                out.margin = Some(worst + bound);
                out.against = Some(format!(
                    "lower bound {} vs -{}",
                    fmt(worst),
                    bound_text(bound)
                ));
                (
                    worst + BOUND_EPSILON >= -bound,
                    format!(
                        "{vs}: 95% CI of the gain [{}, {}], lower bound {} -{} (the margin)",
                        fmt(worst),
                        fmt(if c.metric.better == Better::Higher {
                            hi
                        } else {
                            -lo
                        }),
                        if worst + BOUND_EPSILON >= -bound {
                            "≥"
                        } else {
                            "<"
                        },
                        bound_text(bound)
                    ),
                )
            }
        }
    };
    out.status = if ok { Status::Pass } else { Status::Fail };
    out.reason = reason + &power(&mut out, c, bound);
    if c.basis == Basis::Ci {
        on_interval(r, c, &s, &mut out, &what);
    }
    out
}

/// The bootstrap draws behind the criterion's metric in scope (from the arm's comparison).
fn draws_of(r: &Evaluation, c: &Criterion, s: &Scope) -> Option<std::sync::Arc<StatDraws>> {
    r.comparisons
        .iter()
        .find(|x| x.arm == c.arm && x.corpus == s.corpus)
        .and_then(|x| x.delta(s.group_by, s.group, s.class))
        .and_then(|d| d.draws.get(c.metric.column.as_str()).cloned())
}

/// Decides a `basis = "ci"` check on its interval at the criterion's confidence, replacing the
/// point decision: max_drop passes when the interval's worst end is within the drop, min_gain
/// when its lower end reaches the gain, min/max when the arm's own interval clears the bound.
fn on_interval(r: &Evaluation, c: &Criterion, s: &Scope, out: &mut Check, what: &str) {
    on_interval_at(r, c, s, out, what, c.confidence)
}

/// [`on_interval`] at `level` (a Holm-adjusted one in a family).
fn on_interval_at(
    r: &Evaluation,
    c: &Criterion,
    s: &Scope,
    out: &mut Check,
    what: &str,
    level: f64,
) {
    // 95, 97.5, 98.75: a level as people write it.
    let pct = (level * 10000.0).round() / 100.0;
    let draws = draws_of(r, c, s);
    let higher = c.metric.better == Better::Higher;
    let (interval, of) = match c.rule {
        Rule::MaxDrop(_) | Rule::MinGain(_) => (
            draws.and_then(|d| d.delta_interval(level)).map(|[lo, hi]| {
                if higher {
                    [lo, hi]
                } else {
                    [-hi, -lo]
                }
            }),
            "the gain",
        ),
        _ => (
            draws.and_then(|d| d.arm_interval(level)),
            "the arm's own value",
        ),
    };
    let Some([lo, hi]) = interval else {
        out.status = Status::Inconclusive;
        out.reason = format!(
            "{what}: basis = \"ci\", and no bootstrap interval of {of} here (the arm must be compared with the baseline, with bootstrap resamples > 0)"
        );
        return;
    };
    out.basis_interval = Some([lo, hi]);
    out.basis_level = Some(level);
    let ci = format!("the {pct}% CI of {of} [{}, {}]", fmt(lo), fmt(hi));
    let (pass, margin, against, text) = match c.rule {
        Rule::MaxDrop(b) => (
            lo + BOUND_EPSILON >= -b,
            lo + b,
            format!("worst drop {} vs max_drop {}", fmt(-lo), bound_text(b)),
            if lo >= 0.0 {
                // The whole interval is a gain: there is no drop to weigh against the bound.
                format!(
                    "no drop in the interval (its worst end is a gain of {}) ≤ max_drop {}",
                    fmt(lo),
                    bound_text(b)
                )
            } else {
                format!(
                    "worst drop {} {} max_drop {}",
                    fmt(-lo),
                    if lo + BOUND_EPSILON >= -b { "≤" } else { ">" },
                    bound_text(b)
                )
            },
        ),
        Rule::MinGain(b) => (
            lo + BOUND_EPSILON >= b,
            lo - b,
            format!("lower end {} vs min_gain {}", fmt(lo), bound_text(b)),
            format!(
                "lower end {} {} min_gain {}",
                fmt(lo),
                if lo + BOUND_EPSILON >= b { "≥" } else { "<" },
                bound_text(b)
            ),
        ),
        Rule::Min(b) => (
            lo + BOUND_EPSILON >= b,
            lo - b,
            format!("lower end {} vs min {}", fmt(lo), bound_text(b)),
            format!(
                "lower end {} {} min {}",
                fmt(lo),
                if lo + BOUND_EPSILON >= b { "≥" } else { "<" },
                bound_text(b)
            ),
        ),
        Rule::Max(b) => (
            hi - BOUND_EPSILON <= b,
            b - hi,
            format!("upper end {} vs max {}", fmt(hi), bound_text(b)),
            format!(
                "upper end {} {} max {}",
                fmt(hi),
                if hi - BOUND_EPSILON <= b { "≤" } else { ">" },
                bound_text(b)
            ),
        ),
        // Refused when the criteria file is read: it is decided on its interval already; a
        // cost rule has no interval basis.
        Rule::NoninferiorityMargin(_) | Rule::MaxRatio(_) => return,
    };
    let point = match (out.value, out.delta) {
        (Some(v), None) => format!(" = {}", fmt(v)),
        (_, Some(d)) => format!(": Δ {}", crate::fmt::delta(Some(d))),
        _ => String::new(),
    };
    out.status = if pass { Status::Pass } else { Status::Fail };
    out.margin = Some(margin);
    out.against = Some(against);
    out.reason = format!("{what}{point}; decided on {ci}: {text}");
}

/// z₀.₉₇₅ + z₀.₈₀: a two-sided 5% test with 80% power.
const POWER_Z: f64 = 1.959_963_984_540_054 + 0.841_621_233_572_914_3;

/// Fills a relative check's minimum detectable effect and, when its interval holds the bound
/// (the data cannot tell the bound from no effect), the sample size that would resolve it;
/// returns the sentence the reason gains for such a noise-level check.
fn power(out: &mut Check, c: &Criterion, bound: f64) -> String {
    let (Some([lo, hi]), Some(n)) = (out.ci95, out.n) else {
        return String::new();
    };
    // The interval is the expanded one, ≈ Δ ± √(n/(n−1))·t·SE_boot; the standard error with
    // n − 1 in its denominator is √(n/(n−1))·SE_boot, so SE = width / (2·t₀.₉₇₅,ₙ₋₁).
    if n < 2 {
        return String::new();
    }
    let t = maskgate_core::stats::student_t_quantile(0.975, (n - 1) as f64);
    let mde = POWER_Z * (hi - lo) / (2.0 * t);
    out.mde = Some(mde);
    // The bound on the Δ scale (a drop is a negative gain; noninferiority's margin likewise).
    let signed = match c.rule {
        Rule::MinGain(b) => b,
        _ => -bound,
    };
    let gain = |d: f64| {
        if c.metric.better == Better::Higher {
            d
        } else {
            -d
        }
    };
    let (glo, ghi) = (gain(lo).min(gain(hi)), gain(lo).max(gain(hi)));
    if !(glo < signed && signed < ghi) || bound <= 0.0 {
        return String::new();
    }
    let needed = (n as f64 * (mde / bound).powi(2)).ceil();
    out.n_needed = (needed.is_finite() && needed < 1e12).then_some(needed as usize);
    let what = match c.rule {
        Rule::MinGain(_) => "a gain",
        _ => "a drop",
    };
    match out.n_needed {
        Some(k) => format!(
            "; within noise: n = {n} resolves {what} ≥ {}, ≈ {k} would resolve {}",
            fmt(mde),
            bound_text(bound)
        ),
        None => String::new(),
    }
}

/// How far a check's draws reach past its bound, as the two-sided p-value its central
/// interval implies: twice the share of draws on the failing side. What Holm orders by.
fn p_past_bound(c: &Criterion, d: &StatDraws) -> Option<f64> {
    let higher = c.metric.better == Better::Higher;
    let (draws, bound, below): (&[f64], f64, bool) = match c.rule {
        // The gain's draws, failing below −b (a drop past it) or below g.
        Rule::MaxDrop(b) => (&d.delta, if higher { -b } else { b }, higher),
        Rule::MinGain(g) => (&d.delta, if higher { g } else { -g }, higher),
        Rule::Min(m) => (&d.arm, m, true),
        Rule::Max(m) => (&d.arm, m, false),
        Rule::NoninferiorityMargin(_) | Rule::MaxRatio(_) => return None,
    };
    if draws.is_empty() {
        return None;
    }
    let past = draws
        .iter()
        .filter(|v| if below { **v < bound } else { **v > bound })
        .count();
    Some((2.0 * past as f64 / draws.len() as f64).min(1.0))
}

/// Holm's step-down over a group-wise criterion's checks on `basis = "ci"`: the check with the
/// k-th smallest p (of m) is decided on its interval at 1 − α/(m − k + 1); once one fails,
/// every later one fails untested. The family-wise error stays ≤ α = 1 − confidence.
fn holm(r: &Evaluation, c: &Criterion, checks: &mut [Check]) {
    let alpha = 1.0 - c.confidence;
    let scope_of = |k: &Check| {
        (
            k.corpus.clone(),
            k.group_by.clone(),
            k.group.clone(),
            k.class.clone(),
        )
    };
    let mut family: Vec<(usize, f64)> = checks
        .iter()
        .enumerate()
        .filter(|(_, k)| k.basis_interval.is_some())
        .filter_map(|(i, k)| {
            let (corpus, gb, g, class) = scope_of(k);
            let s = Scope {
                corpus: &corpus,
                group_by: &gb,
                group: &g,
                class: class.as_deref(),
            };
            Some((i, p_past_bound(c, &*draws_of(r, c, &s)?)?))
        })
        .collect();
    let m = family.len();
    if m < 2 {
        return;
    }
    family.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut stopped = false;
    for (rank, &(i, _)) in family.iter().enumerate() {
        let level = 1.0 - alpha / (m - rank) as f64;
        let (corpus, gb, g, class) = scope_of(&checks[i]);
        let s = Scope {
            corpus: &corpus,
            group_by: &gb,
            group: &g,
            class: class.as_deref(),
        };
        let what = format!("{} of {}", c.metric.name, s.describe(&c.arm));
        let k = &mut checks[i];
        on_interval_at(r, c, &s, k, &what, level);
        let pct = (level * 10000.0).round() / 100.0;
        if stopped {
            k.status = Status::Fail;
            k.reason +=
                &format!(" (Holm, {m} groups: not passed, an earlier group of the family failed)");
        } else {
            stopped = k.status == Status::Fail;
            k.reason += &format!(" (Holm-adjusted level {pct}%, {m} groups)");
        }
    }
}

fn checks_of(r: &Evaluation, c: &Criterion) -> Vec<Check> {
    let mut out = scoped_checks(r, c);
    if c.per.is_some() && c.basis == Basis::Ci {
        match c.multiplicity {
            Multiplicity::Holm => holm(r, c, &mut out),
            Multiplicity::None => {
                for k in out.iter_mut().filter(|k| k.basis_interval.is_some()) {
                    k.reason += " (family uncorrected: multiplicity = \"none\")";
                }
            }
        }
    }
    out
}

fn scoped_checks(r: &Evaluation, c: &Criterion) -> Vec<Check> {
    let corpora: Vec<&CorpusInfo> = r
        .corpora
        .iter()
        .filter(|k| c.corpus.as_ref().is_none_or(|n| *n == k.name))
        .collect();
    let mut out = Vec::new();
    for k in corpora {
        match &c.per {
            Some(Per::Class) => {
                for class in &k.classes {
                    out.push(check(
                        r,
                        c,
                        Scope {
                            corpus: &k.name,
                            group_by: &c.group_by,
                            group: &c.group,
                            class: Some(class),
                        },
                    ));
                }
            }
            Some(Per::Group(gb)) => {
                // Groups seen in either arm: a group only the baseline has is still checked.
                let mut groups: Vec<&String> = r
                    .summaries
                    .iter()
                    .filter(|s| {
                        s.corpus == k.name
                            && &s.group_by == gb
                            && (s.arm == c.arm || s.arm == r.baseline)
                    })
                    .map(|s| &s.group)
                    .collect();
                groups.sort();
                groups.dedup();
                for g in groups {
                    out.push(check(
                        r,
                        c,
                        Scope {
                            corpus: &k.name,
                            group_by: gb,
                            group: g,
                            class: c.class.as_deref(),
                        },
                    ));
                }
            }
            None => out.push(check(
                r,
                c,
                Scope {
                    corpus: &k.name,
                    group_by: &c.group_by,
                    group: &c.group,
                    class: c.class.as_deref(),
                },
            )),
        }
    }
    out
}

/// A criterion's checks: one on the run's cost measurements for a cost metric, else one per
/// scope of the evaluation.
fn criterion_checks(r: &Evaluation, c: &Criterion, cost: Option<&CostReport>) -> Vec<Check> {
    match crate::cost::metric(&c.metric.name) {
        Some(_) => vec![cost_check(r, c, cost)],
        None => checks_of(r, c),
    }
}

/// A cost criterion's one check: the arm's measured value (and the baseline's for
/// `max_ratio`), from this run's measurements on this host.
fn cost_check(r: &Evaluation, c: &Criterion, cost: Option<&CostReport>) -> Check {
    let mut out = Check {
        corpus: "run".into(),
        group_by: "all".into(),
        group: "all".into(),
        class: None,
        n: None,
        value: None,
        baseline: None,
        delta: None,
        ci95: None,
        bound: c.rule.bound(),
        margin: None,
        against: None,
        mde: None,
        n_needed: None,
        basis_interval: None,
        basis_level: None,
        status: Status::Inconclusive,
        reason: String::new(),
    };
    let metric = &c.metric.name;
    let Some(cost) = cost else {
        out.reason = format!(
            "{metric}: cost was not measured in one run (a merge of shards has no latencies of one host and run; run unsharded, or with --cost)"
        );
        return out;
    };
    let value_of = |arm: &str| -> Result<(f64, &crate::cost::ArmCost), String> {
        let a = cost
            .arm(arm)
            .ok_or_else(|| format!("{arm} runs no model here, so it has no cost"))?;
        Ok((crate::cost::value(a, metric)?, a))
    };
    let (v, arm_cost) = match value_of(&c.arm) {
        Ok(v) => v,
        Err(e) => {
            out.reason = format!("{metric}: {e}");
            return out;
        }
    };
    let (n, when) = match arm_cost.timed_in.as_deref() {
        Some(crate::cost::THIS_RUN) | None => (arm_cost.measured, "in this run".to_string()),
        Some(run) => (
            arm_cost.cached_latency.as_ref().map_or(0, |l| l.n),
            format!("in run {run}, served from the cache"),
        ),
    };
    out.value = Some(v);
    out.n = Some(n);
    // The compared quantity, as the reason shows it, the rule's word, its bound, and whether
    // it must stay at or below the bound.
    let (q, label, shown, rule, b, at_most) = match c.rule {
        Rule::Min(b) => (v, metric.as_str(), fmt(v), "min", b, false),
        Rule::Max(b) => (v, metric.as_str(), fmt(v), "max", b, true),
        Rule::MaxRatio(b) => {
            let base = match value_of(&r.baseline) {
                Ok((_, b))
                    if crate::cost::metric_needs_latency(metric)
                        && b.timed_in != arm_cost.timed_in =>
                {
                    out.reason = format!(
                        "{metric}: the arm's and the baseline's latencies were timed in different runs; run with --no-cache to time both in one"
                    );
                    return out;
                }
                Ok((base, _)) if base > 0.0 => base,
                Ok(_) => {
                    out.reason = format!("{metric}: the baseline's is 0, so no ratio");
                    return out;
                }
                Err(e) => {
                    out.reason = format!("{metric} of the baseline: {e}");
                    return out;
                }
            };
            out.baseline = Some(base);
            let ratio = v / base;
            let shown = format!("{} = {}× the baseline's {}", fmt(v), fmt(ratio), fmt(base));
            (ratio, "ratio", shown, "max_ratio", b, true)
        }
        // Refused when the criteria file is read.
        _ => return out,
    };
    let pass = match at_most {
        true => q - BOUND_EPSILON <= b,
        false => q + BOUND_EPSILON >= b,
    };
    let op = match (at_most, pass) {
        (true, true) => "≤",
        (true, false) => ">",
        (false, true) => "≥",
        (false, false) => "<",
    };
    out.status = if pass { Status::Pass } else { Status::Fail };
    out.margin = Some(if at_most { b - q } else { q - b });
    out.against = Some(format!("{label} {} vs {rule} {}", fmt(q), bound_text(b)));
    out.reason = format!(
        "{metric} of {} = {shown} {op} {rule} {} (measured on this host {when}, {n} photos)",
        c.arm,
        bound_text(b)
    );
    out
}

/// A criterion's status and reason from its checks: fails if any check fails, inconclusive if
/// none fails but one is undecided (or there is none), passes otherwise.
fn criterion_result(c: &Criterion, checks: Vec<Check>) -> CriterionResult {
    let failed: Vec<&Check> = checks.iter().filter(|k| k.status == Status::Fail).collect();
    let open: Vec<&Check> = checks
        .iter()
        .filter(|k| k.status == Status::Inconclusive)
        .collect();
    let (status, reason) = if let Some(first) = failed.first() {
        let more = if failed.len() > 1 {
            format!(
                " (and {} more of {} checks)",
                failed.len() - 1,
                checks.len()
            )
        } else {
            String::new()
        };
        (Status::Fail, format!("{}{more}", first.reason))
    } else if checks.is_empty() {
        (
            Status::Inconclusive,
            "empty scope: nothing to check".to_string(),
        )
    } else if let Some(first) = open.first() {
        (Status::Inconclusive, first.reason.clone())
    } else {
        let mut reason = if checks.len() == 1 {
            checks[0].reason.clone()
        } else {
            format!("all {} checks pass", checks.len())
        };
        // A group-wise criterion without min_n says how small a group it passed on.
        if c.per.is_some() && c.min_n.is_none() {
            if let Some(n) = checks.iter().filter_map(|k| k.n).min() {
                reason += &format!(" (smallest group n = {n}; no min_n set)");
            }
        }
        (Status::Pass, reason)
    };
    CriterionResult {
        id: c.id.clone(),
        description: c.description.clone(),
        metric: c.metric.name.clone(),
        arm: c.arm.clone(),
        rule: c.rule.describe(),
        status,
        reason,
        checks,
    }
}

/// The checks of the evaluation with its near pixels flipped (`Evaluation::adverse`) whose
/// status differs from the measured one's; with `strict`, those checks become inconclusive.
fn noise_check(
    evaluation: &Evaluation,
    criteria: &[Criterion],
    noise: &Noise,
    cost: Option<&CostReport>,
    checks: &mut [Vec<Check>],
) -> NoiseVerdict {
    let mut flips = Vec::new();
    let flipped_evaluation = evaluation
        .adverse
        .as_ref()
        .and_then(|a| a.evaluation.as_ref());
    if let Some(adverse) = flipped_evaluation {
        for ((c, measured), flipped) in criteria
            .iter()
            .zip(checks.iter_mut())
            .zip(criteria.iter().map(|c| criterion_checks(adverse, c, cost)))
        {
            for k in measured.iter_mut() {
                let key = (&k.corpus, &k.group_by, &k.group, &k.class);
                let Some(f) = flipped
                    .iter()
                    .find(|f| (&f.corpus, &f.group_by, &f.group, &f.class) == key)
                else {
                    continue;
                };
                if f.status == k.status {
                    continue;
                }
                flips.push(Flip {
                    criterion: c.id.clone(),
                    scope: scope_text(&k.corpus, &k.group_by, &k.group, k.class.as_deref()),
                    from: k.status,
                    to: f.status,
                    reason: f.reason.clone(),
                });
                if noise.strict {
                    k.reason = format!(
                        "inference noise (ε = {}) could flip it to {}: {}",
                        fmt(noise.epsilon),
                        f.status.as_str(),
                        f.reason
                    );
                    k.status = Status::Inconclusive;
                }
            }
        }
    }
    let (pixels, unmeasured) = match &evaluation.adverse {
        Some(a) => (a.pixels.clone(), a.unmeasured.clone()),
        None => (Default::default(), evaluation.arms.clone()),
    };
    NoiseVerdict {
        epsilon: noise.epsilon,
        strict: noise.strict,
        pixels,
        unmeasured,
        flips,
    }
}

/// The verdict: a pure function of the report (aggregates, comparisons), the criteria and the
/// noise check's settings.
pub fn decide(
    evaluation: &Evaluation,
    criteria: &[Criterion],
    noise: &Noise,
    cost: Option<&CostReport>,
) -> Verdict {
    let mut checks: Vec<Vec<Check>> = criteria
        .iter()
        .map(|c| criterion_checks(evaluation, c, cost))
        .collect();
    let noise =
        (noise.epsilon > 0.0).then(|| noise_check(evaluation, criteria, noise, cost, &mut checks));
    let results: Vec<CriterionResult> = criteria
        .iter()
        .zip(checks)
        .map(|(c, checks)| criterion_result(c, checks))
        .collect();
    let ids = |s: Status| {
        results
            .iter()
            .filter(|r| r.status == s)
            .map(|r| r.id.clone())
            .collect::<Vec<_>>()
    };
    let (failed, open) = (ids(Status::Fail), ids(Status::Inconclusive));
    let (recommendation, deciding_criteria) = if !failed.is_empty() {
        (Recommendation::NoGo, failed)
    } else if !open.is_empty() {
        (Recommendation::Inconclusive, open)
    } else {
        (Recommendation::Go, Vec::new())
    };
    let closest = closest_check(&results);
    Verdict {
        recommendation,
        deciding_criteria,
        closest,
        criteria: results,
        noise,
    }
}

/// The passing check nearest its bound (smallest margin; ties: file order), named by its
/// criterion: what a go was closest to failing on.
fn closest_check(results: &[CriterionResult]) -> Option<Closest> {
    let mut best: Option<Closest> = None;
    // A cost check's margin is a measurement (ms, MiB): it would make report.json vary.
    for r in results
        .iter()
        .filter(|r| r.status == Status::Pass && crate::cost::metric(&r.metric).is_none())
    {
        for k in &r.checks {
            let (Some(margin), Some(against)) = (k.margin, &k.against) else {
                continue;
            };
            if best.as_ref().is_none_or(|b| margin < b.margin) {
                let mut scope = k.corpus.clone();
                if k.group_by != "all" {
                    scope += &format!(", {}={}", k.group_by, k.group);
                }
                best = Some(Closest {
                    criterion: r.id.clone(),
                    scope,
                    against: against.clone(),
                    margin,
                });
            }
        }
    }
    best
}

impl Verdict {
    /// The report's last line, with user text escaped for Markdown: `recommendation: go` or
    /// `recommendation: no-go — failed: <id>: <reason>[; <id>: <reason>]`.
    pub fn last_line(&self) -> String {
        self.line_with(crate::fmt::md)
    }

    /// One sentence for the top of a report: the verdict and why.
    pub fn summary(&self) -> String {
        let total = self.criteria.len();
        let named = |status: Status| {
            self.criteria
                .iter()
                .filter(|c| c.status == status)
                .map(|c| format!("{} ({})", c.id, c.reason))
                .collect::<Vec<_>>()
        };
        let noise = self
            .noise
            .as_ref()
            .map_or(String::new(), |n| format!(" {}", n.sentence()));
        let verdict = match self.recommendation {
            Recommendation::Go => {
                let closest = self.closest.as_ref().map_or(String::new(), |c| {
                    format!(
                        "; the closest to failing is {} on {}: {} (margin {})",
                        c.criterion,
                        c.scope,
                        c.against,
                        fmt(c.margin)
                    )
                });
                format!("Go: all {total} criteria pass{closest}.")
            }
            Recommendation::NoGo => {
                let failed = named(Status::Fail);
                format!(
                    "No-go: {} of {total} criteria fail; deciding: {}.",
                    failed.len(),
                    failed.join("; ")
                )
            }
            Recommendation::Inconclusive => {
                let open = named(Status::Inconclusive);
                format!(
                    "Inconclusive: no criterion fails, but {} of {total} could not be decided: {}.",
                    open.len(),
                    open.join("; ")
                )
            }
        };
        verdict + &noise
    }

    /// The same line as plain text, for a terminal (control characters become spaces).
    pub fn plain_line(&self) -> String {
        self.line_with(|t| {
            t.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        })
    }

    fn line_with(&self, escape: impl Fn(&str) -> String) -> String {
        self.line_pieces()
            .into_iter()
            .map(|(piece, from_user)| if from_user { escape(&piece) } else { piece })
            .collect()
    }

    /// The last line in pieces, each marked whether it is user text (reasons, criterion
    /// names) that a renderer must escape: one wording for the Markdown, HTML and terminal
    /// forms.
    pub fn line_pieces(&self) -> Vec<(String, bool)> {
        let prose = |t: &str| (t.to_string(), false);
        let user = |t: &str| (t.to_string(), true);
        let list = |status: Status| {
            let mut pieces = Vec::new();
            for (i, c) in self
                .criteria
                .iter()
                .filter(|c| c.status == status)
                .enumerate()
            {
                if i > 0 {
                    pieces.push(prose("; "));
                }
                // The id is the criteria file's, as in the go branch's closest criterion.
                pieces.push(user(&c.id));
                pieces.push(prose(": "));
                pieces.push(user(&c.reason));
            }
            pieces
        };
        match self.recommendation {
            Recommendation::Go => match &self.closest {
                Some(c) => vec![
                    prose("recommendation: go; closest: "),
                    user(&c.criterion),
                    prose(", "),
                    user(&c.against),
                    prose(" ("),
                    user(&c.scope),
                    prose(")"),
                ],
                None => vec![prose("recommendation: go")],
            },
            Recommendation::NoGo => {
                let mut pieces = vec![prose("recommendation: no-go — failed: ")];
                pieces.extend(list(Status::Fail));
                pieces
            }
            Recommendation::Inconclusive => {
                let mut pieces = vec![prose("recommendation: inconclusive — undecided: ")];
                pieces.extend(list(Status::Inconclusive));
                pieces
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_criterion_id_is_user_text_like_the_closest_one() {
        let v = Verdict {
            recommendation: Recommendation::NoGo,
            deciding_criteria: vec!["min_gain".into()],
            closest: None,
            noise: None,
            criteria: vec![CriterionResult {
                id: "min_gain".into(),
                description: String::new(),
                metric: "iou.mean".into(),
                arm: "cand".into(),
                rule: String::new(),
                status: Status::Fail,
                reason: "worse".into(),
                checks: Vec::new(),
            }],
        };
        assert!(v.line_pieces().contains(&("min_gain".to_string(), true)));
        assert_eq!(
            v.last_line(),
            "recommendation: no-go — failed: min\\_gain: worse"
        );
    }

    #[test]
    fn status_words_are_the_json_ones() {
        for s in [Status::Pass, Status::Fail, Status::Inconclusive] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}

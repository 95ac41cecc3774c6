//! Shards: one run split over machines by an engine that already schedules (a Kubernetes
//! Indexed Job, a Slurm array, Modal's `map`). Shard `I` of `N` scores the contiguous slice
//! `[⌊I·n/N⌋, ⌊(I+1)·n/N⌋)` of the canonical sample list (corpora in plan order, each sorted by
//! id) and stores its exact per-sample rows: f64 bit patterns and integer counts, never sums.
//! A write-once commit marker names the rows; the first committer wins, so retries and
//! speculative duplicates are harmless. [`gather`] rebuilds the single-machine table from the
//! committed rows; the unchanged aggregation then runs on it, so a merged report is the
//! unsharded one byte for byte.
//!
//! Layout under the output folder (or bucket prefix):
//! `shards/<plan16>/plan.json` (the request the shards ran, for `merge`),
//! `shards/<plan16>/of-<N>/<I>.commit.json` (the marker) and
//! `shards/<plan16>/of-<N>/data/<I>.<sha16>.jsonl` (the rows, named by their content).

use crate::error::{Error, Result};
use crate::model::FailReason;
use crate::read::Problem;
use crate::score::metrics::{self, MetricValues, COUNT};
use crate::score::properties;
use crate::score::{ClassScore, ClassScores, NoiseScores, SampleScore};
use crate::storage::Store;
use maskgate_core::Counts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

/// Where `--shard auto/N` finds the index, first set wins: ours, Kubernetes', Slurm's.
pub const INDEX_VARS: [&str; 3] = [
    "MASKGATE_SHARD_INDEX",
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
];
/// The folder under the output that holds every shard.
pub const FOLDER: &str = crate::storage::SHARDS;
/// The shard format this maskgate writes and reads. 2: the marker names the metrics, and each
/// class's values in a row follow that list (1 stored them by position with no list, so a row
/// meant nothing once the metric registry changed).
pub const FORMAT: &str = "maskgate-shard/5";

/// The most shards one run may be split into: far more machines than any array job runs at
/// once, while `merge` lists, checks and reports missing shards by index without a list of
/// billions. (More shards than samples is allowed: the extra shards score nothing.)
pub const MAX_SHARDS: usize = 100_000;

/// Shard `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    pub index: usize,
    pub count: usize,
}

impl ShardSpec {
    /// This shard's slice of `n` samples: contiguous, and the slices of `0..count` tile `0..n`.
    pub fn range(&self, n: usize) -> Range<usize> {
        let at = |i: usize| (i as u128 * n as u128 / self.count as u128) as usize;
        at(self.index)..at(self.index + 1)
    }
}

/// `--shard I/N` or `--shard auto/N` as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardArg {
    Fixed(ShardSpec),
    /// The index comes from the engine's environment ([`INDEX_VARS`]).
    Auto(usize),
}

impl std::str::FromStr for ShardArg {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<ShardArg, String> {
        let bad = || format!("--shard {text:?}: expected I/N (0 ≤ I < N) or auto/N");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(format!("--shard {text:?}: N must be at least 1"));
        }
        if count > MAX_SHARDS {
            return Err(format!(
                "--shard {text:?}: N = {count} is above the ceiling of {MAX_SHARDS} shards; split the run into at most {MAX_SHARDS}"
            ));
        }
        if i.trim() == "auto" {
            return Ok(ShardArg::Auto(count));
        }
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        if index >= count {
            return Err(format!(
                "--shard {text:?}: index {index} is not below the shard count {count}"
            ));
        }
        Ok(ShardArg::Fixed(ShardSpec { index, count }))
    }
}

impl ShardArg {
    /// The shard this process is; `lookup` reads an environment variable.
    pub fn resolve(self, lookup: impl Fn(&str) -> Option<String>) -> Result<ShardSpec> {
        let count = match self {
            ShardArg::Fixed(s) => return Ok(s),
            ShardArg::Auto(n) => n,
        };
        let (var, value) = INDEX_VARS
            .iter()
            .find_map(|v| lookup(v).map(|x| (*v, x)))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--shard auto/{count}: none of {} is set",
                    INDEX_VARS.join(", ")
                ))
            })?;
        let index: usize = value
            .trim()
            .parse()
            .map_err(|_| Error::Usage(format!("{var}={value:?} is not a shard index")))?;
        if index >= count {
            return Err(Error::Usage(format!(
                "{var}={index} is not below the shard count {count} (--shard auto/{count})"
            )));
        }
        Ok(ShardSpec { index, count })
    }
}

/// A prediction line `save_predictions` keeps, with where it belongs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedLine {
    pub corpus: String,
    pub arm: String,
    pub id: String,
    pub line: String,
}

/// What one shard produced, exactly: every score, the samples whose ground truth failed to load
/// (with their corpus, in listing order) and the saved prediction lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShardRows {
    pub scores: Vec<SampleScore>,
    pub problems: Vec<(String, Problem)>,
    pub predictions: Vec<SavedLine>,
}

/// One line of a shard's data file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Record {
    Score(Box<ScoreRow>),
    Problem(ProblemRow),
    Prediction(SavedLine),
}

/// A [`SampleScore`] with every float as its bit pattern: JSON text would round-trip only
/// through a correctly rounding parser, and a merge must reproduce the bits.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreRow {
    arm: String,
    corpus: String,
    id: String,
    hash: String,
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    failure_class: Option<String>,
    fail_reason: Option<String>,
    fail_detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instances: Option<u32>,
    /// (class, [tp, fp, fn], each metric's bits in the marker's `metrics` order): names once
    /// per shard, not once per class of every row.
    classes: Vec<ClassRow>,
    overlaps: Vec<(String, Option<u64>)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    noise: Option<NoiseRow>,
    agreement: Option<u64>,
    /// The sample's properties in `score::properties::PROPERTIES` order.
    properties: Option<Vec<Option<u64>>>,
    /// COCOeval's records of the sample's instances, so a merge accumulates them exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instance_eval: Option<InstanceRow>,
}

/// [`crate::score::instances::InstanceEval`]: (image id, class order, detections given, gts,
/// dts, per class (name, score bits, per area range (matched bits, ignored bits, counted ground
/// truths))).
type InstanceRow = (
    Option<u64>,
    Option<Vec<String>>,
    bool,
    u32,
    u32,
    Vec<(String, Vec<u64>, Vec<AreaRow>)>,
);
type AreaRow = (Vec<u32>, Vec<u32>, u32);

fn instance_row(e: &crate::score::instances::InstanceEval) -> InstanceRow {
    (
        e.image_id,
        e.class_order.as_deref().map(<[String]>::to_vec),
        e.detections,
        e.gts,
        e.dts,
        e.classes
            .iter()
            .map(|(c, ev)| {
                (
                    c.clone(),
                    ev.dt_scores.iter().map(|v| v.to_bits()).collect(),
                    ev.areas
                        .iter()
                        .map(|a| (a.matched.clone(), a.ignored.clone(), a.counted_gts))
                        .collect(),
                )
            })
            .collect(),
    )
}

fn instance_eval(
    (image_id, class_order, detections, gts, dts, classes): InstanceRow,
) -> std::result::Result<crate::score::instances::InstanceEval, String> {
    use maskgate_core::cocoeval::{AreaEval, CategoryEval};
    let areas = maskgate_core::cocoeval::Params::default().area_ranges.len();
    let classes = classes
        .into_iter()
        .map(|(c, scores, rows)| {
            let n = scores.len();
            if rows.len() != areas || rows.iter().any(|(m, i, _)| m.len() != n || i.len() != n) {
                return Err(format!("class {c:?}: damaged instance records"));
            }
            let eval = CategoryEval {
                dt_scores: scores.into_iter().map(f64::from_bits).collect(),
                areas: rows
                    .into_iter()
                    .map(|(matched, ignored, counted_gts)| AreaEval {
                        matched,
                        ignored,
                        counted_gts,
                    })
                    .collect(),
            };
            Ok((c, eval))
        })
        .collect::<std::result::Result<_, String>>()?;
    Ok(crate::score::instances::InstanceEval {
        image_id,
        class_order: class_order.map(std::sync::Arc::from),
        detections,
        gts,
        dts,
        classes,
    })
}

/// A class's (name, [tp, fp, fn], each metric's bits).
type ClassRow = (String, [u64; 3], Vec<Option<u64>>);

/// [`crate::score::NoiseScores`], bit for bit.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoiseRow {
    pixels: u64,
    against: Vec<ClassRow>,
    toward: Vec<ClassRow>,
}

fn class_rows(classes: &ClassScores) -> Vec<ClassRow> {
    classes
        .iter()
        .map(|(c, v)| (c.clone(), [v.tp, v.fp, v.fn_], v.values.map(bits).to_vec()))
        .collect()
}

fn class_scores(rows: Vec<ClassRow>) -> std::result::Result<ClassScores, String> {
    // Exactly as many as the row has: a run keeps one per (arm, sample).
    let mut classes = ClassScores::with_capacity(rows.len());
    for (c, [tp, fp, fn_], v) in rows {
        let counts = Counts { tp, fp, fn_ };
        let values = metric_values(v).map_err(|e| format!("class {c:?}: {e}"))?;
        classes.insert(c, ClassScore::from_metric_values(counts, values));
    }
    Ok(classes)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemRow {
    corpus: String,
    sample: String,
    kind: String,
    message: String,
}

fn bits(v: Option<f64>) -> Option<u64> {
    v.map(f64::to_bits)
}

fn float(b: Option<u64>) -> Option<f64> {
    b.map(f64::from_bits)
}

const OTHER_METRICS: &str =
    "the shard was written by a maskgate with other metrics; re-run the shards with this maskgate";

/// The registry's values from a shard row, in registry order: the marker's metric list has been
/// checked against the registry, so a row of another length is damaged or foreign.
fn metric_values(stored: Vec<Option<u64>>) -> std::result::Result<MetricValues, String> {
    let n = stored.len();
    let values: [Option<u64>; COUNT] = stored.try_into().map_err(|_| {
        format!("{n} metric values, but this maskgate has {COUNT} metrics: {OTHER_METRICS}")
    })?;
    Ok(values.map(float))
}

/// A marker's metric list must be the registry's, in its order: rows store values by position.
fn check_metrics(stored: &[String]) -> std::result::Result<(), String> {
    if stored.iter().map(String::as_str).eq(metrics::NAMES) {
        return Ok(());
    }
    let ours = metrics::names().join(", ");
    let what = match metrics::NAMES
        .iter()
        .find(|m| !stored.iter().any(|s| s == *m))
    {
        Some(missing) => format!("no {missing:?} metric"),
        None => match stored.iter().find(|s| metrics::find(s).is_none()) {
            Some(extra) => format!("unknown metric {extra:?} (this maskgate has {ours})"),
            None => format!(
                "metrics in the order {} (this maskgate has {ours})",
                stored.join(", ")
            ),
        },
    };
    Err(format!("{what}: {OTHER_METRICS}"))
}

impl ShardRows {
    /// The data file: one JSON record a line, scores first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut push = |r: Record| {
            // Serialising these plain structs to a Vec cannot fail.
            serde_json::to_writer(&mut out, &r).unwrap_or_default();
            out.push(b'\n');
        };
        for s in &self.scores {
            push(Record::Score(Box::new(ScoreRow {
                arm: s.arm.to_string(),
                corpus: s.corpus.to_string(),
                id: s.id.clone(),
                hash: s.hash.clone(),
                source: s.source.clone(),
                notes: s.notes.as_deref().map(str::to_string),
                failure_class: s.failure_class.as_deref().map(str::to_string),
                fail_reason: s.fail_reason.map(|r| r.code().to_string()),
                fail_detail: s.fail_detail.clone(),
                instances: s.instances,
                classes: class_rows(&s.classes),
                noise: s.noise.as_ref().map(|n| NoiseRow {
                    pixels: n.pixels,
                    against: class_rows(&n.against),
                    toward: class_rows(&n.toward),
                }),
                overlaps: s
                    .overlaps
                    .iter()
                    .map(|(k, v)| (k.clone(), bits(*v)))
                    .collect(),
                agreement: bits(s.agreement),
                properties: s.properties.as_ref().map(|p| p.0.map(bits).to_vec()),
                instance_eval: s.instance_eval.as_deref().map(instance_row),
            })));
        }
        for (corpus, p) in &self.problems {
            push(Record::Problem(ProblemRow {
                corpus: corpus.clone(),
                sample: p.sample.clone(),
                kind: p.kind.clone(),
                message: p.message.clone(),
            }));
        }
        for l in &self.predictions {
            push(Record::Prediction(l.clone()));
        }
        out
    }

    /// Parses a data file; `names` shares the repeated names (arms, corpora, classes of
    /// failure) across every shard of a merge.
    pub fn from_bytes(bytes: &[u8], names: &mut Names, what: &str) -> Result<ShardRows> {
        let mut rows = ShardRows::default();
        for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let record: Record = serde_json::from_slice(line).map_err(|e| {
                Error::Usage(format!("{what}: line {}: not a shard record: {e}", n + 1))
            })?;
            match record {
                Record::Score(r) => {
                    let damaged = |e: String| Error::Usage(format!("{what}: line {}: {e}", n + 1));
                    let fail_reason = match &r.fail_reason {
                        Some(code) => Some(FailReason::from_code(code).ok_or_else(|| {
                            Error::Usage(format!(
                                "{what}: line {}: unknown fail reason {code:?}",
                                n + 1
                            ))
                        })?),
                        None => None,
                    };
                    rows.scores.push(SampleScore {
                        arm: names.get(&r.arm),
                        corpus: names.get(&r.corpus),
                        id: r.id,
                        hash: r.hash,
                        source: r.source,
                        notes: r.notes.map(Arc::from),
                        failure_class: r.failure_class.map(|c| names.get(&c)),
                        fail_reason,
                        fail_detail: r.fail_detail,
                        instances: r.instances,
                        instance_eval: match r.instance_eval {
                            None => None,
                            Some(row) => Some(Arc::new(instance_eval(row).map_err(damaged)?)),
                        },
                        classes: class_scores(r.classes).map_err(damaged)?,
                        noise: match r.noise {
                            None => None,
                            Some(row) => Some(Box::new(NoiseScores {
                                pixels: row.pixels,
                                against: class_scores(row.against).map_err(damaged)?,
                                toward: class_scores(row.toward).map_err(damaged)?,
                            })),
                        },
                        overlaps: r.overlaps.into_iter().map(|(k, v)| (k, float(v))).collect(),
                        agreement: float(r.agreement),
                        suspect: false,
                        properties: match r.properties {
                            None => None,
                            Some(v) => {
                                let n = v.len();
                                let values: [Option<u64>; properties::COUNT] =
                                    v.try_into().map_err(|_| {
                                        damaged(format!(
                                            "{n} sample properties, but this maskgate has {}: {OTHER_METRICS}",
                                            properties::COUNT
                                        ))
                                    })?;
                                Some(Arc::new(properties::Properties(values.map(float))))
                            }
                        },
                    });
                }
                Record::Problem(p) => rows.problems.push((
                    p.corpus,
                    Problem {
                        sample: p.sample,
                        kind: p.kind,
                        message: p.message,
                    },
                )),
                Record::Prediction(l) => rows.predictions.push(l),
            }
        }
        Ok(rows)
    }
}

/// Shared copies of the names every row repeats.
#[derive(Default)]
pub struct Names(BTreeMap<String, Arc<str>>);

impl Names {
    fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.0.get(name) {
            return n.clone();
        }
        let n: Arc<str> = Arc::from(name);
        self.0.insert(name.to_string(), n.clone());
        n
    }
}

/// What a shard ran on: ONNX Runtime's outputs can differ across execution providers and CPU
/// instruction sets, so a merge of shards from mixed hardware is flagged.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hardware {
    pub execution_provider: String,
    pub arch: String,
    pub cpu: String,
    /// The vector extensions ONNX Runtime's CPU kernels choose between.
    pub cpu_features: Vec<String>,
}

impl Hardware {
    pub fn of_this_host(execution_provider: &str) -> Hardware {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        #[allow(unused_mut)]
        let mut cpu_features: Vec<String> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            for (name, on) in [
                ("avx", is_x86_feature_detected!("avx")),
                ("avx2", is_x86_feature_detected!("avx2")),
                ("fma", is_x86_feature_detected!("fma")),
                ("avx512f", is_x86_feature_detected!("avx512f")),
                ("avx512vnni", is_x86_feature_detected!("avx512vnni")),
            ] {
                if on {
                    cpu_features.push(name.to_string());
                }
            }
        }
        Hardware {
            execution_provider: execution_provider.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            cpu,
            cpu_features,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} on {} ({}; {})",
            self.execution_provider,
            self.cpu,
            self.arch,
            if self.cpu_features.is_empty() {
                "no vector extensions".to_string()
            } else {
                self.cpu_features.join(" ")
            }
        )
    }
}

/// A shard's commit marker: written once, never replaced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    pub format: String,
    /// The metrics of every row, in the order a row stores their values (the registry's).
    /// Absent in a marker of format 1, which must still parse so its format can be named.
    #[serde(default)]
    pub metrics: Vec<String>,
    /// sha256 of the plan (request, settings, every input's sha256).
    pub plan: String,
    pub index: usize,
    pub count: usize,
    /// The slice of the canonical sample list this shard scored.
    pub range: [usize; 2],
    /// The canonical list's length when the shard ran.
    pub samples_total: usize,
    /// Records in the data file.
    pub rows: usize,
    /// The data file, relative to the plan's folder.
    pub data: String,
    pub content_sha256: String,
    pub hardware: Hardware,
    /// The run id and time the shard was given: a merge stamps its reports with them when
    /// every shard agrees (absent in markers written before they were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunStamp>,
}

/// A run's identity as its reports show it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunStamp {
    pub run_id: String,
    pub generated_at: String,
}

fn plan_folder(plan: &str) -> String {
    format!("{FOLDER}/{}", &plan[..plan.len().min(16)])
}

fn marker_key(plan: &str, spec: ShardSpec) -> String {
    format!(
        "{}/of-{}/{}.commit.json",
        plan_folder(plan),
        spec.count,
        spec.index
    )
}

/// The key of the plan record `merge` re-resolves from.
pub fn plan_record_key(plan: &str) -> String {
    format!("{}/plan.json", plan_folder(plan))
}

/// Keeps the plan record beside the shards (every shard writes the same bytes; the first stays).
pub fn record_plan(store: &dyn Store, plan: &str, record: &[u8]) -> Result<()> {
    store.create(&plan_record_key(plan), record).map(drop)
}

/// The marker of `spec` under `plan`, if committed.
pub fn committed(store: &dyn Store, plan: &str, spec: ShardSpec) -> Result<Option<Marker>> {
    let key = marker_key(plan, spec);
    let Some(bytes) = store.get(&key)? else {
        return Ok(None);
    };
    let m = serde_json::from_slice::<Marker>(&bytes)
        .map_err(|e| Error::Usage(format!("{key}: not a shard marker: {e}")))?;
    check_format(&key, plan, &m)?;
    Ok(Some(m))
}

/// A marker of another format or with other metrics cannot be merged, nor stand for this
/// shard: its rows are laid out differently.
fn check_format(key: &str, plan: &str, m: &Marker) -> Result<()> {
    if m.format != FORMAT {
        return Err(Error::Usage(format!(
            "{key}: shard format {:?}, but this maskgate reads {FORMAT:?}: the shard was written by another maskgate version; delete {} and re-run the shards with this maskgate",
            m.format,
            plan_folder(plan)
        )));
    }
    check_metrics(&m.metrics).map_err(|e| Error::Usage(format!("{key}: {e}")))
}

/// What a commit did.
#[derive(Debug, PartialEq)]
pub enum Committed {
    /// This process's marker is the one that counts.
    Now(Marker),
    /// Another attempt committed first; this one's rows were discarded.
    Earlier(Marker),
}

/// Stores `rows` and commits the marker; the first committer wins.
pub fn commit(
    store: &dyn Store,
    plan: &str,
    spec: ShardSpec,
    samples_total: usize,
    rows: &ShardRows,
    hardware: Hardware,
    run: RunStamp,
) -> Result<Committed> {
    let bytes = rows.to_bytes();
    let sha = hex::encode(Sha256::digest(&bytes));
    let data = format!("of-{}/data/{}.{}.jsonl", spec.count, spec.index, &sha[..16]);
    let data_key = format!("{}/{data}", plan_folder(plan));
    store.put(&data_key, &bytes)?;
    let range = spec.range(samples_total);
    let marker = Marker {
        format: FORMAT.into(),
        metrics: metrics::NAMES.map(String::from).to_vec(),
        plan: plan.to_string(),
        index: spec.index,
        count: spec.count,
        range: [range.start, range.end],
        samples_total,
        rows: rows.scores.len() + rows.problems.len() + rows.predictions.len(),
        data,
        content_sha256: sha,
        hardware,
        run: Some(run),
    };
    let text = serde_json::to_vec_pretty(&marker).unwrap_or_default();
    if store.create(&marker_key(plan, spec), &text)? {
        return Ok(Committed::Now(marker));
    }
    let winner = committed(store, plan, spec)?.ok_or_else(|| {
        Error::Usage(format!(
            "{}: the marker was there a moment ago and is gone",
            marker_key(plan, spec)
        ))
    })?;
    if winner.data != marker.data {
        store.delete(&data_key)?;
    }
    Ok(Committed::Earlier(winner))
}

/// The plans that have shards under the store, as their full hashes from the markers' folders'
/// plan records (16-hex folder names when no marker is readable).
pub fn plan_folders(store: &dyn Store) -> Result<Vec<String>> {
    let folders: BTreeSet<String> = store
        .list(&format!("{FOLDER}/"))?
        .iter()
        .filter_map(|k| k.split('/').nth(1).map(str::to_string))
        .collect();
    Ok(folders.into_iter().collect())
}

/// `1,4-6`: indices as Slurm's `--array=` takes them.
pub fn array_list(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end = indices[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// Every committed shard's rows, concatenated in index order.
#[derive(Debug)]
pub struct Gathered {
    pub rows: ShardRows,
    pub count: usize,
    /// The run id and time every shard was given, when they all agree.
    pub run: Option<RunStamp>,
    /// Messages for the user (mixed hardware when not strict).
    pub notices: Vec<String>,
}

/// Reads the shards of `plan` over `samples_total` samples: one complete set of markers (the
/// smallest complete N when shards were run at several N), each for this plan, tiling the
/// list, with intact data. Missing shards are an error that lists them as `--array=…`.
pub fn gather(
    store: &dyn Store,
    plan: &str,
    samples_total: usize,
    scores_most: usize,
    strict_hardware: bool,
) -> Result<Gathered> {
    let folder = format!("{}/", plan_folder(plan));
    let mut by_count: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for key in store.list(&folder)? {
        let rest = &key[folder.len()..];
        let Some((of, file)) = rest.split_once('/') else {
            continue;
        };
        let (Some(n), Some(i)) = (
            of.strip_prefix("of-").and_then(|n| n.parse::<usize>().ok()),
            file.strip_suffix(".commit.json")
                .and_then(|i| i.parse::<usize>().ok()),
        ) else {
            continue;
        };
        // A count past the ceiling was never written by `--shard`: not a shard set to check.
        if i < n && n <= MAX_SHARDS {
            by_count.entry(n).or_default().insert(i);
        }
    }
    if by_count.is_empty() {
        return Err(Error::Retryable(format!(
            "no shard of plan {} has committed under {}",
            &plan[..plan.len().min(16)],
            store.describe()
        )));
    }
    let Some((&count, _)) = by_count.iter().find(|(n, have)| have.len() == **n) else {
        let lines: Vec<String> = by_count
            .iter()
            .map(|(n, have)| {
                let missing: Vec<usize> = (0..*n).filter(|i| !have.contains(i)).collect();
                format!(
                    "{} of {n} shards missing; rerun them with --array={}",
                    missing.len(),
                    array_list(&missing)
                )
            })
            .collect();
        return Err(Error::Retryable(format!(
            "the shards are incomplete: {}",
            lines.join("; ")
        )));
    };
    let mut markers = Vec::with_capacity(count);
    let mut next = 0;
    for index in 0..count {
        let spec = ShardSpec { index, count };
        let key = marker_key(plan, spec);
        let m = committed(store, plan, spec)?
            .ok_or_else(|| Error::Retryable(format!("{key}: missing")))?;
        // `committed` has checked the format.
        let wrong = |what: String| Error::Usage(format!("{key}: {what}"));
        if m.plan != plan {
            return Err(wrong(format!("belongs to plan {}, not {plan}", m.plan)));
        }
        if (m.index, m.count) != (index, count) {
            return Err(wrong(format!("says it is shard {}/{}", m.index, m.count)));
        }
        if m.samples_total != samples_total {
            return Err(wrong(format!(
                "was cut from {} samples; the corpora now list {samples_total}",
                m.samples_total
            )));
        }
        let range = spec.range(samples_total);
        if m.range != [range.start, range.end] || range.start != next {
            return Err(wrong(format!(
                "covers [{}, {}), expected [{}, {})",
                m.range[0], m.range[1], range.start, range.end
            )));
        }
        next = range.end;
        markers.push(m);
    }
    // The table is kept for the whole merge: reserved once, as a run reserves its scores, but
    // never past what the plan can produce (a sample a score per arm): a marker claiming
    // 10^12 rows must not allocate. Each shard's count is checked against its data below.
    let claimed: usize = markers.iter().fold(0, |n, m| n.saturating_add(m.rows));
    let mut rows = ShardRows {
        scores: Vec::with_capacity(claimed.min(scores_most)),
        ..Default::default()
    };
    let mut names = Names::default();
    let mut hardware: BTreeMap<Hardware, Vec<usize>> = BTreeMap::new();
    let stamps: BTreeSet<Option<RunStamp>> = markers.iter().map(|m| m.run.clone()).collect();
    let run = match stamps.len() {
        1 => stamps.into_iter().next().flatten(),
        _ => None,
    };
    for m in markers {
        let (index, key) = (
            m.index,
            marker_key(
                plan,
                ShardSpec {
                    index: m.index,
                    count,
                },
            ),
        );
        let wrong = |what: String| Error::Usage(format!("{key}: {what}"));
        let data_key = format!("{}{}", folder, m.data);
        let bytes = store
            .get(&data_key)?
            .ok_or_else(|| wrong(format!("its data {data_key} is missing")))?;
        let sha = hex::encode(Sha256::digest(&bytes));
        if sha != m.content_sha256 {
            return Err(wrong(format!(
                "its data {data_key} has sha256 {sha}, the marker says {}",
                m.content_sha256
            )));
        }
        // One record a line: the count is checked on the bytes, before anything is parsed.
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        if lines != m.rows {
            return Err(wrong(format!(
                "{lines} rows in its data ({} bytes), the marker says {}",
                bytes.len(),
                m.rows
            )));
        }
        let part = ShardRows::from_bytes(&bytes, &mut names, &data_key)?;
        let found = part.scores.len() + part.problems.len() + part.predictions.len();
        if found != m.rows {
            return Err(wrong(format!(
                "{found} rows in its data, the marker says {}",
                m.rows
            )));
        }
        rows.scores.extend(part.scores);
        rows.problems.extend(part.problems);
        rows.predictions.extend(part.predictions);
        hardware.entry(m.hardware).or_default().push(index);
    }
    let mut notices = Vec::new();
    if hardware.len() > 1 {
        let kinds: Vec<String> = hardware
            .iter()
            .map(|(h, shards)| format!("shards {}: {}", array_list(shards), h.describe()))
            .collect();
        let message = format!(
            "the shards ran on different hardware, and ONNX Runtime's outputs can differ across it: {}",
            kinds.join("; ")
        );
        if strict_hardware {
            return Err(Error::Usage(format!("{message} (--strict-hardware)")));
        }
        notices.push(message);
    }
    Ok(Gathered {
        rows,
        count,
        run,
        notices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::REGISTRY;
    use crate::storage::LocalStore;
    use proptest::prelude::*;

    #[test]
    fn shard_arguments_parse_and_resolve() {
        let fixed: ShardArg = "2/7".parse().unwrap();
        assert_eq!(fixed, ShardArg::Fixed(ShardSpec { index: 2, count: 7 }));
        assert_eq!("auto/4".parse::<ShardArg>().unwrap(), ShardArg::Auto(4));
        for bad in ["7/7", "1/0", "x/2", "3", "-1/2", "auto/0"] {
            assert!(bad.parse::<ShardArg>().is_err(), "{bad}");
        }
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let auto = ShardArg::Auto(4);
        let spec = auto
            .resolve(env(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("JOB_COMPLETION_INDEX", "1"),
            ]))
            .unwrap();
        assert_eq!(spec, ShardSpec { index: 1, count: 4 });
        let spec = auto.resolve(env(&[("SLURM_ARRAY_TASK_ID", "3")])).unwrap();
        assert_eq!(spec.index, 3);
        let err = auto.resolve(env(&[])).unwrap_err().to_string();
        assert!(err.contains("JOB_COMPLETION_INDEX"), "{err}");
        let err = auto
            .resolve(env(&[("MASKGATE_SHARD_INDEX", "4")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not below"), "{err}");
    }

    proptest! {
        #[test]
        fn ranges_tile_the_list(n in 0usize..5000, count in 1usize..64) {
            let mut next = 0;
            for index in 0..count {
                let r = ShardSpec { index, count }.range(n);
                prop_assert_eq!(r.start, next);
                prop_assert!(r.end >= r.start);
                // Balanced: no two shards differ by more than one sample.
                prop_assert!(r.len() <= n / count + 1);
                next = r.end;
            }
            prop_assert_eq!(next, n);
        }
    }

    #[test]
    fn array_lists_compress_runs() {
        assert_eq!(array_list(&[1, 4, 5, 6, 9]), "1,4-6,9");
        assert_eq!(array_list(&[0]), "0");
        assert_eq!(array_list(&[]), "");
    }

    fn score(arm: &str, id: &str, iou_bits: u64) -> SampleScore {
        let v = f64::from_bits(iou_bits);
        SampleScore {
            instance_eval: None,
            arm: arm.into(),
            corpus: "c".into(),
            id: id.into(),
            hash: format!("h{id}"),
            source: Some("s".into()),
            notes: Some("a note".into()),
            failure_class: Some("cut".into()),
            fail_reason: Some(FailReason::PredClassesMissing),
            fail_detail: Some("fg \"quoted\"\n".into()),
            instances: None,
            classes: [(
                "fg".to_string(),
                ClassScore::from_metric_values(
                    Counts {
                        tp: 3,
                        fp: u64::MAX,
                        fn_: 0,
                    },
                    std::array::from_fn(|i| match REGISTRY[i].name {
                        "iou" => Some(v),
                        "precision" => Some(0.1 + 0.2),
                        "boundary_iou" => Some(-0.0),
                        _ => None,
                    }),
                ),
            )]
            .into_iter()
            .collect(),
            overlaps: [("nose/skin".to_string(), Some(1.0 / 3.0))].into(),
            noise: None,
            agreement: None,
            suspect: false,
            properties: None,
        }
    }

    #[test]
    fn rows_round_trip_bit_for_bit() {
        let rows = ShardRows {
            scores: vec![
                score("a", "1", 0x3FD5_5555_5555_5555),
                score("b", "2", f64::NAN.to_bits()),
                {
                    // A model arm's row carries its noise check's flipped scores.
                    let mut s = score("c", "3", 0x3FE0_0000_0000_0001);
                    let flipped = score("c", "3", 0x3FD0_0000_0000_0003).classes;
                    s.noise = Some(Box::new(NoiseScores {
                        pixels: 17,
                        against: flipped.clone(),
                        toward: s.classes.clone(),
                    }));
                    s
                },
            ],
            problems: vec![(
                "c".into(),
                Problem {
                    sample: "x".into(),
                    kind: "unreadable".into(),
                    message: "bad".into(),
                },
            )],
            predictions: vec![SavedLine {
                corpus: "c".into(),
                arm: "a".into(),
                id: "1".into(),
                line: "{\"id\":\"1\"}".into(),
            }],
        };
        let bytes = rows.to_bytes();
        let back = ShardRows::from_bytes(&bytes, &mut Names::default(), "t").unwrap();
        assert_eq!(back.to_bytes(), bytes);
        let iou = back.scores[1].classes.get("fg").unwrap().iou().unwrap();
        assert_eq!(iou.to_bits(), f64::NAN.to_bits());
        assert_eq!(back.problems, rows.problems);
        assert_eq!(back.predictions, rows.predictions);
        let err = ShardRows::from_bytes(b"{\"score\":1}\n", &mut Names::default(), "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    fn hw(cpu: &str) -> Hardware {
        Hardware {
            execution_provider: "cpu".into(),
            arch: "x86_64".into(),
            cpu: cpu.into(),
            cpu_features: vec!["avx2".into()],
        }
    }

    fn shard_rows(ids: Range<usize>) -> ShardRows {
        ShardRows {
            scores: ids
                .map(|i| score("a", &format!("{i:03}"), i as u64))
                .collect(),
            ..Default::default()
        }
    }

    fn stamp(id: &str) -> RunStamp {
        RunStamp {
            run_id: id.into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn markers_name_the_metrics_and_rows_follow_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let plan = "12".repeat(32);
        let spec = ShardSpec { index: 0, count: 1 };
        commit(
            &store,
            &plan,
            spec,
            1,
            &shard_rows(0..1),
            hw("A"),
            stamp("r"),
        )
        .unwrap();
        let key = marker_key(&plan, spec);
        let marker: Marker = serde_json::from_slice(&store.get(&key).unwrap().unwrap()).unwrap();
        let names: Vec<&str> = REGISTRY.iter().map(|m| m.name).collect();
        assert_eq!(marker.metrics, names);
        // The names are in the marker, not in every row.
        let data = store
            .get(&format!("{}/{}", plan_folder(&plan), marker.data))
            .unwrap()
            .unwrap();
        let text = String::from_utf8(data).unwrap();
        assert!(!text.contains("\"iou\""), "{text}");
        let with_metrics = |metrics: Vec<String>| {
            let m = Marker {
                metrics,
                ..marker.clone()
            };
            std::fs::write(dir.path().join(&key), serde_json::to_vec(&m).unwrap()).unwrap();
            let err = [
                committed(&store, &plan, spec).unwrap_err().to_string(),
                gather(&store, &plan, 1, 1 << 20, false)
                    .unwrap_err()
                    .to_string(),
            ];
            for e in &err {
                assert!(e.contains("re-run the shards with this maskgate"), "{e}");
            }
            err[0].clone()
        };
        let last = names[names.len() - 1];
        let mut missing = marker.metrics.clone();
        missing.pop();
        let err = with_metrics(missing);
        assert!(err.contains(&format!("no {last:?} metric")), "{err}");
        let mut extra = marker.metrics.clone();
        extra.push("gone".into());
        let err = with_metrics(extra);
        assert!(err.contains("unknown metric \"gone\""), "{err}");
        let mut swapped = marker.metrics.clone();
        swapped.swap(0, 1);
        let err = with_metrics(swapped);
        assert!(err.contains("metrics in the order dice, iou"), "{err}");
        // A row with a value too few or too many, under a right marker.
        let row = text.lines().next().unwrap();
        // The last metric (F0.5) is undefined in these rows: its `null` ends the values.
        for bad in [
            row.replacen(",null]", "]", 1),
            row.replacen(",null]", ",null,null]", 1),
        ] {
            assert_ne!(bad, row);
            let err = ShardRows::from_bytes(bad.as_bytes(), &mut Names::default(), "d.jsonl")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("metric values, but this maskgate has"),
                "{err}"
            );
            assert!(
                err.contains("re-run the shards with this maskgate"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_marker_of_the_old_format_names_its_version_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let plan = "ef".repeat(32);
        let spec = ShardSpec { index: 0, count: 1 };
        let rows = shard_rows(0..2);
        commit(&store, &plan, spec, 2, &rows, hw("A"), stamp("r")).unwrap();
        let key = marker_key(&plan, spec);
        let text = String::from_utf8(store.get(&key).unwrap().unwrap()).unwrap();
        // Format 1 markers had no metric list.
        let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
        let fields = old.as_object_mut().unwrap();
        assert!(fields.remove("metrics").is_some());
        fields["format"] = "maskgate-shard/1".into();
        let old = serde_json::to_string(&old).unwrap();
        std::fs::write(dir.path().join(&key), old).unwrap();
        for err in [
            gather(&store, &plan, 2, 1 << 20, false).unwrap_err(),
            committed(&store, &plan, spec).unwrap_err(),
        ] {
            let err = err.to_string();
            assert!(err.contains("\"maskgate-shard/1\""), "{err}");
            assert!(
                err.contains("re-run the shards with this maskgate"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_merge_inherits_the_run_stamp_the_shards_agree_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let plan = "cd".repeat(32);
        let n = 4;
        let spec = |index| ShardSpec { index, count: 2 };
        for i in 0..2 {
            let rows = shard_rows(spec(i).range(n));
            commit(&store, &plan, spec(i), n, &rows, hw("A"), stamp("nightly")).unwrap();
        }
        let g = gather(&store, &plan, n, 1 << 20, false).unwrap();
        assert_eq!(g.run, Some(stamp("nightly")));
    }

    #[test]
    fn first_commit_wins_and_gather_checks_everything() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let plan = "ab".repeat(32);
        let n = 10;
        let spec = |index| ShardSpec { index, count: 3 };
        let err = gather(&store, &plan, n, 1 << 20, false).unwrap_err();
        assert!(matches!(err, Error::Retryable(_)), "{err}");
        let first = commit(
            &store,
            &plan,
            spec(1),
            n,
            &shard_rows(spec(1).range(n)),
            hw("A"),
            stamp("r1"),
        );
        assert!(matches!(first, Ok(Committed::Now(_))));
        // A duplicate with other rows loses, and its data file is removed.
        let dup = commit(
            &store,
            &plan,
            spec(1),
            n,
            &shard_rows(0..1),
            hw("A"),
            stamp("r1"),
        )
        .unwrap();
        assert!(matches!(dup, Committed::Earlier(_)));
        assert_eq!(store.list("").unwrap().len(), 2);
        let err = gather(&store, &plan, n, 1 << 20, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2 of 3 shards missing; rerun them with --array=0,2"),
            "{err}"
        );
        for i in [2, 0] {
            commit(
                &store,
                &plan,
                spec(i),
                n,
                &shard_rows(spec(i).range(n)),
                hw("A"),
                stamp(if i == 2 { "r1" } else { "r0" }),
            )
            .unwrap();
        }
        let g = gather(&store, &plan, n, 1 << 20, false).unwrap();
        assert_eq!(g.run, None, "the shards disagree on their run id");
        assert_eq!(g.count, 3);
        assert_eq!(g.rows, shard_rows(0..n));
        assert!(g.notices.is_empty());
        // Another sample count than the shards were cut from.
        let err = gather(&store, &plan, n + 1, 1 << 20, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("was cut from 10 samples"), "{err}");
        // Shards on another CPU: a notice, or an error when strict.
        let key = marker_key(&plan, spec(2));
        let text = String::from_utf8(store.get(&key).unwrap().unwrap()).unwrap();
        std::fs::write(dir.path().join(&key), text.replace("\"A\"", "\"B\"")).unwrap();
        let g = gather(&store, &plan, n, 1 << 20, false).unwrap();
        assert!(
            g.notices[0].contains("shards 0-1: cpu on A"),
            "{:?}",
            g.notices
        );
        assert!(
            g.notices[0].contains("shards 2: cpu on B"),
            "{:?}",
            g.notices
        );
        let err = gather(&store, &plan, n, 1 << 20, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--strict-hardware"), "{err}");
        // Tampered data is refused.
        let m = committed(&store, &plan, spec(0)).unwrap().unwrap();
        let data = dir
            .path()
            .join(format!("{}/{}", plan_folder(&plan), m.data));
        std::fs::write(&data, b"\n").unwrap();
        let err = gather(&store, &plan, n, 1 << 20, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("has sha256"), "{err}");
    }
}

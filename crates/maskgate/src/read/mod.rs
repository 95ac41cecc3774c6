//! Stage 1, **read**: corpus readers turn a dataset on disk into [`Sample`]s whose ground truth
//! is in the evaluation's own classes. One file per format behind [`CorpusReader`]; adding a
//! format is one new file plus one line in [`readers`].

pub mod celebamask;
pub mod classmap;
pub mod coco;
pub mod fasseg;
pub mod files;
pub mod gold_ndjson;
pub mod labelme;
pub mod lapa;
pub mod modules;
pub mod ndjson;
pub mod paths;
pub mod shared;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;
pub mod voc;
pub mod yolo;

use crate::error::{Error, Result};
use crate::model::{sample_hash, ClassMasks, MaskData, Sample};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where a corpus is and how to read it (a `[[corpus]]` table of the config).
#[derive(Clone, Debug, Default)]
pub struct CorpusSpec {
    pub name: String,
    pub format: String,
    pub path: PathBuf,
    /// Evaluation class → the dataset's native labels that make it up. Empty: every native
    /// label except background is its own class.
    pub classes: BTreeMap<String, Vec<String>>,
    /// With `limit`: which samples to keep, the same on every machine (see [`sample_subset`]).
    pub sample_seed: Option<String>,
    pub limit: Option<usize>,
    /// Native labels treated as void: excluded from both ground truth and prediction.
    pub ignore: Vec<String>,
    /// A split of the dataset (`train`, `val`, `test`; each format says what it accepts).
    pub split: Option<String>,
    /// Face modules derived from the ground truth (see [`modules`]).
    pub modules: Option<modules::ModulesSpec>,
    /// Settings only one format understands (`order` for CelebAMask-HQ, `images` for COCO…);
    /// each reader refuses keys it does not know.
    pub options: BTreeMap<String, String>,
    /// What one sample may cost (`[limits]` of the config).
    pub limits: crate::limits::Limits,
    /// `dedupe = "keep-first"`: of samples whose photos are byte-identical, keep the first id.
    pub dedupe: bool,
    /// How long a database source may keep the reader waiting.
    pub network: crate::net::Network,
    /// A held-out split: a photo it shares with another corpus or the training set is a
    /// warning on the verdict.
    pub held_out: bool,
    /// `instances = "classes"`: each class's mask is one ground-truth instance (a source
    /// without instances, or one whose objects are one per class and photo).
    pub class_instances: bool,
}

impl CorpusSpec {
    /// Refuses a `split` for a format that has none (COCO, labelme and gold NDJSON name one
    /// file or folder: point `path` at the split instead).
    pub fn refuse_split(&self) -> Result<()> {
        match &self.split {
            Some(s) => Err(Error::Usage(format!(
                "corpus {:?}: format {} has no splits (split = {s:?}); point `path` at the split's file or folder",
                self.name, self.format
            ))),
            None => Ok(()),
        }
    }

    /// Which of `choices` the option `key` names (absent: the first), as its index.
    pub fn option_choice(&self, key: &str, choices: &[&str]) -> Result<usize> {
        match self.options.get(key) {
            None => Ok(0),
            Some(v) => choices.iter().position(|c| c == v).ok_or_else(|| {
                Error::Usage(format!(
                    "corpus {:?}: {key} = {v:?} is not one of {}",
                    self.name,
                    choices
                        .iter()
                        .map(|c| format!("{c:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
        }
    }

    /// Refuses options this format does not know.
    pub fn check_options(&self, known: &[&str]) -> Result<()> {
        match self.options.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(Error::Usage(format!(
                "corpus {:?}: format {} has no option {k:?} (known: {})",
                self.name,
                self.format,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))),
            None => Ok(()),
        }
    }
}

/// A problem with one sample that kept it out of the corpus (the rest still loads).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Problem {
    pub sample: String,
    pub kind: String,
    pub message: String,
}

/// Why one sample's ground truth could not be loaded: a [`Problem`] without the sample id,
/// which the corpus adds.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadError {
    pub kind: &'static str,
    pub message: String,
}

impl LoadError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> LoadError {
        LoadError {
            kind,
            message: message.into(),
        }
    }
}

/// A sample as listed: enough to choose, match and find it. Pixels are read only when the
/// sample is [`Corpus::load`]ed, so a corpus costs memory per sample in flight, not per sample.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub id: String,
    /// Stable 20-hex hash of (corpus name, id), see [`sample_hash`].
    pub hash: String,
    pub source: Option<String>,
    pub image: Option<PathBuf>,
    /// Why the listing dropped this sample's photo (it lies outside the image root): the
    /// failure its model arms report, rather than a missing file.
    pub image_dropped: Option<String>,
    pub notes: Option<String>,
    pub meta: crate::model::Meta,
    /// The reader's own files for this sample (label map, per-part masks, landmarks, …).
    pub files: Vec<PathBuf>,
    /// The reader's own position for this sample (a byte offset, an index).
    pub at: u64,
}

impl Entry {
    pub fn new(corpus: &str, id: String) -> Entry {
        Entry {
            hash: sample_hash(corpus, &id),
            id,
            ..Default::default()
        }
    }

    /// A sample made of a photo and the reader's own files, tagged with its source.
    pub fn for_files(
        corpus: &str,
        id: String,
        source: &str,
        image: PathBuf,
        files: Vec<PathBuf>,
    ) -> Entry {
        Entry {
            source: Some(source.into()),
            image: Some(image),
            files,
            ..Entry::new(corpus, id)
        }
    }
}

/// One sample's ground truth as a reader decodes it.
#[derive(Debug, Default)]
pub struct Truth {
    /// (height, width) of the canvas.
    pub size: (u32, u32),
    pub gt: ClassMasks,
    /// Pixels excluded from both GT and prediction (`ignore` labels, VOC's 255).
    pub void: Option<MaskData>,
    /// Landmark points (x, y) in pixels, for formats that have them.
    pub landmarks: Vec<[f64; 2]>,
    /// Predictions of another size with the same aspect ratio are resampled (nearest) to this
    /// canvas (CelebAMask-HQ: 1024² photos, 512² masks).
    pub fit_predictions: bool,
    /// Module regions to derive predicted modules from (`derive_predicted`).
    pub predicted_modules: Option<crate::model::PredictedModules>,
    /// The ground truth's instances, for formats that have them.
    pub instances: Option<crate::model::GtInstances>,
}

/// Decodes one listed sample's ground truth.
pub trait LoadTruth: Send + Sync {
    fn load(&self, entry: &Entry) -> std::result::Result<Truth, LoadError>;
}

/// What [`CorpusReader::open`] returns: the classes, the listed samples, the problems found while
/// listing, and the loader for the pixels.
pub struct Listing {
    pub classes: Vec<String>,
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
    pub loader: Box<dyn LoadTruth>,
    /// A dataset folder every file of an entry must stay inside (`..` or a symlink leading out
    /// is a per-sample problem); `None` for formats that name files freely (gold NDJSON).
    pub root: Option<PathBuf>,
    /// Files read to list the corpus besides `path` itself (a YAML, a split list, a class-name
    /// file): part of the corpus fingerprint.
    pub index_files: Vec<PathBuf>,
    /// For a corpus read from a database: its URL (no password), query and rows read.
    pub version: Option<DatasetVersion>,
}

/// What a report says about the rows a database corpus read.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DatasetVersion {
    /// The database URL without its password.
    pub source: String,
    pub query: String,
    pub query_sha256: String,
    pub rows: usize,
    /// sha256 over each row's canonical content (id order): a changed row changes it.
    pub rows_sha256: String,
}

pub struct Corpus {
    pub name: String,
    pub format: &'static str,
    /// Every class of the corpus, sorted; a class absent from a sample's masks is empty there.
    pub classes: Vec<String>,
    /// The chosen samples (after `sample_seed` / `limit`), sorted by id.
    pub samples: Vec<Entry>,
    /// Problems found while listing; [`Corpus::load`] reports the rest per sample.
    pub problems: Vec<Problem>,
    loader: Box<dyn LoadTruth>,
    root: Option<PathBuf>,
    index_files: Vec<PathBuf>,
    modules: Option<crate::read::modules::ModuleSet>,
    limits: crate::limits::Limits,
    /// The database rows this corpus was read from, if it was.
    pub version: Option<DatasetVersion>,
    /// Groups (two or more, ids sorted) of chosen samples whose photos are byte-identical.
    pub duplicates: Vec<Vec<String>>,
    /// The photos' sha256 by path, hashed once while reading (the fingerprint reuses them).
    pub photo_sha256: BTreeMap<PathBuf, String>,
    pub held_out: bool,
    class_instances: bool,
}

impl std::fmt::Debug for Corpus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Corpus")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("classes", &self.classes)
            .field("samples", &self.samples.len())
            .field("problems", &self.problems)
            .finish()
    }
}

impl Corpus {
    /// Reads one sample's pixels: ground truth in the corpus classes (face modules derived),
    /// void applied later by the scorer. A failure is that sample's [`Problem`] only.
    pub fn load(&self, entry: &Entry) -> std::result::Result<Sample, Problem> {
        let problem = |e: LoadError| Problem {
            sample: entry.id.clone(),
            kind: e.kind.into(),
            message: e.message,
        };
        if let Some(root) = &self.root {
            for f in entry.image.iter().chain(&entry.files) {
                paths::check_inside(root, f).map_err(problem)?;
            }
        }
        let mut truth = self.loader.load(entry).map_err(problem)?;
        // Before anything is rasterised: a canvas past the limit is this sample's problem.
        let sizes = std::iter::once(truth.size).chain(truth.gt.values().map(|m| m.size()));
        for (h, w) in sizes {
            self.limits
                .check_mask(h, w)
                .map_err(|m| problem(LoadError::new("mask_too_large", m)))?;
        }
        for (class, m) in &truth.gt {
            if m.vertex_count() > self.limits.max_polygon_vertices {
                return Err(problem(LoadError::new(
                    "mask_too_large",
                    format!(
                        "class {class:?}: {} polygon vertices exceed the limit of {} ([limits] max_polygon_vertices)",
                        m.vertex_count(),
                        self.limits.max_polygon_vertices
                    ),
                )));
            }
        }
        if let Some(modules) = &self.modules {
            modules.derive(&mut truth).map_err(problem)?;
        }
        if self.class_instances {
            truth.instances = Some(class_instances(&truth).map_err(problem)?);
        }
        Ok(Sample {
            id: entry.id.clone(),
            hash: entry.hash.clone(),
            source: entry.source.clone(),
            image: entry.image.clone(),
            size: truth.size,
            gt: truth.gt,
            void: truth.void,
            fit_predictions: truth.fit_predictions,
            predicted_modules: truth.predicted_modules,
            notes: entry.notes.clone(),
            meta: entry.meta.to_map(),
            instances: truth.instances,
        })
    }

    /// What one sample of this corpus may cost.
    pub fn limits(&self) -> &crate::limits::Limits {
        &self.limits
    }

    /// Every file the run reads of this corpus at `location` (its `path`): the file itself
    /// when it is one, the listing's index files, and the chosen samples' photos and label
    /// files. The corpus fingerprint hashes these and nothing else.
    pub fn files_read(&self, location: &std::path::Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = Vec::new();
        if location.is_file() {
            files.push(location.to_path_buf());
        }
        files.extend(self.index_files.iter().cloned());
        for e in &self.samples {
            files.extend(e.image.iter().cloned());
            files.extend(e.files.iter().cloned());
        }
        files.sort();
        files.dedup();
        files
    }

    /// The face-module classes this corpus derives (empty without `[corpus.modules]`).
    pub fn module_names(&self) -> Vec<String> {
        self.modules.as_ref().map(|m| m.names()).unwrap_or_default()
    }

    /// The region × class overlap measures scored on this corpus.
    pub fn overlaps(&self) -> &[modules::Overlap] {
        self.modules.as_ref().map_or(&[], |m| m.overlaps.as_slice())
    }

    /// The class the face modules are cut from, if the corpus derives modules.
    pub fn module_skin(&self) -> Option<&str> {
        self.modules.as_ref().map(|m| m.skin())
    }

    /// A corpus of samples already in memory (tests, and library users who build samples
    /// themselves); classes are the union of the samples' classes.
    pub fn in_memory(name: &str, samples: Vec<Sample>) -> Corpus {
        let mut classes: Vec<String> = samples.iter().flat_map(|s| s.gt.keys().cloned()).collect();
        classes.sort();
        classes.dedup();
        let mut entries: Vec<Entry> = samples
            .iter()
            .enumerate()
            .map(|(i, s)| Entry {
                id: s.id.clone(),
                hash: s.hash.clone(),
                source: s.source.clone(),
                image: s.image.clone(),
                image_dropped: None,
                notes: s.notes.clone(),
                meta: crate::model::Meta::new(s.meta.clone()),
                files: Vec::new(),
                at: i as u64,
            })
            .collect();
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        Corpus {
            name: name.into(),
            format: "memory",
            classes,
            samples: entries,
            problems: Vec::new(),
            loader: Box::new(InMemory(samples)),
            root: None,
            index_files: Vec::new(),
            modules: None,
            limits: Default::default(),
            version: None,
            duplicates: Vec::new(),
            photo_sha256: BTreeMap::new(),
            held_out: false,
            class_instances: false,
        }
    }

    /// Loads the sample with this id (for galleries and tools that need one sample again).
    pub fn load_id(&self, id: &str) -> Option<std::result::Result<Sample, Problem>> {
        let i = self
            .samples
            .binary_search_by(|e| e.id.as_str().cmp(id))
            .ok()?;
        Some(self.load(&self.samples[i]))
    }
}

struct InMemory(Vec<Sample>);

impl LoadTruth for InMemory {
    fn load(&self, entry: &Entry) -> std::result::Result<Truth, LoadError> {
        let s = &self.0[entry.at as usize];
        Ok(Truth {
            size: s.size,
            gt: s.gt.clone(),
            void: s.void.clone(),
            fit_predictions: s.fit_predictions,
            ..Default::default()
        })
    }
}

pub trait CorpusReader: Sync {
    /// The `format` name used in configs and on the command line.
    fn format(&self) -> &'static str;
    /// Lists the corpus (names and paths, no pixels) and checks its class map.
    fn open(&self, spec: &CorpusSpec) -> Result<Listing>;
}

/// Every reader maskgate knows.
pub fn readers() -> Vec<Box<dyn CorpusReader>> {
    vec![
        Box::new(gold_ndjson::GoldNdjson),
        Box::new(fasseg::Fasseg),
        Box::new(lapa::Lapa),
        Box::new(celebamask::CelebaMaskHq),
        Box::new(coco::Coco),
        Box::new(yolo::Yolo),
        Box::new(voc::Voc),
        Box::new(labelme::Labelme),
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        Box::new(sql::Sql),
    ]
}

pub fn read_corpus(spec: &CorpusSpec) -> Result<Corpus> {
    let all = readers();
    let reader = all
        .iter()
        .find(|r| r.format() == spec.format)
        .ok_or_else(|| {
            let known: Vec<_> = all.iter().map(|r| r.format()).collect();
            Error::Usage(format!(
                "corpus {:?}: unknown format {:?} (known: {})",
                spec.name,
                spec.format,
                known.join(", ")
            ))
        })?;
    let listing = reader.open(spec)?;
    let mut entries = listing.entries;
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(w) = entries.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(Error::file(
            &spec.path,
            format!("two samples have the id {:?}", w[0].id),
        ));
    }
    let mut dropped = Vec::new();
    // Photos are hashed once here and the hashes kept for the corpus fingerprint.
    let mut photo_sha256 = BTreeMap::new();
    if spec.dedupe {
        photo_sha256 = photo_hashes(&entries, spec.limits.max_file_bytes);
        for group in duplicate_photos(&entries, &photo_sha256) {
            for id in &group[1..] {
                dropped.push(Problem {
                    sample: id.clone(),
                    kind: "duplicate_photo".into(),
                    message: format!(
                        "photo byte-identical to sample {:?}'s; left out (dedupe = \"keep-first\")",
                        group[0]
                    ),
                });
            }
        }
        let gone: std::collections::BTreeSet<&str> =
            dropped.iter().map(|p| p.sample.as_str()).collect();
        entries.retain(|e| !gone.contains(e.id.as_str()));
    }
    if let Some(limit) = spec.limit {
        entries = sample_subset(entries, spec.sample_seed.as_deref().unwrap_or(""), limit);
    }
    // The listing stays for the whole run.
    entries.shrink_to_fit();
    let duplicates = if spec.dedupe {
        Vec::new()
    } else {
        photo_sha256 = photo_hashes(&entries, spec.limits.max_file_bytes);
        duplicate_photos(&entries, &photo_sha256)
    };
    let mut classes = listing.classes;
    let modules = match &spec.modules {
        Some(m) => {
            let set = modules::ModuleSet::new(m, &classes)
                .map_err(|e| Error::Usage(format!("corpus {:?}: {e}", spec.name)))?;
            classes.extend(set.names());
            classes.sort();
            classes.dedup();
            Some(set)
        }
        None => None,
    };
    let mut problems = listing.problems;
    problems.extend(dropped);
    problems.sort_by(|a, b| a.sample.cmp(&b.sample));
    Ok(Corpus {
        name: spec.name.clone(),
        format: reader.format(),
        classes,
        samples: entries,
        problems,
        loader: listing.loader,
        // Resolved once: every sample's files are checked against it.
        root: listing.root.as_deref().map(paths::resolved),
        index_files: listing.index_files,
        modules,
        limits: spec.limits,
        version: listing.version,
        duplicates,
        photo_sha256,
        held_out: spec.held_out,
        class_instances: spec.class_instances,
    })
}

/// `instances = "classes"`: each class's non-empty mask as one instance, numbered from 1 in
/// class order, its area its pixel count.
fn class_instances(truth: &Truth) -> std::result::Result<crate::model::GtInstances, LoadError> {
    let mut list = Vec::new();
    for (k, (class, m)) in truth.gt.iter().enumerate() {
        let mask = m
            .rasterize(None)
            .map_err(|e| LoadError::new("bad_mask", format!("class {class:?}: {e}")))?;
        if mask.is_empty() {
            continue;
        }
        let region = maskgate_core::cocoeval::Region::of(&mask);
        list.push(crate::model::GtInstance {
            id: k as u64 + 1,
            class: class.clone(),
            area: region.area() as f64,
            region,
            crowd: false,
        });
    }
    Ok(crate::model::GtInstances {
        image_id: None,
        class_order: None,
        categories: None,
        list,
    })
}

/// The sha256 of every entry's photo that can be read within `max_bytes`, by path. A photo
/// that cannot (a device, a FIFO, too large) is left out; its sample reports it when used.
pub fn photo_hashes(entries: &[Entry], max_bytes: u64) -> BTreeMap<PathBuf, String> {
    use rayon::prelude::*;
    use sha2::{Digest, Sha256};
    entries
        .par_iter()
        .filter_map(|e| {
            let path = e.image.as_ref()?;
            let bytes = crate::limits::read_within(path, max_bytes).ok()?;
            Some((path.clone(), hex::encode(Sha256::digest(&bytes))))
        })
        .collect()
}

/// One metadata key of a corpus's samples (dotted for nested objects) and how many samples
/// hold each value: what a database's `meta` column says about its rows, shown as such.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MetaValues {
    pub key: String,
    /// (value as text, samples), most frequent first, then by value.
    pub values: Vec<(String, usize)>,
}

/// Keys with more distinct values than this (an id, a timestamp) say nothing in a summary.
const META_VALUES_SHOWN: usize = 8;
/// The most keys a summary names.
const META_KEYS_SHOWN: usize = 12;

/// The metadata the samples share: every key (nested objects flattened to dotted keys) with at
/// most [`META_VALUES_SHOWN`] distinct values, in key order.
pub fn meta_values(entries: &[Entry]) -> Vec<MetaValues> {
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for e in entries {
        for (k, v) in crate::fmt::flattened(&serde_json::Value::Object(e.meta.to_map())) {
            let values = counts.entry(k).or_default();
            let v = crate::fmt::clip(&v).into_owned();
            // A key past the limit is dropped below; stop counting its values early.
            if values.len() <= META_VALUES_SHOWN || values.contains_key(&v) {
                *values.entry(v).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .filter(|(_, v)| v.len() <= META_VALUES_SHOWN)
        .take(META_KEYS_SHOWN)
        .map(|(key, v)| {
            let mut values: Vec<(String, usize)> = v.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            MetaValues { key, values }
        })
        .collect()
}

/// Groups of samples whose photos are byte-identical (by their `hashes`), each sorted by id,
/// the groups in order of their first id.
pub fn duplicate_photos(entries: &[Entry], hashes: &BTreeMap<PathBuf, String>) -> Vec<Vec<String>> {
    let mut by_hash: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for e in entries {
        if let Some(h) = e.image.as_ref().and_then(|p| hashes.get(p)) {
            by_hash.entry(h).or_default().push(e.id.clone());
        }
    }
    let mut groups: Vec<Vec<String>> = by_hash
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    groups.sort();
    groups
}

/// The `limit` samples with the smallest sha256(seed, sample hash), returned in id order: a
/// choice that depends only on the seed and the ids, never on listing order or threads.
pub fn sample_subset(samples: Vec<Entry>, seed: &str, limit: usize) -> Vec<Entry> {
    use sha2::{Digest, Sha256};
    let mut keyed: Vec<([u8; 32], Entry)> = samples
        .into_iter()
        .map(|s| {
            let mut h = Sha256::new();
            h.update(seed.as_bytes());
            h.update([0u8]);
            h.update(s.hash.as_bytes());
            (h.finalize().into(), s)
        })
        .collect();
    keyed.sort_by_key(|k| k.0);
    keyed.truncate(limit);
    let mut out: Vec<Entry> = keyed.into_iter().map(|(_, s)| s).collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_values_count_shared_keys_and_leave_out_per_row_ones() {
        let entries: Vec<Entry> = (0..10)
            .map(|i| {
                let mut e = Entry::new("c", format!("s{i}"));
                let meta = serde_json::json!({
                    "source": {"backend": "rembg-u2net", "type": if i < 7 { "human" } else { "auto" }},
                    "ts": i,
                });
                e.meta = crate::model::Meta::new(meta.as_object().unwrap().clone());
                e
            })
            .collect();
        let got = meta_values(&entries);
        assert_eq!(
            got,
            vec![
                MetaValues {
                    key: "source.backend".into(),
                    values: vec![("rembg-u2net".into(), 10)],
                },
                MetaValues {
                    key: "source.type".into(),
                    values: vec![("human".into(), 7), ("auto".into(), 3)],
                },
            ],
            "ts has a value per row and is left out"
        );
    }
}

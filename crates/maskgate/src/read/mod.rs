//! Stage 1, **read**: corpus readers turn a dataset on disk into [`Sample`]s whose ground truth
//! is in the evaluation's own classes. One file per format behind [`CorpusReader`]; adding a
//! format is one new file plus one line in [`readers`].

pub mod fasseg;
pub mod gold_ndjson;
pub mod ndjson;

use crate::error::{Error, Result};
use crate::model::Sample;
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
}

/// A problem with one sample that kept it out of the corpus (the rest still loads).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Problem {
    pub sample: String,
    pub kind: String,
    pub message: String,
}

#[derive(Debug)]
pub struct Corpus {
    pub name: String,
    pub format: &'static str,
    /// Every class of the corpus, sorted; a class absent from a sample's masks is empty there.
    pub classes: Vec<String>,
    /// Sorted by id.
    pub samples: Vec<Sample>,
    pub problems: Vec<Problem>,
}

pub trait CorpusReader: Sync {
    /// The `format` name used in configs and on the command line.
    fn format(&self) -> &'static str;
    fn read(&self, spec: &CorpusSpec) -> Result<Corpus>;
}

/// Every reader maskgate knows.
pub fn readers() -> Vec<Box<dyn CorpusReader>> {
    vec![Box::new(gold_ndjson::GoldNdjson), Box::new(fasseg::Fasseg)]
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
    let mut corpus = reader.read(spec)?;
    corpus.samples.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(limit) = spec.limit {
        corpus.samples = sample_subset(
            corpus.samples,
            spec.sample_seed.as_deref().unwrap_or(""),
            limit,
        );
    }
    Ok(corpus)
}

/// The `limit` samples with the smallest sha256(seed, sample hash), returned in id order: a
/// choice that depends only on the seed and the ids, never on listing order or threads.
pub fn sample_subset(samples: Vec<Sample>, seed: &str, limit: usize) -> Vec<Sample> {
    use sha2::{Digest, Sha256};
    let mut keyed: Vec<([u8; 32], Sample)> = samples
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
    let mut out: Vec<Sample> = keyed.into_iter().map(|(_, s)| s).collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

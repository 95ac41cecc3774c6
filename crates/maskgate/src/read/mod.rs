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
    Ok(corpus)
}

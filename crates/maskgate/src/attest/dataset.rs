//! The dataset manifest a verdict is about: per corpus, the sorted sample ids with their photo
//! and label files' hashes, and for a database corpus its query's and rows' hashes. Written as
//! `dataset.json` into the report set; the statement names it as a subject.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The manifest's file name in the report set.
pub const FILE: &str = "dataset.json";

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct NamedHash {
    /// Relative to the corpus's folder (`/`-separated), as the corpus fingerprint names it.
    pub name: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SampleFiles {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo: Option<NamedHash>,
    pub labels: Vec<NamedHash>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CorpusManifest {
    pub corpus: String,
    /// The corpus's location as the report shows it (a database source without credentials).
    pub source: String,
    /// The corpus fingerprint the report's inputs list (covers every file below).
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_sha256: Option<String>,
    /// Files read for the corpus as a whole (an annotation file, a listing), not one sample's.
    pub index_files: Vec<NamedHash>,
    /// Sorted by id.
    pub samples: Vec<SampleFiles>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct DatasetManifest {
    pub corpora: Vec<CorpusManifest>,
}

/// One sample's files, by the paths the reader gave.
pub struct SamplePaths<'a> {
    pub id: &'a str,
    pub photo: Option<&'a PathBuf>,
    pub labels: &'a [PathBuf],
}

impl CorpusManifest {
    /// The manifest of one corpus from its files' names and hashes (keyed by the path each
    /// sample gives; a file that could not be read is absent and so left out).
    pub fn new<'a>(
        corpus: &str,
        source: String,
        sha256: String,
        database: Option<(String, String)>,
        named: &BTreeMap<PathBuf, (String, String)>,
        samples: impl Iterator<Item = SamplePaths<'a>>,
    ) -> CorpusManifest {
        let entry = |p: &PathBuf| {
            named.get(p).map(|(name, sha256)| NamedHash {
                name: name.clone(),
                sha256: sha256.clone(),
            })
        };
        let mut used = std::collections::BTreeSet::new();
        let mut samples: Vec<SampleFiles> = samples
            .map(|s| {
                used.extend(s.photo.cloned());
                used.extend(s.labels.iter().cloned());
                SampleFiles {
                    id: s.id.to_string(),
                    photo: s.photo.and_then(entry),
                    labels: s.labels.iter().filter_map(entry).collect(),
                }
            })
            .collect();
        samples.sort_by(|a, b| a.id.cmp(&b.id));
        let mut index_files: Vec<NamedHash> = named
            .iter()
            .filter(|(p, _)| !used.contains(*p))
            .filter_map(|(p, _)| entry(p))
            .collect();
        index_files.sort_by(|a, b| a.name.cmp(&b.name));
        let (query_sha256, rows_sha256) = match database {
            Some((q, r)) => (Some(q), Some(r)),
            None => (None, None),
        };
        CorpusManifest {
            corpus: corpus.to_string(),
            source,
            sha256,
            query_sha256,
            rows_sha256,
            index_files,
            samples,
        }
    }
}

impl DatasetManifest {
    /// The manifest as written: canonical JSON, so the same corpora give the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("a manifest serialises");
        let mut bytes = super::canonical::to_vec(&value);
        bytes.push(b'\n');
        bytes
    }
}

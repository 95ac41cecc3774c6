//! Photos shared between corpora, or between a corpus and the training set, found by content:
//! the sha256 of the photo's bytes, which every corpus already computes while it is read.
//!
//! A held-out split that shares photos with another corpus counts them twice; one that shares
//! them with the training set measures memory, not generalisation. Both are reported; the
//! `overlap` setting decides whether such samples are kept, dropped, or stop the run.

use super::{Corpus, Problem};
use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What a run does with samples whose photo another corpus or the training set also holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Score them and report the overlap.
    #[default]
    Keep,
    /// Leave them out: of a photo shared between corpora, the first corpus (config order)
    /// keeps its samples; a photo in the training set leaves every corpus.
    Drop,
    /// Stop before any work, naming them.
    Refuse,
}

impl Policy {
    pub const NAMES: [&'static str; 3] = ["keep", "drop", "refuse"];

    pub fn parse(s: &str) -> Option<Policy> {
        match s {
            "keep" => Some(Policy::Keep),
            "drop" => Some(Policy::Drop),
            "refuse" => Some(Policy::Refuse),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// One sample by corpus and id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SampleRef {
    pub corpus: String,
    pub id: String,
}

/// One photo (by content) and the samples that hold it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SharedPhoto {
    pub sha256: String,
    /// In corpus (config) order, then id order.
    pub samples: Vec<SampleRef>,
}

/// Every overlap a run found, and what it did about them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SharedPhotos {
    pub policy: Policy,
    /// Photos that two or more corpora hold.
    pub between_corpora: Vec<SharedPhoto>,
    /// The training manifest, as the report shows it, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_manifest: Option<String>,
    /// Photos the training manifest lists that a corpus holds.
    pub in_training: Vec<SharedPhoto>,
}

impl TrainingSet {
    /// The set's own digest, whatever listed it: sha256 over its sorted hashes, one a line.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for x in &self.hashes {
            h.update(x.as_bytes());
            h.update(b"\n");
        }
        hex::encode(h.finalize())
    }
}

impl SharedPhotos {
    pub fn is_empty(&self) -> bool {
        self.between_corpora.is_empty() && self.in_training.is_empty()
    }

    /// Nothing found and nothing asked: no training manifest, and no overlap between corpora.
    pub fn unchecked(&self) -> bool {
        self.is_empty() && self.training_manifest.is_none()
    }

    /// The warning the verdict carries: a photo that a corpus named in `held_out` shares with
    /// another, or any photo of the training set. `None` when there is nothing a reviewer must
    /// weigh.
    pub fn verdict_warning(&self, held_out: &[&str]) -> Option<String> {
        let mut parts = Vec::new();
        let held: Vec<&SharedPhoto> = (self.between_corpora.iter())
            .filter(|p| {
                p.samples
                    .iter()
                    .any(|s| held_out.contains(&s.corpus.as_str()))
            })
            .collect();
        if !held.is_empty() {
            let corpora: BTreeSet<&str> = (held.iter())
                .flat_map(|p| p.samples.iter().map(|s| s.corpus.as_str()))
                .collect();
            let (held_out, others): (Vec<&str>, Vec<&str>) =
                corpora.into_iter().partition(|c| held_out.contains(c));
            let named = |names: &[&str]| {
                (names.iter())
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            };
            parts.push(format!(
                "{} photo{} of held-out corpus {} {} also in {}",
                held.len(),
                if held.len() == 1 { "" } else { "s" },
                named(&held_out),
                if held.len() == 1 { "is" } else { "are" },
                match others.is_empty() {
                    // Held-out corpora that share with each other only.
                    true => "another held-out corpus".to_string(),
                    false => format!("corpus {}", named(&others)),
                }
            ));
        }
        if !self.in_training.is_empty() {
            let n = self.in_training.len();
            parts.push(format!(
                "{n} evaluated photo{} in the training manifest",
                if n == 1 { " is" } else { "s are" }
            ));
        }
        if parts.is_empty() {
            return None;
        }
        let action = match self.policy {
            Policy::Keep => "they were scored (overlap = \"keep\"); set overlap = \"drop\" to leave them out",
            Policy::Drop => "they were left out of the later corpus and of the training-set matches (overlap = \"drop\")",
            Policy::Refuse => "the run refused them",
        };
        Some(format!("Warning: {}; {action}.", parts.join("; ")))
    }
}

/// The photos of every corpus, by content, against each other and the training set.
pub fn find(corpora: &[Corpus], training: Option<&TrainingSet>) -> SharedPhotos {
    // sha256 → the samples holding it, corpora in config order.
    let mut by_hash: BTreeMap<&str, Vec<(usize, SampleRef)>> = BTreeMap::new();
    for (order, c) in corpora.iter().enumerate() {
        for e in &c.samples {
            let Some(h) = e.image.as_ref().and_then(|p| c.photo_sha256.get(p)) else {
                continue;
            };
            by_hash.entry(h).or_default().push((
                order,
                SampleRef {
                    corpus: c.name.clone(),
                    id: e.id.clone(),
                },
            ));
        }
    }
    let photo = |sha: &str, mut held: Vec<(usize, SampleRef)>| {
        held.sort();
        SharedPhoto {
            sha256: sha.to_string(),
            samples: held.into_iter().map(|(_, s)| s).collect(),
        }
    };
    let mut between_corpora = Vec::new();
    let mut in_training = Vec::new();
    for (sha, held) in by_hash {
        let corpora_holding: BTreeSet<usize> = held.iter().map(|(o, _)| *o).collect();
        if training.is_some_and(|t| t.hashes.contains(sha)) {
            in_training.push(photo(sha, held.clone()));
        }
        if corpora_holding.len() > 1 {
            between_corpora.push(photo(sha, held));
        }
    }
    // In the order of the first sample holding each photo: a reader finds its ids in order.
    let first = |p: &SharedPhoto| {
        let s = &p.samples[0];
        let order = corpora.iter().position(|c| c.name == s.corpus);
        (order, s.id.clone(), p.sha256.clone())
    };
    between_corpora.sort_by_key(first);
    in_training.sort_by_key(first);
    SharedPhotos {
        policy: Policy::Keep,
        between_corpora,
        training_manifest: training.map(|t| t.shown.clone()),
        in_training,
    }
}

/// Applies `policy` to what [`find`] found: nothing, the samples left out (each listed as a
/// problem of its corpus), or an error naming them.
pub fn apply(policy: Policy, corpora: &mut [Corpus], found: &mut SharedPhotos) -> Result<()> {
    found.policy = policy;
    match policy {
        Policy::Keep => Ok(()),
        Policy::Refuse if found.is_empty() => Ok(()),
        Policy::Refuse => Err(Error::Usage(format!(
            "{}: set overlap = \"keep\" to score and report them, or \"drop\" to leave them out",
            listing(found)
        ))),
        Policy::Drop => {
            let mut gone: BTreeMap<SampleRef, String> = BTreeMap::new();
            for p in &found.between_corpora {
                let keeper = &p.samples[0].corpus;
                for s in p.samples.iter().filter(|s| s.corpus != *keeper) {
                    gone.entry(s.clone()).or_insert_with(|| {
                        format!(
                            "photo (sha256 {}) also in corpus {keeper:?}, which keeps it; left out (overlap = \"drop\")",
                            crate::fmt::hash_prefix(&p.sha256)
                        )
                    });
                }
            }
            for p in &found.in_training {
                for s in &p.samples {
                    gone.insert(
                        s.clone(),
                        format!(
                            "photo (sha256 {}) is in the training manifest; left out (overlap = \"drop\")",
                            crate::fmt::hash_prefix(&p.sha256)
                        ),
                    );
                }
            }
            for c in corpora.iter_mut() {
                let before = c.samples.len();
                c.samples.retain(|e| {
                    !gone.contains_key(&SampleRef {
                        corpus: c.name.clone(),
                        id: e.id.clone(),
                    })
                });
                if c.samples.len() == before {
                    continue;
                }
                for (s, message) in gone.iter().filter(|(s, _)| s.corpus == c.name) {
                    c.problems.push(Problem {
                        sample: s.id.clone(),
                        kind: "shared_photo".into(),
                        message: message.clone(),
                    });
                }
                c.problems.sort_by(|a, b| a.sample.cmp(&b.sample));
            }
            Ok(())
        }
    }
}

/// The overlaps in one line, the first few named.
fn listing(found: &SharedPhotos) -> String {
    let name = |p: &SharedPhoto| {
        p.samples
            .iter()
            .map(|s| format!("{}/{}", s.corpus, s.id))
            .collect::<Vec<_>>()
            .join(" = ")
    };
    // "2 photos shared between corpora (a/1 = b/7; …)", the first five named.
    let said = |list: &[SharedPhoto], what: &str| -> Option<String> {
        let shown: Vec<String> = list.iter().take(5).map(name).collect();
        (!list.is_empty()).then(|| {
            format!(
                "{} photo{} {what} ({}{})",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                shown.join("; "),
                if list.len() > 5 { "; …" } else { "" }
            )
        })
    };
    let parts: Vec<String> = [
        said(&found.between_corpora, "shared between corpora"),
        said(&found.in_training, "of the training manifest evaluated"),
    ]
    .into_iter()
    .flatten()
    .collect();
    parts.join(" and ")
}

/// The photos a model was trained on, by sha256.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainingSet {
    /// The manifest as the report names it.
    pub shown: String,
    pub hashes: BTreeSet<String>,
}

/// How many photos a training folder may hold, and a manifest may list: far more than any
/// training split, while a folder pointed at `/` by mistake stops instead of hashing a disk.
pub const MAX_TRAINING_PHOTOS: usize = 10_000_000;

/// Reads a training manifest: a folder (every photo under it hashed, links not followed), or
/// a file listing sha256 hashes, one a line as `sha256sum` writes them (`<hex>  <name>`) or
/// bare, or a JSON array of hex strings.
pub fn read_training_set(
    path: &Path,
    shown: String,
    limits: &crate::limits::Limits,
) -> Result<TrainingSet> {
    let hashes = if path.is_dir() {
        hash_folder(path, limits)?
    } else {
        let text = crate::limits::read_text(path)?;
        parse_manifest(&text).map_err(|m| Error::file(path, m))?
    };
    Ok(TrainingSet { shown, hashes })
}

fn parse_manifest(text: &str) -> std::result::Result<BTreeSet<String>, String> {
    let is_hash = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut out = BTreeSet::new();
    if text.trim_start().starts_with('[') {
        let list: Vec<String> = serde_json::from_str(text)
            .map_err(|e| format!("not a JSON array of sha256 strings: {e}"))?;
        for (i, h) in list.into_iter().enumerate() {
            if !is_hash(&h) {
                return Err(format!(
                    "item {}: {h:?} is not a sha256 (64 hex digits)",
                    i + 1
                ));
            }
            out.insert(h.to_ascii_lowercase());
        }
    } else {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let first = line.split_whitespace().next().unwrap_or("");
            // `sha256sum --binary` marks the name with a `*`; the hash comes first either way.
            if !is_hash(first) {
                return Err(format!(
                    "line {}: {:?} is not a sha256 (64 hex digits; `sha256sum train/*` writes this list)",
                    n + 1,
                    crate::fmt::clip(first)
                ));
            }
            out.insert(first.to_ascii_lowercase());
        }
    }
    if out.len() > MAX_TRAINING_PHOTOS {
        return Err(format!(
            "lists {} photos, more than {MAX_TRAINING_PHOTOS}",
            out.len()
        ));
    }
    Ok(out)
}

/// Photo file names a training folder holds (Ultralytics' image suffixes, as lower case).
const PHOTO_SUFFIXES: [&str; 10] = [
    "bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm",
];

fn hash_folder(root: &Path, limits: &crate::limits::Limits) -> Result<BTreeSet<String>> {
    use rayon::prelude::*;
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    let mut pending = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = pending.pop() {
        let listing = std::fs::read_dir(&dir)
            .map_err(|e| Error::file(&dir, format!("cannot list the training folder: {e}")))?;
        for entry in listing.flatten() {
            // A directory entry's own type: a link is never followed, so a loop cannot recurse.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() && depth < 64 {
                pending.push((path, depth + 1));
            } else if kind.is_file()
                && path
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| PHOTO_SUFFIXES.contains(&x.to_ascii_lowercase().as_str()))
            {
                files.push(path);
                if files.len() > MAX_TRAINING_PHOTOS {
                    return Err(Error::file(
                        root,
                        format!("holds more than {MAX_TRAINING_PHOTOS} photos: is this the training split?"),
                    ));
                }
            }
        }
    }
    files
        .par_iter()
        .map(|p| {
            let bytes = crate::limits::read_within(p, limits.max_file_bytes).map_err(|e| {
                let (crate::limits::Refused::Unreadable(m) | crate::limits::Refused::TooLarge(m)) =
                    e;
                Error::file(p, format!("cannot read a training photo: {m}"))
            })?;
            Ok(hex::encode(Sha256::digest(&bytes)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_sha256sum_lines_bare_hashes_and_json() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        let listed =
            parse_manifest(&format!("# train\n{a}  images/x.jpg\n{b} *y.png\n\n")).unwrap();
        assert_eq!(listed, BTreeSet::from([a.clone(), "b".repeat(64)]));
        let json = parse_manifest(&format!("[\"{a}\"]")).unwrap();
        assert_eq!(json, BTreeSet::from([a]));
        let err = parse_manifest("images/x.jpg\n").unwrap_err();
        assert!(err.contains("line 1") && err.contains("sha256sum"), "{err}");
    }
}

//! Where a corpus's records and bytes come from, apart from how they are parsed: a source makes
//! a corpus location readable by the format readers and fingerprints what the run reads of it,
//! so a report names the dataset version it saw. Adding a source (a database, an object store)
//! is one new file plus one line in [`sources`].

pub mod database;
pub mod local;

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A corpus location as the format readers see it, and how to name it in a report.
pub struct Located {
    /// A local file or folder the format reader opens.
    pub path: PathBuf,
    /// The location as shown in reports and errors (never with credentials).
    pub display: String,
}

pub trait Source: Send + Sync {
    /// The name reports use for this kind of source (`"files"`).
    fn kind(&self) -> &'static str;
    /// Whether a config's `path` value is served by this source.
    fn accepts(&self, location: &str) -> bool;
    /// Makes `location` (already resolved against the config's folder) readable.
    fn locate(&self, location: &Path) -> Result<Located>;
    /// The sha256 of what the run reads: `files` (relative to `root` where they are inside it)
    /// with their contents' hashes, in sorted order. `known` holds hashes already computed
    /// (the photos), so no file is read twice.
    fn fingerprint(
        &self,
        root: &Path,
        files: &[PathBuf],
        known: &std::collections::BTreeMap<PathBuf, String>,
    ) -> Result<String>;
}

/// Every source maskgate knows, most specific first: the local file system takes the rest.
pub fn sources() -> Vec<Box<dyn Source>> {
    vec![Box::new(local::LocalFiles)]
}

/// The source that serves `location`.
pub fn source_for(location: &Path) -> Result<Box<dyn Source>> {
    let text = location.to_string_lossy();
    sources()
        .into_iter()
        .find(|s| s.accepts(&text))
        .ok_or_else(|| Error::Usage(format!("no source reads {text:?}")))
}

/// sha256 over `(name, content sha256)` pairs, sorted by name: the fingerprint shape every
/// source uses, so two sources that serve the same bytes under the same names agree.
pub fn fingerprint_of(mut named: Vec<(String, String)>) -> String {
    named.sort();
    named.dedup();
    let mut h = Sha256::new();
    for (name, sha) in named {
        h.update(name.as_bytes());
        h.update([0u8]);
        h.update(sha.as_bytes());
        h.update([b'\n']);
    }
    hex::encode(h.finalize())
}

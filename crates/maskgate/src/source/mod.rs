//! Where the bytes a run reads come from, apart from how they are parsed: a source makes a
//! location the plan names (a corpus, a model, a predictions file) readable as a local path;
//! [`local::fingerprint`] then hashes what the run reads of it, so a report names the dataset
//! version it saw. Local
//! files and object stores are the two sources; the database corpora's rows come through
//! [`database`]. Where a run *writes* (shards, the cache, a published report set) is
//! [`crate::storage`]. Adding a source is one new file plus one line in [`sources`].

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod database;
pub mod local;
#[cfg(feature = "object-store")]
pub mod object_store;

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

/// What a source may need to make a location readable: where remote objects are kept (by
/// content hash), how large one may be, and the network's bounds.
#[cfg_attr(not(feature = "object-store"), allow(dead_code))] // only remote sources read it
pub struct Reach<'a> {
    pub downloads: &'a Path,
    pub max_bytes: u64,
    pub network: crate::net::Network,
}

pub trait Source: Send + Sync {
    /// Whether a location the plan names (a config's `path`, `model` or `predictions`) is
    /// served by this source.
    fn accepts(&self, location: &str) -> bool;
    /// Makes `location` (already resolved against the config's folder) readable: the local
    /// file or folder, fetched first where it is remote.
    fn locate(&self, location: &Path, reach: &Reach<'_>) -> Result<Located>;
}

/// Every source maskgate knows, most specific first: the local file system takes the rest.
pub fn sources() -> Vec<Box<dyn Source>> {
    vec![
        #[cfg(feature = "object-store")]
        Box::new(object_store::ObjectStore),
        #[cfg(not(feature = "object-store"))]
        Box::new(without_object_store::Refused),
        Box::new(local::LocalFiles),
    ]
}

/// Without the `object-store` feature a URL is refused by name rather than looked for on disk.
#[cfg(not(feature = "object-store"))]
mod without_object_store {
    use super::{Located, Reach, Source};
    use crate::error::Result;
    use std::path::Path;

    pub struct Refused;

    impl Source for Refused {
        fn accepts(&self, location: &str) -> bool {
            crate::storage::is_url(location)
        }

        fn locate(&self, location: &Path, _: &Reach<'_>) -> Result<Located> {
            Err(crate::storage::without_object_store(
                &location.to_string_lossy(),
            ))
        }
    }
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

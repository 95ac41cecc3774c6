//! maskgate: decides, with numbers, whether a segmentation model may replace the one in
//! production. The modules are listed in the order data flows through them, and imports only
//! point backwards along it (`tests/library/architecture.rs` checks):
//! plan → source/storage → read → predict → score → aggregate → compare (`evaluation`) →
//! decide → recommend → gallery → report → export → attest → persist.

// Foundations every stage may use.
pub mod error;
pub mod fmt;
pub mod limits;
pub mod model;
pub(crate) mod net;
pub mod observe;
pub mod pathnames;
// A photo file decoded as each model family's real tool decodes it (Pillow, OpenCV).
pub mod photo;
pub mod redact;
pub(crate) mod tomlfile;

// 1. plan: settings (flags, environment, config, criteria file) → one Plan; execute runs it.
pub mod config;
pub mod plan;
// 2. read: where a corpus's bytes come from, and the readers that turn them into samples.
pub mod read;
pub(crate) mod source;
pub mod storage;
// 3. predict: the arms (models through their adapters, or prediction files); what the models
// cost (measurements, kept apart from the deterministic results).
pub mod cost;
pub mod predict;
// 4. score: one sample's metrics; failure classes from reporter notes.
pub mod score;
pub mod taxonomy;
// 5. aggregate and compare: per class and group, deltas with paired bootstrap intervals.
pub mod aggregate;
pub mod compare;
pub mod evaluation;
pub mod shard;
pub mod slices;
pub mod suspects;
// 6. decide: the verdict, a pure function of the evaluation; the run's health.
pub mod decide;
pub(crate) mod health;
// 7. report: recommendations, the gallery, the assembled report.
pub(crate) mod gallery;
pub(crate) mod recommend;
pub mod report;
// 8. export, attest and persist: one file per exporter, the signed statement of the verdict,
// committed as one report set.
pub mod attest;
pub mod export;
pub mod persist;
// Commands beside the gate: convert a dataset, inspect a corpus, trend across reports.
pub mod convert;
pub mod inspect;
pub mod trend;

pub use error::{Error, Result};

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// sha256 of a regular file, hex, streamed (a FIFO or a device is refused, never read).
pub fn sha256_file(path: &Path) -> Result<String> {
    let (mut f, _) =
        limits::open_regular(path).map_err(|e| e.into_error(path, "a regular file"))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// A file of the repository, for unit tests that read the docs or another crate's source.
#[cfg(test)]
pub(crate) fn repo_file(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// The shared reference folder for unit tests: `$MASKGATE_SHARED`, default `../shared` beside
/// the repository (a relative value is taken from the repository root).
#[cfg(test)]
pub(crate) fn shared_dir() -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let v = std::env::var("MASKGATE_SHARED").unwrap_or_else(|_| "../shared".into());
    root.join(v)
}

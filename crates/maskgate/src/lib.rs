//! maskgate: decides, with numbers, whether a segmentation model may replace the one in
//! production. The modules follow the data flow, and imports only point backwards along it
//! (`tests/architecture.rs` checks):
//! plan → source → read → predict → score → aggregate → compare (`evaluation`) → decide /
//! recommend → gallery → report → export. `shard` stores one slice's exact scores and `storage`
//! the places they and the reports are kept.

pub mod aggregate;
pub mod compare;
pub mod config;
pub mod convert;
pub mod decide;
pub mod error;
pub mod evaluation;
pub mod export;
pub mod fmt;
pub mod gallery;
pub mod health;
pub mod inspect;
pub mod limits;
pub mod model;
pub mod net;
pub mod observe;
pub mod pathnames;
pub mod persist;
pub mod plan;
pub mod predict;
pub mod read;
pub mod recommend;
pub mod redact;
pub mod report;
pub mod score;
pub mod shard;
pub mod source;
pub mod storage;
pub mod taxonomy;
pub mod tomlfile;
pub mod trend;

pub use error::{Error, Result};

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

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

/// The shared reference folder: `$MASKGATE_SHARED`, default `../shared` beside the repository.
/// A relative value is taken from the repository root.
pub fn shared_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let v = std::env::var("MASKGATE_SHARED").unwrap_or_else(|_| "../shared".into());
    root.join(v)
}

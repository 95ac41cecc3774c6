//! maskgate: decides, with numbers, whether a segmentation model may replace the one in
//! production. The modules follow the data flow:
//! read → predict → score → aggregate → compare → (decide) → export.

pub mod aggregate;
pub mod compare;
pub mod config;
pub mod decide;
pub mod error;
pub mod export;
pub mod fmt;
pub mod gallery;
pub mod model;
pub mod pipeline;
pub mod predict;
pub mod read;
pub mod recommend;
pub mod report;
pub mod score;
pub mod tomlfile;

pub use error::{Error, Result};

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// sha256 of a file, hex, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The shared reference folder: `$MASKGATE_SHARED`, default `../shared` beside the repository.
/// A relative value is taken from the repository root.
pub fn shared_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let v = std::env::var("MASKGATE_SHARED").unwrap_or_else(|_| "../shared".into());
    root.join(v)
}

/// sha256 over a folder: every file's relative path and sha256, in sorted order, so a corpus
/// folder has one fingerprint in the report's inputs.
pub fn sha256_tree(dir: &Path) -> Result<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let entry = entry.map_err(|e| Error::io(&d, e))?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        let rel = f
            .strip_prefix(dir)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        h.update(rel.as_bytes());
        h.update([0u8]);
        h.update(sha256_file(&f)?.as_bytes());
        h.update([b'\n']);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

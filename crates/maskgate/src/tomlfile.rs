//! Reading the project's TOML files (run config, criteria, variants) with errors that name the
//! file and line, and resolving paths written in them relative to the file's folder.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// Parses `text` (the contents of `path`); a syntax or shape error names the file and line.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
        Error::input(path, line, e.message().to_string())
    })
}

/// Reads and parses a TOML file, returning the text too (for line numbers of later checks).
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<(T, String)> {
    let text = crate::limits::read_text(path)?;
    Ok((parse(path, &text)?, text))
}

/// `p` as written in the file at `file`: absolute paths and URLs stay, relative ones are taken
/// from the file's folder.
pub fn resolve(file: &Path, p: &str) -> PathBuf {
    let p = PathBuf::from(p);
    // An object-store URL names its own place.
    if p.is_absolute() || crate::storage::is_url(&p.to_string_lossy()) {
        p
    } else {
        file.parent().unwrap_or(Path::new(".")).join(p)
    }
}

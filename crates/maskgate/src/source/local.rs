//! The local file system (and anything mounted into it: a Modal Volume, an NFS share).

use super::{fingerprint_of, Located, Source};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub struct LocalFiles;

impl Source for LocalFiles {
    fn kind(&self) -> &'static str {
        "files"
    }

    fn accepts(&self, location: &str) -> bool {
        // A URL scheme belongs to another source; a Windows drive letter is not a scheme.
        !location.split_once("://").is_some_and(|(scheme, _)| {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
        })
    }

    fn locate(&self, location: &Path) -> Result<Located> {
        match std::fs::metadata(location) {
            Ok(_) => Ok(Located {
                path: location.to_path_buf(),
                display: crate::pathnames::display(location),
            }),
            Err(e) => Err(Error::io(location, e)),
        }
    }

    fn fingerprint(&self, root: &Path, files: &[PathBuf]) -> Result<String> {
        let mut named = Vec::with_capacity(files.len());
        for f in files {
            if !f.is_file() {
                // Absent or not a regular file: the sample that names it is a problem of its
                // own; the fingerprint covers what could be read.
                continue;
            }
            let name = f
                .strip_prefix(root)
                .unwrap_or(f)
                .to_string_lossy()
                .replace('\\', "/");
            named.push((name, crate::sha256_file(f)?));
        }
        Ok(fingerprint_of(named))
    }
}

//! The local file system (and anything mounted into it: a Modal Volume, an NFS share).

use super::{Located, Reach, Source};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub struct LocalFiles;

impl Source for LocalFiles {
    fn accepts(&self, location: &str) -> bool {
        // A URL scheme belongs to another source; a Windows drive letter is not a scheme.
        !location.split_once("://").is_some_and(|(scheme, _)| {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
        })
    }

    fn locate(&self, location: &Path, _: &Reach<'_>) -> Result<Located> {
        match std::fs::metadata(location) {
            Ok(_) => Ok(Located {
                path: location.to_path_buf(),
                display: crate::pathnames::display(location),
            }),
            Err(e) => Err(Error::io(location, e)),
        }
    }
}

/// The sha256 of what the run reads: `files` (relative to `root` where they are inside it)
/// with their contents' hashes, in sorted order. `known` holds hashes already computed (the
/// photos), so no file is read twice. Every source hands the readers a local path (a remote
/// one is fetched first), so this is every source's fingerprint. (The run hashes
/// [`named_hashes`] itself, as it keeps the names for the dataset manifest.)
#[cfg(test)]
fn fingerprint(
    root: &Path,
    files: &[PathBuf],
    known: &std::collections::BTreeMap<PathBuf, String>,
) -> Result<String> {
    let named = named_hashes(root, files, known)?;
    Ok(super::fingerprint_of(named.into_values().collect()))
}

/// Each of `files` that is a regular file, by its path as given: its name relative to the corpus
/// folder `root` and its content's sha256 (what [`fingerprint`] hashes, and what a dataset
/// manifest lists per sample).
pub fn named_hashes(
    root: &Path,
    files: &[PathBuf],
    known: &std::collections::BTreeMap<PathBuf, String>,
) -> Result<std::collections::BTreeMap<PathBuf, (String, String)>> {
    // Names are taken relative to the corpus folder after normalising both lexically, so
    // the same files give the same fingerprint however the path to them was typed, and
    // wherever a symlinked folder on the way (a `../shared` beside the checkout) points.
    let lexical_root = lexical(root).map_err(|e| Error::io(root, e))?;
    let root_dir = if root.is_file() {
        lexical_root
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    } else {
        lexical_root
    };
    use rayon::prelude::*;
    // Hashed side by side; the first failure in the files' order is the error.
    type Named = (PathBuf, (String, String));
    let hashed: Vec<Result<Option<Named>>> = files
        .par_iter()
        .map(|f| {
            if !f.is_file() {
                // Absent or not a regular file: the sample that names it is a problem of its
                // own; the fingerprint covers what could be read.
                return Ok(None);
            }
            let real = lexical(f).map_err(|e| Error::io(f, e))?;
            let sha = match known.get(f) {
                Some(h) => h.clone(),
                None => crate::sha256_file(f)?,
            };
            Ok(Some((f.clone(), (relative_name(&real, &root_dir), sha))))
        })
        .collect();
    let mut named = std::collections::BTreeMap::new();
    for entry in hashed {
        if let Some((f, v)) = entry? {
            named.insert(f, v);
        }
    }
    Ok(named)
}

/// `path` relative to `dir` (`../` where it lies outside), `/`-separated; both are canonical.
/// `path` made absolute against the working folder, with `.` and `..` resolved by name, not by
/// following links.
fn lexical(path: &Path) -> std::io::Result<PathBuf> {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in std::path::absolute(path)?.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

fn relative_name(path: &Path, dir: &Path) -> String {
    let p: Vec<_> = path.components().collect();
    let d: Vec<_> = dir.components().collect();
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); d.len() - common];
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_files_typed_differently_give_one_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(data.join("gold.ndjson"), "{}").unwrap();
        std::fs::write(dir.path().join("photo.png"), "p").unwrap();
        let gold = data.join("gold.ndjson");
        let photo = dir.path().join("photo.png");
        let a = fingerprint(&gold, &[gold.clone(), photo.clone()], &Default::default()).unwrap();
        let b = fingerprint(
            &data.join("sub/../gold.ndjson"),
            &[data.join("./gold.ndjson"), data.join("sub/../../photo.png")],
            &Default::default(),
        )
        .unwrap();
        assert_eq!(a, b);
        std::fs::write(dir.path().join("photo.png"), "changed").unwrap();
        let c = fingerprint(&gold, &[gold.clone(), photo], &Default::default()).unwrap();
        assert_ne!(a, c);
        assert_eq!(
            relative_name(Path::new("/a/b/c"), Path::new("/a/d")),
            "../b/c"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_folder_beside_the_corpus_gives_the_same_names() {
        // A checkout with `../shared` as a folder, and one with `../shared` linked elsewhere.
        let dir = tempfile::tempdir().unwrap();
        let (real, linked) = (dir.path().join("real"), dir.path().join("linked"));
        for top in [&real, &linked] {
            std::fs::create_dir_all(top.join("main/reports")).unwrap();
            std::fs::write(top.join("main/reports/gold.ndjson"), "{}").unwrap();
        }
        std::fs::create_dir_all(real.join("shared")).unwrap();
        std::fs::write(real.join("shared/photo.png"), "p").unwrap();
        std::os::unix::fs::symlink(real.join("shared"), linked.join("shared")).unwrap();
        let print = |top: &Path| {
            let gold = top.join("main/reports/gold.ndjson");
            let photo = top.join("main/reports/../../shared/photo.png");
            fingerprint(&gold, &[gold.clone(), photo], &Default::default()).unwrap()
        };
        assert_eq!(print(&real), print(&linked));
    }
}

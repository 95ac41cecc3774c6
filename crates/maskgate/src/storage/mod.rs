//! Where a run keeps what outlives one process: shard rows and commit markers, and a report set
//! that leaves the machine. A [`Store`] is a flat key space (`/`-separated keys) with the one
//! primitive shards need besides reads and writes: a write-once create, where the first writer
//! wins. A local folder is one store; a bucket (feature `object-store`) is another.

#[cfg(feature = "object-store")]
pub mod remote;

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use crate::pathnames::is_url;

/// The store at `location`: a bucket prefix for a URL, else a local folder.
pub fn open(location: &Path, network: crate::net::Network) -> Result<Box<dyn Store>> {
    let text = location.to_string_lossy();
    if !is_url(&text) {
        return Ok(Box::new(LocalStore::new(location)));
    }
    #[cfg(feature = "object-store")]
    {
        Ok(Box::new(remote::RemoteStore::open(&text, network)?))
    }
    #[cfg(not(feature = "object-store"))]
    {
        let _ = network;
        Err(without_object_store(&text))
    }
}

/// A URL as reports and messages may show it (no user information, no credential parameters).
pub fn shown_url(url: &str) -> String {
    crate::redact::url(url)
}

#[cfg(not(feature = "object-store"))]
pub(crate) fn without_object_store(url: &str) -> Error {
    Error::Usage(format!(
        "{}: object storage needs maskgate built with the `object-store` feature",
        crate::redact::url(url)
    ))
}

/// The most bytes one object of a local store may hold (a shard's data is a few MB a thousand
/// samples).
pub const MAX_OBJECT_BYTES: u64 = 4 << 30;

pub trait Store: Send + Sync {
    /// The store's root as reports and errors show it (never with credentials).
    fn describe(&self) -> String;
    /// The bytes at `key`, or `None` when nothing is there.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Writes `key` whole (readers see the old bytes or the new, never a part).
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    /// Writes `key` only if nothing is there yet: `false` when another writer was first.
    fn create(&self, key: &str, bytes: &[u8]) -> Result<bool>;
    /// Every key under `prefix` (a folder, ending in `/`, or empty for all), sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    fn delete(&self, key: &str) -> Result<()>;
}

/// The folder of a run's shards, which a published report set leaves alone.
pub const SHARDS: &str = "shards";

/// The manifest a published report set ends with: its files and their sha256.
pub const MANIFEST: &str = "report-set.json";

/// Uploads the report set in `dir` (every file but shards) to `store` as one set: every file
/// first, then [`MANIFEST`] naming them, then the files of an earlier set that this one lacks
/// are removed. A reader that reads the manifest first never mixes two sets.
pub fn publish(store: &dyn Store, dir: &Path) -> Result<Vec<String>> {
    let local = LocalStore::new(dir);
    let files: Vec<String> = local
        .list("")?
        .into_iter()
        .filter(|k| !k.starts_with(&format!("{SHARDS}/")) && k != MANIFEST)
        .collect();
    let mut manifest = Vec::new();
    for key in &files {
        let bytes = local
            .get(key)?
            .ok_or_else(|| Error::Usage(format!("{key}: vanished before upload")))?;
        store.put(key, &bytes)?;
        manifest.push(serde_json::json!({
            "path": key,
            "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        }));
    }
    let text = serde_json::to_vec_pretty(&serde_json::json!({ "files": manifest }))
        .map_err(|e| Error::Usage(format!("cannot write the manifest: {e}")))?;
    store.put(MANIFEST, &text)?;
    for key in store.list("")? {
        let shard = key.starts_with(&format!("{SHARDS}/"));
        if !shard && key != MANIFEST && !files.contains(&key) {
            store.delete(&key)?;
        }
    }
    Ok(files)
}

/// A store in memory that keeps at most `budget` bytes: a run's private prediction cache (no
/// `cache` set), which only spares the gallery a second inference. Past the budget a write is
/// dropped, and the gallery infers the few samples it draws again: no file is written, and the
/// memory a large run needs does not grow with it.
pub struct MemoryStore {
    budget: usize,
    objects: std::sync::Mutex<(usize, std::collections::BTreeMap<String, Vec<u8>>)>,
}

impl MemoryStore {
    pub fn new(budget: usize) -> MemoryStore {
        MemoryStore {
            budget,
            objects: Default::default(),
        }
    }

    fn held(
        &self,
    ) -> std::sync::MutexGuard<'_, (usize, std::collections::BTreeMap<String, Vec<u8>>)> {
        // A panic elsewhere while holding the lock leaves whole entries: the map stays usable.
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    fn describe(&self) -> String {
        "the run's memory".into()
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.held().1.get(key).cloned())
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let mut held = self.held();
        let old = held.1.get(key).map_or(0, Vec::len);
        if held.0 - old + bytes.len() <= self.budget {
            held.0 = held.0 - old + bytes.len();
            held.1.insert(key.to_string(), bytes.to_vec());
        }
        Ok(())
    }

    fn create(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        if self.held().1.contains_key(key) {
            return Ok(false);
        }
        self.put(key, bytes)?;
        Ok(true)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        Ok((self.held().1.keys())
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    fn delete(&self, key: &str) -> Result<()> {
        let mut held = self.held();
        if let Some(v) = held.1.remove(key) {
            held.0 -= v.len();
        }
        Ok(())
    }
}

/// A local folder as a store. A create is a hard link of a fully written temporary file, so a
/// marker is never seen half written and a second writer's link fails.
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> LocalStore {
        LocalStore { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        let rel = Path::new(key);
        if key.is_empty()
            || rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(Error::Usage(format!("not a store key: {key:?}")));
        }
        Ok(self.root.join(rel))
    }

    /// A fully written, flushed temporary file beside `path`.
    fn temp_with(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".maskgate-{}-", std::process::id()))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        tmp.write_all(bytes)
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| Error::io(path, e))?;
        Ok(tmp)
    }
}

impl Store for LocalStore {
    fn describe(&self) -> String {
        crate::pathnames::display(&self.root)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key)?;
        // Shard data, markers, plan records and cache entries: regular files only, bounded, so
        // one linked to /dev/zero or claiming terabytes is refused instead of read.
        match crate::limits::read_regular(&path, MAX_OBJECT_BYTES) {
            Ok(b) => Ok(Some(b)),
            Err(crate::limits::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Err(e) => Err(e.into_error(&path, "a stored object's ceiling")),
        }
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(key)?;
        crate::persist::write_atomically(&path, |w| w.write_all(bytes))
    }

    fn create(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        let path = self.path(key)?;
        let tmp = Self::temp_with(&path, bytes)?;
        match std::fs::hard_link(tmp.path(), &path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            // A file system without hard links (some network and FUSE mounts): an exclusive
            // create still lets only the first writer in.
            Err(_) => match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(bytes)
                        .and_then(|_| f.sync_all())
                        .map_err(|e| Error::io(&path, e))?;
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(Error::io(path, e)),
            },
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let start = if prefix.is_empty() {
            self.root.clone()
        } else {
            self.path(prefix.trim_end_matches('/'))?
        };
        let mut pending = vec![start];
        while let Some(dir) = pending.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(&dir, e))?;
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(".maskgate-") {
                    continue;
                }
                if entry.file_type().map_err(|e| Error::io(&path, e))?.is_dir() {
                    pending.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root) {
                    let parts: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    out.push(parts.join("/"));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_is_write_once_and_list_is_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        assert!(store.create("a/b/marker.json", b"first").unwrap());
        assert!(!store.create("a/b/marker.json", b"second").unwrap());
        assert_eq!(store.get("a/b/marker.json").unwrap().unwrap(), b"first");
        store.put("a/z.txt", b"1").unwrap();
        store.put("a/z.txt", b"2").unwrap();
        assert_eq!(store.get("a/z.txt").unwrap().unwrap(), b"2");
        assert_eq!(store.get("nothing").unwrap(), None);
        assert_eq!(store.list("a/").unwrap(), ["a/b/marker.json", "a/z.txt"]);
        assert_eq!(store.list("missing/").unwrap(), Vec::<String>::new());
        store.delete("a/z.txt").unwrap();
        store.delete("a/z.txt").unwrap();
        assert_eq!(store.list("").unwrap(), ["a/b/marker.json"]);
        for bad in ["../x", "/etc/passwd", "a/../../x", ""] {
            assert!(store.get(bad).is_err(), "{bad}");
        }
    }
}

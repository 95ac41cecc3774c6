//! A run's report set, committed into the output folder itself.
//!
//! The files are written into a staging folder *inside* `--out`, so every move is a rename
//! within one file system: a Kubernetes volume, a Modal Volume or an NFS share mounted at
//! `--out` works like any folder. The folder itself is never replaced, so its inode, mode,
//! group and setgid bit stay, a symlinked `--out` keeps pointing at the reports, and files
//! that are not maskgate's are never touched. The commit moves each staged entry over its old
//! one (files by `rename`, folders by `renameat2(RENAME_EXCHANGE)`), then renames
//! [`MANIFEST`], which names every file of the set with its sha256, into place last: that
//! rename is the commit point, and a reader that starts from the manifest never mixes sets.
//!
//! A staging folder is owned through an `flock` on its lock file, which the kernel releases
//! when the owner dies, in whatever PID namespace or container it ran: a folder whose lock
//! nobody holds is abandoned and removed; one whose lock is held belongs to a live run.

use super::lock::{self, FileLock};
use crate::error::{Error, Result};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The manifest that names the committed set (the same name a published bucket set uses).
pub const MANIFEST: &str = "report-set.json";

const STAGING_PREFIX: &str = ".maskgate-staging-";
const PENDING_PREFIX: &str = ".maskgate-pending-";
const LOCK_SUFFIX: &str = ".lock";
/// A commit is a handful of renames; a lock held this long belongs to a stuck process.
const COMMIT_PATIENCE: Duration = Duration::from_secs(60);
/// A pending lock file younger than this may be a run between creating and locking it.
const PENDING_GRACE: Duration = Duration::from_secs(60);

/// The folder `out` names, made absolute, with a symlink followed to its target (created when
/// missing). Refuses a path that exists and is not a folder, saying so.
pub fn resolve_out(out: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(out).map_err(|e| Error::io(out, e))?;
    let abs = crate::pathnames::normalize(&abs);
    match std::fs::symlink_metadata(&abs) {
        Ok(m) if m.is_dir() => Ok(abs),
        Ok(m) if m.file_type().is_symlink() => {
            let target = std::fs::canonicalize(&abs).map_err(|e| {
                Error::file(
                    out,
                    format!("the output folder is a symlink whose target cannot be reached ({e}); point --out at a folder"),
                )
            })?;
            if !target.is_dir() {
                return Err(not_a_folder(out));
            }
            Ok(target)
        }
        Ok(_) => Err(not_a_folder(out)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&abs).map_err(|e| {
                Error::file(
                    out,
                    format!("cannot create the output folder ({e}); check that every part of the path is a writable folder"),
                )
            })?;
            Ok(abs)
        }
        Err(e) => Err(Error::io(out, e)),
    }
}

fn not_a_folder(out: &Path) -> Error {
    Error::file(
        out,
        "exists and is not a folder: --out names the folder the reports go into; choose another path or remove it",
    )
}

/// Checks before any work that `out` is, or can become, a folder this process can write into.
pub fn check_out_dir(out: &Path) -> Result<()> {
    let dir = resolve_out(out)?;
    tempfile::Builder::new()
        .prefix(".maskgate-probe-")
        .tempfile_in(&dir)
        .map(drop)
        .map_err(|e| Error::file(out, format!("the output folder is not writable: {e}")))
}

/// A staging folder inside the output folder, owned by this process until it is committed or
/// dropped (a dropped one is removed and leaves the previous set as it was).
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: Option<FileLock>,
}

impl Staging {
    pub fn new(out: &Path) -> Result<Staging> {
        let out = resolve_out(out)?;
        remove_abandoned(&out);
        // The lock file is created under a pending name and locked before it takes the name
        // other runs inspect, so nobody ever sees an unlocked lock of a live run.
        let pending = tempfile::Builder::new()
            .prefix(PENDING_PREFIX)
            .tempfile_in(&out)
            .map_err(|e| Error::file(&out, format!("cannot create a staging lock: {e}")))?;
        let (file, pending_path) = pending
            .keep()
            .map_err(|e| Error::file(&out, format!("cannot create a staging lock: {e}")))?;
        let lock = lock::lock_open(file)
            .map_err(|e| Error::file(&out, format!("cannot lock the staging folder: {e}")))?;
        let id = pending_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(PENDING_PREFIX))
            .unwrap_or("x")
            .to_string();
        let dir = out.join(format!("{STAGING_PREFIX}{id}"));
        let lock_path = out.join(format!("{STAGING_PREFIX}{id}{LOCK_SUFFIX}"));
        std::fs::rename(&pending_path, &lock_path).map_err(|e| Error::io(&lock_path, e))?;
        let staging = Staging {
            out: out.clone(),
            dir: dir.clone(),
            lock_path,
            _lock: lock,
        };
        std::fs::create_dir(&dir)
            .map_err(|e| Error::file(&out, format!("cannot create a staging folder: {e}")))?;
        Ok(staging)
    }

    /// Where the run writes its files.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The output folder the set is committed into (a symlink already followed).
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Moves the staged entries into the output folder, removes the entries named in
    /// `set_names` that this run did not write (an old gallery, a format not chosen this time),
    /// and renames the manifest into place last.
    pub fn commit(self, set_names: &[&str]) -> Result<()> {
        let out = &self.out;
        // Commits of runs sharing one `--out` are serialised on the folder itself, so two sets
        // never interleave. A file system that cannot lock a folder still gets the commit.
        let _commit = match lock::lock_folder_within(out, COMMIT_PATIENCE) {
            Ok(held) => Some(held.ok_or_else(|| {
                Error::Retryable(format!(
                    "{}: another run has been committing its reports here for over {} s; run again when it is done",
                    crate::pathnames::display(out),
                    COMMIT_PATIENCE.as_secs()
                ))
            })?),
            Err(_) => None,
        };
        let replaced = self.dir.join(".replaced");
        std::fs::create_dir(&replaced).map_err(|e| Error::io(&replaced, e))?;
        let mut staged: Vec<String> = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))? {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != ".replaced" && name != MANIFEST {
                staged.push(name);
            }
        }
        staged.sort();
        for name in &staged {
            move_into_place(&self.dir.join(name), &out.join(name), &replaced.join(name))?;
        }
        for name in set_names {
            if *name == MANIFEST || staged.iter().any(|s| s == name) {
                continue;
            }
            let old = out.join(name);
            if std::fs::symlink_metadata(&old).is_ok() {
                std::fs::rename(&old, replaced.join(name)).map_err(|e| Error::io(&old, e))?;
            }
        }
        let manifest = manifest_of(out, &staged)?;
        super::write_atomically(&out.join(MANIFEST), |w| w.write_all(&manifest))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // The folder goes before the lock file, so a folder is never seen without its lock
        // while its owner lives.
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Moves `src` to `dst`; whatever was at `dst` ends in `old` (removed with the staging folder).
fn move_into_place(src: &Path, dst: &Path, old: &Path) -> Result<()> {
    let src_is_dir = std::fs::symlink_metadata(src)
        .map_err(|e| Error::io(src, e))?
        .is_dir();
    match std::fs::symlink_metadata(dst) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::rename(src, dst).map_err(|e| Error::io(dst, e))
        }
        Err(e) => Err(Error::io(dst, e)),
        Ok(m) if m.is_file() && !src_is_dir => {
            // rename(2) replaces a file atomically.
            std::fs::rename(src, dst).map_err(|e| Error::io(dst, e))
        }
        Ok(m) if m.is_dir() && src_is_dir && exchange(src, dst).is_ok() => {
            // `src` now holds the old folder.
            std::fs::rename(src, old).map_err(|e| Error::io(old, e))
        }
        Ok(_) => {
            // A kind change (or no atomic exchange here): the old entry steps aside first.
            std::fs::rename(dst, old).map_err(|e| Error::io(dst, e))?;
            std::fs::rename(src, dst).map_err(|e| Error::io(dst, e))
        }
    }
}

/// `{"files": [{"path", "sha256"}]}` over every file of the committed entries, in path order.
fn manifest_of(out: &Path, entries: &[String]) -> Result<Vec<u8>> {
    let mut files = Vec::new();
    for name in entries {
        collect_files(&out.join(name), name, &mut files)?;
    }
    files.sort();
    let mut listed = Vec::with_capacity(files.len());
    for (rel, path) in files {
        let mut hasher = sha2::Sha256::new();
        let mut f = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = std::io::Read::read(&mut f, &mut buf).map_err(|e| Error::io(&path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        listed.push(serde_json::json!({
            "path": rel,
            "sha256": hex::encode(hasher.finalize()),
        }));
    }
    let mut text = serde_json::to_vec_pretty(&serde_json::json!({ "files": listed }))
        .map_err(|e| Error::Usage(format!("cannot write the manifest: {e}")))?;
    text.push(b'\n');
    Ok(text)
}

fn collect_files(path: &Path, rel: &str, into: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            let entry = entry.map_err(|e| Error::io(path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            collect_files(&entry.path(), &format!("{rel}/{name}"), into)?;
        }
    } else if meta.is_file() {
        into.push((rel.to_string(), path.to_path_buf()));
    }
    Ok(())
}

/// Removes the staging folders in `out` whose lock nobody holds (their run died), and pending
/// lock files old enough not to be a run starting up. Where locks cannot exclude other
/// processes, nothing is removed: another run's folder is never judged abandoned by a guess.
fn remove_abandoned(out: &Path) {
    if !lock::supported() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    let names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for name in &names {
        let path = out.join(name);
        if let Some(stem) = name
            .strip_prefix(STAGING_PREFIX)
            .and_then(|rest| rest.strip_suffix(LOCK_SUFFIX))
        {
            if let Ok(Some(_held)) = lock::try_lock(&path) {
                let _ = std::fs::remove_dir_all(out.join(format!("{STAGING_PREFIX}{stem}")));
                let _ = std::fs::remove_file(&path);
            }
        } else if name.starts_with(STAGING_PREFIX) {
            // A folder whose lock file is gone was being removed when its owner died.
            if !names.contains(&format!("{name}{LOCK_SUFFIX}")) {
                let _ = std::fs::remove_dir_all(&path);
            }
        } else if name.starts_with(PENDING_PREFIX) {
            let old = std::fs::symlink_metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > PENDING_GRACE);
            if old {
                if let Ok(Some(_held)) = lock::try_lock(&path) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}

/// Atomically exchanges two folders (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let ca = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let cb = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: &[&str] = &["report.json", "report.md", "gallery", MANIFEST];

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_staged_set_replaces_the_old_one_and_keeps_other_files() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::create_dir_all(out.join("gallery/x")).unwrap();
        std::fs::create_dir_all(out.join("inputs")).unwrap();
        std::fs::write(out.join("report.json"), "old").unwrap();
        std::fs::write(out.join("report.md"), "old").unwrap();
        std::fs::write(out.join("gallery/x/old.png"), "old").unwrap();
        std::fs::write(out.join("inputs/gold.ndjson"), "keep").unwrap();
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
        let before = inode(&out);
        let staging = Staging::new(&out).unwrap();
        assert!(staging.path().starts_with(&out), "staged inside --out");
        std::fs::write(staging.path().join("report.json"), "new").unwrap();
        staging.commit(SET).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("report.json")).unwrap(),
            "new"
        );
        assert!(
            !out.join("report.md").exists(),
            "a report file this run did not write is gone"
        );
        assert!(!out.join("gallery").exists());
        assert_eq!(
            std::fs::read_to_string(out.join("inputs/gold.ndjson")).unwrap(),
            "keep"
        );
        assert_eq!(inode(&out), before, "the folder itself is kept");
        assert_eq!(names(&out), ["inputs", "report-set.json", "report.json"]);
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(manifest["files"][0]["path"], "report.json");
        assert_eq!(
            manifest["files"][0]["sha256"],
            hex::encode(sha2::Sha256::digest(b"new"))
        );
        assert_eq!(names(root.path()), ["out"], "nothing written beside --out");
    }

    #[test]
    fn a_folder_entry_is_exchanged_whole() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::create_dir_all(out.join("gallery")).unwrap();
        std::fs::write(out.join("gallery/old.png"), "old").unwrap();
        let staging = Staging::new(&out).unwrap();
        std::fs::create_dir_all(staging.path().join("gallery")).unwrap();
        std::fs::write(staging.path().join("gallery/new.png"), "new").unwrap();
        staging.commit(SET).unwrap();
        assert_eq!(names(&out.join("gallery")), ["new.png"]);
        assert_eq!(names(&out), ["gallery", "report-set.json"]);
    }

    #[test]
    fn a_dropped_staging_leaves_the_old_set() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("report.json"), "old").unwrap();
        let staging = Staging::new(&out).unwrap();
        std::fs::write(staging.path().join("report.json"), "new").unwrap();
        drop(staging); // an error before commit
        assert_eq!(
            std::fs::read_to_string(out.join("report.json")).unwrap(),
            "old"
        );
        assert_eq!(names(&out), ["report.json"]);
    }

    #[test]
    fn a_symlinked_out_is_followed_and_a_file_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("real");
        std::fs::create_dir_all(&target).unwrap();
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let staging = Staging::new(&link).unwrap();
        std::fs::write(staging.path().join("report.json"), "new").unwrap();
        staging.commit(SET).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(target.join("report.json")).unwrap(),
            "new"
        );
        let file = root.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let err = check_out_dir(&file).unwrap_err().to_string();
        assert!(err.contains("is not a folder"), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn only_a_staging_folder_whose_lock_is_free_is_abandoned() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let live = Staging::new(&out).unwrap();
        // A dead run's folder: its lock file exists but nobody holds it.
        let dead = out.join(format!("{STAGING_PREFIX}dead"));
        std::fs::create_dir_all(&dead).unwrap();
        std::fs::write(out.join(format!("{STAGING_PREFIX}dead{LOCK_SUFFIX}")), "").unwrap();
        let second = Staging::new(&out).unwrap();
        assert!(!dead.exists(), "an unlocked staging folder is removed");
        assert!(live.path().exists(), "a held one is kept, whatever its pid");
        drop(second);
        drop(live);
        assert!(names(&out).iter().all(|n| !n.starts_with(STAGING_PREFIX)));
    }
}

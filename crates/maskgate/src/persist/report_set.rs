//! A run's report set, committed into the output folder itself.
//!
//! The files are written into a staging folder *inside* `--out`, so every move is a rename
//! within one file system: a Kubernetes volume, a Modal Volume or an NFS share mounted at
//! `--out` works like any folder. The folder itself is never replaced, so its inode, mode,
//! group and setgid bit stay, a symlinked `--out` keeps pointing at the reports, and files
//! that are not maskgate's are never touched.
//!
//! [`MANIFEST`] names every file of the committed set with its sha256. The commit first moves
//! the old manifest aside (from then on no manifest vouches for the folder), then moves each
//! staged entry over its old one (the old one set aside first, then the new one renamed in),
//! then renames the new manifest into place: that rename is the commit point. A commit that
//! fails midway is rolled back, old manifest included; one killed midway leaves a folder with
//! no manifest, which a reader must not trust and the next run replaces. So a reader that
//! starts from the manifest, and checks the hashes it lists, never mixes two sets.
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
/// Where the previous files of a commit that could not be undone are kept (never removed).
const RECOVERED_PREFIX: &str = ".maskgate-recovered-";
/// `check_out_dir`'s probe file, removed at once unless the process was killed right then.
const PROBE_PREFIX: &str = ".maskgate-probe-";
const LOCK_SUFFIX: &str = ".lock";
/// A commit is a handful of renames; a lock held this long belongs to a stuck process.
const COMMIT_PATIENCE: Duration = Duration::from_secs(60);
/// A pending lock file younger than this may be a run between creating and locking it.
const PENDING_GRACE: Duration = Duration::from_secs(60);

/// The folder `out` names, as the kernel resolves it (symlinks followed, `a/../b` through `a`'s
/// target), created when missing. Refuses a path that exists and is not a folder, saying so.
pub fn resolve_out(out: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.is_dir() || m.file_type().is_symlink() => {}
        Ok(_) => return Err(not_a_folder(out)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(out).map_err(|e| {
                failed(
                    out,
                    "cannot create the output folder (check that every part of the path is a writable folder)",
                    e,
                )
            })?;
        }
        Err(e) => return Err(Error::io(out, e)),
    }
    let target = std::fs::canonicalize(out).map_err(|e| {
        Error::file(
            out,
            format!("the output folder cannot be reached ({e}); point --out at a folder"),
        )
    })?;
    if !target.is_dir() {
        return Err(not_a_folder(out));
    }
    Ok(target)
}

/// `what` failed on `path`: a transient cause (a full disk) keeps its I/O kind, so the run exits
/// as retryable; anything else says what failed.
fn failed(path: &Path, what: &str, e: std::io::Error) -> Error {
    if crate::error::io_is_transient(&e) {
        Error::io(path, std::io::Error::new(e.kind(), format!("{what}: {e}")))
    } else {
        Error::file(path, format!("{what}: {e}"))
    }
}

fn not_a_folder(out: &Path) -> Error {
    Error::file(
        out,
        "exists and is not a folder: --out names the folder the reports go into; choose another path or remove it",
    )
}

/// Refuses, before any work, a path (`--junit`) that lies inside the report set of the folder
/// `out`: a report file, anything under the gallery, the manifest, or maskgate's own working
/// files. A run would replace or remove it; other files in `--out` are the user's.
pub fn refuse_inside(path: &Path, out: &Path, set_names: &[&str]) -> Result<()> {
    let resolve = |p: &Path| -> Option<PathBuf> {
        let abs = std::path::absolute(p).ok()?;
        // The deepest existing ancestor as the kernel resolves it, then the rest as written.
        let mut base = abs.as_path();
        let mut rest = Vec::new();
        loop {
            if let Ok(real) = std::fs::canonicalize(base) {
                return Some(rest.iter().rev().fold(real, |acc, c| acc.join(c)));
            }
            rest.push(base.file_name()?.to_os_string());
            base = base.parent()?;
        }
    };
    let (Some(path_real), Some(out_real)) = (resolve(path), resolve(out)) else {
        return Ok(());
    };
    let Ok(rel) = path_real.strip_prefix(&out_real) else {
        return Ok(());
    };
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let inside = match first.as_deref() {
        None => true,
        Some(name) => set_names.contains(&name) || name.starts_with(".maskgate"),
    };
    if inside {
        return Err(Error::file(
            path,
            "lies inside the report set of the output folder, which the run replaces: give it a path of its own",
        ));
    }
    Ok(())
}

/// Checks before any work that `out` is, or can become, a folder this process can write into.
pub fn check_out_dir(out: &Path) -> Result<()> {
    let dir = resolve_out(out)?;
    tempfile::Builder::new()
        .prefix(PROBE_PREFIX)
        .tempfile_in(&dir)
        .map(drop)
        .map_err(|e| failed(out, "the output folder is not writable", e))
}

/// A staging folder inside the output folder, owned by this process until it is committed or
/// dropped (a dropped one is removed and leaves the previous set as it was).
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: FileLock,
    /// Set when a commit could not be undone and the previous files are still inside the
    /// staging folder: it is then kept, never removed.
    keep: bool,
}

impl Staging {
    pub fn new(out: &Path) -> Result<Staging> {
        let out = resolve_out(out)?;
        remove_abandoned(&out);
        super::remove_abandoned_temps(&out);
        // The lock file is created under a pending name and locked before it takes the name
        // other runs inspect, so nobody ever sees an unlocked lock of a live run.
        let mut builder = tempfile::Builder::new();
        #[cfg(unix)]
        {
            // Readable by all: another user sharing the folder tests the lock to tell a live
            // run from a dead one.
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let pending = builder
            .prefix(PENDING_PREFIX)
            .tempfile_in(&out)
            .map_err(|e| failed(&out, "cannot create a staging lock", e))?;
        let (file, pending_path) = pending
            .keep()
            .map_err(|e| failed(&out, "cannot create a staging lock", e.error))?;
        let lock =
            lock::lock_open(file).map_err(|e| failed(&out, "cannot lock the staging folder", e))?;
        let id = pending_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(PENDING_PREFIX))
            .map(str::to_string)
            .ok_or_else(|| Error::file(&pending_path, "a staging lock with an unexpected name"))?;
        let dir = out.join(format!("{STAGING_PREFIX}{id}"));
        let lock_path = out.join(format!("{STAGING_PREFIX}{id}{LOCK_SUFFIX}"));
        if let Err(e) = std::fs::rename(&pending_path, &lock_path) {
            let _ = std::fs::remove_file(&pending_path);
            return Err(Error::io(&lock_path, e));
        }
        let staging = Staging {
            out: out.clone(),
            dir: dir.clone(),
            lock_path,
            _lock: lock,
            keep: false,
        };
        std::fs::create_dir(&dir).map_err(|e| failed(&out, "cannot create a staging folder", e))?;
        // Another member of a shared folder's group must be able to clear it should this run
        // die (its lock file is readable by all, as the pending file's mode above has it).
        share_with_group(&out, &dir);
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
    /// and renames the new manifest into place last. On an error everything is put back as it
    /// was, old manifest included.
    pub fn commit(mut self, set_names: &[&str]) -> Result<()> {
        let out = &self.out.clone();
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
        let mut staged: Vec<String> = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))? {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != REPLACED && name != MANIFEST {
                staged.push(name);
            }
        }
        staged.sort();
        share_with_group(out, &self.dir);
        // Hashed, written and flushed to disk while still staged: nothing but renames happens in
        // `--out`, and the previous set is removed only once the new one is durable.
        let manifest = manifest_of(&self.dir, &staged)?;
        let staged_manifest = self.dir.join(MANIFEST);
        std::fs::write(&staged_manifest, manifest).map_err(|e| Error::io(&staged_manifest, e))?;
        sync_tree(&self.dir)?;
        let replaced = self.dir.join(REPLACED);
        std::fs::create_dir(&replaced).map_err(|e| Error::io(&replaced, e))?;
        let mut journal = Journal {
            out,
            staging: &self.dir,
            replaced: &replaced,
            done: Vec::new(),
        };
        let result = journal.apply(&staged, set_names);
        match result {
            Err(e) if !journal.roll_back() => {
                // Something else moved into `--out` meanwhile: the previous files are kept in
                // a folder of their own rather than removed with the staging folder.
                let name = self
                    .dir
                    .file_name()
                    .map(|n| {
                        n.to_string_lossy()
                            .replace(STAGING_PREFIX, RECOVERED_PREFIX)
                    })
                    .unwrap_or_else(|| RECOVERED_PREFIX.to_string());
                let kept = out.join(name);
                let where_ = match std::fs::rename(&replaced, &kept) {
                    Ok(()) => kept,
                    Err(_) => {
                        self.keep = true;
                        replaced
                    }
                };
                Err(Error::file(
                    out,
                    format!(
                        "{e}; the commit could not be undone whole: the previous files are in {}",
                        where_.display()
                    ),
                ))
            }
            Err(e) => Err(e),
            Ok(()) => {
                // The renames themselves made durable before the old set goes.
                let _ = std::fs::File::open(out).and_then(|d| d.sync_all());
                let _ = std::fs::remove_dir_all(&replaced);
                Ok(())
            }
        }
    }
}

/// Flushes every file under `dir` to disk.
fn sync_tree(dir: &Path) -> Result<()> {
    let mut files = Vec::new();
    collect_files(dir, "", &mut files)?;
    for (_, path) in files {
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

/// Where the entries an in-progress commit replaced wait, until the commit is done.
const REPLACED: &str = ".replaced";

/// One step of a commit, recorded before it is taken, so a failure can undo it.
enum Step {
    /// `out/name` moved into the replaced folder.
    SetAside(String),
    /// `staging/name` moved to `out/name`.
    MovedIn(String),
}

/// What a commit has done so far, so a failure can undo it.
struct Journal<'a> {
    out: &'a Path,
    staging: &'a Path,
    replaced: &'a Path,
    done: Vec<Step>,
}

impl Journal<'_> {
    fn apply(&mut self, staged: &[String], set_names: &[&str]) -> Result<()> {
        self.set_aside(MANIFEST)?;
        for name in staged {
            self.set_aside(name)?;
            self.move_in(name)?;
        }
        for name in set_names {
            if *name != MANIFEST && !staged.iter().any(|s| s == name) {
                self.set_aside(name)?;
            }
        }
        self.move_in(MANIFEST)
    }

    /// Moves `out/name`, if there, into the replaced folder.
    fn set_aside(&mut self, name: &str) -> Result<()> {
        let old = self.out.join(name);
        match std::fs::symlink_metadata(&old) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(&old, e)),
            Ok(_) => {
                std::fs::rename(&old, self.replaced.join(name)).map_err(|e| Error::io(&old, e))?;
                self.done.push(Step::SetAside(name.to_string()));
                Ok(())
            }
        }
    }

    fn move_in(&mut self, name: &str) -> Result<()> {
        let (src, dst) = (self.staging.join(name), self.out.join(name));
        std::fs::rename(&src, &dst).map_err(|e| Error::io(&dst, e))?;
        self.done.push(Step::MovedIn(name.to_string()));
        Ok(())
    }

    /// Undoes what was done, last first: new entries back to staging, old ones back in place.
    /// Whether every step was undone (when not, the old entries are still in the replaced
    /// folder, which is then kept).
    fn roll_back(&mut self) -> bool {
        let mut whole = true;
        let mut old_manifest = false;
        for step in self.done.drain(..).rev() {
            let undone = match step {
                Step::MovedIn(name) => {
                    std::fs::rename(self.out.join(&name), self.staging.join(&name))
                }
                // The old manifest returns last, and only over a folder wholly restored: it
                // must never vouch for files it does not name.
                Step::SetAside(name) if name == MANIFEST => {
                    old_manifest = true;
                    Ok(())
                }
                Step::SetAside(name) => {
                    std::fs::rename(self.replaced.join(&name), self.out.join(&name))
                }
            };
            whole &= undone.is_ok();
        }
        if whole && old_manifest {
            whole = std::fs::rename(self.replaced.join(MANIFEST), self.out.join(MANIFEST)).is_ok();
        }
        whole
    }
}

/// In a folder its group shares (group-writable, as a shared volume's is), the folders this run
/// creates are group-writable too, so another member of the group can replace them next time.
fn share_with_group(out: &Path, staging: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(mode) = std::fs::metadata(out).map(|m| m.permissions().mode()) else {
            return;
        };
        let group = mode & 0o070;
        if group & 0o020 == 0 {
            return;
        }
        let mut pending = vec![staging.to_path_buf()];
        while let Some(dir) = pending.pop() {
            if let Ok(m) = std::fs::symlink_metadata(&dir) {
                if m.is_dir() {
                    let mode = m.permissions().mode() | group;
                    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode));
                    if let Ok(entries) = std::fs::read_dir(&dir) {
                        pending.extend(entries.flatten().map(|e| e.path()));
                    }
                }
            }
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        // The folder goes before the lock file, so a folder is never seen without its lock
        // while its owner lives.
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// `{"files": [{"path", "sha256"}]}` over every file of the committed entries, in path order.
fn manifest_of(dir: &Path, entries: &[String]) -> Result<Vec<u8>> {
    let mut files = Vec::new();
    for name in entries {
        collect_files(&dir.join(name), name, &mut files)?;
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

pub(crate) fn collect_files(
    path: &Path,
    rel: &str,
    into: &mut Vec<(String, PathBuf)>,
) -> Result<()> {
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
/// lock files old enough not to be a run starting up. A dead run's previous files (set aside by
/// a commit it never finished) are kept as `.maskgate-recovered-*`, never deleted.
fn remove_abandoned(out: &Path) {
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
                let dir = out.join(format!("{STAGING_PREFIX}{stem}"));
                let replaced = dir.join(REPLACED);
                if std::fs::read_dir(&replaced).is_ok_and(|mut e| e.next().is_some()) {
                    let _ =
                        std::fs::rename(&replaced, out.join(format!("{RECOVERED_PREFIX}{stem}")));
                }
                let _ = std::fs::remove_dir_all(&dir);
                let _ = std::fs::remove_file(&path);
            }
        } else if name.starts_with(STAGING_PREFIX) {
            // A folder whose lock file is gone was being removed when its owner died (its lock
            // file is made before it and removed after it, so this is checked now, not against
            // the listing, which may predate a run that just started).
            let lock = out.join(format!("{name}{LOCK_SUFFIX}"));
            let gone = matches!(std::fs::symlink_metadata(&lock), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
            if gone && std::fs::symlink_metadata(path.join(REPLACED)).is_err() {
                let _ = std::fs::remove_dir_all(&path);
            }
        } else if name.starts_with(PROBE_PREFIX) {
            // A probe is written and removed at once and holds nothing: one still here was
            // left by a killed run (a live run's, removed under it, costs that run nothing: its
            // own removal's failure is ignored).
            let _ = std::fs::remove_file(&path);
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

    #[cfg(unix)]
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
    fn a_folder_entry_is_replaced_whole() {
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

    #[cfg(unix)]
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

    #[test]
    fn a_dead_run_s_previous_files_are_recovered_not_deleted() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        // A run killed inside its commit: the old report set aside, its lock free.
        let dead = out.join(format!("{STAGING_PREFIX}dead"));
        std::fs::create_dir_all(dead.join(REPLACED)).unwrap();
        std::fs::write(dead.join(REPLACED).join("report.json"), "old").unwrap();
        std::fs::write(out.join(format!("{STAGING_PREFIX}dead{LOCK_SUFFIX}")), "").unwrap();
        drop(Staging::new(&out).unwrap());
        assert!(!dead.exists());
        let kept = out.join(format!("{RECOVERED_PREFIX}dead/report.json"));
        assert_eq!(std::fs::read_to_string(kept).unwrap(), "old");
    }

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

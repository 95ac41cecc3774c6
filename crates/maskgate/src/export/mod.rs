//! Stage 7, **export**: one file per format behind [`Exporter`]. Exporters only write what the
//! [`Report`] holds; adding a format is one new file plus one line in [`exporters`].

pub mod csv;
pub mod html;
pub mod json;
pub mod jsonl;
pub mod junit;
pub mod markdown;

use crate::error::{Error, Result};
use crate::report::Report;
use std::io::Write;
use std::path::{Path, PathBuf};

pub trait Exporter {
    /// The name users choose it by (`--format`, `[run] formats`).
    fn name(&self) -> &'static str;
    /// File name inside the output directory.
    fn file_name(&self) -> &'static str;
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()>;
}

/// Every exporter, in the order reports list them.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(csv::MetricsCsv),
        Box::new(jsonl::SamplesJsonl),
        Box::new(json::ReportJson),
        Box::new(markdown::ReportMarkdown),
        Box::new(html::ReportHtml),
    ]
}

/// Refuses format names no exporter has.
pub fn check_formats(formats: &[String]) -> std::result::Result<(), String> {
    let known: Vec<&str> = exporters().iter().map(|e| e.name()).collect();
    match formats.iter().find(|f| !known.contains(&f.as_str())) {
        Some(f) => Err(format!(
            "unknown format {f:?} (known: {})",
            known.join(", ")
        )),
        None if formats.is_empty() => Err("no report format chosen".into()),
        None => Ok(()),
    }
}

/// The files the chosen formats write, in report order.
pub fn file_names(formats: &[String]) -> Vec<String> {
    exporters()
        .iter()
        .filter(|e| formats.iter().any(|f| f == e.name()))
        .map(|e| e.file_name().to_string())
        .collect()
}

/// Checks before any work that `dir` is, or can become, a writable folder.
pub fn check_out_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    tempfile::Builder::new()
        .prefix(".maskgate-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| Error::file(dir, format!("the output folder is not writable: {e}")))
}

/// Writes the chosen exports into `dir`, each atomically (see [`crate::persist`]).
pub fn write_all(report: &Report, dir: &Path, formats: &[String]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();
    for e in exporters()
        .into_iter()
        .filter(|e| formats.iter().any(|f| f == e.name()))
    {
        let path = dir.join(e.file_name());
        crate::persist::write_atomically(&path, |w| e.write(report, w))?;
        written.push(path);
    }
    Ok(written)
}

/// A run's files, written into a fresh folder beside `--out` before they replace the previous
/// set there as one: readers see the old set or the new one, never a mix, and a run that fails
/// or is killed before [`Staging::commit`] leaves the old set untouched.
pub struct Staging {
    dir: tempfile::TempDir,
    out: PathBuf,
}

/// Names in an output folder that belong to maskgate's report set: they are replaced, never
/// carried over (files of another kind in the folder are kept).
fn is_report_entry(name: &str) -> bool {
    name == "gallery"
        || name == crate::predict::saved::FOLDER
        || name.starts_with(".maskgate-")
        || exporters().iter().any(|e| e.file_name() == name)
}

impl Staging {
    /// A staging folder beside `out` (same file system, so the swap is a rename).
    pub fn new(out: &Path) -> Result<Staging> {
        let abs = std::path::absolute(out).map_err(|e| Error::io(out, e))?;
        let abs = crate::pathnames::normalize(&abs);
        let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
            return Err(Error::file(
                out,
                "the output folder cannot be a file system root",
            ));
        };
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let prefix = format!(".{}.maskgate-", name.to_string_lossy());
        remove_abandoned(parent, &prefix);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{prefix}{}-", std::process::id()))
            .tempdir_in(parent)
            .map_err(|e| Error::file(parent, format!("cannot create a staging folder: {e}")))?;
        Ok(Staging { dir, out: abs })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Swaps the staged set in for the previous one. Other files in the output folder are kept
    /// (hard-linked into the new folder before the swap); report files this run did not write
    /// (an old gallery, a format not chosen this time) are gone.
    pub fn commit(self) -> Result<()> {
        let staged = self.dir.path().to_path_buf();
        let out = self.out.clone();
        if !out.exists() {
            let kept = self.dir.keep();
            return std::fs::rename(&kept, &out).map_err(|e| Error::io(&out, e));
        }
        for entry in std::fs::read_dir(&out).map_err(|e| Error::io(&out, e))? {
            let entry = entry.map_err(|e| Error::io(&out, e))?;
            let name = entry.file_name();
            if is_report_entry(&name.to_string_lossy()) || staged.join(&name).exists() {
                continue;
            }
            link_tree(&entry.path(), &staged.join(&name))?;
        }
        if exchange(&staged, &out).is_ok() {
            // `staged` now holds the previous set; the TempDir removes it.
            return Ok(());
        }
        // No atomic swap here (another OS or file system): move the files one by one.
        for entry in std::fs::read_dir(&out).map_err(|e| Error::io(&out, e))? {
            let entry = entry.map_err(|e| Error::io(&out, e))?;
            if is_report_entry(&entry.file_name().to_string_lossy()) {
                remove_any(&entry.path())?;
            }
        }
        for entry in std::fs::read_dir(&staged).map_err(|e| Error::io(&staged, e))? {
            let entry = entry.map_err(|e| Error::io(&staged, e))?;
            let target = out.join(entry.file_name());
            if is_report_entry(&entry.file_name().to_string_lossy()) {
                std::fs::rename(entry.path(), &target).map_err(|e| Error::io(&target, e))?;
            }
        }
        Ok(())
    }
}

/// Removes staging folders `<prefix><pid>-…` left by runs that were killed (their process is
/// gone); a folder of a run still going is left alone.
fn remove_abandoned(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !crate::persist::process_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn remove_any(p: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(p).map_err(|e| Error::io(p, e))?;
    if meta.is_dir() {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    }
    .map_err(|e| Error::io(p, e))
}

/// Recreates `src` at `dst` with hard links (folders recreated, symlinks copied as links).
fn link_tree(src: &Path, dst: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(src).map_err(|e| Error::io(src, e))?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(src).map_err(|e| Error::io(src, e))?;
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, dst).map_err(|e| Error::io(dst, e))?;
        return Ok(());
    }
    if meta.is_dir() {
        std::fs::create_dir_all(dst).map_err(|e| Error::io(dst, e))?;
        for entry in std::fs::read_dir(src).map_err(|e| Error::io(src, e))? {
            let entry = entry.map_err(|e| Error::io(src, e))?;
            link_tree(&entry.path(), &dst.join(entry.file_name()))?;
        }
        return Ok(());
    }
    std::fs::hard_link(src, dst)
        .or_else(|_| std::fs::copy(src, dst).map(drop))
        .map_err(|e| Error::io(dst, e))
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

    #[test]
    fn a_staged_set_replaces_the_old_one_whole_and_keeps_other_files() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::create_dir_all(out.join("gallery/x")).unwrap();
        std::fs::create_dir_all(out.join("inputs")).unwrap();
        std::fs::write(out.join("report.json"), "old").unwrap();
        std::fs::write(out.join("report.md"), "old").unwrap();
        std::fs::write(out.join("gallery/x/old.png"), "old").unwrap();
        std::fs::write(out.join("inputs/gold.ndjson"), "keep").unwrap();
        let staging = Staging::new(&out).unwrap();
        std::fs::write(staging.path().join("report.json"), "new").unwrap();
        staging.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("report.json")).unwrap(),
            "new"
        );
        assert!(
            !out.join("report.md").exists(),
            "a file this run did not write is gone"
        );
        assert!(!out.join("gallery").exists());
        assert_eq!(
            std::fs::read_to_string(out.join("inputs/gold.ndjson")).unwrap(),
            "keep"
        );
        let left: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["out"], "no staging folder left behind");
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
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}

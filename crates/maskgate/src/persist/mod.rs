//! Writing a file so no reader ever sees half of it: a uniquely named temporary file in the
//! same folder, flushed, then renamed over the target (`tempfile`'s persist). Two processes
//! writing the same target never share a temporary name; the last rename wins whole.

pub mod lock;
pub mod report_set;

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Refuses to replace anything at `path` but a regular file: a device node, a FIFO, a socket, a
/// folder or a symlink is named and left alone (as root, `--junit /dev/null` must not replace
/// `/dev/null`). A missing path is fine.
pub fn check_replaceable(path: &Path) -> Result<()> {
    let kind = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
        Ok(m) if m.is_file() => return Ok(()),
        Ok(m) => crate::limits::kind_of(m.file_type()),
    };
    Err(Error::file(
        path,
        format!("is {kind}, not a regular file; maskgate only replaces regular files: choose another path"),
    ))
}

/// Writes `path` through `write`, atomically; on any error the target is left as it was and the
/// temporary file is removed.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    check_replaceable(path)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut builder = tempfile::Builder::new();
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        // A report is for others to read: not a temporary file's private 0600.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let tmp = builder
        .tempfile_in(dir)
        // The I/O kind is kept: a full disk is worth a retry, a forbidden folder is not.
        .map_err(|e| Error::io(dir, e))?;
    let mut w = std::io::BufWriter::new(tmp);
    write(&mut w)
        .and_then(|_| w.flush())
        .map_err(|e| Error::io(path, e))?;
    let tmp = w
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    // On disk before the rename, so a crash never leaves an empty file under the name.
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    // Checked again: something may have been put there while the file was written.
    check_replaceable(path)?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Temporary files are `.maskgate-<pid>-….tmp`: the pid tells a live writer from a killed one.
const TEMP_PREFIX: &str = ".maskgate-";

/// A temporary file is written in well under this; one older whose pid is not visible here is
/// abandoned. The age matters because a pid of another PID namespace (a container sharing the
/// volume) is never visible.
const TEMP_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the temporary files in `dir` left by killed processes (a live writer's are kept).
pub fn remove_abandoned_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(TEMP_PREFIX)
            .filter(|_| name.ends_with(".tmp"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > TEMP_GRACE);
            if old && pid != std::process::id() && !process_alive(pid) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Whether process `pid` still runs (Linux: `/proc/<pid>`); elsewhere assumed alive, so
/// nothing of another run is ever removed.
pub fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.json");
        write_atomically(&target, |w| w.write_all(b"old")).unwrap();
        let err = write_atomically(&target, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["r.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        // A killed writer's temporary file is removed; a live one's is kept.
        let dead = dir.path().join(".maskgate-4000000000-x.tmp");
        let live = dir
            .path()
            .join(format!(".maskgate-{}-y.tmp", std::process::id()));
        std::fs::write(&dead, "").unwrap();
        std::fs::write(&live, "").unwrap();
        remove_abandoned_temps(dir.path());
        assert!(
            dead.exists(),
            "a fresh file may be a writer's in another PID namespace"
        );
        let old = std::time::SystemTime::now() - 2 * TEMP_GRACE;
        for f in [&dead, &live] {
            std::fs::File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        remove_abandoned_temps(dir.path());
        assert!(!dead.exists() && live.exists());
        // Only a regular file is ever replaced.
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            let err = write_atomically(&link, |w| w.write_all(b"x")).unwrap_err();
            assert!(err.to_string().contains("is a symlink"), "{err}");
            let err = write_atomically(Path::new("/dev/null"), |w| w.write_all(b"x")).unwrap_err();
            assert!(err.to_string().contains("is a device"), "{err}");
            assert!(Path::new("/dev/null").exists());
        }
        // A missing folder is created.
        write_atomically(&dir.path().join("a/b/c.txt"), |w| w.write_all(b"x")).unwrap();
        assert_eq!(std::fs::read(dir.path().join("a/b/c.txt")).unwrap(), b"x");
    }
}

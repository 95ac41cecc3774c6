//! Advisory file locks (`flock`): held while the process lives and released by the kernel when
//! it dies, whatever PID namespace or container it ran in. A run's staging folder is "abandoned"
//! exactly when nobody holds its lock any more; `/proc/<pid>` cannot tell that across containers
//! sharing a volume.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

/// An exclusive lock on an open file, released when dropped (or when the process dies).
pub struct FileLock {
    // Held only for its lock: closing the file releases it.
    _file: File,
}

/// Takes an exclusive lock on `file` without waiting: `Ok(None)` when another process holds
/// it (std's file locks: `flock` on Unix, `LockFileEx` on Windows).
fn take(file: File) -> std::io::Result<Option<FileLock>> {
    match file.try_lock() {
        Ok(()) => Ok(Some(FileLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Opens the existing file `path` and takes an exclusive lock without waiting: `Ok(None)` when
/// another process holds it.
pub fn try_lock(path: &Path) -> std::io::Result<Option<FileLock>> {
    take(open_lock_file(path)?)
}

/// Takes an exclusive lock on the folder `dir` itself (no lock file is left behind), waiting at
/// most `patience` for another holder to let go: a commit takes milliseconds, so a lock held
/// longer belongs to a stuck process.
pub fn lock_folder_within(dir: &Path, patience: Duration) -> std::io::Result<Option<FileLock>> {
    let until = Instant::now() + patience;
    loop {
        if let Some(held) = take(File::open(dir)?)? {
            return Ok(Some(held));
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Locks the already open `file` (just created by the caller, so nobody else holds it).
pub fn lock_open(file: File) -> std::io::Result<FileLock> {
    take(file)?
        .ok_or_else(|| std::io::Error::other("a file just created is locked by another process"))
}

fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let open = |write: bool| {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(write);
        #[cfg(unix)]
        {
            // A FIFO planted under the lock's name must not block the open, nor a link lead
            // elsewhere.
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
        }
        options.open(path)
    };
    // NFS emulates `flock` with POSIX locks, whose exclusive kind needs a writable descriptor;
    // another user sharing the folder may only read the file, which a local `flock` allows.
    let file = match open(true) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => open(false)?,
        other => other?,
    };
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a lock file must be a regular file",
        ));
    }
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_excludes_and_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.lock");
        std::fs::write(&path, "").unwrap();
        let held = try_lock(&path).unwrap().expect("free");
        // flock locks belong to open file descriptions: a second open is a second contender.
        assert!(try_lock(&path).unwrap().is_none());
        drop(held);
        assert!(try_lock(&path).unwrap().is_some());
        let folder = lock_folder_within(dir.path(), Duration::ZERO).unwrap();
        assert!(folder.is_some());
        assert!(lock_folder_within(dir.path(), Duration::from_millis(50))
            .unwrap()
            .is_none());
        // A FIFO under the lock's name is refused at once, never waited on.
        let fifo = dir.path().join("f.lock");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(try_lock(&fifo).is_err());
    }
}

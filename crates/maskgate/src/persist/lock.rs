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

/// Opens the existing file `path` and takes an exclusive lock without waiting: `Ok(None)` when
/// another process holds it.
pub fn try_lock(path: &Path) -> std::io::Result<Option<FileLock>> {
    let file = open_lock_file(path)?;
    match flock(&file)? {
        true => Ok(Some(FileLock { _file: file })),
        false => Ok(None),
    }
}

/// Takes an exclusive lock on the folder `dir` itself (no lock file is left behind), waiting at
/// most `patience` for another holder to let go: a commit takes milliseconds, so a lock held
/// longer belongs to a stuck process.
pub fn lock_folder_within(dir: &Path, patience: Duration) -> std::io::Result<Option<FileLock>> {
    let file = File::open(dir)?;
    let until = Instant::now() + patience;
    loop {
        if flock(&file)? {
            return Ok(Some(FileLock { _file: file }));
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Locks the already open `file` (created by the caller) without waiting.
pub fn lock_open(file: File) -> std::io::Result<Option<FileLock>> {
    match flock(&file)? {
        true => Ok(Some(FileLock { _file: file })),
        false => Ok(None),
    }
}

fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    // Read access is all `flock` needs: another user sharing the folder can test the lock of
    // a lock file it may not write.
    options.read(true);
    #[cfg(unix)]
    {
        // A FIFO planted under the lock's name must not block the open.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc_flags::O_NONBLOCK | libc_flags::O_NOFOLLOW);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a lock file must be a regular file",
        ));
    }
    Ok(file)
}

#[cfg(unix)]
mod libc_flags {
    #[cfg(target_os = "linux")]
    pub const O_NONBLOCK: i32 = libc::O_NONBLOCK;
    #[cfg(target_os = "linux")]
    pub const O_NOFOLLOW: i32 = libc::O_NOFOLLOW;
    #[cfg(not(target_os = "linux"))]
    pub const O_NONBLOCK: i32 = 0;
    #[cfg(not(target_os = "linux"))]
    pub const O_NOFOLLOW: i32 = 0;
}

/// `flock(LOCK_EX | LOCK_NB)`: whether the lock was taken.
#[cfg(target_os = "linux")]
fn flock(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Ok(false),
        Some(libc::EINTR) => Ok(false),
        _ => Err(err),
    }
}

/// Without `flock` every lock is taken: nothing of another run is ever judged abandoned by a
/// lock here, and callers that remove folders check [`supported`] first.
#[cfg(not(target_os = "linux"))]
fn flock(_: &File) -> std::io::Result<bool> {
    Ok(true)
}

/// Whether locks really exclude other processes on this OS.
pub const fn supported() -> bool {
    cfg!(target_os = "linux")
}

#[cfg(all(test, target_os = "linux"))]
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

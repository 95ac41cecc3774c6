//! Typed errors of the library. Each names the file (and line) or the setting it concerns;
//! per-sample problems are not errors but [`crate::model::FailReason`]s.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The OS error is part of the message, not a `source`: a caller printing the chain
    /// would otherwise say it twice. Paths are clipped ([`crate::fmt::clip`]).
    #[error("{}: {error}", crate::fmt::clip_path(path))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}:{line}: {message}", crate::fmt::clip_path(path))]
    Input {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: {message}", crate::fmt::clip_path(path))]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
    /// A failure that may pass on a retry (missing shards, an unreachable store).
    #[error("{0}")]
    Retryable(String),
}

/// The exit statuses of the command line, declared once: `maskgate --help`, the tables in the
/// README and in docs/src/scoring.md (checked by a test) and [`Error::exit_status`] read this.
pub const EXIT_STATUSES: [(u8, &str); 4] = [
    (
        0,
        "go, or a run without criteria, or a shard committed (and every arm scored a sample)",
    ),
    (1, "no-go or inconclusive (and every arm scored a sample)"),
    (
        2,
        "an arm scored no sample (its reports are written, for the record); or an error a retry cannot cure: a bad setting, input, model or plan; a missing or forbidden file; a store answering 4xx; out of memory on an input",
    ),
    (
        3,
        "an error a retry may cure: a server or store unreachable, timed out or throttling; storage full; an interrupted transfer; shards still missing at a merge",
    ),
];

/// [`EXIT_STATUSES`] as the README's and the manual's Markdown table.
pub fn exit_status_table() -> String {
    let mut t = String::from("| exit | meaning |\n|---|---|\n");
    for (status, meaning) in EXIT_STATUSES {
        t.push_str(&format!("| {status} | {meaning} |\n"));
    }
    t
}

pub const EXIT_ERROR: u8 = 2;
pub const EXIT_RETRYABLE: u8 = 3;

impl Error {
    /// Whether running the same command again may succeed: a transfer cut short, a server or
    /// storage that is unreachable, slow or full, shards still to come. Everything else (a bad
    /// plan, input or model, and any I/O failure not known to be transient) is permanent, so
    /// an engine's retry policy never repeats a run that must fail the same way.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Retryable(_) => true,
            Error::Io { error, .. } => io_is_transient(error),
            _ => false,
        }
    }

    /// The exit status this error maps to (see [`EXIT_STATUSES`]).
    pub fn exit_status(&self) -> u8 {
        if self.is_retryable() {
            EXIT_RETRYABLE
        } else {
            EXIT_ERROR
        }
    }

    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            error,
        }
    }
    pub fn input(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Error {
        Error::Input {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::File {
            path: path.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The I/O failures a retry may cure: the network and the storage's capacity, never the input.
pub fn io_is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        error.kind(),
        K::Interrupted
            | K::TimedOut
            | K::WouldBlock
            | K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::AddrNotAvailable
            | K::NetworkDown
            | K::NetworkUnreachable
            | K::HostUnreachable
            | K::StorageFull
            | K::QuotaExceeded
            | K::ResourceBusy
            | K::StaleNetworkFileHandle
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::ErrorKind as K;

    /// The README's table and the manual's are this table, so they cannot drift from the code.
    #[test]
    fn the_readme_and_the_manual_state_the_exit_statuses() {
        for doc in ["README.md", "docs/src/scoring.md"] {
            let text = std::fs::read_to_string(crate::repo_file(doc)).unwrap();
            let start = "<!-- exit-statuses: generated from maskgate::error::EXIT_STATUSES -->\n";
            let from = text.find(start).expect("the exit-status marker") + start.len();
            let to = from + text[from..].find("<!-- /exit-statuses -->").unwrap();
            assert_eq!(text[from..to], exit_status_table(), "{doc}");
        }
    }

    /// Every kind of error the library returns maps to the status the table gives it.
    #[test]
    fn every_error_kind_maps_to_its_documented_status() {
        let io = |k: K| Error::io("x", std::io::Error::from(k));
        let cases: Vec<(Error, u8)> = vec![
            (Error::Usage("bad setting".into()), 2),
            (Error::input("x", 1, "bad line"), 2),
            (Error::file("x", "bad file"), 2),
            (Error::Retryable("store unreachable".into()), 3),
            (io(K::NotFound), 2),
            (io(K::PermissionDenied), 2),
            (io(K::InvalidData), 2),
            (io(K::OutOfMemory), 2),
            (io(K::InvalidFilename), 2),
            (io(K::CrossesDevices), 2),
            (io(K::AlreadyExists), 2),
            (io(K::ReadOnlyFilesystem), 2),
            (io(K::UnexpectedEof), 2),
            (io(K::Other), 2),
            (io(K::TimedOut), 3),
            (io(K::ConnectionRefused), 3),
            (io(K::ConnectionReset), 3),
            (io(K::HostUnreachable), 3),
            (io(K::NetworkUnreachable), 3),
            (io(K::StorageFull), 3),
            (io(K::Interrupted), 3),
            // EIO: /proc/self/mem gives it every time; a retry policy must not loop on it.
            (Error::io("x", std::io::Error::from_raw_os_error(5)), 2),
            (Error::io("x", std::io::Error::from_raw_os_error(28)), 3), // ENOSPC
        ];
        for (e, status) in cases {
            assert_eq!(e.exit_status(), status, "{e:?}");
            assert!(EXIT_STATUSES.iter().any(|(s, _)| *s == status));
        }
    }
}

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

impl Error {
    /// Whether running the same command again may succeed: an interrupted or failed transfer,
    /// storage that is full or unreachable, shards still to come. A bad plan, input or model
    /// is permanent.
    pub fn is_retryable(&self) -> bool {
        use std::io::ErrorKind as K;
        match self {
            Error::Retryable(_) => true,
            Error::Io { error, .. } => !matches!(
                error.kind(),
                K::NotFound
                    | K::PermissionDenied
                    | K::InvalidInput
                    | K::InvalidData
                    | K::IsADirectory
                    | K::NotADirectory
                    | K::InvalidFilename
                    | K::AlreadyExists
                    | K::Unsupported
                    | K::UnexpectedEof
            ),
            _ => false,
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

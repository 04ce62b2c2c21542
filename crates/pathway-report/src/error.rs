//! Errors raised while writing or reading reports.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be written or read.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// `write`, `read` or `replace`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A CSV file is malformed (for example a hand-edited history.csv).
    #[error("`{path}`: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        message: String,
    },
    /// Serialising JSON or CSV failed (a bug).
    #[error("cannot serialise report: {0}")]
    Serialise(String),
}

//! Errors raised while loading an audit definition.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an audit definition could not be loaded. Each variant names the file to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The audit folder or one of its files could not be read.
    #[error("audit `{audit}`: cannot read `{path}`: {source}")]
    Read {
        /// Audit name (folder name).
        audit: String,
        /// File or folder that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// `audit.toml` is not valid TOML or does not fit the schema; the message carries line and column.
    #[error("audit `{audit}`: {path}: {message}")]
    Toml {
        /// Audit name.
        audit: String,
        /// Path of audit.toml.
        path: PathBuf,
        /// The parser's message, with line, column and a snippet.
        message: String,
    },
    /// The definition parses but is inconsistent (a missing SQL file, an empty key, ...).
    #[error("audit `{audit}`: {path}: {message}")]
    Invalid {
        /// Audit name.
        audit: String,
        /// The file the problem is in (or should be in).
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
}

//! Errors raised while reading district input.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why input could not be read. Row-level problems are not errors: they become rejections.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A folder or file could not be read at all.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// What failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// A Parquet input is corrupt or unreadable.
    #[error("cannot read Parquet file `{path}`: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// Underlying Parquet error.
        source: datafusion::parquet::errors::ParquetError,
    },
    /// Several files of one input disagree on a column's type.
    #[error("input `{input}`: column `{column}` is {first} in one file and {other} in `{path}`")]
    ConflictingTypes {
        /// Raw input name.
        input: String,
        /// Column name.
        column: String,
        /// Type seen first.
        first: String,
        /// Conflicting type.
        other: String,
        /// File with the conflicting type.
        path: PathBuf,
    },
    /// Building Arrow arrays failed (a bug rather than bad input).
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
}

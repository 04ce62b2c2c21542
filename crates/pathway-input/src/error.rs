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
    /// A compressed file that does not decompress to its end.
    #[error("`{file}` is corrupt or truncated {compression} data: {reason}")]
    Decompress {
        /// The file, as shown to the user.
        file: String,
        /// `gzip`, `zstd`, `bzip2` or `xz`.
        compression: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// A compressed file that decompresses to more than the limit (a decompression bomb, or a
    /// limit set too low).
    #[error(
        "`{file}` is {compression} data that decompresses to more than {limit} bytes, {why}: not read"
    )]
    TooLarge {
        /// The file, as shown to the user.
        file: String,
        /// `gzip`, `zstd`, `bzip2` or `xz`.
        compression: &'static str,
        /// The most bytes it was allowed.
        limit: u64,
        /// Where that limit comes from.
        why: String,
    },
    /// A setting from the environment that cannot be used.
    #[error("{0}")]
    Setting(String),
    /// A file whose name says it is compressed, but whose bytes are not.
    #[error("`{file}` is named as {compression}-compressed but does not hold {compression} data")]
    NotCompressed {
        /// The file, as shown to the user.
        file: String,
        /// The format its name announces.
        compression: &'static str,
    },
    /// A compressed file matched by a Parquet input: Parquet compresses inside the file.
    #[error(
        "`{file}` is {compression}-compressed, and compressed Parquet is not supported: send the .parquet file"
    )]
    CompressedParquet {
        /// The file, as shown to the user.
        file: String,
        /// The format its name announces.
        compression: &'static str,
    },
    /// A file that holds no table at all (empty, blank lines only, not text): a table needs at
    /// least a header row.
    #[error("`{file}` {reason}")]
    NoTable {
        /// The file, as shown to the user.
        file: String,
        /// What it holds instead (`is empty: no header row`).
        reason: String,
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
    /// The Parquet copy of a text file ([`crate::stage_table_file`]) could not be written.
    #[error("cannot write `{path}`, the Parquet copy of `{file}`: {source}")]
    Stage {
        /// The text file, as shown to the user.
        file: String,
        /// The copy.
        path: PathBuf,
        /// Underlying Parquet error.
        source: datafusion::parquet::errors::ParquetError,
    },
    /// Building Arrow arrays failed (a bug rather than bad input).
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
}

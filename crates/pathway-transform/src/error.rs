//! Errors raised by a transform.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why one side of one table failed for one district.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SQL is wrong (syntax, unknown table or column): the user's transform needs fixing.
    #[error("{side} transform `{path}` failed for district {district}: {message}")]
    Sql {
        /// `legacy` or `beta`.
        side: String,
        /// The SQL file.
        path: PathBuf,
        /// District id.
        district: String,
        /// DataFusion's message.
        message: String,
    },
    /// The transform ran but failed on the data (a cast that does not fit, division by zero...).
    #[error("{side} transform `{path}` failed on the data of district {district}: {message}")]
    Execution {
        /// `legacy` or `beta`.
        side: String,
        /// The SQL file.
        path: PathBuf,
        /// District id.
        district: String,
        /// DataFusion's message with quoted values redacted: data errors quote the offending
        /// value, which may be a student's.
        message: String,
    },
    /// A command side failed: it could not start, exited non-zero, ran too long, or wrote no or
    /// malformed output.
    #[error("{side} command of table `{table}` failed for district {district}: {message}")]
    Command {
        /// `legacy` or `beta`.
        side: String,
        /// Output table.
        table: String,
        /// District id.
        district: String,
        /// What happened (exit status, time, the last stderr line with quoted text redacted).
        message: String,
    },
    /// A database side could not be read for this district.
    #[error(
        "{side} side of table `{table}` from {origin} failed for district {district}: {message}"
    )]
    Database {
        /// `legacy` or `beta`.
        side: String,
        /// Output table.
        table: String,
        /// District id.
        district: String,
        /// The database (URL redacted) and the table or query.
        origin: String,
        /// What happened, with quoted values redacted.
        message: String,
    },
    /// An input the table reads could not be read in this district (an unreadable, corrupt or
    /// mislabelled file): the table is not transformed.
    #[error("{message}")]
    Input {
        /// Output table.
        table: String,
        /// District id.
        district: String,
        /// Which input, and why (the file is named).
        message: String,
    },
    /// An input the table reads gave no row in this district (no file matches its glob, or its
    /// files hold no data row): the table is not transformed, and its verdict is NO INPUT.
    #[error("{message}")]
    NoInput {
        /// Output table.
        table: String,
        /// District id.
        district: String,
        /// Which inputs, and why (`` no file matches `grades*.csv` in district 101 ``).
        message: String,
    },
    /// Registering the district's raw tables failed.
    #[error("district {district}: cannot register input `{input}`: {source}")]
    Register {
        /// District id.
        district: String,
        /// Raw input name.
        input: String,
        /// DataFusion's error.
        source: DataFusionError,
    },
    /// Writing the output Parquet failed.
    #[error("cannot write `{path}`: {message}")]
    Write {
        /// File being written.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

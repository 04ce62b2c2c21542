//! Errors raised by the diff engine.

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why two tables could not be diffed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key column is absent from one or both sides.
    #[error(
        "table `{table}`: key column `{column}` is missing from {sides} (columns there: {available})"
    )]
    MissingKey {
        /// Table being diffed.
        table: String,
        /// The key column.
        column: String,
        /// `legacy`, `beta` or `legacy and beta`.
        sides: String,
        /// Columns that do exist, to spot a typo.
        available: String,
    },
    /// The group column (`--by`) is absent from one side.
    #[error("table `{table}`: group column `{column}` is missing from {side}")]
    MissingGroup {
        /// Table being diffed.
        table: String,
        /// The group column.
        column: String,
        /// Which side lacks it.
        side: String,
    },
    /// A column named in the spec (ignored, renamed) does not exist on a side.
    #[error(
        "table `{table}`: column `{column}` named in {option} does not exist on the {side} side (columns there: {available})"
    )]
    UnknownColumn {
        /// Table being diffed.
        table: String,
        /// The column.
        column: String,
        /// Which option named it.
        option: &'static str,
        /// `legacy` or `beta`.
        side: &'static str,
        /// Columns that do exist.
        available: String,
    },
    /// Options that cannot go together, or that the table cannot take.
    #[error("table `{table}`: {message}")]
    Options {
        /// Table.
        table: String,
        /// What is wrong.
        message: String,
    },
    /// Two options give one column roles that cannot go together (a key column that is also
    /// ignored, say).
    #[error("table `{table}`: column `{column}` {conflict}")]
    Conflict {
        /// Table being diffed.
        table: String,
        /// The column.
        column: String,
        /// What clashes, and what to do about it.
        conflict: &'static str,
    },
    /// A `cast` rule names a type a column's values cannot be cast to.
    #[error(
        "table `{table}`: column `{column}` cannot be cast to {cast}: it is {from} on the {side} side"
    )]
    BadCast {
        /// Table being diffed.
        table: String,
        /// The column.
        column: String,
        /// `legacy` or `beta`.
        side: &'static str,
        /// Its type there.
        from: String,
        /// The cast rule.
        cast: String,
    },
    /// A query failed inside DataFusion.
    #[error("table `{table}`: {step}: {source}")]
    Query {
        /// Table being diffed.
        table: String,
        /// What the query was for.
        step: &'static str,
        /// DataFusion's error.
        source: datafusion::error::DataFusionError,
    },
    /// Writing the row diff failed.
    #[error("table `{table}`: cannot prepare `{path}`: {source}")]
    Io {
        /// Table being diffed.
        table: String,
        /// The path.
        path: std::path::PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

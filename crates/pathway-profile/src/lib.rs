//! Column profiles and root-cause hints. Profiles: per table, district and side, the aggregates of each column (rows, nulls,
//! empty strings, distinct values, min, max, sum, mean, top values), side by side with their
//! delta. They need no key, so they describe keyless tables and tables whose key is broken, and
//! they are read before any row: a `last_name` column with 40 more nulls in beta says more, and
//! sooner, than 40 changed rows.
//!
//! Each side is read once ([`profile_table`]): DataFusion reads the files, and one pass in Rust
//! over its batches measures every column of every district; this crate then pairs the two
//! sides and formats the deltas. Columns marked personal get counts only (rows, nulls,
//! distinct), never a value.
//!
//! Hints ([`explain_table`]): the values of low-cardinality columns over-represented among a
//! finding's rows (changed in a column, missing in beta, extra in beta) against the district's
//! rows, from a night's row diff and outputs.
//!
//! ```no_run
//! # async fn example(ctx: &datafusion::prelude::SessionContext) -> pathway_profile::Result<()> {
//! let spec = pathway_profile::ProfileSpec {
//!     table: "students".into(),
//!     group_by: Some("district_id".into()),
//!     pii: vec!["last_name".into()],
//!     ..pathway_profile::ProfileSpec::default()
//! };
//! // `legacy` and `beta` are tables registered in `ctx`.
//! let rows = pathway_profile::profile_table(ctx, ["legacy", "beta"], &spec).await?;
//! print!("{}", pathway_profile::profile_csv(&pathway_profile::ranked(rows))?);
//! # Ok(())
//! # }
//! ```

mod hints;
mod measure;
mod parquet_file;
mod query;
mod scan;

use serde::{Deserialize, Serialize};

pub use hints::{
    HINT_HEADER, HINTS_PER_FINDING, Hint, HintSpec, MIN_AFFECTED_ROWS, MIN_LIFT,
    MIN_SHARE_OF_AFFECTED, MIN_SUPPORT, explain_table, hints_csv,
};
pub use measure::{Measure, ranked, relative_delta};
pub use parquet_file::{profile_parquet, read_profile_parquet};
pub use query::profile_table;

/// Distinct values are counted exactly up to this many per district and column; above it the
/// count is a `HyperLogLog` estimate, written `~N`.
pub const EXACT_DISTINCT_UP_TO: u64 = 10_000;

/// A column with at most this many distinct values in a district (on both sides) is of low
/// cardinality: its top values are listed.
pub const LOW_CARDINALITY: u64 = 50;

/// How many of a low-cardinality column's values `top` lists.
pub const TOP_VALUES: usize = 5;

/// What to profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileSpec {
    /// Table name, for the rows and messages.
    pub table: String,
    /// The group column (`district_id`); `None` makes the whole table one group named `*`.
    pub group_by: Option<String>,
    /// Personal columns: counts only, never values.
    pub pii: Vec<String>,
    /// Columns not profiled (the audit's ignored columns).
    pub ignore: Vec<String>,
    /// Columns of beta profiled under a legacy name: (legacy name, beta name).
    pub rename: Vec<(String, String)>,
    /// Groups left out (districts carried over, whose profiles are the previous night's).
    pub skip_groups: Vec<String>,
    /// Groups known to hold the same rows as written on both sides (see
    /// `pathway_diff::TableDiff::same_rows`): measured on the legacy side only, whose measures
    /// the beta side then has too.
    pub same_rows: Vec<String>,
}

/// One measure of one column in one district, both sides: a line of `pathway profile --format
/// csv` and of profile.parquet. The field order is the CSV header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRow {
    /// Output table.
    pub table: String,
    /// District id (`*` for an ungrouped table).
    pub district_id: String,
    /// Column (by its legacy name); empty for the `rows` measure, which is the table's.
    pub column: String,
    /// `rows`, `nulls`, `empty`, `distinct`, `min`, `max`, `sum`, `mean` or `top`.
    pub measure: String,
    /// The legacy side's value; empty when the side has no such column or no rows.
    pub legacy: Option<String>,
    /// The beta side's value.
    pub beta: Option<String>,
    /// Beta minus legacy for numbers (`+3`, `-0.25`, `0`; `~+3` when a count is an estimate),
    /// `changed` for other values that differ, empty for other values that are equal and when
    /// a side has no value.
    pub delta: Option<String>,
}

/// The CSV header, written even when there are no rows.
pub const PROFILE_HEADER: &str = "table,district_id,column,measure,legacy,beta,delta";

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A profile query failed.
    #[error("profiling table `{table}` ({side} side): {source}")]
    Query {
        /// Table.
        table: String,
        /// `legacy` or `beta`.
        side: &'static str,
        /// What DataFusion said.
        #[source]
        source: datafusion::error::DataFusionError,
    },
    /// profile.parquet could not be written or read.
    #[error("profile.parquet: {0}")]
    File(String),
}

/// This crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `rows` as CSV with [`PROFILE_HEADER`].
///
/// # Errors
/// Only on a serialisation bug.
pub fn profile_csv(rows: &[ProfileRow]) -> Result<String> {
    to_csv(rows, PROFILE_HEADER)
}

/// `rows` as CSV under `header`, which is written even when there are no rows.
fn to_csv<T: Serialize>(rows: &[T], header: &str) -> Result<String> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .map_err(|e| Error::File(e.to_string()))?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| Error::File(e.to_string()))?;
    Ok(format!("{header}\n{}", String::from_utf8_lossy(&body)))
}

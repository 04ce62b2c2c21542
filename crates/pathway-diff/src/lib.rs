//! The diff engine: legacy vs beta, per district, as DataFusion queries.
//!
//! Given two tables registered in a DataFusion [`SessionContext`](datafusion::prelude::SessionContext)
//! and a [`DiffSpec`] (key columns, ignored columns, the group column, usually `district_id`),
//! [`diff_tables`] computes for every group:
//!
//! - row counts and duplicate keys per side,
//! - rows missing in beta, extra in beta, changed, and rows under duplicated keys,
//! - per column, how many matched rows differ, with one example pair,
//! - whether both sides hold the same multiset of rows (the FULL MATCH verdict),
//! - what kind of difference each changed cell is ([`classify`]), counted per district,
//!   column and category,
//!
//! and writes the row diff (one row per differing row) as Hive-partitioned Parquet. Everything is
//! SQL run by DataFusion; the SQL is built in [`plan`] with every identifier quoted and every
//! literal escaped.
//!
//! ```no_run
//! # async fn demo(ctx: &datafusion::prelude::SessionContext) -> pathway_diff::Result<()> {
//! let spec = pathway_diff::DiffSpec::new("students", vec!["student_id".into()])
//!     .with_group_by(Some("district_id".into()));
//! let diff = pathway_diff::diff_tables(ctx, "legacy_students", "beta_students", &spec,
//!     std::path::Path::new("runs/2026-11-21/row_diff/students")).await?;
//! for group in &diff.groups {
//!     println!("{} {}", group.group, group.status(&diff.schema).as_str());
//! }
//! # Ok(()) }
//! ```

mod cap;
pub mod classify;
mod columns;
mod engine;
mod error;
pub mod fingerprint;
mod model;
mod pairing;
mod picked;
pub mod plan;
mod session;
mod triage;
mod udf;

pub use engine::diff_tables;
pub use pathway_hash::{Footprint, footprint_columns};

/// Every SQL function the diff's queries call (row hash, classification, date shift), for a
/// session the engine does not create itself, such as a Ballista scheduler's or executor's.
#[must_use]
pub fn scalar_functions() -> Vec<datafusion::logical_expr::ScalarUDF> {
    let mut functions = udf::functions();
    functions.push(fingerprint::row_hash_udf());
    functions
}

/// Every aggregate function the diff's queries call (the fingerprint).
#[must_use]
pub fn aggregate_functions() -> Vec<datafusion::logical_expr::AggregateUDF> {
    vec![fingerprint::fingerprint_udaf()]
}
pub use error::{Error, Result};
pub use model::{
    CategoryCount, Cells, ColumnDiff, ColumnRules, DEFAULT_CHUNK_ROWS, DiffSpec, GroupDiff,
    GroupFootprints, MatchScore, RuleHidden, SchemaDiff, Status, TableDiff, TypeChange,
};
pub use session::{
    DEFAULT_MEMORY_LIMIT, EngineSettings, parse_size, reading_session, session_context,
    without_file_statistics,
};

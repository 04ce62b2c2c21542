//! Running the legacy and beta transforms of one district and writing their output as Parquet.
//!
//! Each district gets its own DataFusion [`SessionContext`](datafusion::prelude::SessionContext)
//! with its raw input tables registered under their audit names. Every output table's SQL runs
//! once per side, and its result streams to
//! `<out>/<side>/<table>/district_id=<id>/part-0.parquet`, a Hive-partitioned layout that DuckDB,
//! pyarrow, Spark and Athena read as-is. A failing transform is reported for that table, side and
//! district only; the caller decides what the district's status becomes.
//!
//! ```no_run
//! # async fn demo(audit: &pathway_audit::AuditSpec, input: &pathway_input::DistrictInput) {
//! let outcomes = pathway_transform::run_district(audit, input, std::path::Path::new("runs/tmp")).await;
//! for outcome in outcomes {
//!     match outcome.result {
//!         Ok(written) => println!("{} {}: {} rows", outcome.table, outcome.side, written.rows),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # }
//! ```

mod error;
mod parquet_out;
mod run;

pub use error::{Error, Result};
pub use parquet_out::{StreamError, output_file, write_stream};
pub use run::{Outcome, Written, district_context, run_district};

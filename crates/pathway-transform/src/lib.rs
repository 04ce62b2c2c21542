//! Running the legacy and beta transforms of one district and writing their output as Parquet.
//!
//! Each district gets its own DataFusion [`SessionContext`](datafusion::prelude::SessionContext)
//! with its raw input tables registered under their audit names. Every output table's SQL runs
//! once per side, and its result streams to
//! `<out>/<side>/<table>/district_id=<id>/part-0.parquet`, a Hive-partitioned layout that `DuckDB`,
//! pyarrow, Spark and Athena read as-is. A failing transform is reported for that table, side and
//! district only; the caller decides what the district's status becomes.
//!
//! A side may instead be an external program (a legacy job run as it is, see [`run_command`]):
//! it runs once per district with a time limit, and the file it writes becomes that side's table.
//! A side may also be rows of a database table or query ([`snapshot_district`]), copied per
//! district into the same Parquet layout. When the audit has a code map, SQL transforms can call `map_code(code_set, school_year, code)`
//! and join the `code_map` table; what the function found is counted per transform.
//!
//! A table is not transformed in a district where an input it reads ([`TableInputs`]) could not
//! be read ([`Error::Input`]) or gave no row ([`Error::NoInput`]): computed from nothing, two
//! empty sides would agree.
//!
//! ```no_run
//! # async fn demo(audit: &pathway_audit::AuditSpec, input: &pathway_input::DistrictInput) {
//! let databases = pathway_transform::DatabaseTables::new(); // an audit without database sides
//! let reads = pathway_transform::TableInputs::of(audit); // once per run
//! let run_dir = std::path::Path::new("runs/tmp");
//! let outcomes = pathway_transform::run_district(audit, &reads, input, run_dir, &databases, &Default::default()).await;
//! for outcome in outcomes {
//!     match outcome.result {
//!         Ok(written) => println!("{} {}: {} rows", outcome.table, outcome.side, written.rows),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # }
//! ```

mod code_map;
mod command;
mod error;
mod inputs;
mod parquet_out;
mod plan_outputs;
mod run;
mod snapshot;

pub use code_map::{CODE_MAP_TABLE, CodeMapStats, CodeMapUse, MAP_CODE, register_code_map};
pub use command::{CommandFailure, CommandRun, command_folder, run_command};
pub use error::{Error, Result};
pub use inputs::{Blocked, InputsRead, TableInputs};
pub use parquet_out::{FootprintOf, StreamError, create_private, output_file, write_stream};
pub use plan_outputs::{PlannedSide, plan_outputs};
pub use run::{Outcome, Written, district_context, run_district};
pub use snapshot::{DatabaseTables, snapshot_district};

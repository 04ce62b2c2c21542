//! Reading a night's district files into Arrow, accounting for every row.
//!
//! The input folder holds one sub-folder per district (`<input>/<district_id>/...`). For each raw
//! input table of the audit, [`read_district`] reads the district's files that match the input's
//! glob: delimited text (comma, tab, pipe, semicolon; UTF-8 with or without BOM or Windows-1252) or
//! Parquet. Text columns are kept as text, exactly as the district sent them: casting is the
//! transforms' job, so that the legacy quirks stay visible.
//!
//! Every data line ends up either loaded or in [`Rejection`]s with its file, line and reason, and
//! each [`FileRead`] carries `rows_read = rows_loaded + rows_rejected`. Personal columns of a
//! rejected record are masked before the record is kept.
//!
//! ```no_run
//! # use std::path::Path;
//! let audit = pathway_audit::AuditSpec::load(Path::new("audits/example")).unwrap();
//! for district in pathway_input::list_districts(Path::new("fixtures/districts")).unwrap().districts {
//!     let input = pathway_input::read_district(&audit, Path::new("fixtures/districts"), &district,
//!         &pathway_mask::Masker::without_key()).unwrap();
//!     println!("{district}: {} rejected rows", input.rejections.len());
//! }
//! ```

mod delimited;
mod district;
mod error;
mod json_lines;
mod output_file;
mod parquet_file;

pub use delimited::{ParsedText, parse_delimited};
pub use district::{
    DistrictInput, DistrictList, FileRead, RawTable, Rejection, list_districts, read_district,
    valid_district_id,
};
pub use error::{Error, Result};
pub use json_lines::{ParsedJsonLines, parse_json_lines};
pub use output_file::{OutputError, read_output_file};

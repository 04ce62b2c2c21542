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
//! Text files compressed with gzip, zstd, bzip2 or xz are decompressed first ([`Compression`]),
//! up to a limit that stops decompression bombs ([`DecompressedLimit`]); `students*.csv` matches
//! `students.csv.gz`. Nothing arrives unseen: files no input's glob
//! matches are listed ([`DistrictInput::unread`]), and an input with no file, or whose files
//! loaded no row, is named with the reason ([`DistrictInput::absent`], [`NoRows`]).
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

mod compression;
mod delimited;
mod district;
mod error;
mod json_lines;
mod no_rows;
mod output_file;
mod parquet_file;
mod table_file;
mod text_columns;

pub use compression::{
    Compression, DecompressedLimit, MAX_DECOMPRESSED_ENV, decompress, decompress_within,
    read_decompressed, strip_compression_suffix,
};
pub use delimited::{ParsedText, ScannedText, parse_delimited, scan_delimited};
pub use district::{
    DistrictInput, DistrictList, FileRead, RawTable, Rejection, list_districts, read_district,
    valid_district_id,
};
pub use error::{Error, Result};
pub use json_lines::{ParsedJsonLines, parse_json_lines};
pub use no_rows::NoRows;
pub use output_file::{OutputError, read_output_file};
pub use table_file::{StagedTable, TableFile, read_table_file, stage_table_file};

//! Rendering diff results for people and tools: CSV, JSON, history, terminal tables.
//!
//! This crate turns the plain results of `pathway-diff` into the files team leads and schedulers
//! read ([`SummaryRow`] → `summary.csv` and `history.csv`, [`ColumnDiffRow`] → `column_diff.csv`,
//! [`RunReport`] → `summary.json`) and into comfy-table tables for the terminal. It knows nothing
//! about DataFusion. Personal-data columns are masked here (with a [`Masker`]), on the way out, so no
//! report can forget to.
//!
//! ```
//! use pathway_report::{SummaryRow, summary_csv};
//! let row = SummaryRow { audit_date: "2026-11-21".into(), table: "students".into(),
//!     district_id: "101".into(), status: pathway_report::Status::FullMatch, ..SummaryRow::default() };
//! let csv = summary_csv(&[row]).unwrap();
//! assert!(csv.starts_with("audit_date,table,district_id,status,legacy_rows"));
//! ```

mod changes;
mod csv_files;
mod error;
mod history;
mod html;
mod json;
mod rows;
mod terminal;
mod write;

pub use changes::{
    DistrictChange, DistrictChangeRow, PatternChange, district_change, district_changes,
    pattern_change, verdict_change,
};
pub use csv_files::{
    categories_csv, code_mapping_csv, column_diff_csv, read_categories_csv, read_summary_csv,
    summary_csv,
};
pub use error::{Error, Result};
pub use history::{HistoryCount, full_match_counts, read_history, update_history};
pub use html::{HtmlReport, TextTable, render_html};
pub use json::{
    CodeMappingRow, DatabaseSource, DistrictError, KeyWarning, MetricRow, RunReport, SideRows,
    TableInfo,
};
/// The verdict each summary row carries.
pub use pathway_diff::{MatchScore, Status};
/// The accounting of one input file (summary.json's `input_files`).
pub use pathway_input::FileRead;
pub use pathway_mask::Masker;
pub use rows::{
    CategoryRow, ColumnDiffRow, RuleHiddenRow, SummaryRow, category_rows, rows_for_table,
    rule_hidden_rows,
};
pub use terminal::{history_table, mismatch_table, rule_hidden_lines, status_table};
pub use write::atomic_write;

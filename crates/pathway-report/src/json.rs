//! summary.json: the summary plus run metadata, for tools.

use std::collections::BTreeMap;

use pathway_diff::SchemaDiff;
use pathway_input::FileRead;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rows::{CategoryRow, ColumnDiffRow, RuleHiddenRow, SummaryRow};

/// Rows each side produced, per table (summed over districts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SideRows {
    /// Legacy rows per table.
    pub legacy: BTreeMap<String, u64>,
    /// Beta rows per table.
    pub beta: BTreeMap<String, u64>,
}

/// Why a district is ERROR for a table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DistrictError {
    /// Output table (`*` when reading the district failed before any table).
    pub table: String,
    /// District id.
    pub district_id: String,
    /// `legacy`, `beta` or `input`.
    pub stage: String,
    /// The message.
    pub message: String,
}

/// A table whose key has nulls or duplicates in a district: every row under such a key is a
/// difference, so the team should know before reading the counts (`pathway keys` finds the keys
/// the data has).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyWarning {
    /// Output table.
    pub table: String,
    /// The key, column names joined by `+`.
    pub key: String,
    /// District id.
    pub district_id: String,
    /// Legacy rows with a null key part.
    pub legacy_null_key_rows: u64,
    /// Beta rows with a null key part.
    pub beta_null_key_rows: u64,
    /// Distinct keys held by more than one legacy row.
    pub legacy_dup_keys: u64,
    /// Distinct keys held by more than one beta row.
    pub beta_dup_keys: u64,
}

/// What was compared for one table, so that later commands (`query`, `show`) know the key and
/// which columns to mask without the audit folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    /// Table name.
    pub name: String,
    /// Key columns.
    pub key: Vec<String>,
    /// Ignored columns.
    pub ignore: Vec<String>,
    /// Personal-data columns (masked in every report and query).
    pub pii: Vec<String>,
    /// Columns compared.
    pub compared_columns: Vec<String>,
    /// Comparison rules of the columns that have any (`trim+ignore_case`, `cast:integer`).
    #[serde(default)]
    pub rules: BTreeMap<String, String>,
}

/// What one transform of one district cost: a line of metrics.csv.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    /// Night audited.
    pub audit_date: String,
    /// Audit name.
    pub audit: String,
    /// District id (`*` for the whole run).
    pub district_id: String,
    /// `legacy`, `beta`, or `run` for the whole run.
    pub side: String,
    /// Output table (`*` for the whole run).
    pub table: String,
    /// Input rows read for the district (all its files).
    pub rows_read: u64,
    /// Input rows loaded.
    pub rows_loaded: u64,
    /// Input rows rejected.
    pub rows_rejected: u64,
    /// Rows the transform wrote (for the run row: all of them).
    pub rows_written: u64,
    /// Seconds taken by the transform (for the run row: the whole run).
    pub seconds: f64,
    /// Peak resident memory of the run in MiB (run row only).
    pub peak_rss_mib: Option<u64>,
}

/// What `map_code` found in one transform of one district: a line of `code_mapping.csv`.
/// Codes that mapped with their own year's entries are counted per code set and year; codes
/// that mapped through an earlier year's entries (`fallback`) likewise, with the year used; codes
/// with no entry (`unmapped`) are listed one per line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeMappingRow {
    /// Night audited.
    pub audit_date: String,
    /// Output table whose transform called `map_code`.
    pub table: String,
    /// District id.
    pub district_id: String,
    /// `legacy` or `beta`.
    pub side: String,
    /// Code set.
    pub code_set: String,
    /// School year asked for (ending year); empty when the value was null or not a year.
    pub school_year: String,
    /// `mapped`, `fallback` or `unmapped`.
    pub outcome: String,
    /// Year whose entries were used; empty when none applied.
    pub used_year: String,
    /// The code with no entry (`unmapped` only).
    pub source_code: String,
    /// Values looked up.
    pub values: u64,
}

/// Where a database side's rows came from, and what the night's snapshot copied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSource {
    /// Output table.
    pub table: String,
    /// `legacy` or `beta`.
    pub side: String,
    /// The database URL, password replaced by `***`.
    pub database: String,
    /// `table` or `query`.
    pub relation: String,
    /// The table name or the query text.
    pub source: String,
    /// The filter sent with it for each district (`district_id = <district id>`).
    pub district_filter: String,
    /// Districts snapshotted.
    pub districts: u64,
    /// Rows copied into the run's Parquet, all districts.
    pub rows: u64,
    /// Why the side could not be read at all (then each of its districts is ERROR).
    pub error: Option<String>,
}

/// Everything summary.json holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunReport {
    /// Audit name.
    pub audit: String,
    /// Audit folder.
    pub audit_dir: String,
    /// Night audited.
    pub audit_date: String,
    /// Input folder.
    pub input: String,
    /// Start time (RFC 3339, UTC).
    pub started_at: String,
    /// End time (RFC 3339, UTC).
    pub finished_at: String,
    /// Version of pathway that ran.
    pub pathway_version: String,
    /// Districts audited.
    pub districts: Vec<String>,
    /// Districts carried over from the previous run instead of being run again.
    pub reused_districts: Vec<String>,
    /// The tables compared.
    pub tables: Vec<TableInfo>,
    /// Folders of the input that were not taken as districts, with the reason.
    pub skipped_folders: Vec<(String, String)>,
    /// Per district, the files of its folder that no input's glob matches (relative to the
    /// folder; hidden files excepted). Districts without such files are left out.
    pub unread_files: BTreeMap<String, Vec<String>>,
    /// Rows each side produced per table.
    pub rows_read: SideRows,
    /// Districts per status, per table.
    pub status_counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// Column-level differences between the sides, per table.
    pub schema_diff: BTreeMap<String, SchemaDiff>,
    /// Input accounting per file.
    pub input_files: Vec<FileRead>,
    /// Input rows rejected in all.
    pub rows_rejected: u64,
    /// Why districts are ERROR.
    pub errors: Vec<DistrictError>,
    /// The summary.csv rows.
    pub summary: Vec<SummaryRow>,
    /// The `column_diff.csv` rows.
    pub column_diff: Vec<ColumnDiffRow>,
    /// The categories.csv rows.
    pub categories: Vec<CategoryRow>,
    /// Values equal only under a comparison rule, per table, district and column.
    pub rule_hidden: Vec<RuleHiddenRow>,
    /// Things a person should look at (for example accepted differences that expired).
    pub warnings: Vec<String>,
    /// Rows and time per district, side and table, and one row for the whole run.
    pub metrics: Vec<MetricRow>,
    /// What the code map's `map_code` found, per district, table and side (`code_mapping.csv`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code_mapping: Vec<CodeMappingRow>,
    /// The database sides: their table or query and the rows the snapshot copied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub database_sources: Vec<DatabaseSource>,
    /// Per table and district: a key with nulls or duplicates.
    pub key_warnings: Vec<KeyWarning>,
    /// Column profiles of both sides (profile.parquet, `pathway profile`): not in summary.json,
    /// which stays small at state size.
    #[serde(skip)]
    pub profile: Vec<pathway_profile::ProfileRow>,
}

impl RunReport {
    /// Write summary.csv, `column_diff.csv`, categories.csv, `code_mapping.csv` (when the audit maps
    /// codes), profile.parquet and summary.json into `dir`, each replaced atomically.
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn write_files(&self, dir: &std::path::Path) -> Result<()> {
        use crate::csv_files::{categories_csv, code_mapping_csv, column_diff_csv, summary_csv};
        use crate::write::atomic_write;
        atomic_write(
            &dir.join("summary.csv"),
            summary_csv(&self.summary)?.as_bytes(),
        )?;
        atomic_write(
            &dir.join("column_diff.csv"),
            column_diff_csv(&self.column_diff)?.as_bytes(),
        )?;
        atomic_write(
            &dir.join("categories.csv"),
            categories_csv(&self.categories)?.as_bytes(),
        )?;
        if !self.code_mapping.is_empty() {
            atomic_write(
                &dir.join("code_mapping.csv"),
                code_mapping_csv(&self.code_mapping)?.as_bytes(),
            )?;
        }
        let profile = pathway_profile::profile_parquet(&self.profile)
            .map_err(|e| Error::Serialise(e.to_string()))?;
        atomic_write(&dir.join("profile.parquet"), &profile)?;
        atomic_write(&dir.join("summary.json"), self.to_json()?.as_bytes())
    }

    /// Pretty JSON.
    ///
    /// # Errors
    /// Only on a serialisation bug.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| Error::Serialise(e.to_string()))
    }
}

//! summary.csv and `column_diff.csv` as text, and reading summary-shaped CSV back.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::rows::{CategoryRow, ColumnDiffRow, SummaryRow};

const SUMMARY_HEADER: &str = "audit_date,table,district_id,status,legacy_rows,beta_rows,matched_rows,changed_rows,missing_in_beta,extra_in_beta,legacy_dup_keys,beta_dup_keys,changed_columns,audit,error,accepted_cells,reused,row_diff_capped,paired_rows,match_pct";
const COLUMN_DIFF_HEADER: &str = "audit_date,table,district_id,column,mismatches,legacy_example,beta_example,categories,expected_cells";
const CATEGORIES_HEADER: &str = "audit_date,table,district_id,column,category,cells,legacy_value,beta_value,shift_days,example_key,accepted";

const CODE_MAPPING_HEADER: &str =
    "audit_date,table,district_id,side,code_set,school_year,outcome,used_year,source_code,values";

/// `code_mapping.csv` content.
///
/// # Errors
/// Only on a serialisation bug.
pub fn code_mapping_csv(rows: &[crate::json::CodeMappingRow]) -> Result<String> {
    to_csv(rows, CODE_MAPPING_HEADER)
}

fn to_csv<T: Serialize>(rows: &[T], header: &str) -> Result<String> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .map_err(|e| Error::Serialise(e.to_string()))?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| Error::Serialise(e.to_string()))?;
    // The header is written by hand so that an empty report still has it.
    Ok(format!("{header}\n{}", String::from_utf8_lossy(&body)))
}

/// summary.csv (and history.csv) content: header line, then one line per row.
///
/// # Errors
/// Only on a serialisation bug.
pub fn summary_csv(rows: &[SummaryRow]) -> Result<String> {
    to_csv(rows, SUMMARY_HEADER)
}

/// `column_diff.csv` content.
///
/// # Errors
/// Only on a serialisation bug.
pub fn column_diff_csv(rows: &[ColumnDiffRow]) -> Result<String> {
    to_csv(rows, COLUMN_DIFF_HEADER)
}

/// categories.csv content.
///
/// # Errors
/// Only on a serialisation bug.
pub fn categories_csv(rows: &[CategoryRow]) -> Result<String> {
    to_csv(rows, CATEGORIES_HEADER)
}

/// Read categories.csv (no file: no rows).
///
/// # Errors
/// When the file exists but cannot be parsed.
pub fn read_categories_csv(path: &Path) -> Result<Vec<CategoryRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| Error::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| Error::Csv {
                path: path.to_path_buf(),
                message: format!("line {}: {e}", i + 2),
            })
        })
        .collect()
}

/// Read summary.csv or history.csv. A missing file reads as no rows.
///
/// # Errors
/// When the file exists but cannot be read or parsed; the message names the line.
pub fn read_summary_csv(path: &Path) -> Result<Vec<SummaryRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| Error::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize().enumerate() {
        let row: SummaryRow = row.map_err(|e| Error::Csv {
            path: path.to_path_buf(),
            message: format!("line {}: {e}", i + 2),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

//! profile.parquet: the rows of [`crate::ProfileRow`], one string column per field, so
//! `DuckDB`, pandas and `pathway query` read it as they read the CSV.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::{Error, ProfileRow, Result};

fn schema() -> Arc<Schema> {
    let required = |name| Field::new(name, DataType::Utf8, false);
    let optional = |name| Field::new(name, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        required("table"),
        required("district_id"),
        required("column"),
        required("measure"),
        optional("legacy"),
        optional("beta"),
        optional("delta"),
    ]))
}

/// profile.parquet's bytes (an empty file with its schema when there are no rows).
///
/// # Errors
/// Only on an encoding bug.
pub fn profile_parquet(rows: &[ProfileRow]) -> Result<Vec<u8>> {
    let text = |f: fn(&ProfileRow) -> &str| -> ArrayRef {
        Arc::new(rows.iter().map(|r| Some(f(r))).collect::<StringArray>())
    };
    let optional = |f: fn(&ProfileRow) -> Option<&str>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let batch = RecordBatch::try_new(
        schema(),
        vec![
            text(|r| &r.table),
            text(|r| &r.district_id),
            text(|r| &r.column),
            text(|r| &r.measure),
            optional(|r| r.legacy.as_deref()),
            optional(|r| r.beta.as_deref()),
            optional(|r| r.delta.as_deref()),
        ],
    )
    .map_err(|e| Error::File(e.to_string()))?;
    let mut bytes = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut bytes, schema(), None).map_err(|e| Error::File(e.to_string()))?;
    writer
        .write(&batch)
        .map_err(|e| Error::File(e.to_string()))?;
    writer.close().map_err(|e| Error::File(e.to_string()))?;
    Ok(bytes)
}

/// The rows of a profile.parquet (no file: no rows).
///
/// # Errors
/// A file that cannot be read or is not a profile.
pub fn read_profile_parquet(path: &std::path::Path) -> Result<Vec<ProfileRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let fail = |e: &dyn std::fmt::Display| Error::File(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(ParquetRecordBatchReaderBuilder::build)
        .map_err(|e| fail(&e))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(&e))?;
        let column = |name: &str| -> Result<Vec<Option<String>>> {
            let array = batch
                .column_by_name(name)
                .ok_or_else(|| fail(&format!("no column `{name}`")))?;
            let array = arrow::compute::cast(array, &DataType::Utf8).map_err(|e| fail(&e))?;
            let strings = array
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| fail(&"a column that is not text"))?;
            Ok((0..strings.len())
                .map(|i| (!strings.is_null(i)).then(|| strings.value(i).to_owned()))
                .collect())
        };
        let [table, district, col, measure, legacy, beta, delta] = [
            "table",
            "district_id",
            "column",
            "measure",
            "legacy",
            "beta",
            "delta",
        ]
        .map(column);
        let (table, district, col, measure) = (table?, district?, col?, measure?);
        let (legacy, beta, delta) = (legacy?, beta?, delta?);
        for i in 0..batch.num_rows() {
            rows.push(ProfileRow {
                table: table[i].clone().unwrap_or_default(),
                district_id: district[i].clone().unwrap_or_default(),
                column: col[i].clone().unwrap_or_default(),
                measure: measure[i].clone().unwrap_or_default(),
                legacy: legacy[i].clone(),
                beta: beta[i].clone(),
                delta: delta[i].clone(),
            });
        }
    }
    Ok(rows)
}

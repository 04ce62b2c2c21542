//! A table in memory, and the files a user would bring it in: Parquet, CSV, JSON lines.

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema};

use crate::value::{Ty, Value, arrow_text, to_array};

/// Named, typed columns and rows of values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<(String, Ty)>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// The table as one Arrow batch.
    ///
    /// # Panics
    /// A value that does not fit its column's type.
    #[must_use]
    pub fn to_batch(&self) -> RecordBatch {
        let schema = Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|(name, ty)| Field::new(name, ty.arrow(), true))
                .collect::<Vec<_>>(),
        ));
        let arrays = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, ty))| {
                let values: Vec<Value> = self.rows.iter().map(|r| r[i].clone()).collect();
                to_array(ty, &values)
            })
            .collect();
        RecordBatch::try_new_with_options(
            schema,
            arrays,
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(self.rows.len())),
        )
        .expect("columns of equal length")
    }

    /// Write the table as a Parquet file.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write_parquet(&self, path: &Path) -> std::io::Result<()> {
        let batch = self.to_batch();
        let file = std::fs::File::create(path)?;
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
            .map_err(std::io::Error::other)?;
        writer.write(&batch).map_err(std::io::Error::other)?;
        writer.close().map_err(std::io::Error::other)?;
        Ok(())
    }

    /// Write the table as CSV with a header, each value as Arrow's text, a null as an empty
    /// field (CSV cannot tell the two apart).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write_csv(&self, path: &Path) -> std::io::Result<()> {
        let mut writer = csv::Writer::from_path(path)?;
        writer.write_record(self.columns.iter().map(|c| c.0.as_str()))?;
        for row in &self.rows {
            writer.write_record(
                row.iter()
                    .zip(&self.columns)
                    .map(|(v, (_, ty))| arrow_text(ty, v).unwrap_or_default()),
            )?;
        }
        writer.flush()
    }

    /// Write the table as JSON lines, each value as a JSON string of Arrow's text, a null as
    /// JSON null.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write_json_lines(&self, path: &Path) -> std::io::Result<()> {
        let mut text = String::new();
        for row in &self.rows {
            let object: serde_json::Map<String, serde_json::Value> = row
                .iter()
                .zip(&self.columns)
                .map(|(v, (name, ty))| {
                    let value = arrow_text(ty, v).map_or(serde_json::Value::Null, Into::into);
                    (name.clone(), value)
                })
                .collect();
            text.push_str(&serde_json::Value::Object(object).to_string());
            text.push('\n');
        }
        std::fs::write(path, text)
    }

    /// The table as a reader of text files sees it: every column text, every value Arrow's
    /// text; a null stays null in JSON lines and is the empty string in CSV.
    #[must_use]
    pub fn as_text(&self, nulls_survive: bool) -> Table {
        Table {
            columns: self
                .columns
                .iter()
                .map(|(name, _)| (name.clone(), Ty::Text))
                .collect(),
            rows: self
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .zip(&self.columns)
                        .map(|(v, (_, ty))| match arrow_text(ty, v) {
                            Some(text) => Value::Text(text),
                            None if nulls_survive => Value::Null,
                            None => Value::Text(String::new()),
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// The table as CSV-like text, for a reproducer: a header of `name:type` and one line per
    /// row, `∅` for null.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut lines = vec![
            self.columns
                .iter()
                .map(|(n, t)| format!("{n}:{t:?}"))
                .collect::<Vec<_>>()
                .join(" | "),
        ];
        for row in &self.rows {
            lines.push(
                row.iter()
                    .map(|v| match v {
                        Value::Null => "∅".to_owned(),
                        Value::Text(t) => format!("{t:?}"),
                        Value::Int(i) => i.to_string(),
                        Value::Float(f) => format!("{f:?}"),
                        Value::Decimal(d) => format!("{d}d"),
                        Value::Bool(b) => b.to_string(),
                        Value::Date(d) => format!("date {d}"),
                        Value::Timestamp(t) => format!("ts {t}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
            );
        }
        lines.join("\n")
    }
}

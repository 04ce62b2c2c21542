//! `validation_errors.parquet`: every rejected input row, queryable like any other table.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use pathway_input::Rejection;

/// Write the rejections (possibly none: the file always exists, so queries can rely on it).
///
/// # Errors
/// When the file cannot be written.
pub fn write_validation_errors(
    path: &Path,
    audit_date: &str,
    rejections: &[Rejection],
) -> anyhow::Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("audit_date", DataType::Utf8, false),
        Field::new("district_id", DataType::Utf8, false),
        Field::new("input", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
        Field::new("column", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("raw_line", DataType::Utf8, false),
    ]));
    let text = |f: &dyn Fn(&Rejection) -> Option<String>| -> ArrayRef {
        Arc::new(rejections.iter().map(f).collect::<StringArray>())
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|_| Some(audit_date.to_owned())),
        text(&|r| Some(r.district_id.clone())),
        text(&|r| Some(r.input.clone())),
        text(&|r| Some(r.file.clone())),
        Arc::new(rejections.iter().map(|r| r.line).collect::<UInt64Array>()),
        text(&|r| r.column.clone()),
        text(&|r| Some(r.reason.clone())),
        text(&|r| Some(r.raw_line.clone())),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    // The raw lines are students' records (masked where they parsed): owner-only, like every
    // output that holds data.
    let file = pathway_transform::create_private(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    let mut writer = ArrowWriter::try_new(file, schema, None)?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}

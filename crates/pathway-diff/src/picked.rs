//! The rows under duplicated keys of groups whose footprints agree, read by their positions in
//! the groups' files: the only rows of such a group the row diff needs, and nothing else of the
//! group is read (see [`crate::GroupFootprints`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::parquet::arrow::arrow_reader::{ParquetRecordBatchReaderBuilder, RowSelection};

use crate::error::{Error, Result};

/// One group's rows to read on one side: its file and the positions of the rows.
#[derive(Debug, Clone)]
pub(crate) struct Picks<'a> {
    pub group: &'a str,
    pub file: &'a Path,
    pub rows: &'a [u64],
}

/// The rows at `picks` of each group's file, as rows of a table of `schema` (the side's table
/// as the diff reads it): each column found under its name after `rename` ((legacy name, beta
/// name) pairs), cast to the table's type, and `group_column` holding the group's name.
pub(crate) fn read_picks(
    table: &str,
    picks: &[Picks<'_>],
    schema: &SchemaRef,
    group_column: &str,
    rename: &[(String, String)],
) -> Result<Vec<RecordBatch>> {
    let failed = |file: &Path, message: String| Error::Options {
        table: table.to_owned(),
        message: format!(
            "cannot read the rows under duplicated keys of `{}`: {message}",
            file.display()
        ),
    };
    let mut batches = Vec::new();
    for pick in picks {
        let open = File::open(pick.file).map_err(|e| failed(pick.file, e.to_string()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(open)
            .map_err(|e| failed(pick.file, e.to_string()))?;
        let total = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let ranges = pick.rows.iter().map(|&row| {
            let row = usize::try_from(row).unwrap_or(usize::MAX);
            row..row + 1
        });
        let reader = builder
            .with_row_selection(RowSelection::from_consecutive_ranges(ranges, total))
            .build()
            .map_err(|e| failed(pick.file, e.to_string()))?;
        let read: Vec<RecordBatch> = reader
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| failed(pick.file, e.to_string()))?;
        let Some(first) = read.first() else {
            continue;
        };
        let read =
            concat_batches(&first.schema(), &read).map_err(|e| failed(pick.file, e.to_string()))?;
        // The file's columns by the name the diff knows them under.
        let by_name: BTreeMap<String, &ArrayRef> = read
            .schema()
            .fields()
            .iter()
            .zip(read.columns())
            .map(|(field, column)| {
                let name = rename
                    .iter()
                    .find(|(_, beta)| beta == field.name())
                    .map_or_else(|| field.name().clone(), |(legacy, _)| legacy.clone());
                (name, column)
            })
            .collect();
        let mut columns = Vec::new();
        for field in schema.fields() {
            let column = if field.name() == group_column {
                let value = ScalarValue::Utf8(Some(pick.group.to_owned()));
                let constant = value
                    .to_array_of_size(read.num_rows())
                    .map_err(|e| failed(pick.file, e.to_string()))?;
                cast(&constant, field.data_type()).map_err(|e| failed(pick.file, e.to_string()))?
            } else {
                match by_name.get(field.name()) {
                    Some(column) => cast(column, field.data_type())
                        .map_err(|e| failed(pick.file, e.to_string()))?,
                    None => {
                        return Err(failed(
                            pick.file,
                            format!("it has no column `{}`", field.name()),
                        ));
                    }
                }
            };
            columns.push(column);
        }
        batches.push(
            RecordBatch::try_new(Arc::clone(schema), columns)
                .map_err(|e| failed(pick.file, e.to_string()))?,
        );
    }
    Ok(batches)
}

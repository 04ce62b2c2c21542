//! Accepted records of a delimited file as Arrow text columns, built as the records are read
//! ([`crate::scan_delimited`]): a batch's worth of values at a time, never the whole file's
//! rows as strings (those took several times the file's size: a 363 MB CSV of 3M rows held
//! about 2 GB of `String`s).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayBuilder, ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::Result;

/// Rows per batch.
pub(crate) const BATCH_ROWS: usize = 65_536;

/// Text columns named `columns`; an empty field is an empty string, not a null.
pub(crate) fn text_schema(columns: &[String]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// Records going into text columns, [`BATCH_ROWS`] to a batch.
pub(crate) struct TextColumns {
    schema: SchemaRef,
    builders: Vec<StringBuilder>,
}

impl TextColumns {
    pub(crate) fn new(columns: &[String]) -> TextColumns {
        TextColumns {
            schema: text_schema(columns),
            builders: columns.iter().map(|_| StringBuilder::new()).collect(),
        }
    }

    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Add a record (with one field per column); returns a batch when one is full.
    pub(crate) fn push(&mut self, record: &csv::StringRecord) -> Result<Option<RecordBatch>> {
        for (builder, field) in self.builders.iter_mut().zip(record.iter()) {
            builder.append_value(field);
        }
        if self.builders.first().is_some_and(|b| b.len() >= BATCH_ROWS) {
            return self.take().map(Some);
        }
        Ok(None)
    }

    /// The rows added since the last batch, as a batch (`None` when there are none).
    pub(crate) fn finish(mut self) -> Result<Option<RecordBatch>> {
        if self.builders.first().is_none_or(ArrayBuilder::is_empty) {
            return Ok(None);
        }
        self.take().map(Some)
    }

    fn take(&mut self) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

/// Every accepted record of the delimited text `bytes` as text columns, with what the scan
/// found besides (see [`crate::scan_delimited`]).
///
/// # Errors
/// Building the arrays failed (a bug rather than bad input).
pub(crate) fn delimited_batches(
    bytes: &[u8],
    delimiter: Option<u8>,
    header: bool,
    encoding: pathway_audit::Encoding,
) -> Result<(SchemaRef, Vec<RecordBatch>, crate::ScannedText)> {
    let mut columns: Option<TextColumns> = None;
    let mut batches = Vec::new();
    let mut failure = None;
    let scan = crate::scan_delimited(
        bytes,
        delimiter,
        header,
        encoding,
        false,
        |names, record, _| {
            let columns = columns.get_or_insert_with(|| TextColumns::new(names));
            match columns.push(record) {
                Ok(Some(batch)) => batches.push(batch),
                Ok(None) => {}
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        },
    );
    if let Some(e) = failure {
        return Err(e);
    }
    let schema = match columns {
        Some(columns) => {
            let schema = columns.schema().clone();
            batches.extend(columns.finish()?);
            schema
        }
        None => text_schema(&scan.columns),
    };
    Ok((schema, batches, scan))
}

//! One text file read whole as a table, the way `pathway diff` reads a CSV/TXT or JSON-lines
//! side: decompressed when compressed, text columns, and a file that holds no table at all
//! (empty, blank lines only, not text) refused with its name and what is wrong with it.

use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use pathway_audit::{Encoding, InputFormat};

use crate::compression::{Compression, read_decompressed};
use crate::error::{Error, Result};
use crate::no_rows::NoRows;

/// A text file read as one table.
#[derive(Debug, Clone)]
pub struct TableFile {
    /// Text columns, from the header line (CSV/TXT) or the keys (JSON lines).
    pub schema: SchemaRef,
    /// The rows that were read.
    pub batches: Vec<RecordBatch>,
    /// Records that were not: line number and reason (never the values).
    pub rejected: Vec<(u64, String)>,
    /// The compression the file was read through, if any.
    pub compression: Option<Compression>,
}

impl TableFile {
    /// Rows read into the table.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Read `path` (named `shown` in messages) whole: JSON lines when its name ends in `.jsonl` or
/// `.ndjson` (before any compression suffix), else delimited text with a header line, delimiter
/// and encoding detected. A header-only file is a table with no row.
///
/// # Errors
/// An unreadable, corrupt or mislabelled compressed file, or a file with no column at all
/// (empty, blank lines only, not text, or JSON lines none of which is an object).
pub fn read_table_file(path: &Path, shown: &str) -> Result<TableFile> {
    let (bytes, compression) = read_decompressed(path, shown)?;
    let jsonl = pathway_audit::format_from_name(shown) == InputFormat::Jsonl;
    let (schema, batches, rejected, no_rows) = if jsonl {
        let parsed = crate::parse_json_lines(&bytes);
        let (schema, batches) = crate::json_lines::to_batches(&parsed)?;
        let rejected: Vec<(u64, String)> = parsed
            .rejected
            .iter()
            .map(|(line, reason, _)| (*line, reason.clone()))
            .collect();
        let no_rows = NoRows::of_json_lines(&bytes, &parsed);
        (schema, batches, rejected, no_rows)
    } else {
        let parsed = crate::parse_delimited(&bytes, None, true, Encoding::Auto);
        let (schema, batches) = crate::district::text_batches(&parsed)?;
        let rejected: Vec<(u64, String)> = parsed
            .rejected
            .iter()
            .map(|(line, reason, _)| (*line, reason.clone()))
            .collect();
        let no_rows = NoRows::of_text(
            &bytes,
            parsed.binary,
            !parsed.columns.is_empty(),
            parsed.rows.len(),
            rejected.len(),
        );
        (schema, batches, rejected, no_rows)
    };
    if schema.fields().is_empty() {
        let why = no_rows.unwrap_or(NoRows::Empty);
        let mut reason = why.describe(!jsonl);
        if let (NoRows::AllRejected(_), Some((line, first))) = (why, rejected.first()) {
            reason = format!(
                "has no JSON object: every line was rejected (first: line {line}, {first})"
            );
        }
        if let NoRows::NoFields(n) = why {
            reason = format!("has no field: its {n} JSON object(s) are all empty ({{}})");
        }
        return Err(Error::NoTable {
            file: shown.to_owned(),
            reason,
        });
    }
    Ok(TableFile {
        schema,
        batches,
        rejected,
        compression,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, bytes: &[u8]) -> Result<TableFile> {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        read_table_file(&path, name)
    }

    #[test]
    fn files_without_a_table_are_refused_with_the_reason() {
        let cases: [(&str, &[u8], &str); 6] = [
            ("empty.csv", b"", "`empty.csv` is empty: no header row"),
            (
                "blank.csv",
                b"\n\r\n  \n",
                "`blank.csv` holds only blank lines: no header row",
            ),
            (
                "sheet.csv",
                b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x01\x02\x03\x04\x05\x06\x07",
                "`sheet.csv` is not text (binary content)",
            ),
            (
                "empty.jsonl",
                b"\n\n",
                "`empty.jsonl` holds only blank lines",
            ),
            (
                "fieldless.jsonl",
                b"{}\n{}\n",
                "`fieldless.jsonl` has no field: its 2 JSON object(s) are all empty ({})",
            ),
            (
                "bad.jsonl",
                b"[1]\n[2]\n",
                "`bad.jsonl` has no JSON object: every line was rejected (first: line 1, not a JSON object)",
            ),
        ];
        for (name, bytes, message) in cases {
            let err = read(name, bytes).unwrap_err().to_string();
            assert_eq!(err, message);
        }
    }

    #[test]
    fn a_header_only_file_is_a_table_with_no_row() {
        let table = read("h.csv", b"id,name\r\n").unwrap();
        assert_eq!(table.schema.fields().len(), 2);
        assert_eq!(table.rows(), 0);
        assert!(table.rejected.is_empty());
        let table = read(
            "s.ndjson",
            b"{\"id\": \"1\"}\n{\"id\": \"2\", \"x\": 3}\nnope\n",
        )
        .unwrap();
        assert_eq!(table.schema.fields().len(), 2);
        assert_eq!(table.rows(), 2);
        assert_eq!(table.rejected.len(), 1);
        assert_eq!(table.rejected[0].0, 3);
    }
}

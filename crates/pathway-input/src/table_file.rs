//! One text file read as a table, the way `pathway diff` reads a CSV/TXT or JSON-lines side:
//! decompressed when compressed, text columns, and a file that holds no table at all (empty,
//! blank lines only, not text) refused with its name and what is wrong with it. Either read
//! whole into memory ([`read_table_file`]) or copied once to a Parquet file
//! ([`stage_table_file`]), which the diff then reads like any other, a batch at a time.

use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression as ParquetCompression;
use datafusion::parquet::file::properties::WriterProperties;
use pathway_audit::{Encoding, InputFormat};

use crate::compression::{Compression, read_decompressed};
use crate::error::{Error, Result};
use crate::no_rows::NoRows;
use crate::text_columns::{BATCH_ROWS, TextColumns, delimited_batches, text_schema};

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

/// A text file copied to Parquet by [`stage_table_file`].
#[derive(Debug, Clone)]
pub struct StagedTable {
    /// Text columns, from the header line (CSV/TXT) or the keys (JSON lines).
    pub schema: SchemaRef,
    /// Rows written to the copy.
    pub rows: u64,
    /// Records that were not: line number and reason (never the values).
    pub rejected: Vec<(u64, String)>,
    /// The compression the file was read through, if any.
    pub compression: Option<Compression>,
}

/// Rows per row group of a copy.
const STAGED_ROW_GROUP_ROWS: usize = 4 * BATCH_ROWS;

/// Read `path` (named `shown` in messages) as [`read_table_file`] does, and write its rows to
/// the Parquet file `parquet` as they are parsed, a batch at a time: the same table, without
/// holding its rows in memory. (The file's bytes are still read whole: the delimiter, encoding
/// and whether it is text at all are decided over the whole file. JSON lines are read whole,
/// then copied.)
///
/// # Errors
/// As [`read_table_file`], and a copy that cannot be written.
pub fn stage_table_file(path: &Path, shown: &str, parquet: &Path) -> Result<StagedTable> {
    if pathway_audit::format_from_name(shown) == InputFormat::Jsonl {
        let table = read_table_file(path, shown)?;
        let rows = table.rows() as u64;
        write_parquet(&table.schema, table.batches, shown, parquet)?;
        return Ok(StagedTable {
            schema: table.schema,
            rows,
            rejected: table.rejected,
            compression: table.compression,
        });
    }
    let (bytes, compression) = read_decompressed(path, shown)?;
    let stage_error = |source| Error::Stage {
        file: shown.to_owned(),
        path: parquet.to_path_buf(),
        source,
    };
    // Opened at the first row; a file without rows gets an empty copy below.
    let mut writer: Option<(ArrowWriter<std::fs::File>, TextColumns)> = None;
    let mut failure: Option<Error> = None;
    let scan = crate::scan_delimited(
        &bytes,
        None,
        true,
        Encoding::Auto,
        false,
        |names, record, _| {
            if failure.is_some() {
                return;
            }
            let (out, columns) = if let Some(w) = &mut writer {
                w
            } else {
                let columns = TextColumns::new(names);
                match open_writer(parquet, columns.schema()) {
                    Ok(out) => writer.insert((out, columns)),
                    Err(e) => {
                        failure = Some(stage_error(e));
                        return;
                    }
                }
            };
            match columns.push(record) {
                Ok(Some(batch)) => {
                    if let Err(e) = out.write(&batch) {
                        failure = Some(stage_error(e));
                    }
                }
                Ok(None) => {}
                Err(e) => failure = Some(e),
            }
        },
    );
    if let Some(e) = failure {
        return Err(e);
    }
    let schema = text_schema(&scan.columns);
    let rejected: Vec<(u64, String)> = scan
        .rejected
        .iter()
        .map(|(line, reason, _)| (*line, reason.clone()))
        .collect();
    if schema.fields().is_empty() {
        let no_rows = NoRows::of_text(&bytes, scan.binary, false, 0, rejected.len());
        return Err(Error::NoTable {
            file: shown.to_owned(),
            reason: no_rows.unwrap_or(NoRows::Empty).describe(true),
        });
    }
    drop(bytes);
    match writer {
        None => write_parquet(&schema, Vec::new(), shown, parquet)?,
        Some((mut out, columns)) => {
            if let Some(batch) = columns.finish()? {
                out.write(&batch).map_err(stage_error)?;
            }
            out.close().map_err(stage_error)?;
        }
    }
    Ok(StagedTable {
        schema,
        rows: scan.rows,
        rejected,
        compression,
    })
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
        let (schema, batches, parsed) = delimited_batches(&bytes, None, true, Encoding::Auto)?;
        let rejected: Vec<(u64, String)> = parsed
            .rejected
            .iter()
            .map(|(line, reason, _)| (*line, reason.clone()))
            .collect();
        let no_rows = NoRows::of_text(
            &bytes,
            parsed.binary,
            !parsed.columns.is_empty(),
            usize::try_from(parsed.rows).unwrap_or(usize::MAX),
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

fn open_writer(
    parquet: &Path,
    schema: &SchemaRef,
) -> std::result::Result<ArrowWriter<std::fs::File>, datafusion::parquet::errors::ParquetError> {
    let file = std::fs::File::create(parquet)?;
    // Snappy: the copy is read once or twice and thrown away; zstd would cost more to write
    // than it saves in reading.
    let properties = WriterProperties::builder()
        .set_compression(ParquetCompression::SNAPPY)
        .set_max_row_group_row_count(Some(STAGED_ROW_GROUP_ROWS))
        .build();
    ArrowWriter::try_new(file, schema.clone(), Some(properties))
}

/// Write `batches` to the Parquet file `parquet`.
fn write_parquet(
    schema: &SchemaRef,
    batches: Vec<RecordBatch>,
    shown: &str,
    parquet: &Path,
) -> Result<()> {
    let stage_error = |source| Error::Stage {
        file: shown.to_owned(),
        path: parquet.to_path_buf(),
        source,
    };
    let mut out = open_writer(parquet, schema).map_err(stage_error)?;
    for batch in batches {
        out.write(&batch).map_err(stage_error)?;
    }
    out.close().map_err(stage_error)?;
    Ok(())
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

    /// The Parquet copy as text rows.
    fn staged_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
        use datafusion::arrow::array::AsArray;
        let file = std::fs::File::open(path).unwrap();
        let reader =
            datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1000)
                .unwrap();
        let mut names = Vec::new();
        let mut rows = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            names = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            for r in 0..batch.num_rows() {
                rows.push(
                    (0..batch.num_columns())
                        .map(|c| batch.column(c).as_string::<i32>().value(r).to_owned())
                        .collect(),
                );
            }
        }
        (names, rows)
    }

    #[test]
    fn a_staged_copy_holds_the_rows_read_whole_would_hold() {
        let tmp = tempfile::tempdir().unwrap();
        // Windows-1252, a ragged record, an empty field, a quoted delimiter, more rows than a
        // batch.
        let mut text = b"id,name\r\n1,Zo\xEB\r\n2,Bo,x\r\n3,\r\n4,\"Smith, Ann\"\r\n".to_vec();
        for i in 5..70_005 {
            text.extend_from_slice(format!("{i},n{i}\r\n").as_bytes());
        }
        let csv = tmp.path().join("s.csv");
        std::fs::write(&csv, &text).unwrap();
        let whole = read_table_file(&csv, "s.csv").unwrap();
        let copy = tmp.path().join("s.parquet");
        let staged = stage_table_file(&csv, "s.csv", &copy).unwrap();
        assert_eq!(staged.rows, 70_003);
        assert_eq!(staged.rows, whole.rows() as u64);
        assert_eq!(staged.schema, whole.schema);
        assert_eq!(
            staged.rejected,
            [(3, "expected 2 fields, found 3".to_owned())]
        );
        assert_eq!(staged.rejected, whole.rejected);
        let (names, rows) = staged_rows(&copy);
        assert_eq!(names, ["id", "name"]);
        assert_eq!(rows.len(), 70_003);
        assert_eq!(rows[0], ["1", "Zoë"]);
        assert_eq!(rows[1], ["3", ""]);
        assert_eq!(rows[2], ["4", "Smith, Ann"]);
        assert_eq!(rows[70_002], ["70004", "n70004"]);

        // A header-only file: a copy with the columns and no row.
        std::fs::write(&csv, b"id|name\n").unwrap();
        let staged = stage_table_file(&csv, "s.csv", &copy).unwrap();
        assert_eq!(staged.rows, 0);
        assert_eq!(staged_rows(&copy).1.len(), 0);
        assert_eq!(staged.schema.fields().len(), 2);

        // No table: the same refusal as read whole.
        std::fs::write(&csv, b"\n\n").unwrap();
        assert_eq!(
            stage_table_file(&csv, "s.csv", &copy)
                .unwrap_err()
                .to_string(),
            "`s.csv` holds only blank lines: no header row"
        );

        // JSON lines are copied too.
        let jsonl = tmp.path().join("s.jsonl");
        std::fs::write(
            &jsonl,
            b"{\"id\": \"1\"}\nnope\n{\"id\": \"2\", \"x\": \"y\"}\n",
        )
        .unwrap();
        let staged = stage_table_file(&jsonl, "s.jsonl", &copy).unwrap();
        assert_eq!(staged.rows, 2);
        assert_eq!(staged.rejected.len(), 1);
        assert_eq!(staged_rows(&copy).1.len(), 2);
    }
}

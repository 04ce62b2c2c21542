//! Reading a file a transform program wrote: strict, because it is not district input.
//!
//! A district's own files are repaired and their bad lines rejected one by one; the output of a
//! legacy job is supposed to be well formed, so any bad line makes the whole output unusable and
//! the caller reports the district as ERROR with the first problems.

use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use pathway_audit::{Encoding, InputFormat};

use crate::error::{Error, Result};

/// How many bad lines a malformed-output error quotes (by number and reason only).
const SHOWN_PROBLEMS: usize = 3;

/// Why a program's output could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The file could not be read or decoded as a table.
    #[error(transparent)]
    Read(#[from] Error),
    /// The file has lines that are not rows of a table.
    #[error("malformed output `{file}`: {problems}")]
    Malformed {
        /// The file name.
        file: String,
        /// The first problems, by line number and reason (never the line's values).
        problems: String,
    },
}

/// Read a whole CSV (comma, tab, pipe or semicolon, header line, UTF-8 or Windows-1252), JSON
/// lines or Parquet file into batches. Text formats give text columns.
///
/// # Errors
/// An unreadable file, an empty text file, or any line that is not a row.
pub fn read_output_file(
    path: &Path,
    format: InputFormat,
) -> std::result::Result<(SchemaRef, Vec<RecordBatch>), OutputError> {
    let file = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let malformed = |total: usize, first: Vec<(u64, &str)>| {
        let mut problems: Vec<String> = first
            .iter()
            .take(SHOWN_PROBLEMS)
            .map(|(line, reason)| format!("line {line}: {reason}"))
            .collect();
        if total > SHOWN_PROBLEMS {
            problems.push(format!("and {} more bad line(s)", total - SHOWN_PROBLEMS));
        }
        OutputError::Malformed {
            file: file.clone(),
            problems: problems.join("; "),
        }
    };
    match format {
        InputFormat::Parquet => Ok(crate::parquet_file::read_parquet(path)?),
        InputFormat::Csv => {
            let bytes = read(path)?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Err(malformed(1, vec![(1, "the file is empty: no header line")]));
            }
            let (schema, batches, parsed) =
                crate::text_columns::delimited_batches(&bytes, None, true, Encoding::Auto)?;
            if !parsed.rejected.is_empty() {
                let first = parsed
                    .rejected
                    .iter()
                    .map(|(line, reason, _)| (*line, reason.as_str()))
                    .collect();
                return Err(malformed(parsed.rejected.len(), first));
            }
            Ok((schema, batches))
        }
        InputFormat::Jsonl => {
            let bytes = read(path)?;
            let parsed = crate::parse_json_lines(&bytes);
            if !parsed.rejected.is_empty() {
                let first = parsed
                    .rejected
                    .iter()
                    .map(|(line, reason, _)| (*line, reason.as_str()))
                    .collect();
                return Err(malformed(parsed.rejected.len(), first));
            }
            Ok(crate::json_lines::to_batches(&parsed)?)
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, AsArray};

    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_well_formed_csv_and_json_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let csv = write(tmp.path(), "a.csv", "id,grade\n1,09\n2,\n");
        let (schema, batches) = read_output_file(&csv, InputFormat::Csv).unwrap();
        assert_eq!(schema.fields().len(), 2);
        let grades = batches[0].column(1).as_string::<i32>();
        assert_eq!(batches[0].num_rows(), 2);
        assert_eq!(grades.value(0), "09");
        assert_eq!(grades.value(1), "");
        let jsonl = write(
            tmp.path(),
            "a.jsonl",
            "{\"id\": 1}\n{\"id\": 2, \"x\": null}\n",
        );
        let (schema, batches) = read_output_file(&jsonl, InputFormat::Jsonl).unwrap();
        assert_eq!(schema.fields().len(), 2);
        assert_eq!(batches[0].num_rows(), 2);
        assert!(batches[0].column(1).is_null(0));
    }

    #[test]
    fn names_the_bad_lines_without_their_values() {
        let tmp = tempfile::tempdir().unwrap();
        let csv = write(
            tmp.path(),
            "a.csv",
            "id,name\n1,Ann\n2,Bob,extra\n3\n4,Cy,x,y\n5,Di,z\n",
        );
        let err = read_output_file(&csv, InputFormat::Csv)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("malformed output `a.csv`: line 3: "),
            "{err}"
        );
        assert!(err.contains("line 4: "), "{err}");
        assert!(err.contains("line 5: "), "{err}");
        assert!(err.ends_with("and 1 more bad line(s)"), "{err}");
        assert!(!err.contains("Bob") && !err.contains("extra"), "{err}");
        let empty = write(tmp.path(), "b.csv", "\n");
        let err = read_output_file(&empty, InputFormat::Csv)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "malformed output `b.csv`: line 1: the file is empty: no header line"
        );
        let jsonl = write(tmp.path(), "c.jsonl", "{\"id\": 1}\nnot json\n");
        let err = read_output_file(&jsonl, InputFormat::Jsonl)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("malformed output `c.jsonl`: line 2: "),
            "{err}"
        );
    }
}

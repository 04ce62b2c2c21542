//! Discovering district folders and reading one district's raw tables.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder, new_null_array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use pathway_audit::{AuditSpec, InputFormat, InputSpec};
use pathway_mask::Masker;

use crate::delimited::parse_delimited;
use crate::error::{Error, Result};
use crate::parquet_file::read_parquet;

/// Rows per Arrow batch built from text input.
const BATCH_ROWS: usize = 65_536;

/// The district folders found in an input folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistrictList {
    /// Valid district ids, sorted.
    pub districts: Vec<String>,
    /// Folders skipped because their name is not a safe district id, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// A district id must be safe as a folder name, a Hive partition value and a CSV field.
#[must_use]
pub fn valid_district_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// List the district folders of `input` (one sub-folder per district).
///
/// # Errors
/// When `input` is not a readable folder.
pub fn list_districts(input: &Path) -> Result<DistrictList> {
    let io = |source| Error::Io {
        path: input.to_path_buf(),
        source,
    };
    let mut list = DistrictList::default();
    for entry in fs::read_dir(input).map_err(io)? {
        let entry = entry.map_err(io)?;
        if !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if valid_district_id(&name) {
            list.districts.push(name);
        } else {
            list.skipped.push((
                name,
                "folder name is not a district id (letters, digits, `_`, `-`, `.`; at most 64)"
                    .into(),
            ));
        }
    }
    list.districts.sort();
    list.skipped.sort();
    Ok(list)
}

/// One file's accounting: every data row read is either loaded or rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    /// The raw input table it fed.
    pub input: String,
    /// Path relative to the input folder, e.g. `101/students.csv`.
    pub file: String,
    /// Data rows read (header excluded).
    pub rows_read: u64,
    /// Rows loaded into the raw table.
    pub rows_loaded: u64,
    /// Rows rejected (listed in the district's rejections).
    pub rows_rejected: u64,
    /// Encoding used (`UTF-8`, `windows-1252`, or `parquet`).
    pub encoding: String,
    /// Delimiter used, as text (empty for Parquet).
    pub delimiter: String,
    /// Repairs made to the file as a whole.
    pub notes: Vec<String>,
}

/// A row that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejection {
    /// District id.
    pub district_id: String,
    /// Raw input table.
    pub input: String,
    /// Path relative to the input folder.
    pub file: String,
    /// 1-based line in the file where the record starts.
    pub line: u64,
    /// Column concerned, when one is.
    pub column: Option<String>,
    /// Why it was rejected.
    pub reason: String,
    /// The record as read, fields joined by the delimiter, personal columns masked.
    pub raw_line: String,
}

/// One raw input table of one district, all in memory.
#[derive(Debug, Clone)]
pub struct RawTable {
    /// Input name (the SQL table name).
    pub name: String,
    /// Arrow schema (text inputs: every column `Utf8`).
    pub schema: SchemaRef,
    /// The rows.
    pub batches: Vec<RecordBatch>,
}

/// Everything read for one district.
#[derive(Debug, Clone)]
pub struct DistrictInput {
    /// The district's input folder.
    pub folder: PathBuf,
    /// District id.
    pub district_id: String,
    /// Raw tables that had at least one file.
    pub tables: Vec<RawTable>,
    /// Inputs with no matching file in this district, with their glob.
    pub missing: Vec<(String, String)>,
    /// Per-file accounting.
    pub files: Vec<FileRead>,
    /// Rejected rows.
    pub rejections: Vec<Rejection>,
}

/// Read every raw input of `district_id` from `input_root/<district_id>/`.
///
/// # Errors
/// An unreadable district folder or file, a corrupt Parquet file, or files of one input that
/// disagree on a column's type. Bad rows are not errors: they become [`Rejection`]s.
pub fn read_district(
    audit: &AuditSpec,
    input_root: &Path,
    district_id: &str,
    masker: &Masker,
) -> Result<DistrictInput> {
    let dir = input_root.join(district_id);
    let files = list_files(&dir)?;
    let mut out = DistrictInput {
        folder: dir.clone(),
        district_id: district_id.to_owned(),
        tables: Vec::new(),
        missing: Vec::new(),
        files: Vec::new(),
        rejections: Vec::new(),
    };
    for input in &audit.inputs {
        let matcher = globset::Glob::new(&input.glob)
            .expect("validated when the audit was loaded")
            .compile_matcher();
        let matching: Vec<&PathBuf> = files
            .iter()
            .filter(|rel| matcher.is_match(rel.as_path()))
            .collect();
        if matching.is_empty() {
            out.missing.push((input.name.clone(), input.glob.clone()));
            continue;
        }
        let mut parts = Vec::new();
        for rel in matching {
            let shown = format!("{district_id}/{}", rel.display());
            let path = dir.join(rel);
            let batch = match input.format {
                InputFormat::Csv => {
                    read_text_file(input, &path, &shown, district_id, masker, &mut out)?
                }
                InputFormat::Jsonl => {
                    let bytes = fs::read(&path).map_err(|source| Error::Io {
                        path: path.clone(),
                        source,
                    })?;
                    let parsed = crate::json_lines::parse_json_lines(&bytes);
                    for (line, reason, raw) in &parsed.rejected {
                        // The line could not be read as fields, so it is masked whole when the
                        // input has personal columns.
                        let raw_line = if input.pii.is_empty() {
                            raw.clone()
                        } else {
                            masker.mask_value(raw)
                        };
                        out.rejections.push(Rejection {
                            district_id: district_id.to_owned(),
                            input: input.name.clone(),
                            file: shown.clone(),
                            line: *line,
                            column: None,
                            reason: reason.clone(),
                            raw_line,
                        });
                    }
                    out.files.push(FileRead {
                        input: input.name.clone(),
                        file: shown.clone(),
                        rows_read: (parsed.rows.len() + parsed.rejected.len()) as u64,
                        rows_loaded: parsed.rows.len() as u64,
                        rows_rejected: parsed.rejected.len() as u64,
                        encoding: "UTF-8".into(),
                        delimiter: String::new(),
                        notes: Vec::new(),
                    });
                    crate::json_lines::to_batches(&parsed)?
                }
                InputFormat::Parquet => {
                    let (schema, batches) = read_parquet(&path)?;
                    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
                    out.files.push(FileRead {
                        input: input.name.clone(),
                        file: shown,
                        rows_read: rows,
                        rows_loaded: rows,
                        rows_rejected: 0,
                        encoding: "parquet".into(),
                        delimiter: String::new(),
                        notes: Vec::new(),
                    });
                    (schema, batches)
                }
            };
            parts.push((path, batch));
        }
        let mut table = union_by_name(&input.name, parts)?;
        with_optional_columns(&mut table, &input.optional_columns)?;
        out.tables.push(table);
    }
    Ok(out)
}

/// Files below `dir`, relative to it, sorted (so several files of one input load in name order).
fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = dir.join(&rel);
        let entries = fs::read_dir(&abs).map_err(|source| Error::Io {
            path: abs.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: abs.clone(),
                source,
            })?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let child = rel.join(&name);
            if entry.path().is_dir() {
                stack.push(child);
            } else {
                out.push(child);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_text_file(
    input: &InputSpec,
    path: &Path,
    shown: &str,
    district_id: &str,
    masker: &Masker,
    out: &mut DistrictInput,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let bytes = fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let parsed = parse_delimited(&bytes, input.delimiter, input.header, input.encoding);
    let delimiter = char::from(parsed.delimiter).to_string();
    for (line, reason, fields) in &parsed.rejected {
        let masked: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let personal = parsed.columns.get(i).is_some_and(|c| input.pii.contains(c));
                if personal {
                    masker.mask_value(value)
                } else {
                    value.clone()
                }
            })
            .collect();
        out.rejections.push(Rejection {
            district_id: district_id.to_owned(),
            input: input.name.clone(),
            file: shown.to_owned(),
            line: *line,
            column: None,
            reason: reason.clone(),
            raw_line: masked.join(&delimiter),
        });
    }
    out.files.push(FileRead {
        input: input.name.clone(),
        file: shown.to_owned(),
        rows_read: parsed.rows_read(),
        rows_loaded: parsed.rows.len() as u64,
        rows_rejected: parsed.rejected.len() as u64,
        encoding: parsed.encoding.to_owned(),
        delimiter: delimiter.clone(),
        notes: parsed.notes.clone(),
    });

    text_batches(&parsed)
}

/// The accepted rows of a parsed text file as text columns.
pub(crate) fn text_batches(parsed: &crate::ParsedText) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let schema: SchemaRef = Arc::new(Schema::new(
        parsed
            .columns
            .iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let mut batches = Vec::new();
    for chunk in parsed.rows.chunks(BATCH_ROWS) {
        let columns: Vec<ArrayRef> = (0..parsed.columns.len())
            .map(|i| {
                let mut builder = StringBuilder::with_capacity(chunk.len(), chunk.len() * 8);
                for row in chunk {
                    builder.append_value(&row[i]);
                }
                Arc::new(builder.finish()) as ArrayRef
            })
            .collect();
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok((schema, batches))
}

/// Add each optional column the files did not have, as text nulls.
fn with_optional_columns(table: &mut RawTable, optional: &[String]) -> Result<()> {
    let absent: Vec<&String> = optional
        .iter()
        .filter(|c| table.schema.index_of(c).is_err())
        .collect();
    if absent.is_empty() {
        return Ok(());
    }
    let mut fields: Vec<Field> = table
        .schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.extend(
        absent
            .iter()
            .map(|c| Field::new(c.as_str(), DataType::Utf8, true)),
    );
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let mut batches = Vec::with_capacity(table.batches.len());
    for batch in &table.batches {
        let mut columns = batch.columns().to_vec();
        columns.extend(
            absent
                .iter()
                .map(|_| new_null_array(&DataType::Utf8, batch.num_rows())),
        );
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    table.schema = schema;
    table.batches = batches;
    Ok(())
}

/// Stack the files of one input into one table: columns are matched by name, a column missing
/// from a file is null for its rows.
fn union_by_name(
    name: &str,
    parts: Vec<(PathBuf, (SchemaRef, Vec<RecordBatch>))>,
) -> Result<RawTable> {
    let mut fields: Vec<Field> = Vec::new();
    for (path, (schema, _)) in &parts {
        for field in schema.fields() {
            match fields.iter().find(|f| f.name() == field.name()) {
                Some(seen) if seen.data_type() != field.data_type() => {
                    return Err(Error::ConflictingTypes {
                        input: name.to_owned(),
                        column: field.name().clone(),
                        first: seen.data_type().to_string(),
                        other: field.data_type().to_string(),
                        path: path.clone(),
                    });
                }
                Some(_) => {}
                None => fields.push(Field::new(field.name(), field.data_type().clone(), true)),
            }
        }
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let mut batches = Vec::new();
    for (_, (file_schema, file_batches)) in parts {
        for batch in file_batches {
            let columns: Vec<ArrayRef> = schema
                .fields()
                .iter()
                .map(|f| match file_schema.index_of(f.name()) {
                    Ok(i) => batch.column(i).clone(),
                    Err(_) => new_null_array(f.data_type(), batch.num_rows()),
                })
                .collect();
            batches.push(RecordBatch::try_new(schema.clone(), columns)?);
        }
    }
    Ok(RawTable {
        name: name.to_owned(),
        schema,
        batches,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int32Array, StringArray};
    use datafusion::parquet::arrow::ArrowWriter;
    use pathway_audit::{Encoding, InputSpec};

    use super::*;

    fn audit(inputs: Vec<InputSpec>) -> AuditSpec {
        AuditSpec {
            name: "t".into(),
            description: String::new(),
            dir: PathBuf::new(),
            inputs,
            tables: Vec::new(),
            accepted: Vec::new(),
            code_map: None,
            cluster: None,
        }
    }

    fn input(name: &str, glob: &str, format: InputFormat) -> InputSpec {
        InputSpec {
            name: name.into(),
            glob: glob.into(),
            format,
            delimiter: None,
            header: true,
            encoding: Encoding::Auto,
            pii: vec!["name".into()],
            optional_columns: Vec::new(),
        }
    }

    #[test]
    fn optional_columns_absent_from_a_file_read_as_null() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("v10");
        fs::create_dir_all(&dir).unwrap();
        // OneRoster 1.0 users.csv has no `grades`; 1.1 has it.
        fs::write(
            dir.join("users.csv"),
            "sourcedId,role
1,student
2,teacher
",
        )
        .unwrap();
        let mut users = input("users", "users.csv", InputFormat::Csv);
        users.optional_columns = vec!["grades".into(), "role".into()];
        let read = read_district(
            &audit(vec![users]),
            tmp.path(),
            "v10",
            &Masker::without_key(),
        )
        .unwrap();
        let table = &read.tables[0];
        let names: Vec<&String> = table.schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["sourcedId", "role", "grades"]);
        let grades = table.batches[0].column(2);
        assert_eq!(grades.len(), 2);
        assert_eq!(grades.null_count(), 2);
        // A present optional column keeps its values.
        assert_eq!(table.batches[0].column(1).null_count(), 0);
    }

    #[test]
    fn daily_json_lines_files_of_one_input_are_read_as_one_table() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d1");
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("students-2026-11-20.jsonl"),
            "{\"id\": \"1\", \"name\": \"Ann\", \"grade\": 7}\n{\"id\": \"2\", \"name\": \"Bo\"\n",
        )
        .unwrap();
        fs::write(
            dir.join("students-2026-11-21.jsonl"),
            "\n{\"id\": \"3\", \"name\": null, \"ell\": true}\n",
        )
        .unwrap();
        let audit = audit(vec![input(
            "students",
            "students-*.jsonl",
            InputFormat::Jsonl,
        )]);
        let read = read_district(&audit, tmp.path(), "d1", &Masker::without_key()).unwrap();
        let students = &read.tables[0];
        let names: Vec<&String> = students.schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["grade", "id", "name", "ell"]);
        assert_eq!(
            students
                .batches
                .iter()
                .map(RecordBatch::num_rows)
                .sum::<usize>(),
            2
        );
        let accounting: Vec<(&str, u64, u64, u64)> = read
            .files
            .iter()
            .map(|f| (f.file.as_str(), f.rows_read, f.rows_loaded, f.rows_rejected))
            .collect();
        assert_eq!(
            accounting,
            [
                ("d1/students-2026-11-20.jsonl", 2, 1, 1),
                ("d1/students-2026-11-21.jsonl", 1, 1, 0)
            ]
        );
        // The broken line is rejected with its number, masked whole (the input has `pii`).
        assert_eq!(read.rejections.len(), 1);
        assert_eq!(read.rejections[0].line, 2);
        assert_eq!(read.rejections[0].raw_line, "***");
        assert!(read.rejections[0].reason.starts_with("not valid JSON"));
    }

    #[test]
    fn parquet_and_several_text_files_of_one_input_are_read_as_one_table() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d1");
        fs::create_dir_all(dir.join("daily")).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int32Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
            ],
        )
        .unwrap();
        let mut writer = ArrowWriter::try_new(
            fs::File::create(dir.join("scores.parquet")).unwrap(),
            schema,
            None,
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        // Two daily files of one input with different column sets, one ragged row.
        fs::write(
            dir.join("daily/students-1.csv"),
            "id,name\n1,Ann\n2,Bo,extra\n",
        )
        .unwrap();
        fs::write(dir.join("daily/students-2.csv"), "id,name,grade\n3,Cy,07\n").unwrap();

        let audit = audit(vec![
            input("scores", "*.parquet", InputFormat::Parquet),
            input("students", "daily/students-*.csv", InputFormat::Csv),
            input("courses", "courses.csv", InputFormat::Csv),
        ]);
        let read = read_district(&audit, tmp.path(), "d1", &Masker::without_key()).unwrap();
        assert_eq!(
            read.missing,
            [("courses".to_owned(), "courses.csv".to_owned())]
        );
        let scores = &read.tables[0];
        assert_eq!(scores.schema.field(0).data_type(), &DataType::Int32);
        assert_eq!(
            scores
                .batches
                .iter()
                .map(RecordBatch::num_rows)
                .sum::<usize>(),
            3
        );
        let students = &read.tables[1];
        let names: Vec<&String> = students.schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["id", "name", "grade"]);
        assert_eq!(
            students
                .batches
                .iter()
                .map(RecordBatch::num_rows)
                .sum::<usize>(),
            2
        );
        assert_eq!(
            students.batches[0].column(2).null_count(),
            1,
            "grade is null for the first file's rows"
        );

        let accounting: Vec<(&str, u64, u64, u64)> = read
            .files
            .iter()
            .map(|f| (f.file.as_str(), f.rows_read, f.rows_loaded, f.rows_rejected))
            .collect();
        assert_eq!(
            accounting,
            [
                ("d1/scores.parquet", 3, 3, 0),
                ("d1/daily/students-1.csv", 2, 1, 1),
                ("d1/daily/students-2.csv", 1, 1, 0)
            ]
        );
        assert_eq!(read.rejections.len(), 1);
        let rejected = &read.rejections[0];
        assert_eq!(
            (rejected.file.as_str(), rejected.line),
            ("d1/daily/students-1.csv", 3)
        );
        assert_eq!(
            rejected.raw_line, "2,***,extra",
            "the personal column is masked"
        );
    }

    #[test]
    fn odd_folder_names_are_not_districts() {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["101", "north-02", "bad name", "x=1", ".hidden"] {
            fs::create_dir_all(tmp.path().join(name)).unwrap();
        }
        fs::write(tmp.path().join("README.txt"), "not a district").unwrap();
        let list = list_districts(tmp.path()).unwrap();
        assert_eq!(list.districts, ["101", "north-02"]);
        let skipped: Vec<&str> = list.skipped.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(skipped, ["bad name", "x=1"]);
    }
}

//! Discovering district folders and reading one district's raw tables.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use pathway_audit::{AuditSpec, InputFormat, InputSpec};
use pathway_mask::Masker;

use crate::compression::{Compression, read_decompressed, strip_compression_suffix};
use crate::error::{Error, Result};
use crate::no_rows::NoRows;
use crate::parquet_file::read_parquet;
use crate::text_columns::delimited_batches;

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

/// One file's accounting: every data row read is either loaded or rejected. The row of
/// summary.json's `input_files` and of the reuse record, as it is read here.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileRead {
    /// District id.
    pub district_id: String,
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
    /// The compression the file was read through (`gzip`, `zstd`, `bzip2`, `xz`), null for a
    /// plain file (absent in records written before it was).
    #[serde(default)]
    pub compression: Option<String>,
    /// Notes on the file as a whole: repairs made, and why it gave no row when it gave none.
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
    /// Raw tables whose files were read (an input whose files hold no column at all, such as
    /// empty files, has none).
    pub tables: Vec<RawTable>,
    /// Inputs with no matching file in this district, with their glob.
    pub missing: Vec<(String, String)>,
    /// Inputs whose files loaded no row, with why, file by file
    /// (`` `101/enrollments.csv` is empty: no header row ``).
    pub empty: Vec<(String, String)>,
    /// Inputs that could not be read, with the reasons (`; `-separated), every bad file named:
    /// an unreadable or corrupt file, or one file sent both plain and compressed. The files of
    /// such an input that could be read are still in [`Self::files`] and [`Self::rejections`].
    pub failed: Vec<(String, String)>,
    /// Files of the district folder that no input's glob matches, relative to the folder.
    pub unread: Vec<String>,
    /// Per-file accounting.
    pub files: Vec<FileRead>,
    /// Rejected rows.
    pub rejections: Vec<Rejection>,
}

impl DistrictInput {
    /// Nothing read yet for `district_id`, whose files are in `folder`.
    #[must_use]
    pub fn new(folder: PathBuf, district_id: &str) -> DistrictInput {
        DistrictInput {
            folder,
            district_id: district_id.to_owned(),
            tables: Vec::new(),
            missing: Vec::new(),
            empty: Vec::new(),
            failed: Vec::new(),
            unread: Vec::new(),
            files: Vec::new(),
            rejections: Vec::new(),
        }
    }

    /// Inputs that gave no row in this district, with why: no file matched their glob, or their
    /// files loaded no row. A table computed from them would be computed from nothing.
    #[must_use]
    pub fn absent(&self) -> Vec<(String, String)> {
        let missing = self.missing.iter().map(|(input, glob)| {
            (
                input.clone(),
                format!(
                    "no file matches `{glob}` in district {} (input `{input}`)",
                    self.district_id
                ),
            )
        });
        let empty = self.empty.iter().map(|(input, why)| {
            (
                input.clone(),
                format!(
                    "input `{input}` has no data row in district {}: {why}",
                    self.district_id
                ),
            )
        });
        missing.chain(empty).collect()
    }
}

/// Read every raw input of `district_id` from `input_root/<district_id>/`.
///
/// A file matches an input when the input's glob matches its path, or its path without a
/// compression suffix: `students*.csv` matches `students.csv.gz`, and `*.parquet` matches
/// `x.parquet.gz` (which is refused: compressed Parquet is not supported). A file that cannot be read makes its input
/// [`DistrictInput::failed`], not the whole district; the other inputs are read. So does a file
/// sent twice, plain and compressed (`students.csv` and `students.csv.gz`): reading both would
/// count every row twice.
///
/// # Errors
/// Only an unreadable district folder. Bad rows are not errors: they become [`Rejection`]s.
pub fn read_district(
    audit: &AuditSpec,
    input_root: &Path,
    district_id: &str,
    masker: &Masker,
) -> Result<DistrictInput> {
    let dir = input_root.join(district_id);
    let files = list_files(&dir)?;
    let mut out = DistrictInput::new(dir.clone(), district_id);
    let mut matched = vec![false; files.len()];
    for input in &audit.inputs {
        let matcher = globset::Glob::new(&input.glob)
            .expect("validated when the audit was loaded")
            .compile_matcher();
        let mut matching: Vec<&PathBuf> = Vec::new();
        for (rel, seen) in files.iter().zip(&mut matched) {
            if matches_input(&matcher, rel) {
                *seen = true;
                matching.push(rel);
            }
        }
        if matching.is_empty() {
            out.missing.push((input.name.clone(), input.glob.clone()));
            continue;
        }
        let read = read_input(input, &dir, &matching, district_id, masker);
        out.add(input, read);
    }
    out.unread = files
        .iter()
        .zip(&matched)
        .filter(|(_, seen)| !**seen)
        .map(|(rel, _)| rel.display().to_string())
        .collect();
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

/// Whether `rel` feeds an input with this glob: by its name, or by its name without a
/// compression suffix. A compressed Parquet file (`x.parquet.gz` for `*.parquet`) is matched
/// too, so that its input fails saying why rather than the file being listed as unread.
fn matches_input(matcher: &globset::GlobMatcher, rel: &Path) -> bool {
    matcher.is_match(rel)
        || strip_compression_suffix(rel).is_some_and(|(plain, _)| matcher.is_match(plain))
}

/// What the files of one input gave.
struct InputRead {
    /// The table, unless the input failed.
    table: Option<RawTable>,
    /// The accounting of every file that could be read, failed input or not.
    files: Vec<FileRead>,
    rejections: Vec<Rejection>,
    /// Why no row was loaded, file by file, when none was.
    no_rows: Option<String>,
    /// Why the input cannot be used, one message per bad file (empty when it can).
    failures: Vec<String>,
}

impl DistrictInput {
    fn add(&mut self, input: &InputSpec, read: InputRead) {
        self.files.extend(read.files);
        self.rejections.extend(read.rejections);
        if !read.failures.is_empty() {
            self.failed
                .push((input.name.clone(), read.failures.join("; ")));
            return;
        }
        if let Some(why) = read.no_rows {
            self.empty.push((input.name.clone(), why));
        }
        if let Some(table) = read.table.filter(|t| !t.schema.fields().is_empty()) {
            self.tables.push(table);
        }
    }
}

/// Files of one input that are one file sent twice: the same name once the compression suffix
/// is removed (`101/students.csv` and `101/students.csv.gz`), one message per such name.
fn sent_twice(matching: &[&PathBuf], district_id: &str) -> Vec<String> {
    let mut by_plain: std::collections::BTreeMap<PathBuf, Vec<&PathBuf>> =
        std::collections::BTreeMap::new();
    for rel in matching {
        let plain = strip_compression_suffix(rel).map_or_else(|| (*rel).clone(), |(p, _)| p);
        by_plain.entry(plain).or_default().push(rel);
    }
    by_plain
        .into_values()
        .filter(|copies| copies.len() > 1)
        .map(|copies| {
            let names: Vec<String> = copies
                .iter()
                .map(|rel| format!("`{district_id}/{}`", rel.display()))
                .collect();
            let (last, first) = names.split_last().expect("two names or more");
            let counted = match names.len() {
                2 => "both would be read and their rows counted twice; remove one of them".into(),
                n => format!("all would be read and their rows counted {n} times; keep one"),
            };
            format!(
                "{} and {last} are the same file once the compression suffix is removed: \
                 {counted}",
                first.join(", ")
            )
        })
        .collect()
}

/// Read the matching files of one input into one table. Any file that cannot be read fails the
/// whole input (a table missing one of its files would be wrong without saying so), and so do
/// two files that are one file sent plain and compressed. Every bad file is named; the files
/// that could be read keep their accounting and their rejected rows.
fn read_input(
    input: &InputSpec,
    dir: &Path,
    matching: &[&PathBuf],
    district_id: &str,
    masker: &Masker,
) -> InputRead {
    let mut parts = Vec::new();
    let mut files = Vec::new();
    let mut rejections = Vec::new();
    let mut why_empty = Vec::new();
    let mut failures = sent_twice(matching, district_id);
    for rel in matching {
        let shown = format!("{district_id}/{}", rel.display());
        let path = dir.join(rel);
        let file = match read_file(input, &path, &shown, district_id, masker) {
            Ok(file) => file,
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        if let Some(why) = &file.no_rows {
            why_empty.push(format!("`{shown}` {why}"));
        }
        files.push(file.account);
        rejections.extend(file.rejections);
        parts.push((path, (file.schema, file.batches)));
    }
    let table = if failures.is_empty() {
        union_by_name(&input.name, parts)
            .and_then(|mut table| {
                with_optional_columns(&mut table, &input.optional_columns)?;
                Ok(table)
            })
            .map_err(|e| failures.push(e.to_string()))
            .ok()
    } else {
        None
    };
    let loaded: u64 = files.iter().map(|f| f.rows_loaded).sum();
    InputRead {
        table,
        files,
        rejections,
        no_rows: (loaded == 0).then(|| why_empty.join("; ")),
        failures,
    }
}

/// One file read into a table, with its accounting and rejected rows.
struct FileTable {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    account: FileRead,
    rejections: Vec<Rejection>,
    /// Why it loaded no row, when it loaded none (also one of its notes).
    no_rows: Option<String>,
}

fn read_file(
    input: &InputSpec,
    path: &Path,
    shown: &str,
    district_id: &str,
    masker: &Masker,
) -> Result<FileTable> {
    let text = |path: &Path| read_decompressed(path, shown);
    let origin = FileOrigin {
        input,
        shown,
        district_id,
    };
    match input.format {
        InputFormat::Csv => {
            let (bytes, compression) = text(path)?;
            read_text_file(&origin, &bytes, compression, masker)
        }
        InputFormat::Jsonl => {
            let (bytes, compression) = text(path)?;
            read_json_lines_file(&origin, &bytes, compression, masker)
        }
        InputFormat::Parquet => read_parquet_file(&origin, path),
    }
}

/// Which input and district a file belongs to, and its name in reports.
struct FileOrigin<'a> {
    input: &'a InputSpec,
    shown: &'a str,
    district_id: &'a str,
}

impl FileOrigin<'_> {
    fn rejection(&self, line: u64, reason: &str, raw_line: String) -> Rejection {
        Rejection {
            district_id: self.district_id.to_owned(),
            input: self.input.name.clone(),
            file: self.shown.to_owned(),
            line,
            column: None,
            reason: reason.to_owned(),
            raw_line,
        }
    }

    fn account(&self, read: usize, rejected: usize, encoding: &str) -> FileRead {
        FileRead {
            district_id: self.district_id.to_owned(),
            input: self.input.name.clone(),
            file: self.shown.to_owned(),
            rows_read: (read + rejected) as u64,
            rows_loaded: read as u64,
            rows_rejected: rejected as u64,
            encoding: encoding.to_owned(),
            delimiter: String::new(),
            compression: None,
            notes: Vec::new(),
        }
    }
}

fn read_parquet_file(origin: &FileOrigin, path: &Path) -> Result<FileTable> {
    if let Some(compression) = Compression::of_name(origin.shown) {
        return Err(Error::CompressedParquet {
            file: origin.shown.to_owned(),
            compression: compression.name(),
        });
    }
    let (schema, batches) = read_parquet(path)?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut account = origin.account(rows, 0, "parquet");
    let no_rows = (rows == 0).then(|| NoRows::NoRecords.describe(false));
    account
        .notes
        .extend(no_rows.iter().map(|why| format!("file {why}")));
    Ok(FileTable {
        schema,
        batches,
        account,
        rejections: Vec::new(),
        no_rows,
    })
}

fn read_json_lines_file(
    origin: &FileOrigin,
    bytes: &[u8],
    compression: Option<Compression>,
    masker: &Masker,
) -> Result<FileTable> {
    let parsed = crate::json_lines::parse_json_lines(bytes);
    let rejections = parsed
        .rejected
        .iter()
        .map(|(line, reason, raw)| {
            // The line could not be read as fields, so it is masked whole when the input has
            // personal columns.
            let raw_line = if origin.input.pii.is_empty() {
                raw.clone()
            } else {
                masker.mask_value(raw)
            };
            origin.rejection(*line, reason, raw_line)
        })
        .collect();
    let mut account = origin.account(parsed.rows.len(), parsed.rejected.len(), "UTF-8");
    account.compression = compression.map(|c| c.name().to_owned());
    let no_rows = NoRows::of_json_lines(bytes, &parsed).map(|n| n.describe(false));
    account
        .notes
        .extend(no_rows.iter().map(|why| format!("file {why}")));
    let (schema, batches) = crate::json_lines::to_batches(&parsed)?;
    Ok(FileTable {
        schema,
        batches,
        account,
        rejections,
        no_rows,
    })
}

fn read_text_file(
    origin: &FileOrigin,
    bytes: &[u8],
    compression: Option<Compression>,
    masker: &Masker,
) -> Result<FileTable> {
    let input = origin.input;
    let (schema, batches, parsed) =
        delimited_batches(bytes, input.delimiter, input.header, input.encoding)?;
    let delimiter = char::from(parsed.delimiter).to_string();
    let rejections = parsed
        .rejected
        .iter()
        .map(|(line, reason, fields)| {
            // A record with more or fewer fields than the header has lost the positions of its
            // values (`Adams, Alice` split in two shifts every field after it): with personal
            // columns in the input, no field can be trusted to be what its position says, so
            // the record is masked whole.
            if fields.len() != parsed.columns.len() && !input.pii.is_empty() {
                return origin.rejection(
                    *line,
                    reason,
                    masker.mask_value(&fields.join(&delimiter)),
                );
            }
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
            origin.rejection(*line, reason, masked.join(&delimiter))
        })
        .collect();
    let loaded = usize::try_from(parsed.rows).unwrap_or(usize::MAX);
    let mut account = origin.account(loaded, parsed.rejected.len(), parsed.encoding);
    account.delimiter = delimiter;
    account.compression = compression.map(|c| c.name().to_owned());
    account.notes.clone_from(&parsed.notes);
    let no_rows = NoRows::of_text(
        bytes,
        parsed.binary,
        !parsed.columns.is_empty(),
        loaded,
        parsed.rejected.len(),
    )
    .map(|n| n.describe(input.header));
    account
        .notes
        .extend(no_rows.iter().map(|why| format!("file {why}")));
    Ok(FileTable {
        schema,
        batches,
        account,
        rejections,
        no_rows,
    })
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
            rejected.raw_line, "***",
            "a record of the wrong width with personal columns is masked whole"
        );
    }

    fn rows(table: &RawTable) -> usize {
        table.batches.iter().map(RecordBatch::num_rows).sum()
    }

    #[test]
    fn compressed_files_read_as_their_plain_copy_and_unread_files_are_listed() {
        use crate::compression::{Compression, compress};
        let students = b"id,name\n1,Ann\n2,Bo\n";
        let tmp = tempfile::tempdir().unwrap();
        for (district, packed) in [("plain", false), ("packed", true)] {
            let dir = tmp.path().join(district);
            fs::create_dir_all(&dir).unwrap();
            let files: [(&str, Compression, &[u8]); 4] = [
                ("students.csv", Compression::Gzip, students),
                ("students-2.csv", Compression::Xz, b"id,name\n3,Cy\n"),
                (
                    "enrollments.txt",
                    Compression::Zstd,
                    b"id|section\n1|A\n2|B\n3|C\n",
                ),
                (
                    "scores.jsonl",
                    Compression::Bzip2,
                    b"{\"id\": \"1\", \"score\": 90}\n",
                ),
            ];
            for (name, compression, bytes) in files {
                if packed {
                    let name = format!("{name}{}", compression.suffix());
                    fs::write(dir.join(name), compress(compression, bytes)).unwrap();
                } else {
                    fs::write(dir.join(name), bytes).unwrap();
                }
            }
            fs::write(dir.join("notes.txt"), "sent late").unwrap();
            fs::write(dir.join("report.docx"), b"PK\x03\x04").unwrap();
        }
        let mut scores = input("scores", "scores*.jsonl", InputFormat::Jsonl);
        scores.pii = Vec::new();
        let audit = audit(vec![
            input("students", "students*.csv", InputFormat::Csv),
            input("enrollments", "enrollments*.{csv,txt}", InputFormat::Csv),
            scores,
        ]);
        let masker = Masker::without_key();
        let plain = read_district(&audit, tmp.path(), "plain", &masker).unwrap();
        let packed = read_district(&audit, tmp.path(), "packed", &masker).unwrap();
        for (a, b) in plain.tables.iter().zip(&packed.tables) {
            assert_eq!(
                (&a.name, &a.schema, &a.batches),
                (&b.name, &b.schema, &b.batches)
            );
        }
        let counts: Vec<(&str, usize)> = packed
            .tables
            .iter()
            .map(|t| (t.name.as_str(), rows(t)))
            .collect();
        assert_eq!(counts, [("students", 3), ("enrollments", 3), ("scores", 1)]);
        let accounting: Vec<(&str, u64, u64, Option<&str>)> = packed
            .files
            .iter()
            .map(|f| {
                let compression = f.compression.as_deref();
                (f.file.as_str(), f.rows_read, f.rows_loaded, compression)
            })
            .collect();
        assert_eq!(
            accounting,
            [
                ("packed/students-2.csv.xz", 1, 1, Some("xz")),
                ("packed/students.csv.gz", 2, 2, Some("gzip")),
                ("packed/enrollments.txt.zst", 3, 3, Some("zstd")),
                ("packed/scores.jsonl.bz2", 1, 1, Some("bzip2")),
            ]
        );
        assert!(plain.files.iter().all(|f| f.compression.is_none()));
        assert_eq!(packed.unread, ["notes.txt", "report.docx"]);
        assert_eq!(plain.unread, ["notes.txt", "report.docx"]);
        assert!(packed.missing.is_empty() && packed.empty.is_empty() && packed.failed.is_empty());
    }

    #[test]
    fn inputs_with_no_file_or_no_loadable_row_are_absent_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d1");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("a.csv"), "").unwrap();
        fs::write(dir.join("b.csv"), "id,name\r\n").unwrap();
        fs::write(dir.join("c1.csv"), "\n  \n\n").unwrap();
        fs::write(
            dir.join("c2.csv"),
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x01\x02\x03",
        )
        .unwrap();
        fs::write(dir.join("e.csv"), "id\n1\n").unwrap();
        fs::write(dir.join("e2.csv"), "").unwrap();
        fs::write(dir.join("f.csv"), "id,name\n1\n2,Bo,x\n").unwrap();
        // Blank lines in UTF-16, with its byte-order mark.
        let wide: Vec<u8> = "\u{feff}\r\n\r\n  \r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        fs::write(dir.join("g.csv"), wide).unwrap();
        let audit = audit(
            ["a", "b", "c", "d", "e", "f", "g"]
                .map(|name| input(name, &format!("{name}*.csv"), InputFormat::Csv))
                .to_vec(),
        );
        let read = read_district(&audit, tmp.path(), "d1", &Masker::without_key()).unwrap();
        let absent = read.absent();
        let absent: Vec<(&str, &str)> = absent
            .iter()
            .map(|(input, why)| (input.as_str(), why.as_str()))
            .collect();
        assert_eq!(
            absent,
            [
                ("d", "no file matches `d*.csv` in district d1 (input `d`)"),
                (
                    "a",
                    "input `a` has no data row in district d1: `d1/a.csv` is empty: no header row"
                ),
                (
                    "b",
                    "input `b` has no data row in district d1: `d1/b.csv` has a header row and no data rows"
                ),
                (
                    "c",
                    "input `c` has no data row in district d1: `d1/c1.csv` holds only blank lines: \
                     no header row; `d1/c2.csv` is not text (binary content)"
                ),
                (
                    "f",
                    "input `f` has no data row in district d1: `d1/f.csv` has no loadable row: \
                     all 2 were rejected (see validation_errors)"
                ),
                (
                    "g",
                    "input `g` has no data row in district d1: `d1/g.csv` holds only blank \
                     lines: no header row"
                ),
            ]
        );
        // A header-only input is still a table (with no row); files with no column give none.
        let tables: Vec<(&str, usize)> = read
            .tables
            .iter()
            .map(|t| (t.name.as_str(), rows(t)))
            .collect();
        assert_eq!(tables, [("b", 0), ("e", 1), ("f", 0)]);
        let lines: Vec<(&str, u64)> = read
            .rejections
            .iter()
            .map(|r| (r.file.as_str(), r.line))
            .collect();
        assert_eq!(lines, [("d1/c2.csv", 1), ("d1/f.csv", 2), ("d1/f.csv", 3)]);
        // Every file's notes, in full.
        let notes: Vec<(&str, Vec<&str>)> = read
            .files
            .iter()
            .map(|f| {
                let notes = f.notes.iter().map(String::as_str).collect();
                (f.file.as_str(), notes)
            })
            .collect();
        assert_eq!(
            notes,
            [
                ("d1/a.csv", vec!["file is empty: no header row"]),
                ("d1/b.csv", vec!["file has a header row and no data rows"]),
                (
                    "d1/c1.csv",
                    vec!["file holds only blank lines: no header row"]
                ),
                // Six zero bytes among its 17: P K 03 04 14 [00] 06 [00] 08 [00 00 00] ! [00] ...
                (
                    "d1/c2.csv",
                    vec!["dropped 6 NUL byte(s)", "file is not text (binary content)"]
                ),
                ("d1/e.csv", vec![]),
                ("d1/e2.csv", vec!["file is empty: no header row"]),
                (
                    "d1/f.csv",
                    vec!["file has no loadable row: all 2 were rejected (see validation_errors)"]
                ),
                (
                    "d1/g.csv",
                    vec![
                        "UTF-16LE byte-order mark removed",
                        "file holds only blank lines: no header row"
                    ]
                ),
            ]
        );
        assert!(read.unread.is_empty() && read.failed.is_empty());
    }

    #[test]
    fn truncated_and_wrongly_encoded_files_are_read_as_far_as_they_go() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d1");
        fs::create_dir_all(&dir).unwrap();
        // Cut in the middle of the last record, and in the middle of a quoted field.
        fs::write(dir.join("cut.csv"), "id,name,grade\n1,Ann,07\n2,Bo").unwrap();
        fs::write(dir.join("quote.csv"), "id,name\n1,Ann\n2,\"Bo").unwrap();
        // Declared UTF-8, sent as Windows-1252; and UTF-16 with its byte-order mark.
        fs::write(dir.join("latin.csv"), b"id,name\n1,Zo\xEB\n").unwrap();
        let utf16: Vec<u8> = "\u{feff}id,name\r\n1,Zoë\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        fs::write(dir.join("wide.csv"), utf16).unwrap();
        let mut latin = input("latin", "latin.csv", InputFormat::Csv);
        latin.encoding = Encoding::Utf8;
        let audit = audit(vec![
            input("cut", "cut.csv", InputFormat::Csv),
            input("quote", "quote.csv", InputFormat::Csv),
            latin,
            input("wide", "wide.csv", InputFormat::Csv),
        ]);
        let read = read_district(&audit, tmp.path(), "d1", &Masker::without_key()).unwrap();
        let accounting: Vec<(&str, u64, u64, u64, &str)> = read
            .files
            .iter()
            .map(|f| {
                let counts = (f.rows_read, f.rows_loaded, f.rows_rejected);
                (
                    f.file.as_str(),
                    counts.0,
                    counts.1,
                    counts.2,
                    f.encoding.as_str(),
                )
            })
            .collect();
        assert_eq!(
            accounting,
            [
                ("d1/cut.csv", 2, 1, 1, "UTF-8"),
                ("d1/quote.csv", 2, 2, 0, "UTF-8"),
                ("d1/latin.csv", 1, 1, 0, "UTF-8"),
                ("d1/wide.csv", 1, 1, 0, "UTF-16LE"),
            ]
        );
        let rejected = &read.rejections[0];
        assert_eq!(
            (
                rejected.file.as_str(),
                rejected.line,
                rejected.reason.as_str()
            ),
            ("d1/cut.csv", 3, "expected 3 fields, found 2")
        );
        let value = |table: usize, row: usize, column: usize| {
            use datafusion::arrow::array::AsArray;
            read.tables[table].batches[0]
                .column(column)
                .as_string::<i32>()
                .value(row)
                .to_owned()
        };
        // An unterminated quote ends at the end of the file.
        assert_eq!(value(1, 1, 1), "Bo");
        assert_eq!(value(2, 0, 1), "Zo\u{fffd}");
        assert_eq!(
            read.files[2].notes,
            ["invalid UTF-8 bytes replaced with U+FFFD"]
        );
        assert_eq!(value(3, 0, 1), "Zoë");
        assert!(read.absent().is_empty() && read.failed.is_empty());
    }

    #[test]
    fn an_unreadable_or_corrupt_file_fails_its_input_only() {
        use crate::compression::{Compression, compress};
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d1");
        fs::create_dir_all(&dir).unwrap();
        let packed = compress(Compression::Gzip, "id\n1\n".repeat(100).as_bytes());
        // Input `s`: a truncated file, a good one with a ragged row, a mislabelled one.
        fs::write(dir.join("s-1.csv.gz"), &packed[..packed.len() / 2]).unwrap();
        fs::write(dir.join("s-2.csv"), "id\n1\n2,x\n").unwrap();
        fs::write(dir.join("s-3.csv.gz"), "id\n1\n").unwrap();
        fs::write(dir.join("p.parquet.gz"), &packed).unwrap();
        std::os::unix::fs::symlink("loop.csv", dir.join("loop.csv")).unwrap();
        fs::write(dir.join("t.csv"), "id\n1\n2\n").unwrap();
        let audit = audit(vec![
            input("s", "s*.csv", InputFormat::Csv),
            input("p", "p*", InputFormat::Parquet),
            input("loop", "loop*.csv", InputFormat::Csv),
            input("t", "t*.csv", InputFormat::Csv),
        ]);
        let read = read_district(&audit, tmp.path(), "d1", &Masker::without_key()).unwrap();
        let failed: Vec<(&str, &str)> = read
            .failed
            .iter()
            .map(|(input, why)| (input.as_str(), why.as_str()))
            .collect();
        let looping = format!(
            "cannot read `{}`: Too many levels of symbolic links (os error 40)",
            dir.join("loop.csv").display()
        );
        assert_eq!(
            failed,
            [
                (
                    "s",
                    "`d1/s-1.csv.gz` is corrupt or truncated gzip data: incomplete deflate stream; \
                     `d1/s-3.csv.gz` is named as gzip-compressed but does not hold gzip data"
                ),
                (
                    "p",
                    "`d1/p.parquet.gz` is gzip-compressed, and compressed Parquet is not \
                     supported: send the .parquet file"
                ),
                ("loop", looping.as_str()),
            ]
        );
        // The other input is read as if nothing had happened; the file of `s` that could be read
        // keeps its accounting and its rejected row.
        let tables: Vec<(&str, usize)> = read
            .tables
            .iter()
            .map(|t| (t.name.as_str(), rows(t)))
            .collect();
        assert_eq!(tables, [("t", 2)]);
        let accounting: Vec<(&str, u64, u64, u64)> = read
            .files
            .iter()
            .map(|f| (f.file.as_str(), f.rows_read, f.rows_loaded, f.rows_rejected))
            .collect();
        assert_eq!(accounting, [("d1/s-2.csv", 2, 1, 1), ("d1/t.csv", 2, 2, 0)]);
        let rejected: Vec<(&str, u64, &str)> = read
            .rejections
            .iter()
            .map(|r| (r.file.as_str(), r.line, r.reason.as_str()))
            .collect();
        assert_eq!(rejected, [("d1/s-2.csv", 3, "expected 1 fields, found 2")]);
        assert!(read.absent().is_empty());
    }

    #[test]
    fn compressed_parquet_is_matched_by_the_usual_glob_and_refused() {
        use crate::compression::{Compression, compress};
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d1");
        fs::create_dir_all(&dir).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int32, false)]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(vec![1, 2]))])
                .unwrap();
        let mut parquet = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut parquet, schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        fs::write(
            dir.join("scores.parquet.gz"),
            compress(Compression::Gzip, &parquet),
        )
        .unwrap();
        fs::write(dir.join("grades.parquet"), &parquet).unwrap();
        fs::write(
            dir.join("grades.parquet.zst"),
            compress(Compression::Zstd, &parquet),
        )
        .unwrap();
        let audit = audit(vec![
            input("scores", "scores*.parquet", InputFormat::Parquet),
            input("grades", "grades.parquet", InputFormat::Parquet),
        ]);
        let read = read_district(&audit, tmp.path(), "d1", &Masker::without_key()).unwrap();
        let failed: Vec<(&str, &str)> = read
            .failed
            .iter()
            .map(|(input, why)| (input.as_str(), why.as_str()))
            .collect();
        assert_eq!(
            failed,
            [
                (
                    "scores",
                    "`d1/scores.parquet.gz` is gzip-compressed, and compressed Parquet is not \
                     supported: send the .parquet file"
                ),
                (
                    "grades",
                    "`d1/grades.parquet` and `d1/grades.parquet.zst` are the same file once the \
                     compression suffix is removed: both would be read and their rows counted \
                     twice; remove one of them; `d1/grades.parquet.zst` is zstd-compressed, and \
                     compressed Parquet is not supported: send the .parquet file"
                ),
            ]
        );
        // Matched, so not among the files no input reads; the plain copy was read (2 rows).
        assert!(read.unread.is_empty() && read.tables.is_empty() && read.absent().is_empty());
        let accounting: Vec<(&str, u64)> = read
            .files
            .iter()
            .map(|f| (f.file.as_str(), f.rows_read))
            .collect();
        assert_eq!(accounting, [("d1/grades.parquet", 2)]);
    }

    #[test]
    fn a_file_sent_plain_and_compressed_fails_its_input() {
        use crate::compression::{Compression, compress};
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d1");
        fs::create_dir_all(&dir).unwrap();
        let students = b"id,name\n1,Ann\n2,Bo\n";
        fs::write(dir.join("students.csv"), students).unwrap();
        fs::write(
            dir.join("students.csv.gz"),
            compress(Compression::Gzip, students),
        )
        .unwrap();
        // Three copies of one file; and daily files whose names differ are no copies.
        let scores = b"{\"id\": \"1\"}\n";
        fs::write(dir.join("scores.jsonl"), scores).unwrap();
        fs::write(
            dir.join("scores.jsonl.zst"),
            compress(Compression::Zstd, scores),
        )
        .unwrap();
        fs::write(
            dir.join("scores.jsonl.XZ"),
            compress(Compression::Xz, scores),
        )
        .unwrap();
        fs::write(dir.join("daily-1.csv"), "id\n1\n").unwrap();
        fs::write(
            dir.join("daily-2.csv.gz"),
            compress(Compression::Gzip, b"id\n2\n3\n"),
        )
        .unwrap();
        let mut scores = input("scores", "scores*.jsonl", InputFormat::Jsonl);
        scores.pii = Vec::new();
        let audit = audit(vec![
            input("students", "students*.csv", InputFormat::Csv),
            scores,
            input("daily", "daily-*.csv", InputFormat::Csv),
        ]);
        let read = read_district(&audit, tmp.path(), "d1", &Masker::without_key()).unwrap();
        let failed: Vec<(&str, &str)> = read
            .failed
            .iter()
            .map(|(input, why)| (input.as_str(), why.as_str()))
            .collect();
        assert_eq!(
            failed,
            [
                (
                    "students",
                    "`d1/students.csv` and `d1/students.csv.gz` are the same file once the \
                     compression suffix is removed: both would be read and their rows counted \
                     twice; remove one of them"
                ),
                (
                    "scores",
                    "`d1/scores.jsonl`, `d1/scores.jsonl.XZ` and `d1/scores.jsonl.zst` are the \
                     same file once the compression suffix is removed: all would be read and \
                     their rows counted 3 times; keep one"
                ),
            ]
        );
        let tables: Vec<(&str, usize)> = read
            .tables
            .iter()
            .map(|t| (t.name.as_str(), rows(t)))
            .collect();
        assert_eq!(tables, [("daily", 3)]);
        // Each copy was read, and is accounted for as sent.
        let accounting: Vec<(&str, u64)> = read
            .files
            .iter()
            .map(|f| (f.file.as_str(), f.rows_read))
            .collect();
        assert_eq!(
            accounting,
            [
                ("d1/students.csv", 2),
                ("d1/students.csv.gz", 2),
                ("d1/scores.jsonl", 1),
                ("d1/scores.jsonl.XZ", 1),
                ("d1/scores.jsonl.zst", 1),
                ("d1/daily-1.csv", 1),
                ("d1/daily-2.csv.gz", 2),
            ]
        );
        assert!(read.unread.is_empty() && read.absent().is_empty());
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

//! JSON lines (`.jsonl`, `.ndjson`): one JSON object per line, read into text columns like
//! delimited files, so that types stay the transforms' business.
//!
//! Columns are the keys in the order first seen (the keys of one line in alphabetical order); a
//! key missing from a line is null there.
//! Strings are taken as they are, numbers and booleans as their shortest JSON text (`3.50`
//! becomes `3.5`, `7` stays `7`; send a string to keep a number's exact spelling), `null` as
//! null, nested arrays and objects as their JSON text. A line that is not a JSON
//! object (bad JSON, an array, a number, invalid UTF-8) is rejected with its line number; blank
//! lines are skipped, as in delimited files. A file none of whose objects has a field (every one
//! is `{}`) has no column, and so no row: its objects are rejected too, with their line numbers
//! ([`EMPTY_OBJECT`]). Among objects with fields, `{}` is a row of nulls.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::Result;

/// Why an empty object (`{}`) of a file with no field at all is rejected.
pub const EMPTY_OBJECT: &str = "empty JSON object ({}): no line of the file has a field";

/// What a JSON-lines file held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedJsonLines {
    /// Column names, in the order first seen.
    pub columns: Vec<String>,
    /// Accepted rows, one value per column (`None` for null or missing).
    pub rows: Vec<Vec<Option<String>>>,
    /// Rejected lines: (1-based line number, reason, the line as text), by line number.
    pub rejected: Vec<(u64, String, String)>,
    /// How many of the rejected lines are empty objects of a file with no field at all.
    pub empty_objects: usize,
}

/// Parse JSON lines. Never fails: a line that cannot be read is rejected.
#[must_use]
pub fn parse_json_lines(bytes: &[u8]) -> ParsedJsonLines {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut parsed = ParsedJsonLines::default();
    // Empty objects, with their line: rejected at the end if no object has a field.
    let mut empty: Vec<(u64, String)> = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = index as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = String::from_utf8_lossy(line).into_owned();
        let object = match serde_json::from_slice::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => {
                parsed
                    .rejected
                    .push((number, "not a JSON object".to_owned(), text));
                continue;
            }
            Err(e) => {
                // serde_json's message names the column within the line, never the value.
                parsed
                    .rejected
                    .push((number, format!("not valid JSON: {e}"), text));
                continue;
            }
        };
        if object.is_empty() {
            empty.push((number, text));
        }
        let mut row = vec![None; parsed.columns.len()];
        for (key, value) in object {
            let at = if let Some(at) = parsed.columns.iter().position(|c| *c == key) {
                at
            } else {
                parsed.columns.push(key);
                row.push(None);
                parsed.columns.len() - 1
            };
            row[at] = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                other => Some(other.to_string()),
            };
        }
        parsed.rows.push(row);
    }
    // Rows with no column at all are no data: reject them, so that every line is accounted for.
    if parsed.columns.is_empty() && !parsed.rows.is_empty() {
        parsed.rows.clear();
        parsed.empty_objects = empty.len();
        parsed.rejected.extend(
            empty
                .into_iter()
                .map(|(line, text)| (line, EMPTY_OBJECT.to_owned(), text)),
        );
        parsed.rejected.sort_by_key(|(line, _, _)| *line);
    }
    // Rows read before a column first appeared lack it.
    let width = parsed.columns.len();
    for row in &mut parsed.rows {
        row.resize(width, None);
    }
    parsed
}

/// The accepted rows as one text table.
///
/// # Errors
/// Only on an Arrow bug (columns of different lengths).
pub fn to_batches(parsed: &ParsedJsonLines) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let schema: SchemaRef = Arc::new(Schema::new(
        parsed
            .columns
            .iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let mut batches = Vec::new();
    for chunk in parsed.rows.chunks(8192) {
        let columns: Vec<ArrayRef> = (0..parsed.columns.len())
            .map(|i| {
                let mut builder = StringBuilder::with_capacity(chunk.len(), chunk.len() * 8);
                for row in chunk {
                    builder.append_option(row[i].as_deref());
                }
                Arc::new(builder.finish()) as ArrayRef
            })
            .collect();
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_whose_objects_have_no_field_has_no_row() {
        let parsed = parse_json_lines(b"{}\n[1]\n\n{ }\r\n{}");
        assert!(parsed.columns.is_empty() && parsed.rows.is_empty());
        let rejected: Vec<(u64, &str, &str)> = parsed
            .rejected
            .iter()
            .map(|(line, reason, text)| (*line, reason.as_str(), text.as_str()))
            .collect();
        assert_eq!(
            rejected,
            [
                (1, EMPTY_OBJECT, "{}"),
                (2, "not a JSON object", "[1]"),
                (4, EMPTY_OBJECT, "{ }"),
                (5, EMPTY_OBJECT, "{}"),
            ]
        );
        assert_eq!(parsed.empty_objects, 3);
        // Beside an object with a field, `{}` is a row of nulls.
        let parsed = parse_json_lines(b"{}\n{\"id\": \"1\"}\n");
        assert_eq!(parsed.rows, vec![vec![None], vec![Some("1".to_owned())]]);
        assert!(parsed.rejected.is_empty());
        assert_eq!(parsed.empty_objects, 0);
    }

    #[test]
    fn every_line_is_loaded_or_rejected_with_its_number() {
        let text = b"\xEF\xBB\xBF{\"id\": \"1\", \"grade\": 7, \"ell\": true}\r\n\
\n\
{\"id\": \"2\", \"name\": \"Zo\xC3\xAB\", \"grade\": null}\n\
[1, 2]\n\
{\"id\": \"3\", \"tags\": [\"a\"], \"gpa\": 3.50}\n\
{\"id\": \"4\", oops}\n\
42";
        let parsed = parse_json_lines(text);
        assert_eq!(
            parsed.columns,
            ["ell", "grade", "id", "name", "gpa", "tags"]
        );
        let text = |v: &str| Some(v.to_owned());
        assert_eq!(
            parsed.rows,
            vec![
                vec![text("true"), text("7"), text("1"), None, None, None],
                vec![None, None, text("2"), text("Zoë"), None, None],
                vec![None, None, text("3"), None, text("3.5"), text("[\"a\"]")],
            ]
        );
        let rejected: Vec<(u64, &str)> = parsed
            .rejected
            .iter()
            .map(|(line, reason, _)| (*line, reason.as_str()))
            .collect();
        assert_eq!(rejected[0], (4, "not a JSON object"));
        assert_eq!(rejected[1].0, 6);
        assert!(
            rejected[1].1.starts_with("not valid JSON"),
            "{}",
            rejected[1].1
        );
        assert_eq!(rejected[2], (7, "not a JSON object"));
        let (schema, batches) = to_batches(&parsed).unwrap();
        assert_eq!(schema.fields().len(), 6);
        assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 3);
    }
}

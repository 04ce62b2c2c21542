//! JSON lines (`.jsonl`, `.ndjson`): one JSON object per line, read into text columns like
//! delimited files, so that types stay the transforms' business.
//!
//! Columns are the keys in the order first seen (the keys of one line in alphabetical order); a
//! key missing from a line is null there.
//! Strings are taken as they are, numbers and booleans as their shortest JSON text (`3.50`
//! becomes `3.5`, `7` stays `7`; send a string to keep a number's exact spelling), `null` as
//! null, nested arrays and objects as their JSON text. A line that is not a JSON
//! object (bad JSON, an array, a number, invalid UTF-8) is rejected with its line number; blank
//! lines are skipped, as in delimited files.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::Result;

/// What a JSON-lines file held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedJsonLines {
    /// Column names, in the order first seen.
    pub columns: Vec<String>,
    /// Accepted rows, one value per column (`None` for null or missing).
    pub rows: Vec<Vec<Option<String>>>,
    /// Rejected lines: (1-based line number, reason, the line as text).
    pub rejected: Vec<(u64, String, String)>,
}

/// Parse JSON lines. Never fails: a line that cannot be read is rejected.
#[must_use]
pub fn parse_json_lines(bytes: &[u8]) -> ParsedJsonLines {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut parsed = ParsedJsonLines::default();
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
        let mut row = vec![None; parsed.columns.len()];
        for (key, value) in object {
            let at = match parsed.columns.iter().position(|c| *c == key) {
                Some(at) => at,
                None => {
                    parsed.columns.push(key);
                    row.push(None);
                    parsed.columns.len() - 1
                }
            };
            row[at] = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                other => Some(other.to_string()),
            };
        }
        parsed.rows.push(row);
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

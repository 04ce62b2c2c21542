//! Decoding and splitting delimited text files, keeping every line accounted for.
//!
//! This is the part that meets what districts really send, so it never fails: a file that cannot
//! be parsed yields rejections, not an error.

use pathway_audit::Encoding;

/// The outcome of parsing one delimited text file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedText {
    /// Column names (from the header, or `column_1`.. without one).
    pub columns: Vec<String>,
    /// Accepted rows; each has exactly `columns.len()` fields.
    pub rows: Vec<Vec<String>>,
    /// Line number (1-based, in the file) of each accepted row, parallel to `rows`.
    pub row_lines: Vec<u64>,
    /// Rejected records: line number, reason, and the record's fields as read.
    pub rejected: Vec<(u64, String, Vec<String>)>,
    /// The encoding the bytes were decoded with.
    pub encoding: &'static str,
    /// The delimiter used.
    pub delimiter: u8,
    /// Notes about repairs made to the whole file (BOM removed, NUL bytes dropped, ...).
    pub notes: Vec<String>,
    /// The file is not text (a spreadsheet, an image): it was rejected whole, at line 1.
    pub binary: bool,
}

impl ParsedText {
    /// Data records read (header excluded): loaded plus rejected.
    #[must_use]
    pub fn rows_read(&self) -> u64 {
        (self.rows.len() + self.rejected.len()) as u64
    }
}

const DELIMITER_CANDIDATES: [u8; 4] = [b',', b'\t', b'|', b';'];

/// Decode `bytes` and split them into header and records.
///
/// `delimiter: None` detects it from the first line. Records whose field count differs from the
/// header's are rejected with the reason. A file that does not look like text at all yields a
/// single rejection at line 1.
#[must_use]
pub fn parse_delimited(
    bytes: &[u8],
    delimiter: Option<u8>,
    header: bool,
    encoding: Encoding,
) -> ParsedText {
    let (mut rows, mut row_lines) = (Vec::new(), Vec::new());
    let scan = scan_delimited(
        bytes,
        delimiter,
        header,
        encoding,
        true,
        |_, record, line| {
            rows.push(record.iter().map(str::to_owned).collect());
            row_lines.push(line);
        },
    );
    ParsedText {
        columns: scan.columns,
        rows,
        row_lines,
        rejected: scan.rejected,
        encoding: scan.encoding,
        delimiter: scan.delimiter,
        notes: scan.notes,
        binary: scan.binary,
    }
}

/// What [`scan_delimited`] found besides the accepted rows, which it hands over one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedText {
    /// Column names (from the header, or `column_1`.. without one).
    pub columns: Vec<String>,
    /// Accepted rows.
    pub rows: u64,
    /// Rejected records: line number, reason, and the record's fields as read.
    pub rejected: Vec<(u64, String, Vec<String>)>,
    /// The encoding the bytes were decoded with.
    pub encoding: &'static str,
    /// The delimiter used.
    pub delimiter: u8,
    /// Notes about repairs made to the whole file (BOM removed, NUL bytes dropped, ...).
    pub notes: Vec<String>,
    /// The file is not text (a spreadsheet, an image): it was rejected whole, at line 1.
    pub binary: bool,
}

/// [`parse_delimited`] without holding the rows: each accepted record goes to `on_row` with the
/// column names and its line (1-based, in the file; 0 unless `row_lines`, since counting lines
/// reads the text once more) as soon as it is read, its field count that of the columns.
/// Rejected records always carry their line. A
/// caller that turns records into Arrow batches as they come holds one batch, not the file's
/// rows as strings (which took several times the file's size).
pub fn scan_delimited(
    bytes: &[u8],
    delimiter: Option<u8>,
    header: bool,
    encoding: Encoding,
    row_lines: bool,
    mut on_row: impl FnMut(&[String], &csv::StringRecord, u64),
) -> ScannedText {
    let mut notes = Vec::new();
    let (text, encoding_used) = decode(bytes, encoding, &mut notes);
    let text = if text.contains('\0') {
        let nuls = text.matches('\0').count();
        notes.push(format!("dropped {nuls} NUL byte(s)"));
        std::borrow::Cow::Owned(text.replace('\0', ""))
    } else {
        text
    };
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(&text));
    let mut scanned = ScannedText {
        columns: Vec::new(),
        rows: 0,
        rejected: Vec::new(),
        encoding: encoding_used,
        delimiter,
        notes,
        binary: false,
    };
    // Blank lines hold no record (the csv crate skips empty ones, not those of spaces), and a
    // file of nothing else has no header: it must not become a table with a `column_1`.
    if text.trim().is_empty() {
        return scanned;
    }
    if looks_binary(&text) {
        scanned.binary = true;
        let lines = text.lines().count().max(1) as u64;
        scanned.rejected.push((
            1,
            format!("not a delimited text file (binary content); {lines} line(s) not loaded"),
            Vec::new(),
        ));
        return scanned;
    }

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(&text);
    let mut first = true;
    loop {
        let start = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let at = e.position().map_or(start, csv::Position::byte);
                scanned.rejected.push((
                    lines.line_at(at),
                    format!("unreadable record: {e}"),
                    Vec::new(),
                ));
                continue;
            }
        }
        let at = record.position().map_or(start, csv::Position::byte);
        if first {
            first = false;
            let fields: Vec<String> = record.iter().map(str::to_owned).collect();
            if header {
                scanned.columns = header_names(&fields);
                continue;
            }
            scanned.columns = (1..=fields.len()).map(|i| format!("column_{i}")).collect();
        }
        if record.len() == scanned.columns.len() {
            scanned.rows += 1;
            // The counter only moves forward: skipped rows are counted at the next call.
            let line = if row_lines { lines.line_at(at) } else { 0 };
            on_row(&scanned.columns, &record, line);
        } else {
            let line = lines.line_at(at);
            let reason = format!(
                "expected {} fields, found {}",
                scanned.columns.len(),
                record.len()
            );
            let fields: Vec<String> = record.iter().map(str::to_owned).collect();
            scanned.rejected.push((line, reason, fields));
        }
    }
    scanned
}

/// Line numbers from byte offsets. The csv crate's own line count is one short after a CRLF
/// line end and ignores lone CR line ends; users open the file in an editor that counts lines
/// the usual way.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// 1-based line of the record starting at byte `at` (offsets only grow). A record position
    /// may point at the `\n` of the previous line's CRLF: skip line-end bytes first.
    fn line_at(&mut self, at: u64) -> u64 {
        let mut at = usize::try_from(at)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while at < self.text.len() && matches!(self.text[at], b'\r' | b'\n') {
            at += 1;
        }
        if at >= self.offset {
            // A line ends at `\n`, or at a `\r` not followed by `\n` (old Mac files), as for the
            // csv crate, which splits records there too.
            let text = self.text;
            let ends = (self.offset..at)
                .filter(|&i| {
                    text[i] == b'\n' || (text[i] == b'\r' && text.get(i + 1) != Some(&b'\n'))
                })
                .count();
            self.line += ends as u64;
            self.offset = at;
        }
        self.line
    }
}

/// Decode bytes to text. BOMs decide first; `Auto` takes UTF-8 when valid, else Windows-1252.
/// Valid UTF-8 is borrowed, not copied.
fn decode<'a>(
    bytes: &'a [u8],
    encoding: Encoding,
    notes: &mut Vec<String>,
) -> (std::borrow::Cow<'a, str>, &'static str) {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        notes.push(format!("{} byte-order mark removed", enc.name()));
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            notes.push(format!("invalid {} bytes replaced with U+FFFD", enc.name()));
        }
        return (text, enc.name());
    }
    match encoding {
        Encoding::Windows1252 => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            (text, "windows-1252")
        }
        Encoding::Utf8 => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                (std::borrow::Cow::Borrowed(text), "UTF-8")
            } else {
                notes.push("invalid UTF-8 bytes replaced with U+FFFD".into());
                (String::from_utf8_lossy(bytes), "UTF-8")
            }
        }
        Encoding::Auto => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                (std::borrow::Cow::Borrowed(text), "UTF-8")
            } else {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                (text, "windows-1252")
            }
        }
    }
}

/// Pick the candidate delimiter that occurs most often, outside quotes, in the first line.
fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; DELIMITER_CANDIDATES.len()];
    let mut in_quotes = false;
    for b in text.bytes() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => break,
            _ if !in_quotes => {
                if let Some(i) = DELIMITER_CANDIDATES.iter().position(|&d| d == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..counts.len())
        .max_by_key(|&i| (counts[i], usize::MAX - i))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        DELIMITER_CANDIDATES[best]
    }
}

/// Text files hold few control characters; binary files (zip, xlsx, images) hold many.
fn looks_binary(text: &str) -> bool {
    let sample: Vec<char> = text.chars().take(4096).collect();
    if sample.is_empty() {
        return false;
    }
    let control = sample
        .iter()
        .filter(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n' | '\u{c}'))
        .count();
    let replaced = sample.iter().filter(|&&c| c == '\u{fffd}').count();
    control * 10 > sample.len() || replaced * 4 > sample.len()
}

/// Trimmed header names; blanks become `column_<i>` and repeats get a `_<n>` suffix, so every
/// column stays addressable from SQL.
fn header_names(fields: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        let trimmed = field.trim();
        let base = if trimmed.is_empty() {
            format!("column_{}", i + 1)
        } else {
            trimmed.to_owned()
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> ParsedText {
        parse_delimited(text, None, true, Encoding::Auto)
    }

    #[test]
    fn comma_with_quotes_and_embedded_newline() {
        let p = parse(b"id,name,note\r\n1,\"Smith, Ann\",\"two\nlines\"\r\n2,Bo,x\r\n");
        assert_eq!(p.columns, ["id", "name", "note"]);
        assert_eq!(
            p.rows,
            [vec!["1", "Smith, Ann", "two\nlines"], vec!["2", "Bo", "x"]]
        );
        assert_eq!(p.row_lines, [2, 4]);
        assert_eq!(p.delimiter, b',');
        assert!(p.rejected.is_empty());
    }

    #[test]
    fn sniffs_tab_pipe_and_semicolon() {
        assert_eq!(parse(b"a\tb\n1\t2\n").delimiter, b'\t');
        assert_eq!(parse(b"a|b|c\n1|2|3\n").delimiter, b'|');
        assert_eq!(parse(b"a;b\n1;2\n").delimiter, b';');
        // a comma inside a quoted header name does not win over the real delimiter
        assert_eq!(parse(b"\"a,b,c\"|d\n1|2\n").delimiter, b'|');
    }

    #[test]
    fn ragged_rows_are_rejected_with_line_and_reason() {
        let p = parse(b"id,name\n1,Ann\n2,Bo,extra\n3\n4,Cy\n");
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows_read(), 4);
        assert_eq!(p.rejected[0].0, 3);
        assert_eq!(p.rejected[0].1, "expected 2 fields, found 3");
        assert_eq!(p.rejected[1].0, 4);
        assert_eq!(p.rejected[1].1, "expected 2 fields, found 1");
        assert_eq!(p.row_lines, [2, 5]);
        // CRLF and blank lines count like an editor counts them.
        let p = parse(b"id,name\r\n1,Ann\r\n\r\n2,Bo,x\r\n3,Cy\r\n");
        assert_eq!(p.rejected[0].0, 4);
        assert_eq!(p.row_lines, [2, 5]);
        // Old Mac line ends (CR only).
        let p = parse(b"id,name\r1,Ann\r2,Bo,x\r3,Cy\r");
        assert_eq!(p.row_lines, [2, 4]);
        assert_eq!(p.rejected[0].0, 3);
    }

    #[test]
    fn bom_and_windows_1252_are_decoded() {
        let p = parse(b"\xEF\xBB\xBFid,name\n1,Zo\xC3\xAB\n");
        assert_eq!(p.columns[0], "id");
        assert_eq!(p.rows[0][1], "Zoë");
        assert_eq!(p.encoding, "UTF-8");
        let p = parse(b"id,name\n1,Zo\xEB\n");
        assert_eq!(p.rows[0][1], "Zoë");
        assert_eq!(p.encoding, "windows-1252");
    }

    #[test]
    fn header_only_empty_and_binary_files() {
        let p = parse(b"id,name\n");
        assert_eq!(p.columns, ["id", "name"]);
        assert_eq!(p.rows_read(), 0);
        let p = parse(b"");
        assert!(p.columns.is_empty());
        assert_eq!(p.rows_read(), 0);
        let p = parse(b"\r\n  \n\t\n");
        assert!(p.columns.is_empty(), "{:?}", p.columns);
        assert_eq!(p.rows_read(), 0);
        let p =
            parse(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x01\x02\x03\x04\x05\x06\x07");
        assert_eq!(p.rejected.len(), 1);
        assert!(
            p.rejected[0].1.starts_with("not a delimited text file"),
            "{:?}",
            p.rejected
        );
    }

    #[test]
    fn blank_and_duplicate_header_names_stay_addressable() {
        let p = parse(b"id,,name,name\n1,2,3,4\n");
        assert_eq!(p.columns, ["id", "column_2", "name", "name_2"]);
    }

    #[test]
    fn no_header_names_columns_by_position() {
        let p = parse_delimited(b"1,Ann\n2,Bo\n", Some(b','), false, Encoding::Utf8);
        assert_eq!(p.columns, ["column_1", "column_2"]);
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.row_lines, [1, 2]);
    }
}

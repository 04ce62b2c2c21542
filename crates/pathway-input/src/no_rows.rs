//! Why a file gave its table no row: said in words, because "0 rows" alone hides whether a
//! district sent an empty export, a header, a spreadsheet saved under a `.csv` name, or lines
//! that were all rejected.

/// Why a file loaded no row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRows {
    /// No byte at all (after decompression).
    Empty,
    /// Only white space and line ends.
    BlankLines,
    /// Not text (binary content): rejected whole.
    NotText,
    /// A header row and nothing else: a valid table with no row.
    HeaderOnly,
    /// Records, every one of them rejected.
    AllRejected(u64),
    /// A Parquet file with no row.
    NoRecords,
    /// JSON lines whose objects have no field (`{}`): no column, so no row; the count of such
    /// objects, each rejected.
    NoFields(u64),
}

impl NoRows {
    /// Classify a text file (delimited or JSON lines) that loaded `loaded` rows. `None` when it
    /// loaded some.
    #[must_use]
    pub fn of_text(
        bytes: &[u8],
        binary: bool,
        has_columns: bool,
        loaded: usize,
        rejected: usize,
    ) -> Option<NoRows> {
        if loaded > 0 {
            return None;
        }
        let content = without_bom(bytes);
        Some(if content.is_empty() {
            NoRows::Empty
        } else if only_white_space(bytes) {
            NoRows::BlankLines
        } else if binary {
            NoRows::NotText
        } else if rejected > 0 {
            NoRows::AllRejected(rejected as u64)
        } else if has_columns {
            NoRows::HeaderOnly
        } else {
            // Only a byte-order mark (of another encoding than UTF-8) decodes to nothing.
            NoRows::Empty
        })
    }

    /// Classify a JSON-lines file: as [`NoRows::of_text`], and [`NoRows::NoFields`] when its
    /// objects have no field at all.
    #[must_use]
    pub fn of_json_lines(bytes: &[u8], parsed: &crate::ParsedJsonLines) -> Option<NoRows> {
        if parsed.empty_objects > 0 {
            return Some(NoRows::NoFields(parsed.empty_objects as u64));
        }
        NoRows::of_text(
            bytes,
            false,
            !parsed.columns.is_empty(),
            parsed.rows.len(),
            parsed.rejected.len(),
        )
    }

    /// Whether the file holds no table at all, not even a header: nothing to compare against.
    #[must_use]
    pub fn has_no_columns(self) -> bool {
        matches!(
            self,
            NoRows::Empty | NoRows::BlankLines | NoRows::NotText | NoRows::NoFields(_)
        )
    }

    /// The words after the file's name: "`x.csv` is empty: no header row". `header_expected`
    /// is true for delimited text read with a header line.
    #[must_use]
    pub fn describe(self, header_expected: bool) -> String {
        let no_header = if header_expected {
            ": no header row"
        } else {
            ""
        };
        match self {
            NoRows::Empty => format!("is empty{no_header}"),
            NoRows::BlankLines => format!("holds only blank lines{no_header}"),
            NoRows::NotText => "is not text (binary content)".to_owned(),
            NoRows::HeaderOnly => "has a header row and no data rows".to_owned(),
            NoRows::AllRejected(n) => {
                format!("has no loadable row: all {n} were rejected (see validation_errors)")
            }
            NoRows::NoRecords => "holds no rows".to_owned(),
            NoRows::NoFields(n) => format!(
                "has no field: its {n} JSON object(s) are all empty ({{}}), so there is no \
                 column to load (rejected, see validation_errors)"
            ),
        }
    }
}

/// Whether the text holds only white space and line ends, read in the encoding its byte-order
/// mark gives: UTF-16 line ends are two bytes, one of them zero.
fn only_white_space(bytes: &[u8]) -> bool {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        rest.len().is_multiple_of(2)
            && char::decode_utf16(rest.chunks_exact(2).map(|pair| unit([pair[0], pair[1]])))
                .all(|c| c.is_ok_and(|c| c.is_ascii_whitespace()))
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)
    } else {
        without_bom(bytes).iter().all(u8::is_ascii_whitespace)
    }
}

fn without_bom(bytes: &[u8]) -> &[u8] {
    for bom in [&b"\xEF\xBB\xBF"[..], b"\xFF\xFE", b"\xFE\xFF"] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            return rest;
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_nothing_is_named() {
        let of = |bytes: &[u8], binary, columns, rejected| {
            NoRows::of_text(bytes, binary, columns, 0, rejected).map(|n| n.describe(true))
        };
        assert_eq!(of(b"", false, false, 0).unwrap(), "is empty: no header row");
        assert_eq!(
            of(b"\xEF\xBB\xBF", false, false, 0).unwrap(),
            "is empty: no header row"
        );
        assert_eq!(
            of(b"\n \r\n\t\n", false, false, 0).unwrap(),
            "holds only blank lines: no header row"
        );
        assert_eq!(
            of(b"PK\x03\x04", true, false, 1).unwrap(),
            "is not text (binary content)"
        );
        assert_eq!(
            of(b"id,name\n", false, true, 0).unwrap(),
            "has a header row and no data rows"
        );
        assert_eq!(
            of(b"id,name\n1\n2\n", false, true, 2).unwrap(),
            "has no loadable row: all 2 were rejected (see validation_errors)"
        );
        // UTF-16 (little- and big-endian, by their byte-order mark): its line ends hold zero
        // bytes, which are not white space as bytes.
        let wide = |text: &str, unit: fn(u16) -> [u8; 2], bom: &[u8]| -> Vec<u8> {
            let mut bytes = bom.to_vec();
            bytes.extend(text.encode_utf16().flat_map(unit));
            bytes
        };
        for (bom, unit) in [
            (&b"\xFF\xFE"[..], u16::to_le_bytes as fn(u16) -> [u8; 2]),
            (&b"\xFE\xFF"[..], u16::to_be_bytes),
        ] {
            assert_eq!(
                of(&wide("\r\n\r\n \t\r\n", unit, bom), false, false, 0).unwrap(),
                "holds only blank lines: no header row"
            );
            assert_eq!(
                of(&wide("", unit, bom), false, false, 0).unwrap(),
                "is empty: no header row"
            );
            assert_eq!(
                of(&wide("id,name\r\n", unit, bom), false, true, 0).unwrap(),
                "has a header row and no data rows"
            );
        }
        assert_eq!(NoRows::of_text(b"id\n1\n", false, true, 1, 0), None);
        assert_eq!(NoRows::Empty.describe(false), "is empty");
        assert_eq!(
            NoRows::NoFields(3).describe(false),
            "has no field: its 3 JSON object(s) are all empty ({}), so there is no column to \
             load (rejected, see validation_errors)"
        );
        assert!(NoRows::NoFields(3).has_no_columns());
        assert!(NoRows::BlankLines.has_no_columns());
        assert!(!NoRows::HeaderOnly.has_no_columns());
    }
}

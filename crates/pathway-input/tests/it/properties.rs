//! Property tests of the delimited-text reader: no input makes it panic, every record is
//! accounted for, and what a CSV writer writes reads back exactly.

use pathway_audit::Encoding;
use pathway_input::parse_delimited;
use proptest::prelude::*;

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::Auto),
        Just(Encoding::Utf8),
        Just(Encoding::Windows1252)
    ]
}

fn delimiter() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![
        Just(None),
        Just(Some(b',')),
        Just(Some(b'\t')),
        Just(Some(b'|')),
        Just(Some(b';'))
    ]
}

/// Text made of the characters that matter to a CSV reader.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"a".to_vec()),
        Just(b"07".to_vec()),
        Just(b",".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"|".to_vec()),
        Just(b";".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b" ".to_vec()),
        Just("é".as_bytes().to_vec()),
        Just(vec![0xE9]),
        Just(vec![0]),
        Just(vec![0xEF, 0xBB, 0xBF]),
    ];
    prop::collection::vec(pieces, 0..200).prop_map(|p| p.concat())
}

fn check_accounting(bytes: &[u8], delimiter: Option<u8>, header: bool, encoding: Encoding) {
    let parsed = parse_delimited(bytes, delimiter, header, encoding);
    assert_eq!(
        parsed.rows_read(),
        (parsed.rows.len() + parsed.rejected.len()) as u64
    );
    assert_eq!(parsed.rows.len(), parsed.row_lines.len());
    for row in &parsed.rows {
        assert_eq!(row.len(), parsed.columns.len());
    }
    let mut last = 0;
    for &line in &parsed.row_lines {
        assert!(line > last, "line numbers increase: {:?}", parsed.row_lines);
        last = line;
    }
    for (line, reason, _) in &parsed.rejected {
        assert!(*line >= 1);
        assert!(!reason.is_empty());
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_are_accounted(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        delimiter in delimiter(),
        header in any::<bool>(),
        encoding in encoding(),
    ) {
        check_accounting(&bytes, delimiter, header, encoding);
    }

    #[test]
    fn csv_like_text_never_panics_and_is_accounted(
        bytes in csvish(),
        delimiter in delimiter(),
        header in any::<bool>(),
        encoding in encoding(),
    ) {
        check_accounting(&bytes, delimiter, header, encoding);
    }

    #[test]
    fn what_a_csv_writer_writes_reads_back_exactly(
        rows in prop::collection::vec(prop::collection::vec("[a-zé0-9 ,;|\t\"\n]{0,8}", 3), 0..20),
        delimiter in prop_oneof![Just(b','), Just(b'\t'), Just(b'|'), Just(b';')],
        crlf in any::<bool>(),
    ) {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
            .quote_style(csv::QuoteStyle::Always)
            .from_writer(Vec::new());
        writer.write_record(["id", "name", "note"]).unwrap();
        for row in &rows {
            writer.write_record(row).unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        let parsed = parse_delimited(&bytes, Some(delimiter), true, Encoding::Utf8);
        prop_assert_eq!(&parsed.columns, &vec!["id".to_owned(), "name".to_owned(), "note".to_owned()]);
        prop_assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        prop_assert_eq!(&parsed.rows, &rows);
    }
}

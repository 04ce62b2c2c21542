//! Every file in fixtures/messy read with its hand-checked accounting, and every fixture file of
//! the repository satisfying rows read = loaded + rejected.

use std::path::{Path, PathBuf};

use pathway_audit::Encoding;
use pathway_input::parse_delimited;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// (file, encoding, delimiter, columns, read, loaded, rejected)
const EXPECTED: &[(&str, &str, u8, usize, u64, u64, u64)] = &[
    ("blank_lines.csv", "UTF-8", b',', 3, 2, 2, 0),
    ("empty.csv", "UTF-8", b',', 0, 0, 0, 0),
    ("header_only.csv", "UTF-8", b',', 3, 0, 0, 0),
    ("no_final_newline.csv", "UTF-8", b',', 3, 2, 2, 0),
    ("not_text.csv", "windows-1252", b',', 0, 1, 0, 1),
    ("nul_bytes.csv", "UTF-8", b',', 3, 2, 2, 0),
    ("quoted_multiline.csv", "UTF-8", b',', 3, 2, 2, 0),
    ("ragged.csv", "UTF-8", b',', 3, 4, 2, 2),
    ("semicolon.csv", "UTF-8", b';', 3, 2, 2, 0),
    ("tab.tsv", "UTF-8", b'\t', 3, 1, 1, 0),
    ("utf8_bom_crlf.csv", "UTF-8", b',', 3, 2, 2, 0),
    ("windows1252.txt", "windows-1252", b'|', 3, 3, 3, 0),
];

fn parse(name: &str) -> pathway_input::ParsedText {
    let bytes = std::fs::read(fixtures().join("messy").join(name)).unwrap();
    parse_delimited(&bytes, None, true, Encoding::Auto)
}

#[test]
fn each_messy_file_has_its_hand_checked_accounting() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join("messy"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
    assert_eq!(names, listed, "every messy fixture has an expectation");
    for &(name, encoding, delimiter, columns, read, loaded, rejected) in EXPECTED {
        let p = parse(name);
        assert_eq!(p.encoding, encoding, "{name}");
        assert_eq!(p.delimiter, delimiter, "{name}");
        assert_eq!(p.columns.len(), columns, "{name}");
        assert_eq!(
            (p.rows_read(), p.rows.len() as u64, p.rejected.len() as u64),
            (read, loaded, rejected),
            "{name}"
        );
    }
}

#[test]
fn messy_values_come_through_as_sent() {
    let p = parse("utf8_bom_crlf.csv");
    assert_eq!(
        p.columns[0], "StudentID",
        "the BOM is not part of the first name"
    );
    assert_eq!(p.rows[0][1], "Nguyễn");
    assert!(p.notes.iter().any(|n| n.contains("byte-order mark")));
    assert_eq!(parse("windows1252.txt").rows[2][1], "Renée");
    let p = parse("quoted_multiline.csv");
    assert_eq!(p.rows[0], ["1", "Smith, Jr.", "first line\nsecond line"]);
    assert_eq!(p.rows[1][1], "O\"Brien");
    assert_eq!(p.row_lines, [2, 4]);
    let p = parse("nul_bytes.csv");
    assert_eq!(p.rows, [["1", "Smith", "07"], ["2", "Jones", "08"]]);
    assert_eq!(p.notes, ["dropped 2 NUL byte(s)"]);
    let p = parse("ragged.csv");
    let rejected: Vec<(u64, &str)> = p
        .rejected
        .iter()
        .map(|(l, r, _)| (*l, r.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [
            (3, "expected 3 fields, found 2"),
            (4, "expected 3 fields, found 4")
        ]
    );
    assert_eq!(parse("blank_lines.csv").row_lines, [3, 6]);
    assert!(
        parse("not_text.csv").rejected[0]
            .1
            .starts_with("not a delimited text file")
    );
}

#[test]
fn a_one_megabyte_field_is_read_whole() {
    let field = "x".repeat(1 << 20);
    let text = format!("id,note\n1,{field}\n2,short\n");
    let p = parse_delimited(text.as_bytes(), None, true, Encoding::Auto);
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[0][1].len(), 1 << 20);
}

#[test]
fn every_fixture_file_accounts_for_every_row() {
    let mut stack = vec![fixtures()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let extension = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if !matches!(extension.as_str(), "csv" | "txt" | "tsv") {
                continue;
            }
            let p = parse_delimited(&std::fs::read(&path).unwrap(), None, true, Encoding::Auto);
            assert_eq!(
                p.rows_read(),
                (p.rows.len() + p.rejected.len()) as u64,
                "{}",
                path.display()
            );
            assert!(
                p.rows.iter().all(|r| r.len() == p.columns.len()),
                "{}",
                path.display()
            );
            files += 1;
        }
    }
    assert_eq!(
        files, 37,
        "10 district files + 12 messy files + 15 OneRoster/Ed-Fi files (7 of 1.0, 8 of 1.1)"
    );
}

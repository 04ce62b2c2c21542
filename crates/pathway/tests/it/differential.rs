//! `pathway diff` against the naive reference (`pathway-reference`) on random pairs, through the
//! binary and the files a user brings: CSV on both sides, Parquet against CSV, JSON lines
//! against Parquet, Parquet on both sides. The reference sees what a reader of each file sees
//! (CSV and JSON lines: every column text; in CSV a null is the empty string). Every field of summary.csv and `column_diff.csv`, and every row of the row
//! diff, must agree; a combination the reference refuses must exit 2.
//!
//! `PATHWAY_DIFFERENTIAL_CASES` sets the cases per format (default 40); `scripts/soak` runs more.

use std::path::Path;

use pathway_reference::output::{
    differences, read_column_diff_csv, read_expected_cells_csv, read_row_diff, read_summary_csv,
};
use pathway_reference::{Case, ColumnRow, Outcome, Shapes, Table, generate};

use crate::common::pathway;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
    Parquet,
}

const PAIRS: [(Format, Format); 4] = [
    (Format::Csv, Format::Csv),
    (Format::Parquet, Format::Csv),
    (Format::JsonLines, Format::Parquet),
    (Format::Parquet, Format::Parquet),
];

fn write(table: &Table, format: Format, path_without_extension: &Path) -> String {
    let path = match format {
        Format::Csv => {
            let path = path_without_extension.with_extension("csv");
            table.write_csv(&path).unwrap();
            path
        }
        Format::JsonLines => {
            let path = path_without_extension.with_extension("jsonl");
            table.write_json_lines(&path).unwrap();
            path
        }
        Format::Parquet => {
            let path = path_without_extension.with_extension("parquet");
            table.write_parquet(&path).unwrap();
            path
        }
    };
    path.to_str().unwrap().to_owned()
}

/// The table as the reader of `format` sees it.
fn as_read(table: &Table, format: Format) -> Table {
    match format {
        Format::Csv => table.as_text(false),
        Format::JsonLines => table.as_text(true),
        Format::Parquet => table.clone(),
    }
}

/// What is wrong with `pathway diff`'s answer to `case` with sides in `formats`, run with
/// `extra` arguments (`--cluster URL`, say).
pub fn check(case: &Case, formats: (Format, Format), extra: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let left = write(&case.legacy, formats.0, &dir.path().join("legacy"));
    let right = write(&case.beta, formats.1, &dir.path().join("beta"));
    let out = dir.path().join("out");
    let o = &case.options;
    let mut args: Vec<String> = vec!["diff".into(), left, right, "--table".into(), "t".into()];
    let mut flag = |name: &str, value: String| {
        args.push(name.to_owned());
        args.push(value);
    };
    if !o.key.is_empty() {
        flag("--key", o.key.join(","));
    }
    if let Some(g) = &o.group {
        flag("--by", g.clone());
    }
    if !o.ignore.is_empty() {
        flag("--ignore", o.ignore.join(","));
    }
    for (l, b) in &o.rename {
        flag("--rename", format!("{l}={b}"));
    }
    for (column, to) in &o.cast {
        flag("--cast", format!("{column}={to}"));
    }
    for (i, (column, pairs)) in o.expected.iter().enumerate() {
        let file = dir.path().join(format!("expected_{i}.csv"));
        let mut writer = csv::Writer::from_path(&file).unwrap();
        writer.write_record(["legacy", "beta"]).unwrap();
        for (l, b) in pairs {
            writer.write_record([l, b]).unwrap();
        }
        writer.flush().unwrap();
        flag("--expected", format!("{column}={}", file.display()));
    }
    if let Some(n) = o.max_row_diff {
        flag("--max-row-diff", n.to_string());
    }
    if let Some(n) = o.max_pair_columns {
        flag("--max-pair-columns", n.to_string());
    }
    if let Some(t) = o.rules.abs_tolerance {
        flag("--abs-tolerance", t.to_string());
    }
    if let Some(t) = o.rules.rel_tolerance {
        flag("--rel-tolerance", t.to_string());
    }
    if let Some(t) = o.rules.date_tolerance_days {
        flag("--date-tolerance-days", t.to_string());
    }
    flag("--out", out.to_str().unwrap().to_owned());
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    for (set, name) in [
        (o.rules.trim, "--trim"),
        (o.rules.ignore_case, "--ignore-case"),
        (o.rules.null_equals_empty, "--null-equals-empty"),
        (o.pair_unmatched, "--pair-unmatched"),
    ] {
        if set {
            args.push(name.into());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = pathway(&args);
    let code = output.status.code();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let (legacy, beta) = (
        as_read(&case.legacy, formats.0),
        as_read(&case.beta, formats.1),
    );
    // A JSON-lines file without rows names no column: there is no table to diff.
    let no_table = [(formats.0, &legacy), (formats.1, &beta)]
        .iter()
        .any(|(format, table)| *format == Format::JsonLines && table.rows.is_empty());
    let reference = if no_table {
        Err(pathway_reference::Refusal(
            "a JSON-lines side without rows".into(),
        ))
    } else {
        pathway_reference::diff(&legacy, &beta, o)
    };
    let reference = match reference {
        Ok(reference) => reference,
        Err(refusal) => {
            return if code == Some(2) {
                Vec::new()
            } else {
                vec![format!(
                    "exit {code:?} where the reference refuses ({}); stderr: {stderr}",
                    refusal.0
                )]
            };
        }
    };
    if !matches!(code, Some(0 | 1)) {
        return vec![format!("exit {code:?}: {stderr}")];
    }
    let summary = read_summary_csv(&std::fs::read_to_string(out.join("summary.csv")).unwrap());
    let column_diff = std::fs::read_to_string(out.join("column_diff.csv")).unwrap();
    let columns = read_column_diff_csv(&column_diff);
    let mut found = Vec::new();
    let one_sided = |row: &ColumnRow| {
        [&row.legacy_example, &row.beta_example]
            .iter()
            .any(|e| e.as_deref() == Some("(no such column)"))
    };
    // A capped group's categories are those of its kept rows.
    let capped = |group: &str| {
        summary
            .iter()
            .any(|s| s.group == group && s.row_diff_capped)
    };
    for (row, categorised) in &columns {
        if !one_sided(row) && !capped(&row.group) && *categorised != row.mismatches {
            found.push(format!("categories of {row:?} add up to {categorised}"));
        }
    }
    let reference = as_column_diff_csv_says(reference);
    let all_match = reference.summary.iter().all(|s| s.status == "FULL MATCH");
    if code != Some(i32::from(!all_match)) {
        found.push(format!("exit {code:?} for all_match = {all_match}"));
    }
    let keyed = !o.key.is_empty();
    // A keyless row diff whose leftovers are paired holds both sides' columns and no key.
    let sides = keyed || o.pair_unmatched;
    let key: Vec<String> = if keyed {
        o.key
            .iter()
            .filter(|k| Some(*k) != o.group.as_ref())
            .cloned()
            .collect()
    } else if sides {
        Vec::new()
    } else {
        reference.compared_columns.clone()
    };
    let key = row_diff_names(o.group.as_deref(), &key, &reference.compared_columns, sides);
    let engine = Outcome {
        summary,
        columns: columns.into_iter().map(|(row, _)| row).collect(),
        row_diff: read_row_diff(
            &out.join("row_diff").join("t"),
            &key,
            &reference.compared_columns,
            sides,
        ),
        expected_cells: read_expected_cells_csv(&column_diff),
        ..reference.clone()
    };
    found.extend(differences(&reference, &engine));
    found
}

/// The reference's column diff as `column_diff.csv` writes it: an empty example is written as
/// an empty field, like a null; a column on one side only differs in every row of that side.
fn as_column_diff_csv_says(mut reference: Outcome) -> Outcome {
    for row in &mut reference.columns {
        for example in [&mut row.legacy_example, &mut row.beta_example] {
            if example.as_deref() == Some("") {
                *example = None;
            }
        }
    }
    let text = |t: &str| Some(t.to_owned());
    for group in &reference.summary {
        for c in &reference.legacy_only {
            reference.columns.push(ColumnRow {
                group: group.group.clone(),
                column: c.clone(),
                mismatches: group.legacy_rows,
                legacy_example: text("(only in legacy)"),
                beta_example: text("(no such column)"),
            });
        }
        for c in &reference.beta_only {
            reference.columns.push(ColumnRow {
                group: group.group.clone(),
                column: c.clone(),
                mismatches: group.beta_rows,
                legacy_example: text("(no such column)"),
                beta_example: text("(only in beta)"),
            });
        }
    }
    reference.columns.sort();
    reference
}

/// The names of the key columns in the row diff (docs/cli.md): a user column named like one of
/// the row diff's own is written as `key_<name>`, again while taken.
fn row_diff_names(
    group: Option<&str>,
    key: &[String],
    compared: &[String],
    sides: bool,
) -> Vec<String> {
    let mut taken: Vec<String> = pathway_diff::plan::ROW_DIFF_OWN_COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    if sides {
        for c in compared {
            taken.extend([format!("legacy_{c}"), format!("beta_{c}")]);
        }
    }
    let mut names = Vec::new();
    for column in group
        .iter()
        .map(|g| (*g).to_owned())
        .chain(key.iter().cloned())
    {
        let mut name = column;
        while taken.contains(&name) {
            name = format!("key_{name}");
        }
        taken.push(name.clone());
        names.push(name);
    }
    names.split_off(usize::from(group.is_some()))
}

#[test]
fn pathway_diff_agrees_with_the_reference_on_csv_and_parquet_files() {
    let cases: u64 = std::env::var("PATHWAY_DIFFERENTIAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let first: u64 = std::env::var("PATHWAY_SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut failures = Vec::new();
    for formats in PAIRS {
        for seed in first..first + cases {
            let case = generate(seed, Shapes::default());
            if let Some(difference) = check(&case, formats, &[]).first() {
                failures.push(format!(
                    "{formats:?} seed {seed}: {}\n{}",
                    difference.lines().collect::<Vec<_>>().join(" "),
                    case.describe()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "pathway diff disagrees with the reference in {} of {} runs:\n{}",
        failures.len(),
        cases * PAIRS.len() as u64,
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

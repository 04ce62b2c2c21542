//! Reading back what the engine wrote (summary.csv, `column_diff.csv`, the row diff's Parquet) into
//! an [`Outcome`], and the differences between two outcomes.

use std::path::Path;

use arrow::array::RecordBatch;

use crate::diff::{ColumnRow, DiffRow, Outcome, SummaryRow};
use crate::value::array_text;

/// The rows of `summary.csv` (any table).
///
/// # Panics
/// A file that is not a summary.csv.
#[must_use]
pub fn read_summary_csv(text: &str) -> Vec<SummaryRow> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("a header").clone();
    let at = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let mut rows: Vec<SummaryRow> = reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record");
            let n = |name: &str| r[at(name)].parse::<u64>().expect(name);
            SummaryRow {
                group: r[at("district_id")].to_owned(),
                status: r[at("status")].to_owned(),
                legacy_rows: n("legacy_rows"),
                beta_rows: n("beta_rows"),
                matched_rows: n("matched_rows"),
                changed_rows: n("changed_rows"),
                missing_in_beta: n("missing_in_beta"),
                extra_in_beta: n("extra_in_beta"),
                legacy_dup_keys: n("legacy_dup_keys"),
                beta_dup_keys: n("beta_dup_keys"),
                changed_columns: r[at("changed_columns")].to_owned(),
                row_diff_capped: &r[at("row_diff_capped")] == "true",
                paired_rows: n("paired_rows"),
                match_score: {
                    let percent: f64 = r[at("match_pct")].parse().expect("match_pct");
                    (percent * 100.0).round() as u16
                },
            }
        })
        .collect();
    rows.sort();
    rows
}

/// The rows of `column_diff.csv`, and the sum of each row's `categories` (which must equal its
/// mismatches). An empty example field is a null.
///
/// # Panics
/// A file that is not a `column_diff.csv`.
#[must_use]
pub fn read_column_diff_csv(text: &str) -> Vec<(ColumnRow, u64)> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("a header").clone();
    let at = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let mut rows: Vec<(ColumnRow, u64)> = reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record");
            let example = |name: &str| Some(r[at(name)].to_owned()).filter(|t| !t.is_empty());
            let categorised = r[at("categories")]
                .split(';')
                .filter_map(|part| part.split_once('=')?.1.parse::<u64>().ok())
                .sum();
            (
                ColumnRow {
                    group: r[at("district_id")].to_owned(),
                    column: r[at("column")].to_owned(),
                    mismatches: r[at("mismatches")].parse().expect("mismatches"),
                    legacy_example: example("legacy_example"),
                    beta_example: example("beta_example"),
                },
                categorised,
            )
        })
        .filter(|(row, _)| row.mismatches > 0)
        .collect();
    rows.sort();
    rows
}

/// `column_diff.csv`'s `expected_cells`: (district, column, cells) of the lines where it is not 0,
/// sorted, as [`Outcome::expected_cells`].
#[must_use]
pub fn read_expected_cells_csv(text: &str) -> Vec<(String, String, u64)> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("a header").clone();
    let at = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let mut rows: Vec<(String, String, u64)> = reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record");
            (
                r[at("district_id")].to_owned(),
                r[at("column")].to_owned(),
                r[at("expected_cells")].parse().expect("expected_cells"),
            )
        })
        .filter(|row| row.2 > 0)
        .collect();
    rows.sort();
    rows
}

/// The row diff under `dir` (`<dir>/<group column>=<value>/*.parquet`, or files directly under
/// `dir` when not grouped), as [`DiffRow`]s. `key` names the key columns as the row diff holds
/// them (for a multiset diff, the compared columns) and `compared` the compared columns;
/// `sides` says the row diff holds `legacy_<c>` and `beta_<c>` (a keyed diff, or a multiset
/// diff whose leftover rows are paired) rather than a `rows` count.
///
/// # Panics
/// Unreadable files.
#[must_use]
pub fn read_row_diff(dir: &Path, key: &[String], compared: &[String], sides: bool) -> Vec<DiffRow> {
    let mut rows = Vec::new();
    for (group, file) in parquet_files(dir, None) {
        let file = std::fs::File::open(&file).expect("a row diff file");
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024)
            .expect("a Parquet file");
        for batch in reader {
            let batch = batch.expect("a batch");
            rows.extend(batch_rows(&batch, group.as_deref(), key, compared, sides));
        }
    }
    rows.sort();
    rows
}

fn batch_rows(
    batch: &RecordBatch,
    group: Option<&str>,
    key: &[String],
    compared: &[String],
    sides: bool,
) -> Vec<DiffRow> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("the row diff has no column `{name}`"))
    };
    (0..batch.num_rows())
        .map(|row| {
            let text = |name: &str| array_text(column(name), row);
            DiffRow {
                group: group.unwrap_or("*").to_owned(),
                key: key.iter().map(|k| text(k)).collect(),
                diff: text("diff").unwrap_or_default(),
                side: text("side").unwrap_or_default(),
                changed_columns: text("changed_columns").unwrap_or_default(),
                hidden_columns: text("hidden_columns").unwrap_or_default(),
                values: if sides {
                    compared
                        .iter()
                        .map(|c| (text(&format!("legacy_{c}")), text(&format!("beta_{c}"))))
                        .collect()
                } else {
                    Vec::new()
                },
                paired_key: batch
                    .column_by_name("paired_beta_key")
                    .and_then(|c| array_text(c, row)),
                rows: (!sides).then(|| {
                    text("rows")
                        .and_then(|r| r.parse().ok())
                        .expect("a multiset row diff counts rows")
                }),
            }
        })
        .collect()
}

/// Every Parquet file below `dir`, with the value of the first `name=value` folder on its path.
fn parquet_files(dir: &Path, group: Option<String>) -> Vec<(Option<String>, std::path::PathBuf)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            let value = name.split_once('=').map(|(_, v)| percent_decode(v));
            found.extend(parquet_files(&path, group.clone().or(value)));
        } else if name.ends_with(".parquet") {
            found.push((group.clone(), path));
        }
    }
    found
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What differs between the reference's outcome and the engine's, one line per difference;
/// empty when they agree.
#[must_use]
pub fn differences(reference: &Outcome, engine: &Outcome) -> Vec<String> {
    let mut found = Vec::new();
    let mut field = |name: &str, r: String, e: String| {
        if r != e {
            found.push(format!("{name}:\n    reference {r}\n    engine    {e}"));
        }
    };
    field(
        "compared columns",
        format!("{:?}", reference.compared_columns),
        format!("{:?}", engine.compared_columns),
    );
    field(
        "legacy-only columns",
        format!("{:?}", reference.legacy_only),
        format!("{:?}", engine.legacy_only),
    );
    field(
        "beta-only columns",
        format!("{:?}", reference.beta_only),
        format!("{:?}", engine.beta_only),
    );
    field(
        "type changes",
        format!("{:?}", reference.type_changes),
        format!("{:?}", engine.type_changes),
    );
    let groups = |o: &Outcome| {
        o.summary
            .iter()
            .map(|s| s.group.clone())
            .collect::<Vec<_>>()
    };
    field(
        "groups",
        format!("{:?}", groups(reference)),
        format!("{:?}", groups(engine)),
    );
    for r in &reference.summary {
        if let Some(e) = engine.summary.iter().find(|e| e.group == r.group) {
            field(
                &format!("summary of group {:?}", r.group),
                format!("{r:?}"),
                format!("{e:?}"),
            );
        }
    }
    let (mut r_cols, mut e_cols) = (reference.columns.iter(), engine.columns.iter());
    loop {
        match (r_cols.next(), e_cols.next()) {
            (None, None) => break,
            (r, e) => field("column diff row", format!("{r:?}"), format!("{e:?}")),
        }
    }
    field(
        "expected cells",
        format!("{:?}", reference.expected_cells),
        format!("{:?}", engine.expected_cells),
    );
    let only = |a: &[DiffRow], b: &[DiffRow]| -> Vec<DiffRow> {
        let mut rest = b.to_vec();
        let mut only = Vec::new();
        for row in a {
            match rest.iter().position(|r| r == row) {
                Some(i) => {
                    rest.remove(i);
                }
                None => only.push(row.clone()),
            }
        }
        only
    };
    for row in only(&reference.row_diff, &engine.row_diff)
        .into_iter()
        .take(5)
    {
        found.push(format!("row diff row only in the reference: {row:?}"));
    }
    for row in only(&engine.row_diff, &reference.row_diff)
        .into_iter()
        .take(5)
    {
        found.push(format!("row diff row only in the engine: {row:?}"));
    }
    found
}

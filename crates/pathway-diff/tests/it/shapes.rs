//! The shapes users bring that the engine once got wrong (issue 24), each with hand-checked
//! figures, on every path: triage in one chunk, triage in chunks of 2 rows, the plain join.
//! Sides are real Parquet files, as `pathway diff` and `pathway run` read them.
// A test walks one scenario end to end, its local helpers next to their use.
#![allow(clippy::too_many_lines, clippy::items_after_statements)]

use std::path::Path;

use datafusion::prelude::ParquetReadOptions;
use pathway_diff::{
    ColumnRules, DiffSpec, EngineSettings, GroupDiff, Status, TableDiff, diff_tables,
};
use pathway_reference::Table;
use pathway_reference::value::{Ty, Value};

fn text(t: &str) -> Value {
    Value::Text(t.to_owned())
}

fn table(columns: &[(&str, Ty)], rows: Vec<Vec<Value>>) -> Table {
    Table {
        columns: columns
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.clone()))
            .collect(),
        rows,
    }
}

/// Diff on every path; the summaries must agree. Returns the first path's diff and the row diff
/// folder of each path.
async fn diff_every_path(
    legacy: &Table,
    beta: &Table,
    spec: DiffSpec,
) -> (TableDiff, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    legacy
        .write_parquet(&dir.path().join("legacy.parquet"))
        .unwrap();
    beta.write_parquet(&dir.path().join("beta.parquet"))
        .unwrap();
    let mut diffs = Vec::new();
    for (i, (triage, chunk_rows)) in [(true, 1_000_000), (true, 2), (false, 1_000_000)]
        .into_iter()
        .enumerate()
    {
        let ctx = pathway_diff::session_context(&EngineSettings::default()).unwrap();
        for side in ["legacy", "beta"] {
            let file = dir.path().join(format!("{side}.parquet"));
            ctx.register_parquet(side, file.to_str().unwrap(), ParquetReadOptions::default())
                .await
                .unwrap();
        }
        let spec = spec.clone().with_triage(triage).with_chunk_rows(chunk_rows);
        let row_diff = dir.path().join(format!("row_diff_{i}"));
        diffs.push(
            diff_tables(&ctx, "legacy", "beta", &spec, &row_diff)
                .await
                .unwrap(),
        );
    }
    for other in &diffs[1..] {
        assert_eq!(other.groups, diffs[0].groups, "the paths disagree");
    }
    (diffs.remove(0), dir)
}

/// (status, legacy, beta, matched, changed, missing, extra, legacy dup keys, beta dup keys)
fn figures(diff: &TableDiff, group: &str) -> (Status, [u64; 8]) {
    let g: &GroupDiff = diff.groups.iter().find(|g| g.group == group).unwrap();
    (g.status(&diff.schema), crate::counts(g))
}

/// Rows of every Parquet file under `dir`.
fn row_diff_rows(dir: &Path) -> usize {
    let mut rows = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rows += row_diff_rows(&path);
        } else if path.extension().is_some_and(|e| e == "parquet") {
            let file = std::fs::File::open(&path).unwrap();
            let reader =
                datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
                    file, 1024,
                )
                .unwrap();
            rows += reader.map(|b| b.unwrap().num_rows()).sum::<usize>();
        }
    }
    rows
}

fn students() -> (Table, Table) {
    let columns = [
        ("district_id", Ty::Text),
        ("id", Ty::Int64),
        ("name", Ty::Text),
    ];
    let row = |d: &str, id: i64, name: &str| vec![text(d), Value::Int(id), text(name)];
    let legacy = table(
        &columns,
        vec![
            row("101", 1, "Ann"),
            row("101", 2, "Bo"),
            row("101", 3, "Cy"),
            row("102", 1, "Di"),
            row("102", 2, "Ed"),
        ],
    );
    let beta = table(
        &columns,
        vec![
            row("101", 1, "Ann"),
            row("101", 2, "BO"),
            row("101", 4, "Fa"),
            row("102", 2, "Ed"),
            row("102", 1, "Di"),
        ],
    );
    (legacy, beta)
}

#[tokio::test]
async fn a_key_that_contains_the_group_column_gives_the_answer_without_it() {
    let (legacy, beta) = students();
    for key in [
        vec!["id"],
        vec!["district_id", "id"],
        vec!["id", "district_id"],
    ] {
        let key = key.into_iter().map(str::to_owned).collect();
        let spec = DiffSpec::new("students", key).with_group_by(Some("district_id".into()));
        let (diff, dir) = diff_every_path(&legacy, &beta, spec).await;
        // 101: id 1 matched, id 2 changed (name), id 3 missing, id 4 extra.
        assert_eq!(
            figures(&diff, "101"),
            (Status::Mismatch, [3, 3, 1, 1, 1, 1, 0, 0])
        );
        assert_eq!(
            figures(&diff, "102"),
            (Status::FullMatch, [2, 2, 2, 0, 0, 0, 0, 0])
        );
        assert_eq!(diff.compared_columns, ["name"]);
        for path in 0..3 {
            assert_eq!(
                row_diff_rows(&dir.path().join(format!("row_diff_{path}"))),
                3
            );
        }
    }
}

#[tokio::test]
async fn a_key_of_only_the_group_column_pairs_each_districts_rows_as_one_key() {
    let columns = [("district_id", Ty::Text), ("name", Ty::Text)];
    let row = |d: &str, name: &str| vec![text(d), text(name)];
    let legacy = table(
        &columns,
        vec![
            row("101", "a"),
            row("102", "b"),
            row("102", "c"),
            row("103", "d"),
        ],
    );
    let beta = table(
        &columns,
        vec![
            row("101", "A"),
            row("102", "c"),
            row("102", "b"),
            row("103", "d"),
            row("103", "d"),
        ],
    );
    let spec = DiffSpec::new("one_row", vec!["district_id".into()])
        .with_group_by(Some("district_id".into()));
    let (diff, _dir) = diff_every_path(&legacy, &beta, spec).await;
    // One row a side: paired. Two identical rows a side: duplicated key, same rows. One against
    // two: duplicated key, different rows.
    assert_eq!(
        figures(&diff, "101"),
        (Status::Mismatch, [1, 1, 0, 1, 0, 0, 0, 0])
    );
    assert_eq!(
        figures(&diff, "102"),
        (Status::FullMatch, [2, 2, 0, 0, 0, 0, 1, 1])
    );
    assert_eq!(
        figures(&diff, "103"),
        (Status::Mismatch, [1, 2, 0, 0, 0, 0, 0, 1])
    );
}

#[tokio::test]
async fn floats_have_one_zero_and_one_nan_on_every_path() {
    let columns = [("id", Ty::Float64), ("score", Ty::Float64)];
    let row = |id: f64, score: f64| vec![Value::Float(id), Value::Float(score)];
    // Keys -0.0 and 0.0 are one key; NaN is one value; 1.0 against NaN differs. The legacy
    // file's statistics for `score` say min = max = 1.0 (NaN is left out of them).
    let legacy = table(
        &columns,
        vec![
            row(-0.0, 0.0),
            row(1.0, f64::NAN),
            row(2.0, 1.0),
            row(3.0, 1.0),
        ],
    );
    let beta = table(
        &columns,
        vec![
            row(0.0, -0.0),
            row(1.0, -f64::NAN),
            row(2.0, f64::NAN),
            row(3.0, 1.0),
        ],
    );
    let spec = DiffSpec::new("scores", vec!["id".into()]);
    let (diff, _dir) = diff_every_path(&legacy, &beta, spec).await;
    assert_eq!(
        figures(&diff, "*"),
        (Status::Mismatch, [4, 4, 3, 1, 0, 0, 0, 0])
    );
    let score = &diff.groups[0].columns[0];
    assert_eq!(
        (
            score.column.as_str(),
            score.mismatches,
            score.legacy_example.as_deref(),
            score.beta_example.as_deref()
        ),
        ("score", 1, Some("1.0"), Some("NaN"))
    );

    // Only signs of zero and NaNs: a FULL MATCH, though the rows' bits differ.
    let legacy = table(&columns, vec![row(-0.0, 0.0), row(1.0, f64::NAN)]);
    let beta = table(&columns, vec![row(0.0, -0.0), row(1.0, -f64::NAN)]);
    let spec = DiffSpec::new("scores", vec!["id".into()]);
    let (diff, dir) = diff_every_path(&legacy, &beta, spec).await;
    assert_eq!(
        figures(&diff, "*"),
        (Status::FullMatch, [2, 2, 2, 0, 0, 0, 0, 0])
    );
    assert_eq!(row_diff_rows(&dir.path().join("row_diff_0")), 0);

    // Statistics of min = max = 1.0 on a column that also holds NaN.
    let legacy = table(&columns, vec![row(1.0, 1.0), row(2.0, f64::NAN)]);
    let beta = table(&columns, vec![row(1.0, 1.0), row(2.0, 1.0)]);
    let spec = DiffSpec::new("scores", vec!["id".into()]);
    let (diff, _dir) = diff_every_path(&legacy, &beta, spec).await;
    assert_eq!(
        figures(&diff, "*"),
        (Status::Mismatch, [2, 2, 1, 1, 0, 0, 0, 0])
    );
}

#[tokio::test]
async fn a_null_and_an_empty_district_larger_than_a_chunk_are_one_district() {
    let columns = [
        ("district_id", Ty::Text),
        ("id", Ty::Int64),
        ("name", Ty::Text),
    ];
    let row = |d: Option<&str>, id: i64, name: &str| {
        vec![d.map_or(Value::Null, text), Value::Int(id), text(name)]
    };
    // Five rows in district "" (null on some rows, empty on others, split differently on each
    // side), more than a chunk of 2 rows; id 5 changed.
    let legacy = table(
        &columns,
        vec![
            row(None, 1, "a"),
            row(None, 2, "b"),
            row(Some(""), 3, "c"),
            row(Some(""), 4, "d"),
            row(Some(""), 5, "e"),
            row(Some("101"), 1, "x"),
        ],
    );
    let beta = table(
        &columns,
        vec![
            row(Some(""), 1, "a"),
            row(None, 2, "b"),
            row(None, 3, "c"),
            row(Some(""), 4, "d"),
            row(None, 5, "E"),
            row(Some("101"), 1, "x"),
        ],
    );
    let spec = DiffSpec::new("t", vec!["id".into()]).with_group_by(Some("district_id".into()));
    let (diff, _dir) = diff_every_path(&legacy, &beta, spec).await;
    assert_eq!(
        figures(&diff, ""),
        (Status::Mismatch, [5, 5, 4, 1, 0, 0, 0, 0])
    );
    assert_eq!(
        figures(&diff, "101"),
        (Status::FullMatch, [1, 1, 1, 0, 0, 0, 0, 0])
    );
}

#[tokio::test]
async fn key_types_that_differ_between_the_sides_still_pair_rows() {
    let legacy = table(
        &[("id", Ty::Int64), ("name", Ty::Text)],
        vec![
            vec![Value::Int(1), text("a")],
            vec![Value::Int(2), text("b")],
            vec![Value::Int(3), text("c")],
        ],
    );
    for (ty, ids) in [
        (Ty::Int32, vec![Value::Int(1), Value::Int(2), Value::Int(4)]),
        (
            Ty::Float64,
            vec![Value::Float(1.0), Value::Float(2.0), Value::Float(4.0)],
        ),
        (
            Ty::Decimal(10, 2),
            vec![
                Value::Decimal(100),
                Value::Decimal(200),
                Value::Decimal(400),
            ],
        ),
        (Ty::Text, vec![text("1"), text("2"), text("4")]),
    ] {
        let rows = ids
            .into_iter()
            .zip(["a", "B", "d"])
            .map(|(id, name)| vec![id, text(name)])
            .collect();
        let beta = table(&[("id", ty.clone()), ("name", Ty::Text)], rows);
        let (diff, _dir) =
            diff_every_path(&legacy, &beta, DiffSpec::new("t", vec!["id".into()])).await;
        // 1 matched, 2 changed, 3 missing, 4 extra: ids pair by their text, `2.00` as `2`.
        assert_eq!(
            figures(&diff, "*"),
            (Status::Mismatch, [3, 3, 1, 1, 1, 1, 0, 0]),
            "legacy Int64 against beta {ty:?}"
        );
    }
}

#[tokio::test]
async fn columns_named_like_the_row_diffs_own_are_written_as_key_columns() {
    let columns = [("diff", Ty::Int64), ("side", Ty::Text), ("rows", Ty::Text)];
    let row = |k: i64, side: &str, rows: &str| vec![Value::Int(k), text(side), text(rows)];
    let legacy = table(&columns, vec![row(1, "l", "x"), row(2, "r", "y")]);
    let beta = table(&columns, vec![row(1, "L", "x"), row(3, "r", "y")]);
    // Keyed by `diff`: the row diff's key column is `key_diff`.
    let (diff, dir) =
        diff_every_path(&legacy, &beta, DiffSpec::new("t", vec!["diff".into()])).await;
    assert_eq!(
        figures(&diff, "*"),
        (Status::Mismatch, [2, 2, 0, 1, 1, 1, 0, 0])
    );
    assert_eq!(diff.groups[0].columns[0].column, "side");
    let names = row_diff_columns(&dir.path().join("row_diff_0"));
    assert_eq!(
        names,
        [
            "key_diff",
            "diff",
            "side",
            "changed_columns",
            "hidden_columns",
            "legacy_side",
            "beta_side",
            "legacy_rows",
            "beta_rows"
        ]
    );
    // Without a key: every user column that collides is `key_<name>`.
    let (diff, dir) = diff_every_path(&legacy, &beta, DiffSpec::new("t", vec![])).await;
    assert_eq!(
        figures(&diff, "*"),
        (Status::Mismatch, [2, 2, 0, 0, 2, 2, 0, 0])
    );
    let names = row_diff_columns(&dir.path().join("row_diff_0"));
    assert_eq!(
        names,
        [
            "key_diff",
            "key_side",
            "key_rows",
            "diff",
            "side",
            "changed_columns",
            "hidden_columns",
            "rows"
        ]
    );
}

fn row_diff_columns(dir: &Path) -> Vec<String> {
    let file = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let reader = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        std::fs::File::open(file).unwrap(),
        1024,
    )
    .unwrap();
    use datafusion::arrow::array::RecordBatchReader;
    reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[tokio::test]
async fn rules_apply_where_they_make_sense_and_nowhere_else() {
    let columns = [
        ("id", Ty::Int64),
        ("name", Ty::Text),
        ("big", Ty::Int64),
        ("score", Ty::Float64),
        ("born", Ty::Date),
    ];
    let row = |id: i64, name: &str, big: i64, score: f64, born: i32| {
        vec![
            Value::Int(id),
            text(name),
            Value::Int(big),
            Value::Float(score),
            Value::Date(born),
        ]
    };
    const BIG: i64 = 1 << 53;
    let legacy = table(
        &columns,
        vec![
            row(1, "Ann", BIG, 1.0, 19_000),
            row(2, "\tBo\r\n", BIG, f64::NAN, 19_000),
            row(3, "Cy", BIG + 1, f64::INFINITY, 19_000),
            row(4, "Di", BIG, 1.0, 19_000),
        ],
    );
    let beta = table(
        &columns,
        vec![
            // name differs exactly (a tolerance does not apply to text that is not a number)
            row(1, "Anne", BIG, 1.0, 19_000),
            // white space of every kind trimmed; NaN equals NaN under a tolerance
            row(2, "Bo", BIG, f64::NAN, 19_000),
            // 2^53 + 1 against 2^53: 1 apart, more than 0.5 (a double would say 0)
            row(3, "Cy", BIG, f64::INFINITY, 19_000),
            // a day later: within the date tolerance; 1.4 within 0.5 of 1.0
            row(4, "Di", BIG, 1.4, 19_001),
        ],
    );
    let rules = ColumnRules {
        trim: true,
        abs_tolerance: Some(0.5),
        date_tolerance_days: Some(1.0),
        ..ColumnRules::default()
    };
    let spec = DiffSpec::new("t", vec!["id".into()]).with_rules(rules, vec![]);
    let (diff, _dir) = diff_every_path(&legacy, &beta, spec).await;
    assert_eq!(
        figures(&diff, "*"),
        (Status::Mismatch, [4, 4, 2, 2, 0, 0, 0, 0])
    );
    let changed: Vec<(&str, u64)> = diff.groups[0]
        .columns
        .iter()
        .map(|c| (c.column.as_str(), c.mismatches))
        .collect();
    assert_eq!(changed, [("big", 1), ("name", 1)]);
    let hidden: Vec<(&str, u64)> = diff.groups[0]
        .hidden
        .iter()
        .map(|h| (h.column.as_str(), h.cells))
        .collect();
    assert_eq!(hidden, [("born", 1), ("name", 1), ("score", 1)]);
}

#[tokio::test]
async fn roles_that_cannot_go_together_are_refused_naming_the_column() {
    let (legacy, beta) = students();
    let dir = tempfile::tempdir().unwrap();
    legacy
        .write_parquet(&dir.path().join("legacy.parquet"))
        .unwrap();
    beta.write_parquet(&dir.path().join("beta.parquet"))
        .unwrap();
    let ctx = pathway_diff::session_context(&EngineSettings::default()).unwrap();
    for side in ["legacy", "beta"] {
        let file = dir.path().join(format!("{side}.parquet"));
        ctx.register_parquet(side, file.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .unwrap();
    }
    let base =
        DiffSpec::new("students", vec!["id".into()]).with_group_by(Some("district_id".into()));
    let cases = [
        (
            base.clone()
                .with_rename(vec![("nope".into(), "name".into())]),
            "column `nope` named in a rename does not exist on the legacy side",
        ),
        (
            base.clone().with_ignore(vec!["id".into()]),
            "column `id` is a key column and ignored",
        ),
        (
            base.clone().with_ignore(vec!["district_id".into()]),
            "column `district_id` is the group column and ignored",
        ),
        (
            base.clone().with_rules(
                ColumnRules {
                    abs_tolerance: Some(f64::NAN),
                    ..ColumnRules::default()
                },
                vec![],
            ),
            "has a tolerance that is not a finite number of at least 0",
        ),
    ];
    for (spec, message) in cases {
        let error = diff_tables(&ctx, "legacy", "beta", &spec, &dir.path().join("rd"))
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains(message), "{error}");
    }
}

/// Soak seed 7000292: rows left on one side only, in a column whose type differs between the
/// sides (compared as text), failed to pair ("Mismatch between schema and batches").
#[tokio::test]
async fn leftover_rows_of_a_column_retyped_between_the_sides_pair_or_stay() {
    let legacy = table(
        &[
            ("id", Ty::Text),
            ("district_id", Ty::Text),
            ("name", Ty::Int32),
        ],
        vec![],
    );
    let beta = table(
        &[
            ("id", Ty::Text),
            ("name", Ty::Int64),
            ("district_id", Ty::Text),
        ],
        vec![vec![text("S1"), Value::Int(1), text("101")]],
    );
    let spec = DiffSpec::new("t", vec!["id".into()])
        .with_group_by(Some("district_id".into()))
        .with_pair_unmatched(true, Some(2));
    let (diff, dir) = diff_every_path(&legacy, &beta, spec).await;
    // Nothing to pair it with: the one row stays extra.
    assert_eq!(
        figures(&diff, "101"),
        (Status::BetaOnly, [0, 1, 0, 0, 0, 1, 0, 0])
    );
    assert_eq!(row_diff_rows(&dir.path().join("row_diff_0")), 1);
}

/// Soak seed 7300301: rows paired without a key, whose example is the first changed pair by
/// the values of every compared column. District 101's two pairs both change `gpa`; the first
/// by `x` is (3, null, "1") → "q". District 102 changes `y`, so the table lists `y` among the
/// columns that differ: the example used to be chosen by `y` (nulls last) alone, giving the
/// second pair's "O'Brien" → "null".
#[tokio::test]
async fn a_paired_example_is_the_first_pair_by_every_compared_column() {
    let int = Value::Int;
    let columns = [
        ("district_id", Ty::Text),
        ("x", Ty::Int64),
        ("y", Ty::Int64),
        ("gpa", Ty::Text),
    ];
    let legacy = table(
        &columns,
        vec![
            vec![text("101"), int(3), Value::Null, text("1")],
            vec![text("101"), Value::Null, int(5), text("O'Brien")],
            vec![text("102"), int(1), int(1), text("a")],
        ],
    );
    let beta = table(
        &columns,
        vec![
            vec![text("101"), int(3), Value::Null, text("q")],
            vec![text("101"), Value::Null, int(5), text("null")],
            vec![text("102"), int(1), int(2), text("a")],
        ],
    );
    let spec = DiffSpec::new("t", vec![])
        .with_group_by(Some("district_id".into()))
        .with_pair_unmatched(true, Some(1));
    let (diff, _dir) = diff_every_path(&legacy, &beta, spec).await;
    // 2 rows a side, both paired and changed in one column.
    assert_eq!(
        figures(&diff, "101"),
        (Status::Mismatch, [2, 2, 0, 2, 0, 0, 0, 0])
    );
    let group = diff.groups.iter().find(|g| g.group == "101").unwrap();
    let gpa = group.columns.iter().find(|c| c.column == "gpa").unwrap();
    assert_eq!(gpa.mismatches, 2);
    assert_eq!(
        (gpa.legacy_example.as_deref(), gpa.beta_example.as_deref()),
        (Some("1"), Some("q"))
    );
    let group = diff.groups.iter().find(|g| g.group == "102").unwrap();
    let y = group.columns.iter().find(|c| c.column == "y").unwrap();
    assert_eq!(
        (
            y.mismatches,
            y.legacy_example.as_deref(),
            y.beta_example.as_deref()
        ),
        (1, Some("1"), Some("2"))
    );
}

/// The districts whose sides hold the same rows as written, which the column profile reads on
/// one side only: only when every column is compared exactly and as written.
#[tokio::test]
async fn the_same_rows_as_written_are_named_only_when_compared_as_written() {
    let (mut legacy, mut beta) = students();
    // 103 differs only in case: the same under `ignore_case`, not as written.
    legacy
        .rows
        .push(vec![text("103"), Value::Int(1), text("Gus")]);
    beta.rows
        .push(vec![text("103"), Value::Int(1), text("GUS")]);
    let spec =
        DiffSpec::new("students", vec!["id".into()]).with_group_by(Some("district_id".into()));
    // 102 holds the same two rows on both sides (in another order); 101 and 103 differ.
    let (diff, _dir) = diff_every_path(&legacy, &beta, spec.clone()).await;
    assert_eq!(diff.same_rows, ["102"]);
    // Under a rule, 103 matches as compared; nothing is known to be the same as written.
    let rules = ColumnRules {
        ignore_case: true,
        ..ColumnRules::default()
    };
    let (diff, _dir) =
        diff_every_path(&legacy, &beta, spec.clone().with_rules(rules, Vec::new())).await;
    assert_eq!(figures(&diff, "103").0, Status::FullMatch);
    assert!(diff.same_rows.is_empty(), "{:?}", diff.same_rows);
    // Ids of another type on one side are compared as numbers' text: not as written either.
    let mut wider = beta.clone();
    wider.columns[1].1 = Ty::Int32;
    let (diff, _dir) = diff_every_path(&legacy, &wider, spec.clone()).await;
    assert_eq!(figures(&diff, "102").0, Status::FullMatch);
    assert!(diff.same_rows.is_empty(), "{:?}", diff.same_rows);
    // Without a key, the same.
    let keyless = DiffSpec::new("students", Vec::new()).with_group_by(Some("district_id".into()));
    let (diff, _dir) = diff_every_path(&legacy, &beta, keyless).await;
    assert_eq!(diff.same_rows, ["102"]);
}

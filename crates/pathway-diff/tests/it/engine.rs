//! The diff engine on small hand-made tables, with every count checked by hand.

// 3.14 is a GPA here, not π; the row tuples are the fixtures' shape, kept inline to be read.
// `l`, `b`, `k`: the two sides and the key, as in the fixtures' tables.
#![allow(
    clippy::approx_constant,
    clippy::type_complexity,
    clippy::many_single_char_names
)]

use crate::counts;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use pathway_diff::{Cells, DiffSpec, GroupDiff, MatchScore, Status, diff_tables};

type Row = (&'static str, Option<i64>, Option<&'static str>);

fn table(rows: &[Row], value_column: &str) -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("district_id", DataType::Utf8, false),
        Field::new("id", DataType::Int64, true),
        Field::new(value_column, DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| Some(r.0)).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| r.1).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| r.2).collect::<StringArray>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap())
}

const LEGACY: &[Row] = &[
    // a: one of each kind of difference, and a null key that matches null-safely
    ("a", Some(1), Some("x")),
    ("a", Some(2), Some("y")),
    ("a", Some(3), Some("z")),
    ("a", Some(4), Some("w")),
    ("a", None, Some("n")),
    // b: the same duplicated row on both sides: FULL MATCH despite duplicate keys
    ("b", Some(1), Some("x")),
    ("b", Some(1), Some("x")),
    // c: legacy only
    ("c", Some(1), Some("x")),
    // e: same rows, other order
    ("e", Some(1), Some("x")),
    ("e", Some(2), None),
    // f: duplicated key with different rows, same multiset on both sides
    ("f", Some(1), Some("x")),
    ("f", Some(1), Some("y")),
    // g: duplicated key, different multisets
    ("g", Some(1), Some("x")),
    ("g", Some(1), Some("x")),
];

const BETA: &[Row] = &[
    ("a", Some(1), Some("x")),
    ("a", Some(2), Some("Y")),
    ("a", Some(5), Some("q")),
    ("a", Some(4), Some("w")),
    ("a", Some(4), Some("w")),
    ("a", None, Some("n")),
    ("b", Some(1), Some("x")),
    ("b", Some(1), Some("x")),
    ("d", Some(7), Some("k")),
    ("e", Some(2), None),
    ("e", Some(1), Some("x")),
    ("f", Some(1), Some("y")),
    ("f", Some(1), Some("x")),
    ("g", Some(1), Some("x")),
    ("g", Some(1), Some("y")),
];

async fn run(
    beta_value_column: &str,
) -> (pathway_diff::TableDiff, SessionContext, tempfile::TempDir) {
    let ctx = SessionContext::new();
    ctx.register_table("l", table(LEGACY, "v")).unwrap();
    ctx.register_table("b", table(BETA, beta_value_column))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let spec = DiffSpec::new("t", vec!["id".into()]).with_group_by(Some("district_id".into()));
    let diff = diff_tables(&ctx, "l", "b", &spec, &tmp.path().join("row_diff"))
        .await
        .unwrap();
    (diff, ctx, tmp)
}

fn group<'a>(diff: &'a pathway_diff::TableDiff, name: &str) -> &'a GroupDiff {
    diff.groups.iter().find(|g| g.group == name).unwrap()
}

#[tokio::test]
async fn every_kind_of_difference_is_counted_per_group() {
    let (diff, _ctx, _tmp) = run("v").await;
    let names: Vec<&str> = diff.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f", "g"]);
    assert_eq!(diff.compared_columns, ["v"]);

    let a = group(&diff, "a");
    assert_eq!(counts(a), [5, 6, 2, 1, 1, 1, 0, 1]);
    assert_eq!((a.legacy_duplicate_rows, a.beta_duplicate_rows), (1, 2));
    assert_eq!(a.status(&diff.schema), Status::Mismatch);
    assert_eq!(a.columns.len(), 1);
    assert_eq!(a.columns[0].column, "v");
    assert_eq!(a.columns[0].mismatches, 1);
    assert_eq!(a.columns[0].legacy_example.as_deref(), Some("y"));
    assert_eq!(a.columns[0].beta_example.as_deref(), Some("Y"));

    let b = group(&diff, "b");
    assert_eq!(counts(b), [2, 2, 0, 0, 0, 0, 1, 1]);
    assert_eq!(b.status(&diff.schema), Status::FullMatch);

    let c = group(&diff, "c");
    assert_eq!(counts(c), [1, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(c.status(&diff.schema), Status::LegacyOnly);

    let d = group(&diff, "d");
    assert_eq!(counts(d), [0, 1, 0, 0, 0, 1, 0, 0]);
    assert_eq!(d.status(&diff.schema), Status::BetaOnly);

    let e = group(&diff, "e");
    assert_eq!(counts(e), [2, 2, 2, 0, 0, 0, 0, 0]);
    assert_eq!(e.status(&diff.schema), Status::FullMatch);

    let f = group(&diff, "f");
    assert_eq!(counts(f), [2, 2, 0, 0, 0, 0, 1, 1]);
    assert_eq!(f.status(&diff.schema), Status::FullMatch);

    let g = group(&diff, "g");
    assert_eq!(counts(g), [2, 2, 0, 0, 0, 0, 1, 1]);
    assert_eq!(g.status(&diff.schema), Status::Mismatch);
    assert!(g.columns.is_empty());
}

/// docs/cli.md, "Match score", by hand on the groups above: one compared column, so one cell a
/// row, a pair of rows counting once.
#[tokio::test]
async fn the_match_score_is_the_share_of_equal_cells() {
    let (diff, _ctx, _tmp) = run("v").await;
    let cells = |name| group(&diff, name).cells(diff.compared_columns.len(), &diff.schema);
    let score = |name, accepted| cells(name).score(accepted).to_string();
    // a: pairs 1 and null equal, pair 2 differs in v; 3 missing, 5 extra, key 4 duplicated (1
    // legacy row, 2 beta rows): 3 + 1 + 1 + 3 = 8 cells, of which 1 + 1 + 1 + 3 = 6 unequal.
    assert_eq!(
        cells("a"),
        Cells {
            compared: 8,
            unequal: 6
        }
    );
    assert_eq!(score("a", 0), "25.00");
    // An accepted cell leaves both counts: 2 equal of 7, 28.571… rounded down.
    assert_eq!(score("a", 1), "28.57");
    // The same rows on both sides, duplicated keys or not: every cell equal.
    for full in ["b", "e", "f"] {
        assert_eq!(score(full, 0), "100.00", "{full}");
    }
    // One side only, and a duplicated key whose rows differ: no cell equal.
    assert_eq!(
        cells("c"),
        Cells {
            compared: 1,
            unequal: 1
        }
    );
    assert_eq!(
        cells("d"),
        Cells {
            compared: 1,
            unequal: 1
        }
    );
    assert_eq!(
        cells("g"),
        Cells {
            compared: 4,
            unequal: 4
        }
    );
    assert_eq!(score("g", 0), "0.00");
    assert_eq!(MatchScore::of(999_999, 1_000_000).to_string(), "99.99");
    assert_eq!(
        MatchScore::mean([MatchScore::FULL, MatchScore::of(1, 4)]).map(|m| m.to_string()),
        Some("62.50".to_owned())
    );

    // Columns on one side only (v in legacy, w in beta): every row has 2 cells, all unequal.
    let (diff, _ctx, _tmp) = run("w").await;
    let e = group(&diff, "e").cells(0, &diff.schema);
    assert_eq!(
        e,
        Cells {
            compared: 4,
            unequal: 4
        }
    );
}

#[tokio::test]
async fn row_diff_holds_one_row_per_differing_row() {
    let (_diff, ctx, tmp) = run("v").await;
    let dir = format!("{}/", tmp.path().join("row_diff").display());
    let options = ParquetReadOptions::default()
        .table_partition_cols(vec![("district_id".into(), DataType::Utf8)]);
    ctx.register_parquet("rd", &dir, options).await.unwrap();
    let batches = ctx
        .sql(
            "SELECT district_id, diff, side, count(*) AS n, max(changed_columns) AS cc \
             FROM rd GROUP BY district_id, diff, side ORDER BY district_id, diff, side",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    let expected = "\
+-------------+-----------------+--------+---+----+
| district_id | diff            | side   | n | cc |
+-------------+-----------------+--------+---+----+
| a           | changed         | both   | 1 | v  |
| a           | duplicate_key   | beta   | 2 |    |
| a           | duplicate_key   | legacy | 1 |    |
| a           | extra_in_beta   | beta   | 1 |    |
| a           | missing_in_beta | legacy | 1 |    |
| b           | duplicate_key   | beta   | 2 |    |
| b           | duplicate_key   | legacy | 2 |    |
| c           | missing_in_beta | legacy | 1 |    |
| d           | extra_in_beta   | beta   | 1 |    |
| f           | duplicate_key   | beta   | 2 |    |
| f           | duplicate_key   | legacy | 2 |    |
| g           | duplicate_key   | beta   | 2 |    |
| g           | duplicate_key   | legacy | 2 |    |
+-------------+-----------------+--------+---+----+";
    assert_eq!(text, expected);
    let frame = ctx.sql("SELECT * FROM rd LIMIT 0").await.unwrap();
    let columns: Vec<&String> = frame.schema().fields().iter().map(|f| f.name()).collect();
    assert_eq!(
        columns,
        [
            "id",
            "diff",
            "side",
            "changed_columns",
            "hidden_columns",
            "legacy_v",
            "beta_v",
            "district_id"
        ]
    );
    // Snappy, not DataFusion's default zstd: no codec state per open writer on a night of
    // thousands of districts, and every Parquet reader has it.
    let folder = tmp.path().join("row_diff").join("district_id=a");
    let file = std::fs::read_dir(&folder)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let reader = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
    let codecs: Vec<Compression> = reader
        .metadata()
        .row_groups()
        .iter()
        .flat_map(|g| {
            g.columns()
                .iter()
                .map(datafusion::parquet::file::metadata::ColumnChunkMetaData::compression)
        })
        .collect();
    assert_eq!(codecs.len(), 7);
    assert!(
        codecs.iter().all(|c| *c == Compression::SNAPPY),
        "{codecs:?}"
    );
}

#[tokio::test]
async fn a_column_on_one_side_only_makes_every_group_a_mismatch() {
    let (diff, _ctx, _tmp) = run("w").await;
    assert_eq!(diff.schema.legacy_only, ["v"]);
    assert_eq!(diff.schema.beta_only, ["w"]);
    assert!(diff.compared_columns.is_empty());
    let e = group(&diff, "e");
    assert_eq!(e.status(&diff.schema), Status::Mismatch);
    assert_eq!(e.changed_columns(&diff.schema), ["v", "w"]);
    // Without compared columns, rows are matched on the key alone: keys 1, 2 and null.
    assert_eq!(counts(group(&diff, "a")), [5, 6, 3, 0, 1, 1, 0, 1]);
    assert_eq!(group(&diff, "c").status(&diff.schema), Status::LegacyOnly);
}

#[tokio::test]
async fn a_missing_key_column_is_a_clear_error() {
    let ctx = SessionContext::new();
    ctx.register_table("l", table(LEGACY, "v")).unwrap();
    ctx.register_table("b", table(BETA, "v")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let spec = DiffSpec::new("t", vec!["student_id".into()]);
    let err = diff_tables(&ctx, "l", "b", &spec, tmp.path())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "table `t`: key column `student_id` is missing from legacy and beta (columns there: district_id, id, v)"
    );
}

#[tokio::test]
async fn ungrouped_tables_are_one_group_named_star() {
    let ctx = SessionContext::new();
    ctx.register_table("l", table(LEGACY, "v")).unwrap();
    ctx.register_table("b", table(BETA, "v")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let spec = DiffSpec::new("t", vec!["district_id".into(), "id".into()]);
    let diff = diff_tables(&ctx, "l", "b", &spec, &tmp.path().join("rd"))
        .await
        .unwrap();
    assert_eq!(diff.groups.len(), 1);
    let all = &diff.groups[0];
    assert_eq!(all.group, "*");
    // Sums of the per-district figures above.
    assert_eq!(counts(all), [14, 15, 4, 1, 2, 2, 3, 4]);
    assert_eq!(all.status(&diff.schema), Status::Mismatch);
}

#[tokio::test]
async fn the_row_diff_joins_on_group_and_key_by_hash_null_safely() {
    // A join keyed on the group alone would compare every pair of rows within a district.
    let ctx = SessionContext::new();
    ctx.register_table("l", table(LEGACY, "v")).unwrap();
    ctx.register_table("b", table(BETA, "v")).unwrap();
    let plan = pathway_diff::plan::Plan {
        legacy_table: "l".into(),
        beta_table: "b".into(),
        group: Some("district_id".into()),
        keyed: true,
        key: vec![pathway_diff::plan::PlanColumn {
            name: "id".into(),
            as_text: false,
            ..Default::default()
        }],
        compared: vec![pathway_diff::plan::PlanColumn {
            name: "v".into(),
            as_text: false,
            ..Default::default()
        }],
        exclude_groups: vec![],
        pair_unmatched: false,
    };
    let batches = ctx
        .sql(&format!("EXPLAIN {}", plan.row_diff_sql()))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    let join = text
        .lines()
        .find(|l| l.contains("HashJoinExec"))
        .expect("a hash join");
    assert!(join.contains("join_type=Full"), "{join}");
    assert!(
        join.contains("on=[(__g@0, __g@0), (__k0@1, __k0@1), (CASE WHEN l.__n = Int64(1)"),
        "{join}"
    );
    assert!(join.contains("NullsEqual: true"), "{join}");
    // "The key is unique on both sides" is a join key too, not a join filter: Ballista 55
    // swaps a large hash join for a sort-merge join that mis-indexes a filter's columns (an
    // executor panic at 10M rows per side).
    assert!(!join.contains("filter="), "{join}");
}

fn classified_table(rows: &[(&str, Option<&str>, &str, &str, &str, f64)]) -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("grade", DataType::Utf8, true),
        Field::new("code", DataType::Utf8, true),
        Field::new("born", DataType::Utf8, true),
        Field::new("gpa", DataType::Float64, true),
    ]));
    let text =
        |f: &dyn Fn(&(&str, Option<&str>, &str, &str, &str, f64)) -> Option<String>| -> ArrayRef {
            Arc::new(rows.iter().map(f).collect::<StringArray>())
        };
    let columns: Vec<ArrayRef> = vec![
        text(&|r| Some(r.0.to_owned())),
        text(&|r| r.1.map(str::to_owned)),
        text(&|r| Some(r.2.to_owned())),
        text(&|r| Some(r.3.to_owned())),
        text(&|r| Some(r.4.to_owned())),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.5))
                .collect::<datafusion::arrow::array::Float64Array>(),
        ),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap())
}

#[tokio::test]
async fn each_changed_cell_gets_a_category() {
    let ctx = SessionContext::new();
    ctx.register_table(
        "l",
        classified_table(&[
            ("1", Some("Ann"), "07", "W", "2010-01-05", 3.14),
            ("2", Some("BO"), "08", "W", "2010-02-01", 2.5),
            ("3", None, "09", "H", "2010-03-01", 3.0),
            ("4", Some(""), "10", "W", "2010-04-01", 1.0),
        ]),
    )
    .unwrap();
    ctx.register_table(
        "b",
        classified_table(&[
            ("1", Some("Ann "), "7", "C", "2010-01-06", 3.15),
            ("2", Some("Bo"), "08", "C", "2010-02-01", 2.5),
            ("3", Some(""), "9", "H", "2010-03-01", 3.0),
            ("4", None, "10", "W", "2010-04-01", 1.75),
        ]),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let spec = DiffSpec::new("t", vec!["id".into()]);
    let diff = diff_tables(&ctx, "l", "b", &spec, &tmp.path().join("rd"))
        .await
        .unwrap();
    let got: Vec<(
        &str,
        &str,
        Option<&str>,
        Option<&str>,
        Option<i64>,
        u64,
        &str,
    )> = diff
        .categories
        .iter()
        .map(|c| {
            (
                c.column.as_str(),
                c.category.as_str(),
                c.legacy_value.as_deref(),
                c.beta_value.as_deref(),
                c.shift_days,
                c.cells,
                c.example_key.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("born", "date_shift", None, None, Some(1), 1, "1"),
            ("code", "value_remap", Some("W"), Some("C"), None, 2, "1"),
            ("gpa", "numeric_rounding", None, None, None, 1, "1"),
            ("gpa", "other", None, None, None, 1, "4"),
            ("grade", "type_format", None, None, None, 2, "1"),
            ("name", "case", None, None, None, 1, "2"),
            ("name", "null_vs_empty", None, None, None, 2, "3"),
            ("name", "whitespace", None, None, None, 1, "1"),
        ]
    );
    assert!(diff.categories.iter().all(|c| c.group == "*"));
    let group = &diff.groups[0];
    assert_eq!((group.changed_rows, group.matched_rows), (4, 0));
}

type RuledRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    f64,
    f64,
    &'static str,
    &'static str,
);

fn ruled_table(rows: &[RuledRow]) -> Arc<MemTable> {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let number = |name: &str| Field::new(name, DataType::Float64, true);
    let schema = Arc::new(Schema::new(vec![
        text("district_id"),
        text("id"),
        text("name"),
        text("city"),
        text("note"),
        number("gpa"),
        number("score"),
        text("born"),
        text("grade"),
    ]));
    let strings = |f: &dyn Fn(&RuledRow) -> Option<&'static str>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let floats = |f: &dyn Fn(&RuledRow) -> f64| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|r| Some(f(r)))
                .collect::<datafusion::arrow::array::Float64Array>(),
        )
    };
    let columns: Vec<ArrayRef> = vec![
        strings(&|r| Some(r.0)),
        strings(&|r| Some(r.1)),
        strings(&|r| Some(r.2)),
        strings(&|r| Some(r.3)),
        strings(&|r| r.4),
        floats(&|r| r.5),
        floats(&|r| r.6),
        strings(&|r| Some(r.7)),
        strings(&|r| Some(r.8)),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap())
}

#[tokio::test]
async fn comparison_rules_hide_differences_and_count_them() {
    let ctx = SessionContext::new();
    ctx.register_table(
        "l",
        ruled_table(&[
            (
                "a",
                "1",
                "Ann",
                "Boston",
                None,
                3.14,
                100.0,
                "2010-01-05",
                "07",
            ),
            (
                "b",
                "2",
                "Bo",
                "Austin",
                Some("x"),
                2.0,
                50.0,
                "2010-02-01",
                "08",
            ),
        ]),
    )
    .unwrap();
    ctx.register_table(
        "b",
        ruled_table(&[
            (
                "a",
                "1",
                "Ann ",
                "BOSTON",
                Some(""),
                3.15,
                100.5,
                "2010-01-06",
                "7",
            ),
            (
                "b",
                "2",
                "Bob",
                "Austin",
                Some("x"),
                2.5,
                50.0,
                "2010-02-05",
                "8",
            ),
        ]),
    )
    .unwrap();
    let rule = |f: &dyn Fn(&mut pathway_diff::ColumnRules)| {
        let mut r = pathway_diff::ColumnRules::default();
        f(&mut r);
        r
    };
    let column_rules = vec![
        ("name".to_owned(), rule(&|r| r.trim = true)),
        ("city".to_owned(), rule(&|r| r.ignore_case = true)),
        ("note".to_owned(), rule(&|r| r.null_equals_empty = true)),
        ("gpa".to_owned(), rule(&|r| r.abs_tolerance = Some(0.01))),
        ("score".to_owned(), rule(&|r| r.rel_tolerance = Some(0.01))),
        (
            "born".to_owned(),
            rule(&|r| r.date_tolerance_days = Some(1.0)),
        ),
        (
            "grade".to_owned(),
            rule(&|r| r.cast = Some("integer".into())),
        ),
    ];
    let spec = DiffSpec::new("t", vec!["id".into()])
        .with_group_by(Some("district_id".into()))
        .with_rules(pathway_diff::ColumnRules::default(), column_rules);
    let tmp = tempfile::tempdir().unwrap();
    let diff = diff_tables(&ctx, "l", "b", &spec, &tmp.path().join("rd"))
        .await
        .unwrap();

    let a = group(&diff, "a");
    assert_eq!(counts(a), [1, 1, 1, 0, 0, 0, 0, 0]);
    assert_eq!(
        a.status(&diff.schema),
        Status::FullMatch,
        "every difference is within a rule"
    );
    let hidden: Vec<(&str, &str, u64)> = a
        .hidden
        .iter()
        .map(|h| (h.column.as_str(), h.rules.as_str(), h.cells))
        .collect();
    assert_eq!(
        hidden,
        [
            ("born", "date_tolerance", 1),
            ("city", "ignore_case", 1),
            ("gpa", "abs_tolerance", 1),
            ("grade", "cast:integer", 1),
            ("name", "trim", 1),
            ("note", "null_equals_empty", 1),
            ("score", "rel_tolerance", 1),
        ]
    );

    let b = group(&diff, "b");
    assert_eq!(counts(b), [1, 1, 0, 1, 0, 0, 0, 0]);
    assert_eq!(b.status(&diff.schema), Status::Mismatch);
    let mismatches: Vec<(&str, u64)> = b
        .columns
        .iter()
        .map(|c| (c.column.as_str(), c.mismatches))
        .collect();
    assert_eq!(mismatches, [("born", 1), ("gpa", 1), ("name", 1)]);
    let hidden: Vec<&str> = b.hidden.iter().map(|h| h.column.as_str()).collect();
    assert_eq!(hidden, ["grade"]);
    // Categories count only what still differs under the rules.
    let categories: Vec<(&str, &str, &str)> = diff
        .categories
        .iter()
        .map(|c| (c.group.as_str(), c.column.as_str(), c.category.as_str()))
        .collect();
    assert_eq!(
        categories,
        [
            ("b", "born", "date_shift"),
            ("b", "gpa", "other"),
            ("b", "name", "other")
        ]
    );
}

#[tokio::test]
async fn tables_without_a_key_compare_as_multisets() {
    let ctx = SessionContext::new();
    ctx.register_table(
        "l",
        table(
            &[
                ("m", Some(1), Some("x")),
                ("m", Some(1), Some("x")),
                ("m", Some(2), Some("y")),
                ("m", Some(3), Some("z")),
                ("n", Some(5), None),
                ("n", Some(5), None),
            ],
            "v",
        ),
    )
    .unwrap();
    ctx.register_table(
        "b",
        table(
            &[
                ("m", Some(1), Some("x")),
                ("m", Some(2), Some("y")),
                ("m", Some(2), Some("y")),
                ("m", Some(4), Some("w")),
                ("n", Some(5), None),
                ("n", Some(5), None),
            ],
            "v",
        ),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let spec = DiffSpec::new("t", vec![]).with_group_by(Some("district_id".into()));
    let diff = diff_tables(&ctx, "l", "b", &spec, &tmp.path().join("rd"))
        .await
        .unwrap();
    assert_eq!(diff.compared_columns, ["id", "v"]);
    let m = group(&diff, "m");
    // (1,x) twice vs once, (2,y) once vs twice, (3,z) legacy only, (4,w) beta only.
    assert_eq!(counts(m), [4, 4, 2, 0, 2, 2, 0, 0]);
    assert_eq!(m.status(&diff.schema), Status::Mismatch);
    let n = group(&diff, "n");
    assert_eq!(counts(n), [2, 2, 2, 0, 0, 0, 0, 0]);
    assert_eq!(
        n.status(&diff.schema),
        Status::FullMatch,
        "nulls compare equal, duplicates balance"
    );

    let dir = format!("{}/", tmp.path().join("rd").display());
    let options = ParquetReadOptions::default()
        .table_partition_cols(vec![("district_id".into(), DataType::Utf8)]);
    ctx.register_parquet("rd", &dir, options).await.unwrap();
    let batches = ctx
        .sql("SELECT district_id, id, v, diff, \"rows\" FROM rd ORDER BY id")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert_eq!(
        text,
        "\
+-------------+----+---+-----------------+------+
| district_id | id | v | diff            | rows |
+-------------+----+---+-----------------+------+
| m           | 1  | x | missing_in_beta | 1    |
| m           | 2  | y | extra_in_beta   | 1    |
| m           | 3  | z | missing_in_beta | 1    |
| m           | 4  | w | extra_in_beta   | 1    |
+-------------+----+---+-----------------+------+"
    );
}

/// Numbers whose types differ between the sides (a `numeric(4,2)` column against an unconstrained
/// `numeric`, `INT` against `BIGINT`) compare by value: only 3.50 against 3.51 and 7 against 8
/// differ, on the triage path and on the plain join alike; the type change is still reported.
#[tokio::test]
async fn numbers_of_different_types_compare_by_value() {
    for triage in [true, false] {
        let ctx = SessionContext::new();
        ctx.sql(
            "CREATE VIEW l AS SELECT * FROM (VALUES \
               ('a', 1, CAST(3.50 AS DECIMAL(4,2)), CAST(7 AS INT)), \
               ('a', 2, CAST(2.00 AS DECIMAL(4,2)), CAST(0 AS INT)), \
               ('b', 1, CAST(3.50 AS DECIMAL(4,2)), CAST(7 AS INT)), \
               ('b', 2, CAST(-1.25 AS DECIMAL(4,2)), CAST(NULL AS INT))) \
             AS t(district_id, id, gpa, grade)",
        )
        .await
        .unwrap();
        ctx.sql(
            "CREATE VIEW b AS SELECT * FROM (VALUES \
               ('a', 1, CAST(3.5 AS DECIMAL(38,20)), CAST(7 AS BIGINT)), \
               ('a', 2, CAST(2 AS DECIMAL(38,20)), CAST(0 AS BIGINT)), \
               ('b', 1, CAST(3.51 AS DECIMAL(38,20)), CAST(8 AS BIGINT)), \
               ('b', 2, CAST(-1.25 AS DECIMAL(38,20)), CAST(NULL AS BIGINT))) \
             AS t(district_id, id, gpa, grade)",
        )
        .await
        .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let spec = DiffSpec::new("t", vec!["id".into()])
            .with_group_by(Some("district_id".into()))
            .with_triage(triage);
        let diff = diff_tables(&ctx, "l", "b", &spec, tmp.path())
            .await
            .unwrap();
        let a = group(&diff, "a");
        assert_eq!(a.status(&diff.schema), Status::FullMatch, "triage {triage}");
        assert_eq!((a.matched_rows, a.changed_rows), (2, 0));
        let b = group(&diff, "b");
        assert_eq!((b.matched_rows, b.changed_rows), (1, 1), "triage {triage}");
        let columns: Vec<(&str, u64)> = b
            .columns
            .iter()
            .map(|c| (c.column.as_str(), c.mismatches))
            .collect();
        assert_eq!(columns, [("gpa", 1), ("grade", 1)]);
        // Examples show each side's value as stored.
        assert_eq!(b.columns[0].legacy_example.as_deref(), Some("3.50"));
        assert_eq!(
            b.columns[0].beta_example.as_deref(),
            Some("3.51000000000000000000")
        );
        let changed: Vec<&str> = diff
            .schema
            .type_changes
            .iter()
            .map(|t| t.column.as_str())
            .collect();
        assert_eq!(changed, ["gpa", "grade"]);
    }
}

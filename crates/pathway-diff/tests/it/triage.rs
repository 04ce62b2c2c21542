//! The triage fast path (fingerprints, then the join on residual keys only) against the plain
//! join over every row: same summary, same column diff, same categories, same row diff, whatever
//! the chunk size.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use pathway_diff::{ColumnRules, DiffSpec, TableDiff, diff_tables};

type Row = (&'static str, Option<i64>, Option<&'static str>, Option<f64>);

/// A group name that stands for a null group.
const NULL_GROUP: &str = "<null>";

fn table(rows: &[Row]) -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("district_id", DataType::Utf8, true),
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            rows.iter()
                .map(|r| (r.0 != NULL_GROUP).then_some(r.0))
                .collect::<StringArray>(),
        ),
        Arc::new(rows.iter().map(|r| r.1).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| r.2).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| r.3).collect::<Float64Array>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap())
}

const LEGACY: &[Row] = &[
    // a: changed, missing, extra, null key, duplicated key on one side
    ("a", Some(1), Some("Ann"), Some(1.5)),
    ("a", Some(2), Some("Bo "), Some(2.0)),
    ("a", Some(3), Some("Cy"), None),
    ("a", Some(4), Some("Di"), Some(-0.0)),
    ("a", None, Some("Nul"), Some(1.0)),
    ("a", Some(6), Some("Ed"), Some(6.0)),
    ("a", Some(7), Some("Fa"), Some(7.0)),
    // b: same rows in another order (FULL MATCH without a join)
    ("b", Some(1), Some("x"), Some(1.0)),
    ("b", Some(2), None, Some(f64::NAN)),
    ("b", Some(3), Some(""), None),
    // c: legacy only
    ("c", Some(1), Some("x"), None),
    // e: the same duplicated rows on both sides
    ("e", Some(1), Some("x"), None),
    ("e", Some(1), Some("x"), None),
    // f: equal only under a rule (trim)
    ("f", Some(1), Some("pad "), Some(1.0)),
    // g: -0.0 against 0.0: different hashes, equal for SQL, so the join decides
    ("g", Some(1), Some("z"), Some(-0.0)),
];

const BETA: &[Row] = &[
    ("a", Some(1), Some("Ann"), Some(1.5)),
    ("a", Some(2), Some("Bo"), Some(2.0)),
    ("a", Some(5), Some("Ev"), None),
    ("a", Some(4), Some("Di"), Some(-0.0)),
    ("a", None, Some("Nul"), Some(1.0)),
    ("a", Some(6), Some("Ed"), Some(6.0)),
    ("a", Some(6), Some("Ed"), Some(6.5)),
    ("a", Some(7), Some("Fa"), Some(7.25)),
    ("b", Some(3), Some(""), None),
    ("b", Some(1), Some("x"), Some(1.0)),
    ("b", Some(2), None, Some(f64::NAN)),
    ("d", Some(9), Some("new"), Some(9.0)),
    ("e", Some(1), Some("x"), None),
    ("e", Some(1), Some("x"), None),
    ("f", Some(1), Some("pad"), Some(1.0)),
    ("g", Some(1), Some("z"), Some(0.0)),
];

/// Every row of the row diff under `dir`, as sorted text lines.
async fn row_diff_lines(dir: &std::path::Path) -> Vec<String> {
    let ctx = SessionContext::new();
    let options = ParquetReadOptions::default()
        .table_partition_cols(vec![("district_id".into(), DataType::Utf8)]);
    ctx.register_parquet("rd", &format!("{}/", dir.display()), options)
        .await
        .unwrap();
    let batches = ctx
        .sql("SELECT * FROM rd")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    // Data lines only: the first `| ` line is the header.
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("| "))
        .skip(1)
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

async fn diff(
    legacy: &[Row],
    beta: &[Row],
    spec: &DiffSpec,
    dir: &std::path::Path,
) -> (TableDiff, Vec<String>) {
    let ctx = SessionContext::new();
    ctx.register_table("l", table(legacy)).unwrap();
    ctx.register_table("b", table(beta)).unwrap();
    let result = diff_tables(&ctx, "l", "b", spec, dir).await.unwrap();
    (result, row_diff_lines(dir).await)
}

fn spec() -> DiffSpec {
    let trim = ColumnRules {
        trim: true,
        ..ColumnRules::default()
    };
    DiffSpec::new("t", vec!["id".into()])
        .with_group_by(Some("district_id".into()))
        .with_rules(ColumnRules::default(), vec![("name".into(), trim)])
}

/// The plain join's diff and row diff under `spec`, after checking that the triage gives the
/// same at every chunk size (1: every group larger than a chunk; 5: a few groups per chunk;
/// 1M: one chunk).
async fn joined_and_triaged_agree(spec: &DiffSpec) -> (TableDiff, Vec<String>) {
    agree_at_chunk_sizes(LEGACY, BETA, spec, &[1, 5, 1_000_000]).await
}

/// The same for any two sides and chunk sizes.
async fn agree_at_chunk_sizes(
    legacy: &[Row],
    beta: &[Row],
    spec: &DiffSpec,
    chunk_sizes: &[u64],
) -> (TableDiff, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let joined_spec = spec.clone().with_triage(false);
    let (joined, joined_rows) = diff(legacy, beta, &joined_spec, &tmp.path().join("j")).await;
    for &chunk_rows in chunk_sizes {
        let (triaged, triaged_rows) = diff(
            legacy,
            beta,
            &spec.clone().with_chunk_rows(chunk_rows),
            &tmp.path().join(format!("t{chunk_rows}")),
        )
        .await;
        assert_eq!(triaged, joined, "chunk_rows = {chunk_rows}");
        assert_eq!(triaged_rows, joined_rows, "chunk_rows = {chunk_rows}");
    }
    (joined, joined_rows)
}

#[tokio::test]
async fn triage_and_the_full_join_agree_at_every_chunk_size() {
    let (joined, joined_rows) = joined_and_triaged_agree(&spec()).await;

    // The figures themselves, checked by hand.
    let counts = |name: &str| {
        let g = joined.groups.iter().find(|g| g.group == name).unwrap();
        (crate::counts(g), g.status(&joined.schema).as_str())
    };
    // a: 1, 4, null matched; 7 changed (score); 3 missing; 5 extra; 6 duplicated in beta;
    //    2 is equal under trim, so matched too.
    assert_eq!(counts("a"), ([7, 8, 4, 1, 1, 1, 0, 1], "MISMATCH"));
    assert_eq!(counts("b"), ([3, 3, 3, 0, 0, 0, 0, 0], "FULL MATCH"));
    assert_eq!(counts("c"), ([1, 0, 0, 0, 1, 0, 0, 0], "LEGACY ONLY"));
    assert_eq!(counts("d"), ([0, 1, 0, 0, 0, 1, 0, 0], "BETA ONLY"));
    assert_eq!(counts("e"), ([2, 2, 0, 0, 0, 0, 1, 1], "FULL MATCH"));
    // f differs only under its trim rule: the audit's definition of equal.
    assert_eq!(counts("f"), ([1, 1, 1, 0, 0, 0, 0, 0], "FULL MATCH"));
    assert_eq!(counts("g"), ([1, 1, 1, 0, 0, 0, 0, 0], "FULL MATCH"));
    // Rows of the row diff: a has 2 (equal by rule), 3, 5, 6 ×3, 7; c 1; d 1; e 2 + 2; f 1.
    assert_eq!(joined_rows.len(), 7 + 1 + 1 + 4 + 1);
}

/// A chunk is read as the range of names from its first group to its last, so a group excluded
/// by the audit that sorts inside that range must still be left out.
#[tokio::test]
async fn an_excluded_group_inside_a_chunk_stays_out() {
    let excluded = spec().with_exclude_groups(vec!["c".into(), "e".into()]);
    let (joined, joined_rows) = joined_and_triaged_agree(&excluded).await;
    let names: Vec<&str> = joined.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(names, ["a", "b", "d", "f", "g"]);
    // The 14 rows of the full row diff less c's one and e's four.
    assert_eq!(joined_rows.len(), 14 - 1 - 4);
}

/// The rows under residual keys are picked by a list of constants when a chunk has few such
/// keys (most chunks of most nights) and by a semi-join on the keys when it has many: the two
/// ways must give the same diff as the plain join.
#[tokio::test]
async fn few_and_many_residual_keys_pick_the_same_rows() {
    // "m": 1000 keys, 300 with a changed score (more residual keys than a list holds);
    // "s": 1000 keys, 2 changed.
    let mut legacy: Vec<Row> = Vec::new();
    let mut beta: Vec<Row> = Vec::new();
    for (group, changed) in [("m", 300), ("s", 2)] {
        for id in 0..1000 {
            legacy.push((group, Some(id), Some("x"), Some(1.0)));
            let score = if id < changed { 2.0 } else { 1.0 };
            beta.push((group, Some(id), Some("x"), Some(score)));
        }
    }
    let spec = DiffSpec::new("t", vec!["id".into()]).with_group_by(Some("district_id".into()));
    // One chunk of both groups (302 residual keys), and one chunk per group (300 and 2).
    let (joined, joined_rows) =
        agree_at_chunk_sizes(&legacy, &beta, &spec, &[1_000_000, 2000]).await;
    let figures: Vec<(&str, u64, u64)> = joined
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.changed_rows, g.matched_rows))
        .collect();
    assert_eq!(figures, [("m", 300, 700), ("s", 2, 998)]);
    assert_eq!(joined_rows.len(), 302);
}

#[tokio::test]
async fn residual_rows_of_many_chunks_diffed_together_give_the_same_rows() {
    // Five groups of 100 keys a side. Group i changes the scores of its first 5 (i + 1) keys;
    // "c" also loses key 99 in beta, and "e" holds key 0 twice in beta (once changed, once
    // not). Every chunk has few residual keys, so their rows wait and are diffed together:
    // chunks of 400 rows hold two groups each, and their rows are diffed once more than 100
    // are pending (after c and d) and at the end. Chunks of 200 hold a group each, diffed
    // after c, and e (201 rows) is larger than a chunk: d's pending rows are diffed first.
    let mut legacy: Vec<Row> = Vec::new();
    let mut beta: Vec<Row> = Vec::new();
    for (i, group) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        for id in 0..100 {
            legacy.push((group, Some(id), Some("x"), Some(1.0)));
            if group == "c" && id == 99 {
                continue;
            }
            let score = if id < 5 * (i as i64 + 1) { 2.0 } else { 1.0 };
            beta.push((group, Some(id), Some("x"), Some(score)));
        }
    }
    beta.push(("e", Some(0), Some("x"), Some(1.0)));
    let spec = DiffSpec::new("t", vec!["id".into()]).with_group_by(Some("district_id".into()));
    let (joined, rows) = agree_at_chunk_sizes(&legacy, &beta, &spec, &[400, 200]).await;
    let figures: Vec<(&str, u64, u64, u64, u64)> = joined
        .groups
        .iter()
        .map(|g| {
            let (matched, changed) = (g.matched_rows, g.changed_rows);
            (
                g.group.as_str(),
                matched,
                changed,
                g.missing_in_beta,
                g.beta_dup_keys,
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            ("a", 95, 5, 0, 0),
            ("b", 90, 10, 0, 0),
            ("c", 84, 15, 1, 0),
            ("d", 80, 20, 0, 0),
            ("e", 75, 24, 0, 1),
        ]
    );
    // a 5, b 10, c 15 + 1, d 20, e 24 + 3 (key 0: one legacy row, two beta rows).
    assert_eq!(rows.len(), 78, "{rows:?}");
}

#[tokio::test]
async fn a_null_group_and_an_empty_group_are_one_group() {
    // On each side, group '' holds ids 1 and 2, split differently between null and '': as one
    // group both sides hold the same rows. Id 3 changes from a null group to an empty one.
    // Group "z" differs, in the same chunk or another.
    let legacy: &[Row] = &[
        (NULL_GROUP, Some(1), Some("x"), None),
        ("", Some(2), Some("y"), None),
        (NULL_GROUP, Some(3), Some("p"), None),
        ("z", Some(1), Some("a"), None),
    ];
    let beta: &[Row] = &[
        ("", Some(1), Some("x"), None),
        (NULL_GROUP, Some(2), Some("y"), None),
        ("", Some(3), Some("q"), None),
        ("z", Some(1), Some("b"), None),
    ];
    let (joined, rows) = agree_at_chunk_sizes(legacy, beta, &spec(), &[1, 2, 100]).await;
    let figures: Vec<(&str, u64, u64, u64, u64)> = joined
        .groups
        .iter()
        .map(|g| {
            let (rows, matched) = (g.legacy_rows, g.matched_rows);
            (g.group.as_str(), rows, g.beta_rows, matched, g.changed_rows)
        })
        .collect();
    assert_eq!(figures, [("", 3, 3, 2, 1), ("z", 1, 1, 0, 1)]);
    assert_eq!(rows.len(), 2, "{rows:?}");
}

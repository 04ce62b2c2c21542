//! Two sides of one table, two districts, every kind of column: the profile's lines are the
//! figures computed by hand in the comments.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use pathway_profile::{ProfileRow, ProfileSpec, profile_table, ranked};

type Row = (
    &'static str,
    i64,
    Option<&'static str>,
    i64,
    Option<f64>,
    Option<&'static str>,
    Option<&'static str>,
);

fn days(date: &str) -> i32 {
    let (y, rest) = date.split_at(4);
    let (m, d) = (&rest[1..3], &rest[4..6]);
    let (y, m, d): (i32, u32, u32) = (y.parse().unwrap(), m.parse().unwrap(), d.parse().unwrap());
    // Days from 1970-01-01, by chrono's rule, without chrono.
    let a = i32::from(m <= 2);
    let (y, m) = (y - a, m as i32 + 12 * a - 3);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn table(rows: &[Row]) -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("district_id", DataType::Utf8, false),
        Field::new("id", DataType::Int64, false),
        Field::new("school", DataType::Utf8, true),
        Field::new("grade", DataType::Int64, false),
        Field::new("gpa", DataType::Float64, true),
        Field::new("last_name", DataType::Utf8, true),
        Field::new("entered", DataType::Date32, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| Some(r.0)).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.1)).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| r.2).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.3)).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| r.4).collect::<Float64Array>()),
        Arc::new(rows.iter().map(|r| r.5).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| r.6.map(days)).collect::<Date32Array>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap())
}

const LEGACY: &[Row] = &[
    (
        "1",
        1,
        Some("A"),
        9,
        Some(3.5),
        Some("Lee"),
        Some("2026-09-01"),
    ),
    ("1", 2, Some("A"), 10, None, Some("Kim"), Some("2026-09-02")),
    ("1", 3, Some("B"), 9, Some(2.0), Some(""), None),
    ("1", 4, None, 11, Some(4.0), Some("Lee"), Some("2026-09-03")),
    (
        "2",
        7,
        Some("C"),
        8,
        Some(1.0),
        Some("Ng"),
        Some("2026-08-30"),
    ),
];

const BETA: &[Row] = &[
    (
        "1",
        1,
        Some("A"),
        9,
        Some(3.5),
        Some("Lee"),
        Some("2026-09-01"),
    ),
    (
        "1",
        2,
        Some("A"),
        10,
        Some(3.0),
        Some("Kim"),
        Some("2026-09-02"),
    ),
    (
        "1",
        3,
        Some("B"),
        9,
        Some(2.0),
        Some("Park"),
        Some("2026-09-05"),
    ),
    ("1", 4, Some("B"), 12, Some(4.0), None, Some("2026-09-03")),
    ("1", 5, Some(""), 9, None, Some("Cho"), None),
];

async fn profile() -> Vec<ProfileRow> {
    let ctx = SessionContext::new();
    ctx.register_table("l", table(LEGACY)).unwrap();
    ctx.register_table("b", table(BETA)).unwrap();
    let spec = ProfileSpec {
        table: "students".into(),
        group_by: Some("district_id".into()),
        pii: vec!["last_name".into()],
        ..ProfileSpec::default()
    };
    profile_table(&ctx, ["l", "b"], &spec).await.unwrap()
}

/// `column measure legacy beta delta` lines of one district, in the profile's order.
fn lines(rows: &[ProfileRow], district: &str) -> Vec<String> {
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    rows.iter()
        .filter(|r| r.district_id == district)
        .map(|r| {
            format!(
                "{} {} {} {} {}",
                if r.column.is_empty() { "*" } else { &r.column },
                r.measure,
                text(&r.legacy),
                text(&r.beta),
                text(&r.delta)
            )
        })
        .collect()
}

#[tokio::test]
async fn every_measure_of_every_kind_of_column_by_hand() {
    let rows = profile().await;
    assert!(rows.iter().all(|r| r.table == "students"));
    assert_eq!(
        lines(&rows, "1"),
        [
            "* rows 4 5 +1",
            // ids 1-4 and 1-5: sums 10 and 15, means 2.5 and 3.
            "id nulls 0 0 0",
            "id distinct 4 5 +1",
            "id min 1 1 0",
            "id max 4 5 +1",
            "id sum 10 15 +5",
            "id mean 2.5 3 +0.5",
            "id top 1=1;2=1;3=1;4=1 1=1;2=1;3=1;4=1;5=1 changed",
            // A, A, B, null against A, A, B, B, "": the empty string is a value, and the
            // smallest one.
            "school nulls 1 0 -1",
            "school empty 0 1 +1",
            "school distinct 2 3 +1",
            "school min A  changed",
            "school max B B -",
            "school top A=2;(null)=1;B=1 A=2;B=2;(empty)=1 changed",
            // 9, 10, 9, 11 against 9, 10, 9, 12, 9.
            "grade nulls 0 0 0",
            "grade distinct 3 3 0",
            "grade min 9 9 0",
            "grade max 11 12 +1",
            "grade sum 39 49 +10",
            "grade mean 9.75 9.8 +0.05",
            "grade top 9=2;10=1;11=1 9=3;10=1;12=1 changed",
            // 3.5, null, 2, 4 against 3.5, 3, 2, 4, null: means 9.5 / 3 and 12.5 / 4.
            "gpa nulls 1 1 0",
            "gpa distinct 3 4 +1",
            "gpa min 2 2 0",
            "gpa max 4 4 0",
            "gpa sum 9.5 12.5 +3",
            "gpa mean 3.166667 3.125 -0.041667",
            "gpa top (null)=1;2.0=1;3.5=1;4.0=1 (null)=1;2.0=1;3.0=1;3.5=1;4.0=1 changed",
            // Personal: counts only. Lee, Kim, "", Lee against Lee, Kim, Park, null, Cho.
            "last_name nulls 0 1 +1",
            "last_name distinct 3 4 +1",
            "entered nulls 1 1 0",
            "entered distinct 3 4 +1",
            "entered min 2026-09-01 2026-09-01 -",
            "entered max 2026-09-03 2026-09-05 changed",
            "entered top (null)=1;2026-09-01=1;2026-09-02=1;2026-09-03=1 \
             (null)=1;2026-09-01=1;2026-09-02=1;2026-09-03=1;2026-09-05=1 changed",
        ]
    );
    // District 2 has no beta rows: 0 rows there, and no other beta measure.
    let two = lines(&rows, "2");
    assert_eq!(two[0], "* rows 1 0 -1");
    assert!(two.contains(&"grade sum 8 - -".to_owned()), "{two:?}");
    assert_eq!(two.len(), 1 + 7 + 6 + 7 + 7 + 2 + 5);
    // No value of the personal column anywhere.
    for r in &rows {
        for value in [&r.legacy, &r.beta].into_iter().flatten() {
            for name in ["Lee", "Kim", "Park", "Cho", "Ng"] {
                assert!(!value.contains(name), "{r:?}");
            }
        }
    }
}

#[tokio::test]
async fn the_columns_that_moved_most_come_first() {
    let ranked = ranked(profile().await);
    let mut blocks: Vec<(&str, &str)> = Vec::new();
    for r in &ranked {
        let block = (r.district_id.as_str(), r.column.as_str());
        if blocks.last() != Some(&block) {
            blocks.push(block);
        }
    }
    // Every column of district 1 has a measure that changed outright (top values, a max) or
    // from 0 (last_name's nulls): relative delta 1, as has every line of district 2, whose
    // beta side is empty. Ties go by district and column; district 1's rows moved 1 in 5.
    assert_eq!(
        blocks,
        [
            ("1", "entered"),
            ("1", "gpa"),
            ("1", "grade"),
            ("1", "id"),
            ("1", "last_name"),
            ("1", "school"),
            ("2", ""),
            ("2", "entered"),
            ("2", "gpa"),
            ("2", "grade"),
            ("2", "id"),
            ("2", "last_name"),
            ("2", "school"),
            ("1", ""),
        ]
    );
    // Within a column, the measures keep their order.
    let school: Vec<&str> = ranked
        .iter()
        .filter(|r| r.district_id == "1" && r.column == "school")
        .map(|r| r.measure.as_str())
        .collect();
    assert_eq!(school, ["nulls", "empty", "distinct", "min", "max", "top"]);
}

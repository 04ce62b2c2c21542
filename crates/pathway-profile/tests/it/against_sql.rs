//! The profile's one read against a naive reference: every measure of every column spelled as
//! its own SQL aggregate (`COUNT(DISTINCT c)`, `MIN(c)`, a `GROUP BY` per column and value for
//! the top values), on random tables of every column type a transform writes, groups sorted or
//! interleaved, several partitions and batches, columns with few and with many values.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, Float32Array,
    Float64Array, Int64Array, LargeStringArray, ListArray, NullArray, RecordBatch, StringArray,
    StringViewArray, TimestampMillisecondArray, UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use pathway_profile::{ProfileRow, ProfileSpec, profile_table};

/// xorshift64*: the same seed, the same tables.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// (name, type, personal, measured by the profile as what)
const COLUMNS: &[(&str, Kind)] = &[
    ("code", Kind::Text),
    ("name", Kind::View),
    ("n", Kind::Int),
    ("big", Kind::UInt),
    ("x", Kind::Float),
    ("amount", Kind::Decimal),
    ("day", Kind::Date),
    ("flag", Kind::Bool),
    ("label", Kind::Dict),
    ("tags", Kind::List),
    ("nothing", Kind::Null),
    ("ratio", Kind::Float32),
    ("at", Kind::Timestamp),
    ("note", Kind::Large),
];
const PERSONAL: &str = "name";

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    View,
    Int,
    UInt,
    Float,
    Decimal,
    Date,
    Bool,
    Dict,
    List,
    Null,
    Float32,
    Timestamp,
    Large,
}

fn schema() -> Arc<Schema> {
    let mut fields = vec![Field::new("district_id", DataType::Utf8, true)];
    for (name, kind) in COLUMNS {
        let t = match kind {
            Kind::Text => DataType::Utf8,
            Kind::View => DataType::Utf8View,
            Kind::Int => DataType::Int64,
            Kind::UInt => DataType::UInt64,
            Kind::Float => DataType::Float64,
            Kind::Decimal => DataType::Decimal128(9, 2),
            Kind::Date => DataType::Date32,
            Kind::Bool => DataType::Boolean,
            Kind::Dict => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            Kind::List => DataType::List(Arc::new(Field::new_list_field(DataType::Int32, true))),
            Kind::Null => DataType::Null,
            Kind::Float32 => DataType::Float32,
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
            Kind::Large => DataType::LargeUtf8,
        };
        fields.push(Field::new(*name, t, true));
    }
    Arc::new(Schema::new(fields))
}

/// How many values each column draws from in one side: few (under the top values' 50), many,
/// or one per row.
fn pools(random: &mut Random) -> Vec<u64> {
    COLUMNS
        .iter()
        .map(|_| match random.below(4) {
            0 => 1 + random.below(5),
            1 => 40 + random.below(20),
            2 => 200,
            _ => 1_000_000,
        })
        .collect()
}

fn side(random: &mut Random, groups: &[Option<&str>], rows: usize) -> Vec<RecordBatch> {
    let pools = pools(random);
    let nulls = random.below(30);
    let mut district: Vec<Option<String>> = (0..rows)
        .map(|_| groups[random.below(groups.len() as u64) as usize].map(str::to_owned))
        .collect();
    if random.chance(50) {
        district.sort();
    }
    let value = |random: &mut Random, c: usize| -> Option<u64> {
        (!random.chance(nulls)).then(|| random.below(pools[c]))
    };
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(district.clone()))];
    for (c, (_, kind)) in COLUMNS.iter().enumerate() {
        let values: Vec<Option<u64>> = (0..rows).map(|_| value(random, c)).collect();
        let text = |v: &Option<u64>| {
            v.map(|v| {
                if v == 0 {
                    String::new()
                } else {
                    format!("v{v}")
                }
            })
        };
        let array: ArrayRef = match kind {
            Kind::Text => Arc::new(StringArray::from(
                values.iter().map(text).collect::<Vec<_>>(),
            )),
            Kind::View => Arc::new(StringViewArray::from(
                values.iter().map(text).collect::<Vec<_>>(),
            )),
            Kind::Int => Arc::new(Int64Array::from(
                values
                    .iter()
                    .map(|v| v.map(|v| v as i64 - 100))
                    .collect::<Vec<_>>(),
            )),
            // Sums past i64, exact only if summed wider; multiples of 2^20, so that their
            // sums as doubles are exact too, and the mean the same in any order.
            Kind::UInt => Arc::new(UInt64Array::from(
                values
                    .iter()
                    .map(|v| v.map(|v| (1 << 62) + (v << 20)))
                    .collect::<Vec<_>>(),
            )),
            // Quarters: every sum and mean is exact in any order.
            Kind::Float => Arc::new(Float64Array::from(
                values
                    .iter()
                    .map(|v| v.map(|v| v as f64 * 0.25 - 3.0))
                    .collect::<Vec<_>>(),
            )),
            Kind::Decimal => Arc::new(
                Decimal128Array::from(
                    values
                        .iter()
                        .map(|v| v.map(|v| (i128::from(v) % 10_000_000) * 25 - 5_000))
                        .collect::<Vec<_>>(),
                )
                .with_precision_and_scale(9, 2)
                .unwrap(),
            ),
            Kind::Date => Arc::new(Date32Array::from(
                values
                    .iter()
                    .map(|v| v.map(|v| 19_000 + (v % 5_000) as i32))
                    .collect::<Vec<_>>(),
            )),
            Kind::Bool => Arc::new(BooleanArray::from(
                values
                    .iter()
                    .map(|v| v.map(|v| v % 2 == 0))
                    .collect::<Vec<_>>(),
            )),
            Kind::Dict => Arc::new(
                values
                    .iter()
                    .map(text)
                    .collect::<Vec<_>>()
                    .iter()
                    .map(Option::as_deref)
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
            Kind::List => Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(
                values.iter().map(|v| v.map(|v| vec![Some(v as i32), None])),
            )),
            // What pyarrow writes for a column of None only.
            Kind::Null => Arc::new(NullArray::new(rows)),
            Kind::Float32 => Arc::new(Float32Array::from(
                values
                    .iter()
                    .map(|v| v.map(|v| (v % 4_000) as f32 * 0.5))
                    .collect::<Vec<_>>(),
            )),
            Kind::Timestamp => Arc::new(TimestampMillisecondArray::from(
                values
                    .iter()
                    .map(|v| v.map(|v| 1_700_000_000_000 + v as i64 * 1_001))
                    .collect::<Vec<_>>(),
            )),
            Kind::Large => Arc::new(LargeStringArray::from(
                values.iter().map(text).collect::<Vec<_>>(),
            )),
        };
        columns.push(array);
    }
    let whole = RecordBatch::try_new(schema(), columns).unwrap();
    // Batches of random sizes.
    let mut batches = Vec::new();
    let mut start = 0;
    while start < rows {
        let len = (1 + random.below(rows as u64 / 2 + 1) as usize).min(rows - start);
        batches.push(whole.slice(start, len));
        start += len;
    }
    batches
}

fn mem_table(random: &mut Random, batches: Vec<RecordBatch>) -> Arc<MemTable> {
    let partitions = 1 + random.below(3) as usize;
    let mut split = vec![Vec::new(); partitions];
    for (i, batch) in batches.into_iter().enumerate() {
        split[i % partitions].push(batch);
    }
    Arc::new(MemTable::try_new(schema(), split).unwrap())
}

type Measures = BTreeMap<(String, String, String), String>;

/// A number as the profile writes it (docs/profile.md): integers without a point, others with
/// at most 6 decimals and no trailing zeros.
fn number(text: &str) -> String {
    let x: f64 = text.parse().unwrap();
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let text = format!("{x:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

async fn texts(ctx: &SessionContext, sql: &str) -> Vec<Vec<Option<String>>> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut rows = Vec::new();
    for batch in batches {
        let columns: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8).unwrap())
            .collect();
        for i in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|c| {
                        let c = c.as_any().downcast_ref::<StringArray>().unwrap();
                        (!c.is_null(i)).then(|| c.value(i).to_owned())
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// One side's measures, each its own SQL aggregate, top values for every non-personal column.
async fn reference(ctx: &SessionContext, table: &str, spec: &ProfileSpec) -> (Measures, Measures) {
    let g = if spec.group_by.is_some() {
        "COALESCE(CAST(district_id AS VARCHAR), '')"
    } else {
        "'*'"
    };
    let from = if spec.skip_groups.is_empty() || spec.group_by.is_none() {
        table.to_owned()
    } else {
        let skipped: Vec<String> = spec.skip_groups.iter().map(|g| format!("'{g}'")).collect();
        format!("{table} WHERE {g} NOT IN ({})", skipped.join(", "))
    };
    let table = from.as_str();
    let mut measures = Measures::new();
    let mut tops = Measures::new();
    for row in texts(
        ctx,
        &format!("SELECT {g}, COUNT(*) FROM {table} GROUP BY {g}"),
    )
    .await
    {
        let group = row[0].clone().unwrap();
        measures.insert(
            (group, String::new(), "rows".into()),
            row[1].clone().unwrap(),
        );
    }
    // Without a group, the district is a column like the others.
    let district = [("district_id", Kind::Text)];
    let ungrouped = if spec.group_by.is_none() {
        &district[..]
    } else {
        &[]
    };
    for (name, kind) in COLUMNS.iter().chain(ungrouped) {
        let c = if *kind == Kind::Dict {
            format!("CAST({name} AS VARCHAR)")
        } else {
            (*name).to_owned()
        };
        let personal = *name == PERSONAL;
        let mut select = vec![(format!("COUNT(*) - COUNT({c})"), "nulls")];
        let other = matches!(kind, Kind::List | Kind::Null);
        if !other {
            select.push((format!("COUNT(DISTINCT {c})"), "distinct"));
        }
        if !personal && !other {
            if matches!(kind, Kind::Text | Kind::View | Kind::Dict | Kind::Large) {
                select.push((
                    format!("SUM(CASE WHEN {c} = '' THEN 1 ELSE 0 END)"),
                    "empty",
                ));
            }
            if *kind != Kind::Bool {
                select.push((format!("MIN({c})"), "min"));
                select.push((format!("MAX({c})"), "max"));
            }
            match kind {
                Kind::Int | Kind::UInt => {
                    select.push((format!("SUM(CAST({c} AS DECIMAL(38, 0)))"), "sum"));
                }
                Kind::Float | Kind::Float32 | Kind::Decimal => {
                    select.push((format!("SUM({c})"), "sum"));
                }
                _ => {}
            }
            if matches!(
                kind,
                Kind::Int | Kind::UInt | Kind::Float | Kind::Float32 | Kind::Decimal
            ) {
                select.push((format!("AVG(CAST({c} AS DOUBLE))"), "mean"));
            }
        }
        let sql = format!(
            "SELECT {g}, {} FROM {table} GROUP BY {g}",
            select
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        for row in texts(ctx, &sql).await {
            let group = row[0].clone().unwrap();
            for ((_, measure), value) in select.iter().zip(&row[1..]) {
                let Some(value) = value.clone() else { continue };
                let numeric = *measure == "mean"
                    || (matches!(kind, Kind::Float | Kind::Float32)
                        && matches!(*measure, "sum" | "min" | "max"));
                let value = if numeric { number(&value) } else { value };
                measures.insert(
                    (group.clone(), (*name).to_owned(), (*measure).to_owned()),
                    value,
                );
            }
        }
        if personal || other {
            continue;
        }
        let v = format!("CAST({name} AS VARCHAR)");
        let sql = format!("SELECT {g}, {v}, COUNT(*) FROM {table} GROUP BY {g}, {v}");
        let mut counts: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
        for row in texts(ctx, &sql).await {
            let value = match row[1].clone() {
                None => "(null)".to_owned(),
                Some(v) if v.is_empty() => "(empty)".to_owned(),
                Some(v) => v,
            };
            let n = row[2].clone().unwrap().parse().unwrap();
            counts
                .entry(row[0].clone().unwrap())
                .or_default()
                .push((n, value));
        }
        for (group, mut values) in counts {
            values.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let top: Vec<String> = values
                .iter()
                .take(5)
                .map(|(n, v)| format!("{v}={n}"))
                .collect();
            tops.insert((group, (*name).to_owned(), "top".into()), top.join(";"));
        }
    }
    (measures, tops)
}

/// What the engine said of one side.
fn engine_side(rows: &[ProfileRow], beta: bool) -> Measures {
    rows.iter()
        .filter_map(|r| {
            let value = if beta { &r.beta } else { &r.legacy };
            let key = (r.district_id.clone(), r.column.clone(), r.measure.clone());
            value.clone().map(|v| (key, v))
        })
        .collect()
}

/// Compare one case; the differences, described.
async fn compare(seed: u64) -> Vec<String> {
    let mut random = Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let all = [Some("101"), Some("7"), Some(""), None, Some("300")];
    let groups: Vec<Option<&str>> = all[..=(random.below(5) as usize)].to_vec();
    let ctx = SessionContext::new();
    for name in ["l", "b"] {
        let rows = random.below(300) as usize;
        let batches = side(&mut random, &groups, rows);
        let table = mem_table(&mut random, batches);
        ctx.register_table(name, table).unwrap();
    }
    // Mostly by district, some districts left out; now and then one group of all rows.
    let grouped = !random.chance(15);
    let skip_groups = groups
        .iter()
        .filter(|_| random.chance(20))
        .map(|g| g.unwrap_or_default().to_owned())
        .collect();
    let spec = ProfileSpec {
        table: "t".into(),
        group_by: grouped.then(|| "district_id".into()),
        pii: vec![PERSONAL.into()],
        skip_groups,
        ..ProfileSpec::default()
    };
    let rows = profile_table(&ctx, ["l", "b"], &spec).await.unwrap();
    let (mut expected, mut tops) = (Vec::new(), Vec::new());
    for table in ["l", "b"] {
        let (m, t) = reference(&ctx, table, &spec).await;
        expected.push(m);
        tops.push(t);
    }
    // A district with no rows on a side has 0 rows there (and no other measure).
    let districts: BTreeSet<String> = expected
        .iter()
        .flat_map(|m| m.keys().map(|(g, _, _)| g.clone()))
        .collect();
    for side in &mut expected {
        for g in &districts {
            side.entry((g.clone(), String::new(), "rows".into()))
                .or_insert_with(|| "0".into());
        }
    }
    // Top values where a side has at most 50 distinct values.
    let low: BTreeSet<(String, String)> = expected
        .iter()
        .flat_map(|m| m.iter())
        .filter(|((_, _, m), v)| m == "distinct" && v.parse::<u64>().unwrap() <= 50)
        .map(|((g, c, _), _)| (g.clone(), c.clone()))
        .collect();
    for (side, t) in tops.iter().enumerate() {
        for ((g, c, m), v) in t {
            if low.contains(&(g.clone(), c.clone())) {
                expected[side].insert((g.clone(), c.clone(), m.clone()), v.clone());
            }
        }
    }
    let mut differences = Vec::new();
    for (side, expected) in expected.iter().enumerate() {
        let got = engine_side(&rows, side == 1);
        if &got != expected {
            let keys: BTreeSet<_> = got.keys().chain(expected.keys()).collect();
            for key in keys {
                if got.get(key) != expected.get(key) {
                    differences.push(format!(
                        "seed {seed} side {side} {key:?}: engine {:?}, reference {:?}",
                        got.get(key),
                        expected.get(key)
                    ));
                }
            }
        }
    }
    differences
}

#[tokio::test]
async fn one_read_measures_what_each_aggregate_measures() {
    let mut differences = Vec::new();
    for seed in 0..150 {
        differences.extend(compare(seed).await);
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Past 10,000 distinct values in a district the count is an estimate, written `~N`, and a
/// column with few values on one side still lists the other side's top values, however many.
#[tokio::test]
async fn many_values_are_estimated_and_still_listed_beside_few() {
    let rows = 12_000;
    let schema = Arc::new(Schema::new(vec![
        Field::new("district_id", DataType::Utf8, false),
        Field::new("id", DataType::Int64, false),
        Field::new("status", DataType::Utf8, true),
        Field::new("up_to", DataType::Int64, false),
        Field::new("past", DataType::Int64, false),
    ]));
    let side = |status: &dyn Fn(i64) -> String| {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["9"; rows])),
                Arc::new(Int64Array::from_iter_values(0..rows as i64)),
                Arc::new(StringArray::from_iter_values((0..rows as i64).map(status))),
                // Exactly 10,000 values, the last exact count; and one more.
                Arc::new(Int64Array::from_iter_values(
                    (0..rows as i64).map(|i| i % 10_000),
                )),
                Arc::new(Int64Array::from_iter_values(
                    (0..rows as i64).map(|i| i % 10_001),
                )),
            ],
        )
        .unwrap();
        // Two partitions, so that the two halves' counts and sketches are merged.
        let (a, b) = (batch.slice(0, 5_000), batch.slice(5_000, rows - 5_000));
        Arc::new(MemTable::try_new(schema.clone(), vec![vec![a], vec![b]]).unwrap())
    };
    let ctx = SessionContext::new();
    // Legacy: three statuses (4,000 each); beta: "s0" 3 times, "s1" twice, then a status per
    // row ("s5" to "s11999"): 11,997 values, the estimate's territory.
    ctx.register_table("l", side(&|i| format!("s{}", i % 3)))
        .unwrap();
    ctx.register_table(
        "b",
        side(&|i| {
            format!(
                "s{}",
                if i < 3 {
                    0
                } else if i < 5 {
                    1
                } else {
                    i
                }
            )
        }),
    )
    .unwrap();
    let spec = ProfileSpec {
        table: "t".into(),
        group_by: Some("district_id".into()),
        ..ProfileSpec::default()
    };
    let profile = profile_table(&ctx, ["l", "b"], &spec).await.unwrap();
    let find = |column: &str, measure: &str| {
        profile
            .iter()
            .find(|r| r.column == column && r.measure == measure)
            .map(|r| (r.legacy.clone().unwrap(), r.beta.clone().unwrap()))
            .unwrap()
    };
    let estimate = |text: &str| -> f64 { text.strip_prefix('~').unwrap().parse().unwrap() };
    let (l, b) = find("id", "distinct");
    assert!((estimate(&l) - 12_000.0).abs() < 12_000.0 * 0.02, "{l}");
    assert!((estimate(&b) - 12_000.0).abs() < 12_000.0 * 0.02, "{b}");
    assert_eq!(
        find("up_to", "distinct"),
        ("10000".to_owned(), "10000".to_owned())
    );
    let (l, b) = find("past", "distinct");
    assert!((estimate(&l) - 10_001.0).abs() < 10_001.0 * 0.02, "{l}");
    assert!((estimate(&b) - 10_001.0).abs() < 10_001.0 * 0.02, "{b}");
    let (l, b) = find("status", "distinct");
    assert_eq!(l, "3");
    assert!((estimate(&b) - 11_997.0).abs() < 11_997.0 * 0.02, "{b}");
    // Beta's 11,997 values were never all kept as text: its top values come from a second,
    // narrow read. Ties (every other value once) go by value.
    assert_eq!(
        find("status", "top"),
        (
            "s0=4000;s1=4000;s2=4000".to_owned(),
            "s0=3;s1=2;s10=1;s100=1;s1000=1".to_owned(),
        )
    );
    assert_eq!(
        find("id", "sum"),
        ("71994000".to_owned(), "71994000".to_owned())
    );
}

/// A district whose two sides hold the same rows (`same_rows`, from the footprints) is read on
/// the legacy side only: the profile is the one both reads give, and beta's measures are
/// legacy's even where beta's table says otherwise.
#[tokio::test]
async fn same_rows_are_measured_once() {
    for seed in 0..40 {
        let mut random = Random(seed * 7 + 3);
        let groups = [Some("101"), Some("7"), None];
        let batches = side(&mut random, &groups, 200);
        let ctx = SessionContext::new();
        ctx.register_table("l", mem_table(&mut random, batches.clone()))
            .unwrap();
        ctx.register_table("b", mem_table(&mut random, batches))
            .unwrap();
        let other = side(&mut random, &groups, 150);
        ctx.register_table("other", mem_table(&mut random, other))
            .unwrap();
        let spec = ProfileSpec {
            table: "t".into(),
            group_by: Some("district_id".into()),
            pii: vec![PERSONAL.into()],
            ..ProfileSpec::default()
        };
        let read_twice = profile_table(&ctx, ["l", "b"], &spec).await.unwrap();
        let all = ProfileSpec {
            same_rows: vec!["101".into(), "7".into(), String::new()],
            ..spec.clone()
        };
        assert_eq!(
            profile_table(&ctx, ["l", "b"], &all).await.unwrap(),
            read_twice,
            "seed {seed}"
        );
        // Only district 7 said to be the same: its beta measures are legacy's, the others
        // are read from `other`.
        let seven = ProfileSpec {
            same_rows: vec!["7".into()],
            ..spec.clone()
        };
        let rows = profile_table(&ctx, ["l", "other"], &seven).await.unwrap();
        let against_other = profile_table(&ctx, ["l", "other"], &spec).await.unwrap();
        let not_seven = |rows: &[ProfileRow]| -> Vec<ProfileRow> {
            rows.iter()
                .filter(|r| r.district_id != "7")
                .cloned()
                .collect()
        };
        assert_eq!(not_seven(&rows), not_seven(&against_other), "seed {seed}");
        let legacy_seven = rows.iter().filter(|r| r.district_id == "7");
        assert!(legacy_seven.clone().count() > 0, "seed {seed}");
        for row in legacy_seven {
            assert_eq!(row.beta, row.legacy, "seed {seed} {row:?}");
        }
    }
}

/// Past 256 districts of the same rows, beta's read passes them over instead of naming them in
/// its SQL: the profile is still the one both reads give.
#[tokio::test]
async fn many_same_districts_are_passed_over_not_listed() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("district_id", DataType::Utf8, false),
        Field::new("id", DataType::Int64, false),
        Field::new("grade", DataType::Utf8, true),
    ]));
    let rows = 900_i64;
    let table = |bump: i64| {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| format!("d{}", i % 300)),
                )),
                Arc::new(Int64Array::from_iter_values(0..rows)),
                // Beta's grades move by one (`bump`) in every district: only d7 is read as beta
                // holds it, the others are said to be the same and take legacy's measures.
                Arc::new(StringArray::from_iter_values((0..rows).map(|i| {
                    let grade = (i % 4) + bump;
                    format!("{grade:02}")
                }))),
            ],
        )
        .unwrap();
        Arc::new(MemTable::try_new(schema.clone(), vec![vec![batch]]).unwrap())
    };
    let ctx = SessionContext::new();
    ctx.register_table("l", table(0)).unwrap();
    ctx.register_table("b", table(1)).unwrap();
    let spec = ProfileSpec {
        table: "t".into(),
        group_by: Some("district_id".into()),
        ..ProfileSpec::default()
    };
    let same = ProfileSpec {
        same_rows: (0..300)
            .filter(|d| *d != 7)
            .map(|d| format!("d{d}"))
            .collect(),
        ..spec.clone()
    };
    let once = profile_table(&ctx, ["l", "b"], &same).await.unwrap();
    let max = |rows: &[ProfileRow], district: &str| {
        rows.iter()
            .find(|r| r.district_id == district && r.column == "grade" && r.measure == "max")
            .map(|r| (r.legacy.clone(), r.beta.clone()))
    };
    for d in 0..300 {
        let district = format!("d{d}");
        // A district's rows all have grade d % 4 (300 is a multiple of 4); d7's is 3, and 4
        // in beta.
        let legacy = format!("{:02}", d % 4);
        let beta = if d == 7 {
            "04".to_owned()
        } else {
            legacy.clone()
        };
        assert_eq!(
            max(&once, &district),
            Some((Some(legacy), Some(beta))),
            "{district}"
        );
    }
    // Every line of a passed-over district is legacy's on both sides.
    assert!(
        once.iter()
            .filter(|r| r.district_id != "d7")
            .all(|r| r.beta == r.legacy)
    );
}

//! Property: two tables have equal (row count, fingerprint) exactly when they hold the same
//! multiset of rows, value for value and bit for bit except that floats have one zero and one
//! NaN (as the diff compares them), for random tables with nulls, empty strings, -0.0, NaN and
//! timestamps.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray, TimestampMicrosecondArray};
use pathway_diff::fingerprint::{combine, hash_rows};
use proptest::prelude::*;

type Row = (Option<String>, Option<f64>, Option<i64>);

fn row() -> impl Strategy<Value = Row> {
    let text = prop_oneof![
        Just(None),
        Just(Some(String::new())),
        Just(Some("a".to_owned())),
        Just(Some("ab".to_owned())),
        Just(Some("Zoë".to_owned())),
    ];
    let float = prop_oneof![
        Just(None),
        Just(Some(0.0)),
        Just(Some(-0.0)),
        Just(Some(f64::NAN)),
        Just(Some(1.5)),
        Just(Some(0.1 + 0.2)),
        Just(Some(0.3)),
    ];
    let timestamp = prop_oneof![
        Just(None),
        Just(Some(0_i64)),
        Just(Some(1_700_000_000_000_001)),
        Just(Some(1_700_000_000_000_000)),
    ];
    (text, float, timestamp)
}

/// A row with its float as bits, so rows can be ordered and counted.
type Identity = (Option<String>, Option<u64>, Option<i64>);

/// The row as a comparable value: floats by the bits of their canonical form (`-0.0` is `0.0`,
/// every NaN one NaN).
fn identity(row: &Row) -> Identity {
    let canonical = |f: f64| {
        if f.is_nan() {
            f64::NAN
        } else if f == 0.0 {
            0.0
        } else {
            f
        }
    };
    (row.0.clone(), row.1.map(|f| canonical(f).to_bits()), row.2)
}

fn fingerprint(rows: &[Row]) -> (usize, i128) {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.0.clone()).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| r.1).collect::<Float64Array>()),
        Arc::new(
            rows.iter()
                .map(|r| r.2)
                .collect::<TimestampMicrosecondArray>(),
        ),
    ];
    let hashes = hash_rows(&columns).unwrap();
    (rows.len(), hashes.into_iter().fold(0, combine))
}

fn multiset(rows: &[Row]) -> BTreeMap<Identity, usize> {
    let mut counts = BTreeMap::new();
    for r in rows {
        *counts.entry(identity(r)).or_insert(0) += 1;
    }
    counts
}

/// A second table: a shuffle of the first, maybe with one edit.
fn pair() -> impl Strategy<Value = (Vec<Row>, Vec<Row>)> {
    prop::collection::vec(row(), 0..12).prop_flat_map(|rows| {
        let n = rows.len();
        (
            Just(rows.clone()),
            Just(rows).prop_shuffle(),
            0..4_u8,
            0..n.max(1),
            row(),
        )
            .prop_map(|(a, mut b, edit, at, other)| {
                match edit {
                    1 if !b.is_empty() => b[at] = other,
                    2 if !b.is_empty() => {
                        b.remove(at);
                    }
                    3 => b.push(other),
                    _ => {}
                }
                (a, b)
            })
    })
}

proptest! {
    #[test]
    fn fingerprints_are_equal_exactly_for_equal_multisets((a, b) in pair()) {
        prop_assert_eq!(fingerprint(&a) == fingerprint(&b), multiset(&a) == multiset(&b));
    }
}

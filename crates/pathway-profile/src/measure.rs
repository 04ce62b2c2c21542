//! The measures, their deltas, and the order a reader wants them in.

use std::collections::BTreeMap;

use crate::ProfileRow;

/// A column's measures, in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// Rows of the table in the district (the column is empty).
    Rows,
    /// Null cells.
    Nulls,
    /// Empty strings (text columns).
    Empty,
    /// Distinct non-null values: exact up to [`crate::EXACT_DISTINCT_UP_TO`], else `~N`.
    Distinct,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Sum (numbers).
    Sum,
    /// Mean (numbers).
    Mean,
    /// The most frequent values of a low-cardinality column, `value=count` joined by `;`.
    Top,
}

impl Measure {
    /// Every measure, in order.
    pub const ALL: [Measure; 9] = [
        Measure::Rows,
        Measure::Nulls,
        Measure::Empty,
        Measure::Distinct,
        Measure::Min,
        Measure::Max,
        Measure::Sum,
        Measure::Mean,
        Measure::Top,
    ];

    /// The name in the `measure` column.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Rows => "rows",
            Measure::Nulls => "nulls",
            Measure::Empty => "empty",
            Measure::Distinct => "distinct",
            Measure::Min => "min",
            Measure::Max => "max",
            Measure::Sum => "sum",
            Measure::Mean => "mean",
            Measure::Top => "top",
        }
    }

    /// The measure named `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// A value as profiles and hints write it: null as `(null)`, the empty string as `(empty)`.
pub(crate) fn value_label(value: Option<String>) -> String {
    match value {
        None => "(null)".to_owned(),
        Some(v) if v.is_empty() => "(empty)".to_owned(),
        Some(v) => v,
    }
}

/// The `top` measure of (count, label) pairs: the [`crate::TOP_VALUES`] most frequent,
/// `label=count` joined by `;`, most frequent first, then by label.
pub(crate) fn top_text(mut values: Vec<(u64, String)>) -> String {
    values.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let listed: Vec<String> = values
        .iter()
        .take(crate::TOP_VALUES)
        .map(|(n, v)| format!("{v}={n}"))
        .collect();
    listed.join(";")
}

/// A number as the profile writes it: integers without a point, others with at most 6
/// decimals and no trailing zeros.
pub(crate) fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let text = format!("{x:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// `~123` (an estimate) as 123 and whether it was one.
fn estimate(text: &str) -> (&str, bool) {
    match text.strip_prefix('~') {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

/// Beta minus legacy: signed numbers (`+3`, `-0.25`, `0`; `~+3` when a side is an estimate),
/// `changed` for other values that differ, `None` when they are equal text or a side is
/// missing.
pub(crate) fn delta(legacy: Option<&str>, beta: Option<&str>) -> Option<String> {
    let (legacy, beta) = (legacy?, beta?);
    let ((l, l_estimated), (b, b_estimated)) = (estimate(legacy), estimate(beta));
    match (l.parse::<f64>(), b.parse::<f64>()) {
        (Ok(l), Ok(b)) if l.is_finite() && b.is_finite() => {
            let d = b - l;
            let sign = if d > 0.0 { "+" } else { "" };
            let approx = if l_estimated || b_estimated { "~" } else { "" };
            Some(format!("{approx}{sign}{}", number_text(d)))
        }
        _ => (legacy != beta).then(|| "changed".to_owned()),
    }
}

/// How large a line's delta is against its values, 0 to 1 (and more for numbers that grew
/// more than twofold): `|beta - legacy| / max(|legacy|, |beta|, 1)` for numbers, 1 for other
/// values that differ and for a value on one side only, 0 when equal.
#[must_use]
pub fn relative_delta(row: &ProfileRow) -> f64 {
    match (row.legacy.as_deref(), row.beta.as_deref()) {
        (None, None) => 0.0,
        (Some(l), Some(b)) => {
            let ((l, _), (b, _)) = (estimate(l), estimate(b));
            match (l.parse::<f64>(), b.parse::<f64>()) {
                (Ok(l), Ok(b)) if l.is_finite() && b.is_finite() => {
                    (b - l).abs() / l.abs().max(b.abs()).max(1.0)
                }
                _ => f64::from(u8::from(l != b)),
            }
        }
        _ => 1.0,
    }
}

/// `rows` in reading order: each (table, district, column)'s lines together, the columns with
/// the largest relative delta (of any of their measures) first, then by table, district and
/// column; within a column, its measures in [`Measure::ALL`] order.
#[must_use]
pub fn ranked(mut rows: Vec<ProfileRow>) -> Vec<ProfileRow> {
    let mut largest: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    for row in &rows {
        let entry = largest
            .entry((
                row.table.clone(),
                row.district_id.clone(),
                row.column.clone(),
            ))
            .or_insert(0.0);
        *entry = entry.max(relative_delta(row));
    }
    let order = |row: &ProfileRow| Measure::parse(&row.measure).map_or(usize::MAX, |m| m as usize);
    rows.sort_by(|a, b| {
        let key = |r: &ProfileRow| (r.table.clone(), r.district_id.clone(), r.column.clone());
        let (da, db) = (largest[&key(a)], largest[&key(b)]);
        db.total_cmp(&da)
            .then_with(|| key(a).cmp(&key(b)))
            .then_with(|| order(a).cmp(&order(b)))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_signed_numbers_or_changed() {
        assert_eq!(delta(Some("10"), Some("13")).as_deref(), Some("+3"));
        assert_eq!(delta(Some("10"), Some("7")).as_deref(), Some("-3"));
        assert_eq!(delta(Some("1.5"), Some("1.25")).as_deref(), Some("-0.25"));
        assert_eq!(delta(Some("4"), Some("4")).as_deref(), Some("0"));
        assert_eq!(
            delta(Some("~12000"), Some("12010")).as_deref(),
            Some("~+10")
        );
        assert_eq!(
            delta(Some("2026-09-01"), Some("2026-09-02")).as_deref(),
            Some("changed")
        );
        assert_eq!(delta(Some("Lee"), Some("Lee")), None);
        assert_eq!(delta(None, Some("3")), None);
        assert_eq!(number_text(2.0 / 3.0), "0.666667");
        assert_eq!(number_text(-1e-9), "0");
    }

    #[test]
    fn the_largest_relative_delta_comes_first() {
        let row = |column: &str, measure: &str, l: &str, b: &str| ProfileRow {
            table: "t".into(),
            district_id: "1".into(),
            column: column.into(),
            measure: measure.into(),
            legacy: Some(l.into()),
            beta: Some(b.into()),
            delta: delta(Some(l), Some(b)),
        };
        let rows = ranked(vec![
            row("a", "nulls", "0", "0"),
            row("b", "nulls", "10", "11"),
            row("b", "rows", "100", "100"),
            row("c", "min", "x", "y"),
            row("a", "distinct", "5", "5"),
        ]);
        let order: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.column.as_str(), r.measure.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("c", "min"),
                ("b", "rows"),
                ("b", "nulls"),
                ("a", "nulls"),
                ("a", "distinct")
            ]
        );
    }
}

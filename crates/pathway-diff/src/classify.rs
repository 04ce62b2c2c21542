//! What kind of difference a changed cell is.
//!
//! A mismatch count does not say what to fix; a category does. Each changed cell (a compared
//! column of a `changed` row) gets one category from its two values as text, tried in this order:
//!
//! | category | legacy → beta, for example | rule |
//! |---|---|---|
//! | `null_vs_empty` | null → `''` | one side null, the other the empty string |
//! | `null_vs_value` | null → `'x'` | one side null |
//! | `whitespace` | `'Ann'` → `'Ann '` | equal after trimming and collapsing runs of white space |
//! | `case` | `'SMITH'` → `'Smith'` | equal ignoring case (and white space) |
//! | `type_format` | `'07'` → `'7'`, `'2024-01-05'` → `'01/05/2024'` | both parse as the same number, or as the same date |
//! | `numeric_rounding` | `3.14` → `3.15`, `3.1` → `3.14` | both numbers, equal when rounded to the fewer decimals, or at most one unit apart in the last decimal of the more precise |
//! | `date_shift` | `2024-01-05` → `2024-01-06` | both dates (or date-times), different days; the shift in days is kept |
//! | `value_remap` | `'W'` → `'C'` everywhere | decided across cells (see the engine): an `other` legacy value that always becomes the same beta value, at least twice |
//! | `other` | anything else | |

use chrono::{NaiveDate, NaiveDateTime};

/// Category names, in the order of the table above: the audit's vocabulary (an `[[accepted]]`
/// entry names one), defined once in `pathway-audit`, the layer below the engine.
pub use pathway_audit::CATEGORIES;

/// The category of one changed cell, from its two values as text (`value_remap` is decided
/// later, across cells).
#[must_use]
#[allow(
    clippy::float_cmp,
    reason = "two texts that parse to the very same number differ only in format"
)]
pub fn classify(legacy: Option<&str>, beta: Option<&str>) -> &'static str {
    let (l, b) = match (legacy, beta) {
        (None, Some("")) | (Some(""), None) => return "null_vs_empty",
        (None, _) | (_, None) => return "null_vs_value",
        (Some(l), Some(b)) => (l, b),
    };
    let (lw, bw) = (collapse_whitespace(l), collapse_whitespace(b));
    if lw == bw {
        return "whitespace";
    }
    if lw.to_lowercase() == bw.to_lowercase() {
        return "case";
    }
    if let (Some(ln), Some(bn)) = (number(l), number(b)) {
        if ln == bn {
            return "type_format";
        }
        if rounding(l.trim(), ln, b.trim(), bn) {
            return "numeric_rounding";
        }
        return "other";
    }
    if let (Some(ld), Some(bd)) = (date(l), date(b)) {
        return if ld == bd {
            "type_format"
        } else {
            "date_shift"
        };
    }
    "other"
}

/// Days from the legacy date to the beta date, when both values are dates or date-times.
#[must_use]
pub fn date_shift_days(legacy: Option<&str>, beta: Option<&str>) -> Option<i64> {
    let (l, b) = (date(legacy?)?, date(beta?)?);
    Some((b.date() - l.date()).num_days())
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn number(text: &str) -> Option<f64> {
    let t = text.trim();
    let plain = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !plain {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn decimals(text: &str) -> i32 {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    mantissa
        .split_once('.')
        .map_or(0, |(_, frac)| i32::try_from(frac.len()).unwrap_or(i32::MAX))
}

#[allow(
    clippy::float_cmp,
    reason = "both sides rounded to the same decimals are compared exactly, as a person would"
)]
fn rounding(l: &str, ln: f64, b: &str, bn: f64) -> bool {
    let (dl, db) = (decimals(l), decimals(b));
    let fewer = dl.min(db);
    let scale = 10f64.powi(fewer);
    if (ln * scale).round() == (bn * scale).round() {
        return true;
    }
    let unit = 10f64.powi(-dl.max(db));
    (ln - bn).abs() <= unit * (1.0 + 1e-9)
}

const DATE_FORMATS: [&str; 3] = ["%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"];
const DATETIME_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
];

fn date(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    for format in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(t, format) {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    DATETIME_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_example_of_each_category() {
        let cases: [(Option<&str>, Option<&str>, &str); 16] = [
            (None, Some(""), "null_vs_empty"),
            (Some(""), None, "null_vs_empty"),
            (None, Some("x"), "null_vs_value"),
            (Some("Ann"), Some("Ann "), "whitespace"),
            (Some("New  York"), Some("New York"), "whitespace"),
            (Some("SMITH"), Some("Smith"), "case"),
            (Some("07"), Some("7"), "type_format"),
            (Some("1.50"), Some("1.5"), "type_format"),
            (Some("2024-01-05"), Some("01/05/2024"), "type_format"),
            (Some("3.14"), Some("3.15"), "numeric_rounding"),
            (Some("3.1"), Some("3.14"), "numeric_rounding"),
            (
                Some("0.9345"),
                Some("0.9345000000000001"),
                "numeric_rounding",
            ),
            (Some("2024-01-05"), Some("2024-01-06"), "date_shift"),
            (
                Some("2024-01-05 10:00:00.5"),
                Some("2024-01-04 10:00:00"),
                "date_shift",
            ),
            (Some("3.14"), Some("3.54"), "other"),
            (Some("KG"), Some("00"), "other"),
        ];
        for (l, b, expected) in cases {
            assert_eq!(classify(l, b), expected, "{l:?} -> {b:?}");
            assert!(CATEGORIES.contains(&expected), "{expected} is a category");
        }
        // Every category but `value_remap` (decided across cells) is one classify() returns.
        let returned: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.2).collect();
        let named: std::collections::BTreeSet<&str> = CATEGORIES
            .iter()
            .copied()
            .filter(|c| *c != "value_remap")
            .collect();
        assert_eq!(returned, named);
    }

    #[test]
    fn date_shift_is_counted_in_days() {
        assert_eq!(
            date_shift_days(Some("2024-01-05"), Some("2024-01-06")),
            Some(1)
        );
        assert_eq!(
            date_shift_days(Some("01/05/2024"), Some("2023-12-31")),
            Some(-5)
        );
        assert_eq!(date_shift_days(Some("x"), Some("2023-12-31")), None);
    }
}

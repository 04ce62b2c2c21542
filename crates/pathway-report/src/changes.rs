//! Night over night: what became of each (table, district) verdict and each discrepancy pattern
//! between an earlier night and a later one of the same audit.
//!
//! This is the one definition of `fixed`, `regressed`, `no_input`, `input_back`, `changed`,
//! `new` and `gone` (districts) and of `new`, `resolved` and `changed` (patterns). `pathway
//! compare`, `pathway run --fail-on regression` and the HTML report's "Since" section all call
//! it, so a district is never `fixed` on the dashboard and `new` in `compare`.

use pathway_diff::Status;

use crate::rows::SummaryRow;

/// What became of one (table, district) verdict between two nights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DistrictChange {
    /// Not in the earlier night (a new district or table): neither fixed nor regressed, since
    /// there was no verdict to improve on or to lose.
    New,
    /// In the earlier night, not in the later one.
    Gone,
    /// NO INPUT now and not before: the district sent nothing to compare, which says nothing
    /// about the code, so it is neither fixed nor regressed.
    NoInput,
    /// NO INPUT before and not now: whatever it is now, it is not called regressed (a FULL MATCH
    /// → NO INPUT → MISMATCH district is never a regression over two consecutive nights).
    InputBack,
    /// Now FULL MATCH, and not before.
    Fixed,
    /// FULL MATCH before, not any more (ERROR included).
    Regressed,
    /// Another status, or the same status with other counts.
    Changed,
}

impl DistrictChange {
    /// The word `pathway compare` prints (`fixed`, `no_input`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DistrictChange::New => "new",
            DistrictChange::Gone => "gone",
            DistrictChange::NoInput => "no_input",
            DistrictChange::InputBack => "input_back",
            DistrictChange::Fixed => "fixed",
            DistrictChange::Regressed => "regressed",
            DistrictChange::Changed => "changed",
        }
    }

    /// The same word for people (the HTML report): `no input`, `input back`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            DistrictChange::NoInput => "no input",
            DistrictChange::InputBack => "input back",
            other => other.as_str(),
        }
    }
}

/// What became of a verdict judged by its status alone: `None` when the status is the same (or
/// the district is in neither night).
#[must_use]
pub fn verdict_change(before: Option<Status>, after: Option<Status>) -> Option<DistrictChange> {
    let (full, none) = (Status::FullMatch, Status::NoInput);
    let (before, after) = match (before, after) {
        (None, None) => return None,
        (None, Some(_)) => return Some(DistrictChange::New),
        (Some(_), None) => return Some(DistrictChange::Gone),
        (Some(before), Some(after)) => (before, after),
    };
    // The order matters: NO INPUT on either night wins over fixed and regressed.
    Some(if after == none && before != none {
        DistrictChange::NoInput
    } else if before == none && after != none {
        DistrictChange::InputBack
    } else if before != full && after == full {
        DistrictChange::Fixed
    } else if before == full && after != full {
        DistrictChange::Regressed
    } else if before == after {
        return None;
    } else {
        DistrictChange::Changed
    })
}

/// What became of a (table, district) row: [`verdict_change`], and `changed` when the status is
/// the same but a count differs. `None`: unchanged.
#[must_use]
pub fn district_change(
    before: Option<&SummaryRow>,
    after: Option<&SummaryRow>,
) -> Option<DistrictChange> {
    fn status(row: Option<&SummaryRow>) -> Option<Status> {
        row.map(|r| r.status)
    }
    if let Some(change) = verdict_change(status(before), status(after)) {
        return Some(change);
    }
    let (Some(b), Some(a)) = (before, after) else {
        return None;
    };
    // `matched_rows` follows from the others; the changed columns from the column diff.
    let counts = |r: &SummaryRow| {
        (
            r.legacy_rows,
            r.beta_rows,
            r.changed_rows,
            r.missing_in_beta,
            r.extra_in_beta,
            r.legacy_dup_keys,
            r.beta_dup_keys,
        )
    };
    (counts(b) != counts(a)).then_some(DistrictChange::Changed)
}

/// One (table, district) whose verdict or counts changed between two nights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictChangeRow {
    /// Output table.
    pub table: String,
    /// District id.
    pub district_id: String,
    /// What became of it.
    pub change: DistrictChange,
    /// Its row in the earlier night (`None` when new).
    pub before: Option<SummaryRow>,
    /// Its row in the later night (`None` when gone).
    pub after: Option<SummaryRow>,
}

impl DistrictChangeRow {
    /// The earlier status, `(absent)` when the district is new.
    #[must_use]
    pub fn before_status(&self) -> &str {
        self.before
            .as_ref()
            .map_or("(absent)", |r| r.status.as_str())
    }

    /// The later status, `(absent)` when the district is gone.
    #[must_use]
    pub fn after_status(&self) -> &str {
        self.after
            .as_ref()
            .map_or("(absent)", |r| r.status.as_str())
    }

    /// Whether the status itself changed (not only the counts).
    #[must_use]
    pub fn verdict_changed(&self) -> bool {
        self.before_status() != self.after_status()
    }

    /// `after - before` of one count (a missing row counts 0).
    #[must_use]
    pub fn delta(&self, count: impl Fn(&SummaryRow) -> u64) -> i128 {
        let of = |row: &Option<SummaryRow>| row.as_ref().map_or(0, |r| i128::from(count(r)));
        of(&self.after) - of(&self.before)
    }
}

/// Every (table, district) of either night whose verdict or counts changed, by table then
/// district.
#[must_use]
pub fn district_changes(before: &[SummaryRow], after: &[SummaryRow]) -> Vec<DistrictChangeRow> {
    let key = |r: &SummaryRow| (r.table.clone(), r.district_id.clone());
    let mut keys: Vec<(String, String)> = before.iter().chain(after).map(key).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|(table, district_id)| {
            let find = |rows: &[SummaryRow]| {
                rows.iter()
                    .find(|r| r.table == table && r.district_id == district_id)
                    .cloned()
            };
            let (b, a) = (find(before), find(after));
            district_change(b.as_ref(), a.as_ref()).map(|change| DistrictChangeRow {
                table,
                district_id,
                change,
                before: b,
                after: a,
            })
        })
        .collect()
}

/// What became of a discrepancy pattern (table, column, category and its values) between two
/// nights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PatternChange {
    /// Not seen in the earlier night.
    New,
    /// Seen in the earlier night, not in the later one.
    Resolved,
    /// Seen in both, in a different number of districts or cells.
    Changed,
}

impl PatternChange {
    /// The word `pathway compare` prints.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PatternChange::New => "new",
            PatternChange::Resolved => "resolved",
            PatternChange::Changed => "changed",
        }
    }
}

/// What became of a pattern seen in `(districts, cells)` before and after (`None`: not seen that
/// night). `None`: the same, or seen in neither night.
#[must_use]
pub fn pattern_change(
    before: Option<(u64, u64)>,
    after: Option<(u64, u64)>,
) -> Option<PatternChange> {
    match (before, after) {
        (None, None) => None,
        (None, Some(_)) => Some(PatternChange::New),
        (Some(_), None) => Some(PatternChange::Resolved),
        (Some(b), Some(a)) => (b != a).then_some(PatternChange::Changed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, changed: u64) -> SummaryRow {
        SummaryRow {
            table: "students".into(),
            district_id: "101".into(),
            status: Status::parse(status).expect("a status"),
            changed_rows: changed,
            ..SummaryRow::default()
        }
    }

    #[test]
    fn every_transition_has_one_name() {
        let change = |b: Option<Status>, a: Option<Status>| {
            verdict_change(b, a).map(super::DistrictChange::as_str)
        };
        let (full, mismatch, none, error, accepted) = (
            Some(Status::FullMatch),
            Some(Status::Mismatch),
            Some(Status::NoInput),
            Some(Status::Error),
            Some(Status::Accepted),
        );
        assert_eq!(change(None, full), Some("new"));
        assert_eq!(change(None, mismatch), Some("new"));
        assert_eq!(change(full, None), Some("gone"));
        assert_eq!(change(mismatch, full), Some("fixed"));
        assert_eq!(change(accepted, full), Some("fixed"));
        assert_eq!(change(full, mismatch), Some("regressed"));
        assert_eq!(change(full, error), Some("regressed"));
        assert_eq!(change(full, none), Some("no_input"));
        assert_eq!(change(none, mismatch), Some("input_back"));
        assert_eq!(change(none, full), Some("input_back"));
        assert_eq!(change(mismatch, error), Some("changed"));
        assert_eq!(change(mismatch, mismatch), None);
        assert_eq!(change(none, none), None);
        assert_eq!(change(None, None), None);
        assert_eq!(DistrictChange::NoInput.label(), "no input");
        assert_eq!(DistrictChange::Regressed.label(), "regressed");
    }

    #[test]
    fn the_same_status_with_other_counts_is_changed() {
        let (b, a) = (row("MISMATCH", 4), row("MISMATCH", 2));
        assert_eq!(
            district_change(Some(&b), Some(&a)),
            Some(DistrictChange::Changed)
        );
        assert_eq!(district_change(Some(&b), Some(&b)), None);
        let rows = district_changes(std::slice::from_ref(&b), &[a]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].delta(|r| r.changed_rows), -2);
        assert!(!rows[0].verdict_changed());
        let gone = district_changes(&[b], &[]);
        assert_eq!(
            (gone[0].change, gone[0].after_status()),
            (DistrictChange::Gone, "(absent)")
        );
    }

    #[test]
    fn patterns_are_new_resolved_or_changed() {
        assert_eq!(pattern_change(None, Some((1, 2))), Some(PatternChange::New));
        assert_eq!(
            pattern_change(Some((1, 2)), None),
            Some(PatternChange::Resolved)
        );
        assert_eq!(
            pattern_change(Some((1, 2)), Some((1, 3))),
            Some(PatternChange::Changed)
        );
        assert_eq!(pattern_change(Some((1, 2)), Some((1, 2))), None);
    }
}

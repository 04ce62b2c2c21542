//! Accepted differences (`[[accepted]]` in audit.toml): cells they cover are counted apart, and
//! a district whose only differences are accepted becomes ACCEPTED.

use pathway_audit::Accepted;
use pathway_diff::{CategoryCount, GroupDiff, Status, TableDiff};
use pathway_report::{CategoryRow, SummaryRow};

/// Whether `entry` covers the changed cells counted in `cells`.
fn covers(entry: &Accepted, cells: &CategoryCount) -> bool {
    entry.column == cells.column
        && entry.category.as_ref().is_none_or(|c| *c == cells.category)
        && entry
            .legacy_value
            .as_ref()
            .is_none_or(|v| Some(v) == cells.legacy_value.as_ref())
        && entry
            .beta_value
            .as_ref()
            .is_none_or(|v| Some(v) == cells.beta_value.as_ref())
        && (entry.districts.is_empty() || entry.districts.contains(&cells.group))
}

/// Apply the audit's accepted differences to one table's rows. `categories` are the rows built
/// from `diff.categories`, in the same order. Returns a warning per entry that expired before
/// `audit_date` (expired entries no longer apply).
pub fn apply(
    accepted: &[Accepted],
    audit_date: &crate::NightDate,
    diff: &TableDiff,
    summary: &mut [SummaryRow],
    categories: &mut [CategoryRow],
) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut active = Vec::new();
    for entry in accepted.iter().filter(|e| e.table == diff.table) {
        match &entry.expires {
            // The audit checked that `expires` is a date.
            Some(expires)
                if crate::NightDate::parse(expires).is_ok_and(|expires| expires < *audit_date) =>
            {
                warnings.push(format!(
                    "accepted difference {}.{} expired on {expires} and no longer applies ({})",
                    entry.table, entry.column, entry.reason
                ));
            }
            _ => active.push(entry),
        }
    }
    for (cells, row) in diff.categories.iter().zip(categories.iter_mut()) {
        if let Some(entry) = active.iter().find(|e| covers(e, cells)) {
            row.accepted.clone_from(&entry.reason);
        }
    }
    for row in summary.iter_mut() {
        let rows: Vec<&CategoryRow> = categories
            .iter()
            .filter(|c| c.district_id == row.district_id)
            .collect();
        row.accepted_cells = rows
            .iter()
            .filter(|c| !c.accepted.is_empty())
            .map(|c| c.cells)
            .sum();
        if row.match_pct.is_some() {
            // The accepted cells leave the score's counts (docs/cli.md, "Match score").
            let empty = GroupDiff::empty(row.district_id.clone());
            let group = diff
                .groups
                .iter()
                .find(|g| g.group == row.district_id)
                .unwrap_or(&empty);
            row.match_pct = Some(
                group
                    .cells(diff.compared_columns.len(), &diff.schema)
                    .score(row.accepted_cells),
            );
        }
        let only_changes = row.status == Status::Mismatch
            && row.missing_in_beta == 0
            && row.extra_in_beta == 0
            && row.legacy_dup_keys == 0
            && row.beta_dup_keys == 0
            && diff.schema.legacy_only.is_empty()
            && diff.schema.beta_only.is_empty();
        if only_changes && !rows.is_empty() && rows.iter().all(|c| !c.accepted.is_empty()) {
            row.status = Status::Accepted;
        }
    }
    warnings
}

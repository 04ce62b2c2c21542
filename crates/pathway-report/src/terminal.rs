//! Tables for the terminal (comfy-table), plain text so they read the same without colour.

use std::collections::BTreeMap;

use comfy_table::{Cell, CellAlignment, Table, presets};
use pathway_diff::{MatchScore, Status};

use crate::history::HistoryCount;
use crate::rows::SummaryRow;

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    // Fit the terminal's width when there is one; pipes and files get full lines.
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    table
}

fn right(n: u64) -> Cell {
    Cell::new(n).set_alignment(CellAlignment::Right)
}

/// `99.87%`, or empty for no score.
fn score_cell(score: Option<MatchScore>) -> Cell {
    Cell::new(score.map(|s| format!("{s}%")).unwrap_or_default())
        .set_alignment(CellAlignment::Right)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// Districts per status, one line per table, and the mean match score of its districts.
#[must_use]
pub fn status_table(rows: &[SummaryRow]) -> Table {
    let mut header = vec!["table", "districts"];
    header.extend(Status::ALL.iter().map(|s| s.as_str()));
    header.push("match");
    let mut table = new_table(&header);
    let mut per_table: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for row in rows {
        *per_table
            .entry(&row.table)
            .or_default()
            .entry(row.status.as_str())
            .or_default() += 1;
    }
    for (name, counts) in per_table {
        let mut cells = vec![Cell::new(name), right(counts.values().sum())];
        cells.extend(
            Status::ALL
                .iter()
                .map(|s| right(counts.get(s.as_str()).copied().unwrap_or(0))),
        );
        cells.push(score_cell(MatchScore::mean(
            rows.iter()
                .filter(|r| r.table == name)
                .filter_map(|r| r.match_pct),
        )));
        table.add_row(cells);
    }
    table
}

/// The districts that are not FULL MATCH, with their counts.
#[must_use]
pub fn mismatch_table(rows: &[SummaryRow]) -> Table {
    let mut table = new_table(&[
        "table",
        "district",
        "status",
        "match",
        "legacy",
        "beta",
        "matched",
        "changed",
        "missing",
        "extra",
        "dup keys L/B",
        "changed columns / error",
    ]);
    for row in rows.iter().filter(|r| r.status != Status::FullMatch) {
        let detail = if row.error.is_empty() {
            row.changed_columns.replace(';', ", ")
        } else {
            row.error.clone()
        };
        table.add_row(vec![
            Cell::new(&row.table),
            Cell::new(&row.district_id),
            Cell::new(row.status.as_str()),
            score_cell(row.match_pct),
            right(row.legacy_rows),
            right(row.beta_rows),
            right(row.matched_rows),
            right(row.changed_rows),
            right(row.missing_in_beta),
            right(row.extra_in_beta),
            Cell::new(format!("{}/{}", row.legacy_dup_keys, row.beta_dup_keys))
                .set_alignment(CellAlignment::Right),
            Cell::new(shorten(detail.lines().next().unwrap_or(""), 60)),
        ]);
    }
    table
}

/// "N values equal only after RULES" lines, one per table, column and rules, largest first, so a
/// report can say how much each rule hides.
#[must_use]
pub fn rule_hidden_lines(rows: &[crate::rows::RuleHiddenRow]) -> Vec<String> {
    let mut totals: BTreeMap<(&str, &str, &str), (u64, u64, u64)> = BTreeMap::new();
    for row in rows {
        let entry = totals
            .entry((&row.table, &row.column, &row.rules))
            .or_default();
        entry.0 += row.cells;
        entry.1 += 1;
        entry.2 += row.expected_cells;
    }
    let mut totals: Vec<_> = totals.into_iter().collect();
    totals.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    totals
        .into_iter()
        .map(|((table, column, rules), (cells, districts, expected))| {
            let declared = if expected > 0 {
                format!(", {expected} of them declared pairs")
            } else {
                String::new()
            };
            format!(
                "{cells} value(s) of {table}.{column} equal only after {rules}{declared} \
                 ({districts} district(s))"
            )
        })
        .collect()
}

/// FULL MATCH progress per night and table.
#[must_use]
pub fn history_table(counts: &[HistoryCount]) -> Table {
    let mut table = new_table(&[
        "date",
        "audit",
        "table",
        "districts",
        "FULL MATCH",
        "MISMATCH",
        "LEGACY ONLY",
        "BETA ONLY",
        "ERROR",
        "ACCEPTED",
        "NO INPUT",
        "match",
    ]);
    for c in counts {
        table.add_row(vec![
            Cell::new(&c.audit_date),
            Cell::new(&c.audit),
            Cell::new(&c.table),
            right(c.districts),
            right(c.full_match),
            right(c.mismatch),
            right(c.legacy_only),
            right(c.beta_only),
            right(c.error),
            right(c.accepted),
            right(c.no_input),
            score_cell(c.match_pct),
        ]);
    }
    table
}

//! The rows of summary.csv / history.csv and `column_diff.csv`, built from a table's diff.

use std::collections::BTreeMap;

use pathway_diff::{GroupDiff, MatchScore, Status, TableDiff};
use serde::{Deserialize, Serialize};

use pathway_mask::Masker;

/// One (table, district) verdict: a line of summary.csv and of history.csv.
/// Field order is the CSV header; the first 13 fields are a fixed contract.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Date of the night audited (`YYYY-MM-DD`).
    pub audit_date: String,
    /// Output table.
    pub table: String,
    /// District id.
    pub district_id: String,
    /// The verdict; in CSV and JSON `FULL MATCH`, `MISMATCH`, `LEGACY ONLY`, `BETA ONLY`,
    /// `ERROR`, `ACCEPTED` or `NO INPUT`.
    pub status: Status,
    /// Rows on the legacy side.
    pub legacy_rows: u64,
    /// Rows on the beta side.
    pub beta_rows: u64,
    /// Rows equal on both sides (key once per side).
    pub matched_rows: u64,
    /// Rows differing in at least one compared column.
    pub changed_rows: u64,
    /// Legacy rows whose key beta lacks.
    pub missing_in_beta: u64,
    /// Beta rows whose key legacy lacks.
    pub extra_in_beta: u64,
    /// Keys duplicated on the legacy side.
    pub legacy_dup_keys: u64,
    /// Keys duplicated on the beta side.
    pub beta_dup_keys: u64,
    /// Columns with at least one mismatch, `;`-separated, sorted.
    pub changed_columns: String,
    /// Audit name (history.csv may hold several audits).
    pub audit: String,
    /// Why the district failed (`ERROR` rows) or was not compared (`NO INPUT` rows).
    pub error: String,
    /// Changed cells covered by an accepted difference (audit.toml `[[accepted]]`).
    #[serde(default)]
    pub accepted_cells: u64,
    /// Carried over from the previous run because the district's input and the audit were
    /// unchanged (or `--only mismatched` left it out).
    #[serde(default)]
    pub reused: bool,
    /// The row diff holds fewer of this district's rows than differ (the table's
    /// `max_row_diff`); its counts are exact, its examples and categories those of the rows kept.
    #[serde(default)]
    pub row_diff_capped: bool,
    /// Rows paired without a key (`pair_unmatched`): pairs counted as matched or changed
    /// instead of missing and extra.
    #[serde(default)]
    pub paired_rows: u64,
    /// The share of compared cells that are equal (docs/cli.md, "Match score"); none for ERROR
    /// and NO INPUT rows, and for rows written before pathway had scores.
    #[serde(default)]
    pub match_pct: Option<MatchScore>,
}

/// One column's mismatches in one district: a line of `column_diff.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDiffRow {
    /// Date of the night audited.
    pub audit_date: String,
    /// Output table.
    pub table: String,
    /// District id.
    pub district_id: String,
    /// Column name.
    pub column: String,
    /// Matched rows differing in this column.
    pub mismatches: u64,
    /// Legacy value of the first differing row by key (masked when personal; empty for null).
    pub legacy_example: Option<String>,
    /// Beta value of that row.
    pub beta_example: Option<String>,
    /// The mismatches by category, most frequent first: `type_format=3;case=1`.
    pub categories: String,
    /// Cells whose values are a pair the audit declares expected (`expected` on the column):
    /// equal for the verdict, and not among the mismatches. A column with such cells and no
    /// mismatch has a line with 0 mismatches.
    #[serde(default)]
    pub expected_cells: u64,
}

/// Changed cells of one kind in one table, district and column: a line of categories.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRow {
    /// Date of the night audited.
    pub audit_date: String,
    /// Output table.
    pub table: String,
    /// District id.
    pub district_id: String,
    /// Column name.
    pub column: String,
    /// Category (`whitespace`, `case`, `null_vs_empty`, `null_vs_value`, `numeric_rounding`,
    /// `date_shift`, `type_format`, `value_remap`, `other`).
    pub category: String,
    /// Changed cells of this kind.
    pub cells: u64,
    /// For `value_remap`: the legacy value (masked when personal).
    pub legacy_value: Option<String>,
    /// For `value_remap`: the beta value it becomes (masked when personal).
    pub beta_value: Option<String>,
    /// For `date_shift`: beta minus legacy in days.
    pub shift_days: Option<i64>,
    /// Key of the first such row, values joined by `|` (masked when a key column is personal).
    pub example_key: String,
    /// The reason of the accepted difference covering these cells, if one does.
    #[serde(default)]
    pub accepted: String,
}

/// Values equal only under a comparison rule, in one table, district and column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHiddenRow {
    /// Date of the night audited.
    pub audit_date: String,
    /// Output table.
    pub table: String,
    /// District id.
    pub district_id: String,
    /// Column name.
    pub column: String,
    /// The rules that made the values equal (`trim+ignore_case`).
    pub rules: String,
    /// How many cells.
    pub cells: u64,
    /// Of those, the cells whose values are a declared pair (`expected`).
    #[serde(default)]
    pub expected_cells: u64,
}

/// One row per district and column where a comparison rule hid differences.
#[must_use]
pub fn rule_hidden_rows(audit_date: &str, diff: &TableDiff) -> Vec<RuleHiddenRow> {
    diff.groups
        .iter()
        .flat_map(|g| {
            g.hidden.iter().map(|h| RuleHiddenRow {
                audit_date: audit_date.to_owned(),
                table: diff.table.clone(),
                district_id: g.group.clone(),
                column: h.column.clone(),
                rules: h.rules.clone(),
                cells: h.cells,
                expected_cells: h.expected_cells,
            })
        })
        .collect()
}

/// categories.csv rows for one table.
#[must_use]
pub fn category_rows(
    audit_date: &str,
    diff: &TableDiff,
    pii: &[String],
    masker: &Masker,
) -> Vec<CategoryRow> {
    let key_is_personal = diff.key.iter().any(|k| pii.contains(k));
    diff.categories
        .iter()
        .map(|c| CategoryRow {
            audit_date: audit_date.to_owned(),
            table: diff.table.clone(),
            district_id: c.group.clone(),
            column: c.column.clone(),
            category: c.category.clone(),
            cells: c.cells,
            legacy_value: masker.mask(&c.column, c.legacy_value.as_deref(), pii),
            beta_value: masker.mask(&c.column, c.beta_value.as_deref(), pii),
            shift_days: c.shift_days,
            example_key: if key_is_personal {
                masker.mask_value(&c.example_key)
            } else {
                c.example_key.clone()
            },
            accepted: String::new(),
        })
        .collect()
}

/// `type_format=3;case=1` for one district and column: most cells first, then by name.
fn category_breakdown(diff: &TableDiff, district: &str, column: &str) -> String {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for c in diff
        .categories
        .iter()
        .filter(|c| c.group == district && c.column == column)
    {
        *counts.entry(c.category.as_str()).or_default() += c.cells;
    }
    let mut counts: Vec<(&str, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
        .iter()
        .map(|(name, n)| format!("{name}={n}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// Summary and column-diff rows for one table, one per district in `districts` (plus any group
/// the diff found that is not listed), in district order. `not_diffed` maps a district that was
/// not diffed for this table to its status (ERROR or NO INPUT) and why; `pii` lists the columns
/// whose examples `masker` masks.
#[must_use]
pub fn rows_for_table(
    audit: &str,
    audit_date: &str,
    diff: &TableDiff,
    districts: &[String],
    not_diffed: &BTreeMap<String, (Status, String)>,
    pii: &[String],
    masker: &Masker,
) -> (Vec<SummaryRow>, Vec<ColumnDiffRow>) {
    let mut by_group: BTreeMap<&str, &GroupDiff> =
        diff.groups.iter().map(|g| (g.group.as_str(), g)).collect();
    let mut names: Vec<String> = districts.to_vec();
    names.extend(
        by_group
            .keys()
            .map(|g| (*g).to_owned())
            .filter(|g| !districts.contains(g)),
    );
    names.sort();
    names.dedup();

    let mut summary = Vec::new();
    let mut columns = Vec::new();
    for district in names {
        let base = SummaryRow {
            audit_date: audit_date.to_owned(),
            table: diff.table.clone(),
            district_id: district.clone(),
            audit: audit.to_owned(),
            ..SummaryRow::default()
        };
        if let Some((status, message)) = not_diffed.get(&district) {
            summary.push(SummaryRow {
                status: *status,
                error: message.clone(),
                ..base
            });
            continue;
        }
        let empty = GroupDiff::empty(district.clone());
        let group = by_group.remove(district.as_str()).unwrap_or(&empty);
        summary.push(SummaryRow {
            status: group.status(&diff.schema),
            legacy_rows: group.legacy_rows,
            beta_rows: group.beta_rows,
            matched_rows: group.matched_rows,
            changed_rows: group.changed_rows,
            missing_in_beta: group.missing_in_beta,
            extra_in_beta: group.extra_in_beta,
            legacy_dup_keys: group.legacy_dup_keys,
            beta_dup_keys: group.beta_dup_keys,
            changed_columns: group.changed_columns(&diff.schema).join(";"),
            row_diff_capped: group.row_diff_capped,
            paired_rows: group.paired_rows,
            match_pct: Some(
                group
                    .cells(diff.compared_columns.len(), &diff.schema)
                    .score(0),
            ),
            ..base
        });
        let column_row = |column: &str,
                          mismatches,
                          legacy: Option<String>,
                          beta: Option<String>| ColumnDiffRow {
            audit_date: audit_date.to_owned(),
            table: diff.table.clone(),
            district_id: district.clone(),
            column: column.to_owned(),
            mismatches,
            legacy_example: legacy,
            beta_example: beta,
            categories: category_breakdown(diff, &district, column),
            expected_cells: group
                .hidden
                .iter()
                .find(|h| h.column == column)
                .map_or(0, |h| h.expected_cells),
        };
        for c in &group.columns {
            columns.push(column_row(
                &c.column,
                c.mismatches,
                masker.mask(&c.column, c.legacy_example.as_deref(), pii),
                masker.mask(&c.column, c.beta_example.as_deref(), pii),
            ));
        }
        // A column whose differences were all declared pairs: a line that says how many.
        for h in &group.hidden {
            if h.expected_cells > 0 && !group.columns.iter().any(|c| c.column == h.column) {
                columns.push(column_row(&h.column, 0, None, None));
            }
        }
        // A column on one side only differs in every row of that side.
        for c in &diff.schema.legacy_only {
            columns.push(column_row(
                c,
                group.legacy_rows,
                Some("(only in legacy)".into()),
                Some("(no such column)".into()),
            ));
        }
        for c in &diff.schema.beta_only {
            columns.push(column_row(
                c,
                group.beta_rows,
                Some("(no such column)".into()),
                Some("(only in beta)".into()),
            ));
        }
    }
    columns.sort_by(|a, b| (&a.district_id, &a.column).cmp(&(&b.district_id, &b.column)));
    (summary, columns)
}

//! The reference diff: `docs/cli.md`'s exact semantics, written as plainly as possible over rows
//! in memory. Quadratic where that is clearer; no hashing tricks, no chunks, no SQL.

use std::collections::{BTreeMap, BTreeSet};

use crate::table::Table;
use crate::value::{
    Cmp, Ty, Value, arrow_text, comparison_form, form_text, same_type, text_as_double,
    text_as_seconds,
};

/// How two values of a column compare, beyond the exact rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    pub trim: bool,
    pub ignore_case: bool,
    pub null_equals_empty: bool,
    pub abs_tolerance: Option<f64>,
    pub rel_tolerance: Option<f64>,
    pub date_tolerance_days: Option<f64>,
}

impl Rules {
    #[must_use]
    pub fn is_exact(&self) -> bool {
        *self == Rules::default()
    }
}

/// What to compare, as `pathway diff`'s options say it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// `--key`; empty for a multiset diff.
    pub key: Vec<String>,
    /// `--by`; `None` makes the whole table one group named `*`.
    pub group: Option<String>,
    /// `--ignore`.
    pub ignore: Vec<String>,
    /// `--rename legacy=beta`.
    pub rename: Vec<(String, String)>,
    /// Rules of every column.
    pub rules: Rules,
    /// `--cast column=type` (`text`, `integer`, `decimal`, `date`, `timestamp`): that column's
    /// values are cast (as Arrow's safe cast does; `decimal` is a double) before the rules
    /// compare them.
    pub cast: Vec<(String, String)>,
    /// `--max-row-diff N`: the row diff keeps, per group, the rows of its first keys (in key
    /// order) while they are at most N, whole keys only; every count stays exact, and a
    /// column's example is the first changed row by key among the rows kept.
    pub max_row_diff: Option<u64>,
    /// `--pair-unmatched`: after the keyed diff, a group's rows left on one side are paired
    /// with those left on the other (see `keyed_group`).
    pub pair_unmatched: bool,
    /// `--max-pair-columns`: pairs differ in at most this many columns (default half).
    pub max_pair_columns: Option<usize>,
    /// Declared recodings per column (an audit's `expected`): a cell whose legacy value is
    /// `.0` and beta value `.1`, each as text as written (before any rule), is equal.
    pub expected: Vec<(String, Vec<(String, String)>)>,
}

/// One summary row (summary.csv without the date, table and audit).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct SummaryRow {
    pub group: String,
    pub status: String,
    pub legacy_rows: u64,
    pub beta_rows: u64,
    pub matched_rows: u64,
    pub changed_rows: u64,
    pub missing_in_beta: u64,
    pub extra_in_beta: u64,
    pub legacy_dup_keys: u64,
    pub beta_dup_keys: u64,
    /// `;`-separated, sorted.
    pub changed_columns: String,
    /// The row diff holds fewer of the group's rows than it found.
    pub row_diff_capped: bool,
    /// Rows paired without a key.
    pub paired_rows: u64,
    /// The match score in hundredths of a percent (docs/cli.md, "Match score").
    pub match_score: u16,
}

/// One `column_diff` row (without date, table and categories).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ColumnRow {
    pub group: String,
    pub column: String,
    pub mismatches: u64,
    pub legacy_example: Option<String>,
    pub beta_example: Option<String>,
}

/// One row of the row diff, every cell as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct DiffRow {
    pub group: String,
    /// Key columns (or, for a multiset diff, the compared columns), in order.
    pub key: Vec<Option<String>>,
    pub diff: String,
    pub side: String,
    pub changed_columns: String,
    pub hidden_columns: String,
    /// `legacy_<c>` and `beta_<c>` of each compared column (empty for a multiset diff).
    pub values: Vec<(Option<String>, Option<String>)>,
    /// `rows`, for a multiset diff.
    pub rows: Option<u64>,
    /// `paired_beta_key`: for a row paired without a key, the beta row's key.
    pub paired_key: Option<String>,
}

/// Everything the differential tests compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub compared_columns: Vec<String>,
    pub legacy_only: Vec<String>,
    pub beta_only: Vec<String>,
    /// Compared columns whose types differ.
    pub type_changes: Vec<String>,
    /// Sorted by group.
    pub summary: Vec<SummaryRow>,
    /// Sorted by group and column.
    pub columns: Vec<ColumnRow>,
    /// Sorted.
    pub row_diff: Vec<DiffRow>,
    /// Cells equal only as a declared pair: (group, column, cells), sorted, none with 0 cells.
    pub expected_cells: Vec<(String, String, u64)>,
}

/// Why the diff cannot run: `pathway diff` exits 2 with this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

struct Column<'a> {
    name: String,
    legacy: Option<(usize, &'a Ty)>,
    beta: Option<(usize, &'a Ty)>,
}

/// The reference diff of `legacy` against `beta`.
///
/// # Errors
/// The option combinations `pathway diff` refuses (exit 2).
pub fn diff(legacy: &Table, beta: &Table, options: &Options) -> Result<Outcome, Refusal> {
    if options.pair_unmatched && options.max_row_diff.is_some() {
        return Err(Refusal("pairing and a cap together".into()));
    }
    let beta = &rename(beta, legacy, options)?;
    let position = |table: &Table, name: &str| table.columns.iter().position(|c| c.0 == name);
    let column = |name: &str| Column {
        name: name.to_owned(),
        legacy: position(legacy, name).map(|i| (i, &legacy.columns[i].1)),
        beta: position(beta, name).map(|i| (i, &beta.columns[i].1)),
    };
    if let Some(g) = &options.group {
        let c = column(g);
        if c.legacy.is_none() || c.beta.is_none() {
            return Err(Refusal(format!("group column `{g}` missing")));
        }
        if options.ignore.contains(g) {
            return Err(Refusal(format!("`{g}` is the group column and ignored")));
        }
    }
    for k in &options.key {
        let c = column(k);
        if c.legacy.is_none() || c.beta.is_none() {
            return Err(Refusal(format!("key column `{k}` missing")));
        }
        if options.ignore.contains(k) {
            return Err(Refusal(format!("key column `{k}` is ignored")));
        }
    }
    for i in &options.ignore {
        if position(legacy, i).is_none() && position(beta, i).is_none() {
            return Err(Refusal(format!("ignored column `{i}` missing")));
        }
    }
    // A key column that is the group column is constant within a group: it adds nothing.
    let key: Vec<Column> = options
        .key
        .iter()
        .filter(|k| Some(*k) != options.group.as_ref())
        .map(|k| column(k))
        .collect();
    let keyed = !options.key.is_empty();
    let skip = |name: &String| {
        options.key.contains(name)
            || options.ignore.contains(name)
            || options.group.as_ref() == Some(name)
    };
    let mut outcome = Outcome::default();
    let mut compared = Vec::new();
    for (name, ty) in &legacy.columns {
        if skip(name) {
            continue;
        }
        let c = column(name);
        match c.beta {
            None => outcome.legacy_only.push(name.clone()),
            Some((_, beta_ty)) => {
                if !same_type(ty, beta_ty) {
                    outcome.type_changes.push(name.clone());
                }
                outcome.compared_columns.push(name.clone());
                compared.push(c);
            }
        }
    }
    for (name, _) in &beta.columns {
        if !skip(name) && position(legacy, name).is_none() {
            outcome.beta_only.push(name.clone());
        }
    }
    // A cast the column's type cannot take on either side is refused.
    for (name, to) in &options.cast {
        let Some(c) = compared.iter().find(|c| &c.name == name) else {
            continue;
        };
        for (_, ty) in [c.legacy.unwrap(), c.beta.unwrap()] {
            if !crate::value::can_cast(ty, to) {
                return Err(Refusal(format!(
                    "`{name}` of type {ty:?} cannot be cast to {to}"
                )));
            }
        }
    }

    // Rows per group, in their comparison forms.
    let group_of = |table: &Table, row: &[Value]| -> String {
        match &options.group {
            None => "*".to_owned(),
            Some(g) => {
                let i = position(table, g).expect("checked above");
                arrow_text(&table.columns[i].1, &row[i]).unwrap_or_default()
            }
        }
    };
    let mut groups: BTreeMap<String, [Vec<&Vec<Value>>; 2]> = BTreeMap::new();
    for row in &legacy.rows {
        groups.entry(group_of(legacy, row)).or_default()[0].push(row);
    }
    for row in &beta.rows {
        groups.entry(group_of(beta, row)).or_default()[1].push(row);
    }
    let one_sided_columns = !outcome.legacy_only.is_empty() || !outcome.beta_only.is_empty();
    for (group, [l_rows, b_rows]) in &groups {
        let found = if keyed {
            keyed_group(group, l_rows, b_rows, &key, &compared, options)
        } else {
            multiset_group(group, l_rows, b_rows, &compared, options)
        };
        let mut found = found;
        let one_sided = (outcome.legacy_only.len() + outcome.beta_only.len()) as u64;
        found.summary.match_score = match_score(&found, compared.len() as u64, one_sided);
        if let Some(limit) = options.max_row_diff {
            cap(&mut found, limit, &outcome.compared_columns);
        }
        let mut summary = found.summary;
        summary.status = status(&summary, found.same_multiset, one_sided_columns);
        let mut changed: BTreeSet<String> =
            found.columns.iter().map(|c| c.column.clone()).collect();
        changed.extend(outcome.legacy_only.iter().cloned());
        changed.extend(outcome.beta_only.iter().cloned());
        summary.changed_columns = changed.into_iter().collect::<Vec<_>>().join(";");
        outcome.summary.push(summary);
        outcome.columns.extend(found.columns);
        outcome.row_diff.extend(found.row_diff);
        outcome.expected_cells.extend(found.expected_cells);
    }
    outcome.columns.sort();
    outcome.row_diff.sort();
    outcome.expected_cells.sort();
    Ok(outcome)
}

/// The group's match score in hundredths of a percent, counted from its rows (before any cap):
/// every pair of rows has a cell per compared and per one-sided column (one cell when there
/// are none), unequal where its row diff line names a changed column and in every one-sided
/// column; every other row of the row diff (on one side only, or under a duplicated key) is
/// unequal in all its cells, unless the sides hold the same rows. Rounded down.
fn match_score(found: &GroupFound, compared: u64, one_sided: u64) -> u16 {
    let per_row = (compared + one_sided).max(1);
    let paired = found.summary.matched_rows + found.summary.changed_rows;
    let (mut alone, mut changed_cells) = (0, 0);
    for row in &found.row_diff {
        match row.diff.as_str() {
            "changed" => {
                changed_cells += row
                    .changed_columns
                    .split(';')
                    .filter(|c| !c.is_empty())
                    .count() as u64;
            }
            // A pair equal under the rules, or paired without a key and equal: every cell
            // equal, the pair counted among the matched rows.
            "equal_by_rule" | "paired_equal" => {}
            _ => alone += row.rows.unwrap_or(1),
        }
    }
    let cells = (paired + alone) * per_row;
    let unequal = if found.same_multiset {
        (paired + alone) * one_sided
    } else {
        alone * per_row + paired * one_sided + changed_cells
    };
    if cells == 0 {
        return 10_000;
    }
    u16::try_from((cells - unequal) * 10_000 / cells).expect("at most 10000")
}

/// A group is paired only when its leftover rows make at most this many candidate pairs.
const PAIR_CANDIDATES: u64 = 1_000_000;

/// Keep the rows of the group's first keys while they are at most `limit` (the row diff is in
/// key order, a key's rows together); the examples are then those of the rows kept.
fn cap(found: &mut GroupFound, limit: u64, compared: &[String]) {
    if found.row_diff.len() as u64 <= limit {
        return;
    }
    found.summary.row_diff_capped = true;
    let mut kept = 0;
    let mut end = 0;
    while end < found.row_diff.len() {
        let key = &found.row_diff[end].key;
        let rows = found.row_diff[end..]
            .iter()
            .take_while(|r| &r.key == key)
            .count();
        if kept + rows as u64 > limit {
            break;
        }
        kept += rows as u64;
        end += rows;
    }
    found.row_diff.truncate(end);
    for column in &mut found.columns {
        let i = compared
            .iter()
            .position(|c| *c == column.column)
            .expect("a compared column");
        let example = found.row_diff.iter().find(|r| {
            r.diff == "changed" && r.changed_columns.split(';').any(|c| c == column.column)
        });
        column.legacy_example = example.and_then(|r| r.values[i].0.clone());
        column.beta_example = example.and_then(|r| r.values[i].1.clone());
    }
}

/// Beta with each `--rename legacy=beta` column under its legacy name.
fn rename(beta: &Table, legacy: &Table, options: &Options) -> Result<Table, Refusal> {
    let mut renamed = beta.clone();
    for (legacy_name, beta_name) in &options.rename {
        if !legacy.columns.iter().any(|c| &c.0 == legacy_name) {
            return Err(Refusal(format!(
                "renamed column `{legacy_name}` not in legacy"
            )));
        }
        let Some(column) = renamed.columns.iter_mut().find(|c| &c.0 == beta_name) else {
            return Err(Refusal(format!("renamed column `{beta_name}` not in beta")));
        };
        column.0.clone_from(legacy_name);
    }
    let mut names: Vec<&String> = renamed.columns.iter().map(|c| &c.0).collect();
    names.sort();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(Refusal(
            "a rename gives beta two columns of one name".into(),
        ));
    }
    Ok(renamed)
}

fn status(summary: &SummaryRow, same_multiset: bool, one_sided_columns: bool) -> String {
    if summary.legacy_rows > 0 && summary.beta_rows == 0 {
        "LEGACY ONLY"
    } else if summary.legacy_rows == 0 && summary.beta_rows > 0 {
        "BETA ONLY"
    } else if one_sided_columns || !same_multiset {
        "MISMATCH"
    } else {
        "FULL MATCH"
    }
    .to_owned()
}

struct GroupFound {
    summary: SummaryRow,
    same_multiset: bool,
    columns: Vec<ColumnRow>,
    row_diff: Vec<DiffRow>,
    expected_cells: Vec<(String, String, u64)>,
}

/// The comparison forms of `row`'s cells in `columns`, on side 0 (legacy) or 1 (beta).
fn forms(row: &[Value], columns: &[Column], side: usize) -> Vec<Cmp> {
    columns
        .iter()
        .map(|c| {
            let ((i, ty), (_, other)) = if side == 0 {
                (c.legacy.unwrap(), c.beta.unwrap())
            } else {
                (c.beta.unwrap(), c.legacy.unwrap())
            };
            comparison_form(ty, other, &row[i])
        })
        .collect()
}

/// The type a comparison form of column `c` is written in: its own when both sides agree, else
/// text.
fn form_type(c: &Column) -> Ty {
    let (l, b) = (c.legacy.unwrap().1, c.beta.unwrap().1);
    if same_type(l, b) { l.clone() } else { Ty::Text }
}

fn raw_text(row: &[Value], c: &Column, side: usize) -> Option<String> {
    let (i, ty) = if side == 0 {
        c.legacy.unwrap()
    } else {
        c.beta.unwrap()
    };
    arrow_text(ty, &row[i])
}

fn keyed_group(
    group: &str,
    l_rows: &[&Vec<Value>],
    b_rows: &[&Vec<Value>],
    key: &[Column],
    compared: &[Column],
    options: &Options,
) -> GroupFound {
    let mut summary = SummaryRow {
        group: group.to_owned(),
        legacy_rows: l_rows.len() as u64,
        beta_rows: b_rows.len() as u64,
        ..SummaryRow::default()
    };
    let mut by_key: BTreeMap<Vec<Cmp>, [Vec<&Vec<Value>>; 2]> = BTreeMap::new();
    for row in l_rows {
        by_key.entry(forms(row, key, 0)).or_default()[0].push(row);
    }
    for row in b_rows {
        by_key.entry(forms(row, key, 1)).or_default()[1].push(row);
    }
    let key_text = |k: &[Cmp]| -> Vec<Option<String>> {
        k.iter()
            .zip(key)
            .map(|(form, c)| form_text(&form_type(c), form))
            .collect()
    };
    let values = |row: &[Value], side: usize| -> Vec<(Option<String>, Option<String>)> {
        compared
            .iter()
            .map(|c| {
                let text = raw_text(row, c, side);
                if side == 0 {
                    (text, None)
                } else {
                    (None, text)
                }
            })
            .collect()
    };
    let compare = |lr: &[Value], br: &[Value]| compare_rows(lr, br, compared, options);
    let names = |list: &[usize]| {
        let mut names: Vec<&str> = list.iter().map(|&i| compared[i].name.as_str()).collect();
        names.sort_unstable();
        names.join(";")
    };
    let mut row_diff = Vec::new();
    // Changed rows, for the mismatches and examples: (key, legacy forms, beta forms), the
    // changed columns and both rows' values as text.
    type Changed = (
        Vec<Cmp>,
        Vec<Cmp>,
        Vec<Cmp>,
        Vec<usize>,
        Vec<(Option<String>, Option<String>)>,
    );
    let mut changed_rows: Vec<Changed> = Vec::new();
    let mut unbalanced = false;
    // Per column: cells equal only as a declared pair.
    let mut expected_cells: BTreeMap<usize, u64> = BTreeMap::new();
    // Legacy rows under a key present on both sides and duplicated on either: neither matched
    // nor changed.
    let mut legacy_duplicate_rows = 0;
    // Rows on one side only, for pairing: (key, forms, row, place in `row_diff`).
    let mut leftovers: [Vec<(Vec<Cmp>, Vec<Cmp>, &Vec<Value>, usize)>; 2] = Default::default();
    for (k, [l, b]) in &by_key {
        summary.legacy_dup_keys += u64::from(l.len() > 1);
        summary.beta_dup_keys += u64::from(b.len() > 1);
        let one_sided = |rows: &[&Vec<Value>], side: usize, diff: &str| {
            rows.iter()
                .map(|row| DiffRow {
                    group: group.to_owned(),
                    key: key_text(k),
                    diff: diff.to_owned(),
                    side: ["legacy", "beta"][side].to_owned(),
                    values: values(row, side),
                    ..DiffRow::default()
                })
                .collect::<Vec<_>>()
        };
        match (l.len(), b.len()) {
            (_, 0) | (0, _) => {
                let (rows, side, diff) = if b.is_empty() {
                    (l, 0, "missing_in_beta")
                } else {
                    (b, 1, "extra_in_beta")
                };
                for row in rows {
                    leftovers[side].push((
                        k.clone(),
                        forms(row, compared, side),
                        row,
                        row_diff.len(),
                    ));
                    row_diff.extend(one_sided(std::slice::from_ref(row), side, diff));
                }
            }
            (1, 1) => {
                let (lr, br) = (l[0], b[0]);
                let (changed, hidden, expected_columns) = compare(lr, br);
                for i in expected_columns {
                    *expected_cells.entry(i).or_default() += 1;
                }
                if changed.is_empty() && hidden.is_empty() {
                    continue;
                }
                let both: Vec<(Option<String>, Option<String>)> = compared
                    .iter()
                    .map(|c| (raw_text(lr, c, 0), raw_text(br, c, 1)))
                    .collect();
                row_diff.push(DiffRow {
                    group: group.to_owned(),
                    key: key_text(k),
                    diff: if changed.is_empty() {
                        "equal_by_rule"
                    } else {
                        "changed"
                    }
                    .to_owned(),
                    side: "both".to_owned(),
                    changed_columns: names(&changed),
                    hidden_columns: names(&hidden),
                    values: both.clone(),
                    rows: None,
                    paired_key: None,
                });
                if !changed.is_empty() {
                    changed_rows.push((
                        k.clone(),
                        forms(lr, compared, 0),
                        forms(br, compared, 1),
                        changed,
                        both,
                    ));
                }
            }
            _ => {
                legacy_duplicate_rows += l.len() as u64;
                // Rows under a duplicated key compare as multisets, exactly.
                let mut counts: BTreeMap<Vec<Cmp>, i64> = BTreeMap::new();
                for row in l {
                    *counts.entry(forms(row, compared, 0)).or_default() += 1;
                }
                for row in b {
                    *counts.entry(forms(row, compared, 1)).or_default() -= 1;
                }
                if counts.values().any(|&n| n != 0) {
                    unbalanced = true;
                }
                row_diff.extend(one_sided(l, 0, "duplicate_key"));
                row_diff.extend(one_sided(b, 1, "duplicate_key"));
            }
        }
    }
    // Pairing: every candidate pair within the bound, by (differing columns, legacy rank, beta
    // rank), taken when neither row is; a rank orders a side's leftovers by key, then values.
    let mut dropped = vec![false; row_diff.len()];
    if options.pair_unmatched {
        let max = options.max_pair_columns.unwrap_or(compared.len() / 2);
        for side in &mut leftovers {
            side.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        }
        let [missing, extra] = &leftovers;
        if !missing.is_empty()
            && !extra.is_empty()
            && (missing.len() as u64).saturating_mul(extra.len() as u64) <= PAIR_CANDIDATES
        {
            let mut candidates = Vec::new();
            for (i, m) in missing.iter().enumerate() {
                for (j, e) in extra.iter().enumerate() {
                    let (changed, _, _) = compare(m.2, e.2);
                    if changed.len() <= max {
                        candidates.push((changed.len(), i, j));
                    }
                }
            }
            candidates.sort_unstable();
            let (mut used_m, mut used_e) = (vec![false; missing.len()], vec![false; extra.len()]);
            for (_, i, j) in candidates {
                if used_m[i] || used_e[j] {
                    continue;
                }
                used_m[i] = true;
                used_e[j] = true;
                let (m, e) = (&missing[i], &extra[j]);
                let (changed, hidden, expected_columns) = compare(m.2, e.2);
                for c in expected_columns {
                    *expected_cells.entry(c).or_default() += 1;
                }
                let both: Vec<(Option<String>, Option<String>)> = compared
                    .iter()
                    .map(|c| (raw_text(m.2, c, 0), raw_text(e.2, c, 1)))
                    .collect();
                let beta_key: Vec<String> = key_text(&e.0)
                    .into_iter()
                    .map(|t| t.unwrap_or_else(|| "NULL".to_owned()))
                    .collect();
                // The pair takes the legacy row's place; the beta row's goes.
                row_diff[m.3] = DiffRow {
                    group: group.to_owned(),
                    key: key_text(&m.0),
                    diff: if changed.is_empty() {
                        "paired_equal"
                    } else {
                        "changed"
                    }
                    .to_owned(),
                    side: "both".to_owned(),
                    changed_columns: names(&changed),
                    hidden_columns: names(&hidden),
                    values: both.clone(),
                    rows: None,
                    paired_key: Some(beta_key.join("|")),
                };
                dropped[e.3] = true;
                summary.paired_rows += 1;
                if !changed.is_empty() {
                    changed_rows.push((
                        m.0.clone(),
                        m.1.clone(),
                        forms(e.2, compared, 1),
                        changed,
                        both,
                    ));
                }
            }
        }
    }
    let row_diff: Vec<DiffRow> = row_diff
        .into_iter()
        .zip(dropped)
        .filter(|(_, dropped)| !dropped)
        .map(|(row, _)| row)
        .collect();
    summary.missing_in_beta = row_diff
        .iter()
        .filter(|r| r.diff == "missing_in_beta")
        .count() as u64;
    summary.extra_in_beta = row_diff
        .iter()
        .filter(|r| r.diff == "extra_in_beta")
        .count() as u64;
    summary.changed_rows = changed_rows.len() as u64;
    summary.matched_rows = summary.legacy_rows
        - summary.missing_in_beta
        - summary.changed_rows
        - legacy_duplicate_rows;
    let same_multiset = summary.changed_rows == 0
        && summary.missing_in_beta == 0
        && summary.extra_in_beta == 0
        && !unbalanced;
    // Per column: its mismatches, and the example of the first changed row by key (then by
    // values, for rows paired under one legacy key).
    changed_rows.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    let columns = column_rows(
        group,
        compared,
        changed_rows
            .iter()
            .map(|(_, _, _, changed, both)| (changed, both)),
    );
    GroupFound {
        summary,
        same_multiset,
        columns,
        row_diff,
        expected_cells: expected_cells
            .into_iter()
            .map(|(i, n)| (group.to_owned(), compared[i].name.clone(), n))
            .collect(),
    }
}

/// A legacy row against a beta row: the columns that differ under their rules, those equal
/// only under them, and those equal as a declared pair.
fn compare_rows(
    lr: &[Value],
    br: &[Value],
    compared: &[Column],
    options: &Options,
) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let (mut changed, mut hidden, mut expected_columns) = (Vec::new(), Vec::new(), Vec::new());
    for (i, c) in compared.iter().enumerate() {
        let (lf, bf) = (
            forms(lr, std::slice::from_ref(c), 0),
            forms(br, std::slice::from_ref(c), 1),
        );
        let exactly_equal = lf == bf;
        let cast = options.cast.iter().find(|(n, _)| *n == c.name);
        // Values equal exactly are equal whatever the rules.
        let declared = |l: Option<String>, b: Option<String>| {
            let pairs = options.expected.iter().find(|(n, _)| *n == c.name);
            match (pairs, l, b) {
                (Some((_, pairs)), Some(l), Some(b)) => {
                    pairs.iter().any(|(pl, pb)| *pl == l && *pb == b)
                }
                _ => false,
            }
        };
        let expected = !exactly_equal && declared(raw_text(lr, c, 0), raw_text(br, c, 1));
        if expected {
            expected_columns.push(i);
        }
        let equal = exactly_equal
            || expected
            || match cast {
                None => equal_under_rules(c, &lf[0], &bf[0], &options.rules, None),
                Some((_, to)) => {
                    let (l, b) = (c.legacy.unwrap(), c.beta.unwrap());
                    let lf = cast_form(&lr[l.0], l.1, to);
                    let bf = cast_form(&br[b.0], b.1, to);
                    equal_under_rules(c, &lf, &bf, &options.rules, Some(to))
                }
            };
        if !equal {
            changed.push(i);
        } else if !exactly_equal {
            hidden.push(i);
        }
    }
    (changed, hidden, expected_columns)
}

/// Under the column's rules, are the two cells equal? `l` and `b` are their comparison forms.
///
/// - Equal forms are equal (two NaNs, two infinities too).
/// - Text rules apply where both forms are text: trim (Unicode white space at both ends), then
///   lower case, then the empty string as null.
/// - A tolerance applies to a pair of numbers: columns that are numbers on both sides, or two
///   texts that Arrow's cast reads as doubles. Integers and decimals are subtracted exactly, as
///   decimals; floats and text as doubles, and only finite ones are ever close. Equal when the
///   difference is at most the absolute tolerance, or at most the relative one times the
///   larger magnitude.
/// - The date tolerance applies to a pair of dates or timestamps, or of texts that Arrow's cast
///   reads as timestamps: equal when at most that many days apart.
fn equal_under_rules(c: &Column, l: &Cmp, b: &Cmp, rules: &Rules, cast: Option<&str>) -> bool {
    if l == b {
        return true;
    }
    // After a cast both sides hold the cast's type.
    let cast_ty = cast.map(|to| match to {
        "integer" => Ty::Int64,
        "decimal" => Ty::Float64,
        "date" => Ty::Date,
        "timestamp" => Ty::Timestamp(None),
        _ => Ty::Text,
    });
    let (lt, bt) = match &cast_ty {
        Some(ty) => (ty, ty),
        None => (c.legacy.unwrap().1, c.beta.unwrap().1),
    };
    let text = |form: &Cmp| -> Cmp {
        let Cmp::Text(t) = form else {
            return form.clone();
        };
        let mut t = t.clone();
        if rules.trim {
            t = t.trim_matches(char::is_whitespace).to_owned();
        }
        if rules.ignore_case {
            t = t.to_lowercase();
        }
        if rules.null_equals_empty && t.is_empty() {
            return Cmp::Null;
        }
        Cmp::Text(t)
    };
    let (l, b) = (text(l), text(b));
    if l == b {
        return true;
    }
    if l.is_null() || b.is_null() {
        return false;
    }
    let both_text = matches!((&l, &b), (Cmp::Text(_), Cmp::Text(_)));
    let exact_numbers =
        lt.is_numeric() && bt.is_numeric() && *lt != Ty::Float64 && *bt != Ty::Float64;
    let within = |tolerance: f64, relative: bool| {
        if exact_numbers {
            let (Some(x), Some(y)) = (decimal(&l, lt), decimal(&b, bt)) else {
                return false;
            };
            let t = decimal_text(&tolerance.to_string()).expect("a tolerance is a number");
            // Everything at one scale, as integers: |x - y| <= t, or <= t * max(|x|, |y|).
            let scale = x.1.max(y.1);
            let at = |(v, s): (i128, u32), scale: u32| v * 10_i128.pow(scale - s);
            let difference = (at(x, scale) - at(y, scale)).abs();
            if relative {
                let larger = at(x, scale).abs().max(at(y, scale).abs());
                difference * 10_i128.pow(t.1) <= t.0 * larger
            } else {
                let common = scale.max(t.1);
                difference * 10_i128.pow(common - scale) <= at(t, common)
            }
        } else if (lt.is_numeric() && bt.is_numeric()) || both_text {
            let (Some(x), Some(y)) = (float(&l), float(&b)) else {
                return false;
            };
            if !x.is_finite() || !y.is_finite() {
                return false;
            }
            let bound = if relative {
                tolerance * x.abs().max(y.abs())
            } else {
                tolerance
            };
            (x - y).abs() <= bound
        } else {
            false
        }
    };
    if rules.abs_tolerance.is_some_and(|t| within(t, false))
        || rules.rel_tolerance.is_some_and(|t| within(t, true))
    {
        return true;
    }
    if let Some(days) = rules.date_tolerance_days
        && ((lt.is_temporal() && bt.is_temporal()) || both_text)
        && let (Some(x), Some(y)) = (seconds(&l), seconds(&b))
    {
        return (x - y).abs() <= days * 86_400.0;
    }
    false
}

/// `value` of type `ty` cast to `to` as `TRY_CAST` does (Arrow's safe cast: a value that does
/// not cast is null), in comparison form.
fn cast_form(value: &Value, ty: &Ty, to: &str) -> Cmp {
    let target = match to {
        "integer" => Ty::Int64,
        "decimal" => Ty::Float64,
        "date" => Ty::Date,
        "timestamp" => Ty::Timestamp(None),
        _ => Ty::Text,
    };
    match crate::value::cast_value(ty, value, &target) {
        Value::Null => Cmp::Null,
        cast => comparison_form(&target, &target, &cast),
    }
}

/// A number's comparison form as a double; text as Arrow's cast reads it.
fn float(form: &Cmp) -> Option<f64> {
    match form {
        #[allow(clippy::cast_precision_loss)]
        Cmp::Int(i) => Some(*i as f64),
        Cmp::Float(f) => Some(*f),
        Cmp::Text(t) => text_as_double(t),
        _ => None,
    }
}

/// A date or timestamp comparison form as seconds since 1970; text as Arrow's cast reads it.
fn seconds(form: &Cmp) -> Option<f64> {
    match form {
        Cmp::Date(d) => Some(f64::from(*d) * 86_400.0),
        // As SQL's TIMESTAMP holds it: nanoseconds, then seconds as a double.
        #[allow(clippy::cast_precision_loss)]
        Cmp::Timestamp(t) => Some((*t * 1000) as f64 / 1e9),
        Cmp::Text(t) => text_as_seconds(t),
        _ => None,
    }
}

/// An integer or decimal comparison form as (unscaled value, scale).
fn decimal(form: &Cmp, ty: &Ty) -> Option<(i128, u32)> {
    match (form, ty) {
        (Cmp::Int(i), _) => Some((i128::from(*i), 0)),
        (Cmp::Decimal(d), Ty::Decimal(_, s)) => Some((*d, u32::try_from(*s).ok()?)),
        (Cmp::Text(t), _) => decimal_text(t),
        _ => None,
    }
}

/// `-12.50` as (-1250, 2).
fn decimal_text(text: &str) -> Option<(i128, u32)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = format!("{whole}{fraction}");
    Some((digits.parse().ok()?, u32::try_from(fraction.len()).ok()?))
}

fn multiset_group(
    group: &str,
    l_rows: &[&Vec<Value>],
    b_rows: &[&Vec<Value>],
    compared: &[Column],
    options: &Options,
) -> GroupFound {
    if options.pair_unmatched {
        return paired_multiset_group(group, l_rows, b_rows, compared, options);
    }
    let mut summary = SummaryRow {
        group: group.to_owned(),
        legacy_rows: l_rows.len() as u64,
        beta_rows: b_rows.len() as u64,
        ..SummaryRow::default()
    };
    let counts = multiset_counts(l_rows, b_rows, compared);
    let mut row_diff = Vec::new();
    for (form, [l, b]) in &counts {
        summary.matched_rows += l.min(b);
        let (diff, side, rows) = if l > b {
            summary.missing_in_beta += l - b;
            ("missing_in_beta", "legacy", l - b)
        } else if b > l {
            summary.extra_in_beta += b - l;
            ("extra_in_beta", "beta", b - l)
        } else {
            continue;
        };
        row_diff.push(DiffRow {
            group: group.to_owned(),
            key: form
                .iter()
                .zip(compared)
                .map(|(f, c)| form_text(&form_type(c), f))
                .collect(),
            diff: diff.to_owned(),
            side: side.to_owned(),
            rows: Some(rows),
            ..DiffRow::default()
        });
    }
    let same_multiset = summary.missing_in_beta == 0 && summary.extra_in_beta == 0;
    GroupFound {
        summary,
        same_multiset,
        columns: Vec::new(),
        row_diff,
        expected_cells: Vec::new(),
    }
}

/// A group of a table without a key, its leftover rows paired: each row one side holds more
/// often than the other is a leftover row, as many times more, in its comparison forms (the
/// texts the row diff writes, and what the rules and declared pairs see). Leftovers pair as in
/// `keyed_group`, ranked by their forms.
fn paired_multiset_group(
    group: &str,
    l_rows: &[&Vec<Value>],
    b_rows: &[&Vec<Value>],
    compared: &[Column],
    options: &Options,
) -> GroupFound {
    let mut summary = SummaryRow {
        group: group.to_owned(),
        legacy_rows: l_rows.len() as u64,
        beta_rows: b_rows.len() as u64,
        ..SummaryRow::default()
    };
    let counts = multiset_counts(l_rows, b_rows, compared);
    // The forms as rows of a table whose columns hold the forms' types on both sides.
    let types: Vec<Ty> = compared.iter().map(form_type).collect();
    let form_columns: Vec<Column> = compared
        .iter()
        .zip(&types)
        .enumerate()
        .map(|(i, (c, ty))| Column {
            name: c.name.clone(),
            legacy: Some((i, ty)),
            beta: Some((i, ty)),
        })
        .collect();
    let as_row = |form: &[Cmp]| -> Vec<Value> {
        form.iter()
            .map(|f| match f {
                Cmp::Null => Value::Null,
                Cmp::Int(i) => Value::Int(*i),
                Cmp::Float(x) => Value::Float(*x),
                Cmp::Decimal(d) => Value::Decimal(*d),
                Cmp::Text(t) => Value::Text(t.clone()),
                Cmp::Bool(b) => Value::Bool(*b),
                Cmp::Date(d) => Value::Date(*d),
                Cmp::Timestamp(t) => Value::Timestamp(*t),
            })
            .collect()
    };
    // Leftovers per side, in form order (the ranks).
    let (mut missing, mut extra): (Vec<Vec<Value>>, Vec<Vec<Value>>) = (Vec::new(), Vec::new());
    for (form, [l, b]) in &counts {
        for _ in *b..*l {
            missing.push(as_row(form));
        }
        for _ in *l..*b {
            extra.push(as_row(form));
        }
    }
    let text = |row: &[Value], i: usize| arrow_text(&types[i], &row[i]);
    let names = |list: &[usize]| {
        let mut names: Vec<&str> = list.iter().map(|&i| compared[i].name.as_str()).collect();
        names.sort_unstable();
        names.join(";")
    };
    let (mut used_m, mut used_e) = (vec![false; missing.len()], vec![false; extra.len()]);
    let mut row_diff = Vec::new();
    let mut expected_cells: BTreeMap<usize, u64> = BTreeMap::new();
    // Changed pairs: (legacy forms, beta forms, changed columns, both values as text).
    type Pair = (
        Vec<Cmp>,
        Vec<Cmp>,
        Vec<usize>,
        Vec<(Option<String>, Option<String>)>,
    );
    let mut changed_pairs: Vec<Pair> = Vec::new();
    if !missing.is_empty()
        && !extra.is_empty()
        && (missing.len() as u64).saturating_mul(extra.len() as u64) <= PAIR_CANDIDATES
    {
        let max = options.max_pair_columns.unwrap_or(compared.len() / 2);
        let mut candidates = Vec::new();
        for (i, m) in missing.iter().enumerate() {
            for (j, e) in extra.iter().enumerate() {
                let (changed, _, _) = compare_rows(m, e, &form_columns, options);
                if changed.len() <= max {
                    candidates.push((changed.len(), i, j));
                }
            }
        }
        candidates.sort_unstable();
        for (_, i, j) in candidates {
            if used_m[i] || used_e[j] {
                continue;
            }
            used_m[i] = true;
            used_e[j] = true;
            let (m, e) = (&missing[i], &extra[j]);
            let (changed, hidden, expected_columns) = compare_rows(m, e, &form_columns, options);
            for c in expected_columns {
                *expected_cells.entry(c).or_default() += 1;
            }
            let both: Vec<(Option<String>, Option<String>)> = (0..compared.len())
                .map(|c| (text(m, c), text(e, c)))
                .collect();
            row_diff.push(DiffRow {
                group: group.to_owned(),
                diff: if changed.is_empty() {
                    "paired_equal"
                } else {
                    "changed"
                }
                .to_owned(),
                side: "both".to_owned(),
                changed_columns: names(&changed),
                hidden_columns: names(&hidden),
                values: both.clone(),
                ..DiffRow::default()
            });
            summary.paired_rows += 1;
            if !changed.is_empty() {
                summary.changed_rows += 1;
                changed_pairs.push((
                    forms(m, &form_columns, 0),
                    forms(e, &form_columns, 1),
                    changed,
                    both,
                ));
            }
        }
    }
    for (rows, used, side, diff) in [
        (&missing, &used_m, 0, "missing_in_beta"),
        (&extra, &used_e, 1, "extra_in_beta"),
    ] {
        for (row, _) in rows.iter().zip(used.iter()).filter(|(_, used)| !**used) {
            if side == 0 {
                summary.missing_in_beta += 1;
            } else {
                summary.extra_in_beta += 1;
            }
            row_diff.push(DiffRow {
                group: group.to_owned(),
                diff: diff.to_owned(),
                side: ["legacy", "beta"][side].to_owned(),
                values: (0..compared.len())
                    .map(|c| {
                        if side == 0 {
                            (text(row, c), None)
                        } else {
                            (None, text(row, c))
                        }
                    })
                    .collect(),
                ..DiffRow::default()
            });
        }
    }
    summary.matched_rows = summary.legacy_rows - summary.missing_in_beta - summary.changed_rows;
    // Per column: its mismatches, and the example of the first changed pair by legacy forms,
    // then beta forms.
    changed_pairs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let same_multiset =
        summary.changed_rows == 0 && summary.missing_in_beta == 0 && summary.extra_in_beta == 0;
    GroupFound {
        summary,
        same_multiset,
        columns: column_rows(
            group,
            compared,
            changed_pairs
                .iter()
                .map(|(_, _, changed, both)| (changed, both)),
        ),
        row_diff,
        expected_cells: expected_cells
            .into_iter()
            .map(|(i, n)| (group.to_owned(), compared[i].name.clone(), n))
            .collect(),
    }
}

/// Each distinct row of a group, in its comparison forms, with how often each side holds it.
fn multiset_counts(
    l_rows: &[&Vec<Value>],
    b_rows: &[&Vec<Value>],
    compared: &[Column],
) -> BTreeMap<Vec<Cmp>, [u64; 2]> {
    let mut counts: BTreeMap<Vec<Cmp>, [u64; 2]> = BTreeMap::new();
    for row in l_rows {
        counts.entry(forms(row, compared, 0)).or_default()[0] += 1;
    }
    for row in b_rows {
        counts.entry(forms(row, compared, 1)).or_default()[1] += 1;
    }
    counts
}

/// Per column: its mismatches among `changed` rows (each its changed columns and both values
/// as text, in example order), and the values of the first as its example.
fn column_rows<'a>(
    group: &str,
    compared: &[Column],
    changed: impl Iterator<Item = (&'a Vec<usize>, &'a Vec<(Option<String>, Option<String>)>)>,
) -> Vec<ColumnRow> {
    let mut mismatches: BTreeMap<usize, (u64, Option<String>, Option<String>)> = BTreeMap::new();
    for (columns, both) in changed {
        for &i in columns {
            let entry = mismatches
                .entry(i)
                .or_insert_with(|| (0, both[i].0.clone(), both[i].1.clone()));
            entry.0 += 1;
        }
    }
    mismatches
        .into_iter()
        .map(|(i, (n, l, b))| ColumnRow {
            group: group.to_owned(),
            column: compared[i].name.clone(),
            mismatches: n,
            legacy_example: l,
            beta_example: b,
        })
        .collect()
}

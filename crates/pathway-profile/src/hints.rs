//! Root-cause hints: for each district, table and finding (the rows changed in one column, the
//! rows missing in beta, the rows extra in beta), the values of the table's other
//! low-cardinality columns that are over-represented among the affected rows, compared with
//! the district's rows. "All 8 changed `last_name` rows are in school 0102, which holds half
//! the district" is the morning's first lead.
//!
//! Everything is counted with DataFusion queries over the run's row diff and each side's
//! output, as a night's catalog registers them (personal columns already masked, so a hint on
//! one shows the masked value); this module only compares the shares.

use std::collections::BTreeMap;

use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use crate::measure::value_label;
use crate::query::{literal, quote, run};
use crate::{LOW_CARDINALITY, ProfileSpec, Result};

/// A finding is explained only when at least this many rows are affected.
pub const MIN_AFFECTED_ROWS: u64 = 5;

/// A hint's value must be on at least this many affected rows…
pub const MIN_SUPPORT: u64 = 3;

/// …and on at least this share of them…
pub const MIN_SHARE_OF_AFFECTED: f64 = 0.2;

/// …and this many times more frequent among them than in the district.
pub const MIN_LIFT: f64 = 1.5;

/// Hints kept per finding, the highest lift first.
pub const HINTS_PER_FINDING: usize = 3;

/// Where a night's tables are, for one output table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HintSpec {
    /// Output table.
    pub table: String,
    /// The registered row diff (`row_diff_<table>` in a night's catalog).
    pub row_diff: String,
    /// The registered outputs: legacy, beta.
    pub sides: [String; 2],
    /// Key columns (empty for a table without a key).
    pub key: Vec<String>,
    /// Compared columns.
    pub compared: Vec<String>,
    /// Only this district, when given.
    pub district: Option<String>,
}

/// One hint: a line of `pathway explain --format csv`, whose header is the field order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hint {
    /// Output table.
    pub table: String,
    /// District id.
    pub district_id: String,
    /// `changed`, `missing_in_beta` or `extra_in_beta`.
    pub finding: String,
    /// For `changed`, the column that changed; empty for missing and extra rows.
    pub column: String,
    /// Rows of the finding (in the row diff: those kept, when it is capped).
    pub affected_rows: u64,
    /// The column whose value the affected rows share.
    pub hint_column: String,
    /// Its value (masked for a personal column; `(null)`, `(empty)` as in profiles).
    pub hint_value: String,
    /// Share of the affected rows with that value, 0 to 1 (4 decimals).
    pub share_of_affected: f64,
    /// Share of the district's rows on that side with that value (legacy for changed and
    /// missing rows, beta for extra ones).
    pub share_of_district: f64,
    /// `share_of_affected / share_of_district`.
    pub lift: f64,
}

/// The CSV header of hints.
pub const HINT_HEADER: &str = "table,district_id,finding,column,affected_rows,hint_column,hint_value,share_of_affected,share_of_district,lift";

/// (district, finding, column) → affected rows.
type Findings = BTreeMap<(String, String, String), u64>;

/// (district, finding, column, hint column, value) → affected rows with that value.
type AffectedValues = BTreeMap<(String, String, String, String, String), u64>;

/// (side, district, hint column, value) → rows; (side, district, "", "") → the district's rows.
type DistrictValues = BTreeMap<(usize, String, String, String), u64>;

/// The group expression of a night's tables and the filter on it.
struct Grouping<'a> {
    group: &'a str,
    filter: &'a str,
}

fn rounded(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The hints of one table's findings, by district, finding and column, each finding's best
/// first.
///
/// # Errors
/// A query fails (a table that is not registered).
pub async fn explain_table(ctx: &SessionContext, spec: &HintSpec) -> Result<Vec<Hint>> {
    let profile = ProfileSpec {
        table: spec.table.clone(),
        ..ProfileSpec::default()
    };
    let row_diff_columns: Vec<String> = match ctx.table(&spec.row_diff).await {
        Ok(frame) => frame
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
        // No row differs in this table: nothing to explain.
        Err(_) => return Ok(Vec::new()),
    };
    // Ungrouped tables (`pathway diff` without `--by`) are one group named `*`.
    let group = if row_diff_columns.iter().any(|c| c == "district_id") {
        "CAST(\"district_id\" AS VARCHAR)".to_owned()
    } else {
        "'*'".to_owned()
    };
    let filter = match &spec.district {
        Some(d) => format!("{group} = {}", literal(d)),
        None => "TRUE".to_owned(),
    };
    let at = Grouping {
        group: &group,
        filter: &filter,
    };
    let candidates: Vec<&String> = spec
        .key
        .iter()
        .chain(&spec.compared)
        .filter(|c| *c != "district_id")
        .collect();
    let low = low_cardinality(ctx, spec, &candidates, &at, &profile).await?;
    if low.is_empty() {
        return Ok(Vec::new());
    }
    // A hint column's value on a row of the row diff: the side's copy of a compared column,
    // the key column itself.
    let in_row_diff = |side: &str, column: &str| {
        [
            format!("{side}_{column}"),
            column.to_owned(),
            format!("key_{column}"),
        ]
        .into_iter()
        .find(|name| row_diff_columns.contains(name))
    };
    let (findings, affected) =
        affected_values(ctx, spec, &low, &in_row_diff, &at, &profile).await?;
    let district = district_values(ctx, spec, &low, &at, &profile).await?;
    Ok(rank(spec, &findings, &affected, &district, &low))
}

/// Per district, the candidate columns with at most [`LOW_CARDINALITY`] values on either side.
async fn low_cardinality(
    ctx: &SessionContext,
    spec: &HintSpec,
    candidates: &[&String],
    at: &Grouping<'_>,
    profile: &ProfileSpec,
) -> Result<BTreeMap<String, Vec<String>>> {
    let (group, filter) = (at.group, at.filter);
    let mut low: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if candidates.is_empty() {
        return Ok(low);
    }
    for (side, table) in ["legacy", "beta"].into_iter().zip(&spec.sides) {
        if ctx.table(table).await.is_err() {
            continue;
        }
        let counts: Vec<String> = candidates
            .iter()
            .map(|c| format!("approx_distinct(CAST({} AS VARCHAR))", quote(c)))
            .collect();
        let sql = format!(
            "SELECT {group}, {} FROM {} WHERE {filter} GROUP BY 1",
            counts.join(", "),
            quote(table)
        );
        for row in run(ctx, &sql, profile, side).await? {
            let district = row[0].clone().unwrap_or_default();
            for (column, n) in candidates.iter().zip(&row[1..]) {
                let n: u64 = n
                    .as_deref()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(u64::MAX);
                let columns = low.entry(district.clone()).or_default();
                if n <= LOW_CARDINALITY && !columns.contains(column) {
                    columns.push((*column).clone());
                }
            }
        }
    }
    Ok(low)
}

/// The findings' affected rows, and how many of them have each value of each low-cardinality
/// column.
async fn affected_values(
    ctx: &SessionContext,
    spec: &HintSpec,
    low: &BTreeMap<String, Vec<String>>,
    in_row_diff: &dyn Fn(&str, &str) -> Option<String>,
    at: &Grouping<'_>,
    profile: &ProfileSpec,
) -> Result<(Findings, AffectedValues)> {
    let (group, filter) = (at.group, at.filter);
    let columns: Vec<&String> = {
        let mut all: Vec<&String> = low.values().flatten().collect();
        all.sort();
        all.dedup();
        all
    };
    let rows = quote(&spec.row_diff);
    // Keyless row diffs hold each differing distinct row once, with how many times it differs.
    let keyless = spec.key.is_empty() && in_row_diff("", "rows").is_some();
    let count = if keyless { "SUM(\"rows\")" } else { "COUNT(*)" };
    let changed = format!(
        "SELECT *, unnest(string_to_array(\"changed_columns\", ';')) AS \"__column\" FROM {rows} \
         WHERE \"diff\" = 'changed' AND {filter}"
    );
    let mut totals = vec![format!(
        "SELECT {group}, 'changed', \"__column\", {count} FROM ({changed}) \
         GROUP BY 1, 3"
    )];
    totals.push(format!(
        "SELECT {group}, \"diff\", '', {count} FROM {rows} \
         WHERE \"diff\" IN ('missing_in_beta', 'extra_in_beta') AND {filter} GROUP BY 1, 2"
    ));
    let mut findings = Findings::new();
    for row in run(ctx, &totals.join(" UNION ALL "), profile, "row diff").await? {
        let n = row[3].as_deref().and_then(|t| t.parse().ok()).unwrap_or(0);
        let key = (
            row[0].clone().unwrap_or_default(),
            row[1].clone().unwrap_or_default(),
            row[2].clone().unwrap_or_default(),
        );
        findings.insert(key, n);
    }
    let mut branches = Vec::new();
    for h in columns {
        for (finding, side, source) in [
            ("changed", "legacy", changed.as_str()),
            ("missing_in_beta", "legacy", rows.as_str()),
            ("extra_in_beta", "beta", rows.as_str()),
        ] {
            let Some(value) = in_row_diff(side, h) else {
                continue;
            };
            let (column, kind) = if finding == "changed" {
                ("\"__column\"".to_owned(), "TRUE".to_owned())
            } else {
                ("''".to_owned(), format!("\"diff\" = {}", literal(finding)))
            };
            let source = if finding == "changed" {
                format!("({source})")
            } else {
                source.to_owned()
            };
            branches.push(format!(
                "SELECT {group}, {}, {column}, {}, \
                 CAST({} AS VARCHAR), {count} FROM {source} WHERE {kind} AND {filter} \
                 GROUP BY 1, 3, 5",
                literal(finding),
                literal(h),
                quote(&value)
            ));
        }
    }
    let mut affected = AffectedValues::new();
    if branches.is_empty() {
        return Ok((findings, affected));
    }
    for row in run(ctx, &branches.join(" UNION ALL "), profile, "row diff").await? {
        let n = row[5].as_deref().and_then(|t| t.parse().ok()).unwrap_or(0);
        let key = (
            row[0].clone().unwrap_or_default(),
            row[1].clone().unwrap_or_default(),
            row[2].clone().unwrap_or_default(),
            row[3].clone().unwrap_or_default(),
            value_label(row[4].clone()),
        );
        affected.insert(key, n);
    }
    Ok((findings, affected))
}

/// Each side's rows per district, and per value of each low-cardinality column.
async fn district_values(
    ctx: &SessionContext,
    spec: &HintSpec,
    low: &BTreeMap<String, Vec<String>>,
    at: &Grouping<'_>,
    profile: &ProfileSpec,
) -> Result<DistrictValues> {
    let (group, filter) = (at.group, at.filter);
    let mut columns: Vec<&String> = low.values().flatten().collect();
    columns.sort();
    columns.dedup();
    let mut values = DistrictValues::new();
    for (at, (side, table)) in ["legacy", "beta"].into_iter().zip(&spec.sides).enumerate() {
        if ctx.table(table).await.is_err() {
            continue;
        }
        let table = quote(table);
        let mut branches = vec![format!(
            "SELECT {group}, '', CAST(NULL AS VARCHAR), COUNT(*) \
             FROM {table} WHERE {filter} GROUP BY 1"
        )];
        for h in &columns {
            branches.push(format!(
                "SELECT {group}, {}, CAST({} AS VARCHAR), COUNT(*) \
                 FROM {table} WHERE {filter} GROUP BY 1, 3",
                literal(h),
                quote(h)
            ));
        }
        for row in run(ctx, &branches.join(" UNION ALL "), profile, side).await? {
            let n = row[3].as_deref().and_then(|t| t.parse().ok()).unwrap_or(0);
            let column = row[1].clone().unwrap_or_default();
            let value = if column.is_empty() {
                String::new()
            } else {
                value_label(row[2].clone())
            };
            values.insert((at, row[0].clone().unwrap_or_default(), column, value), n);
        }
    }
    Ok(values)
}

/// The hints that pass the thresholds, the best [`HINTS_PER_FINDING`] of each finding.
fn rank(
    spec: &HintSpec,
    findings: &Findings,
    affected: &AffectedValues,
    district: &DistrictValues,
    low: &BTreeMap<String, Vec<String>>,
) -> Vec<Hint> {
    let mut hints = Vec::new();
    for ((district_id, finding, column), &affected_rows) in findings {
        if affected_rows < MIN_AFFECTED_ROWS {
            continue;
        }
        let side = usize::from(finding == "extra_in_beta");
        let rows = district
            .get(&(side, district_id.clone(), String::new(), String::new()))
            .copied()
            .unwrap_or(0);
        let low_here = low.get(district_id).cloned().unwrap_or_default();
        let mut found: Vec<Hint> = affected
            .range(
                (
                    district_id.clone(),
                    finding.clone(),
                    column.clone(),
                    String::new(),
                    String::new(),
                )..,
            )
            .take_while(|((d, f, c, _, _), _)| d == district_id && f == finding && c == column)
            .filter(|((_, _, _, h, _), _)| h != column && low_here.contains(h))
            .filter_map(|((_, _, _, h, v), &n)| {
                let in_district = district
                    .get(&(side, district_id.clone(), h.clone(), v.clone()))
                    .copied()
                    .unwrap_or(0);
                if n < MIN_SUPPORT || in_district == 0 || rows == 0 {
                    return None;
                }
                let share_of_affected = n as f64 / affected_rows as f64;
                let share_of_district = in_district as f64 / rows as f64;
                let lift = share_of_affected / share_of_district;
                (share_of_affected >= MIN_SHARE_OF_AFFECTED && lift >= MIN_LIFT).then(|| Hint {
                    table: spec.table.clone(),
                    district_id: district_id.clone(),
                    finding: finding.clone(),
                    column: column.clone(),
                    affected_rows,
                    hint_column: h.clone(),
                    hint_value: v.clone(),
                    share_of_affected: rounded(share_of_affected),
                    share_of_district: rounded(share_of_district),
                    lift: rounded(lift),
                })
            })
            .collect();
        found.sort_by(|a, b| {
            b.lift
                .total_cmp(&a.lift)
                .then(b.share_of_affected.total_cmp(&a.share_of_affected))
                .then_with(|| (&a.hint_column, &a.hint_value).cmp(&(&b.hint_column, &b.hint_value)))
        });
        found.truncate(HINTS_PER_FINDING);
        hints.extend(found);
    }
    hints
}

/// `hints` as CSV with [`HINT_HEADER`].
///
/// # Errors
/// Only on a serialisation bug.
pub fn hints_csv(hints: &[Hint]) -> Result<String> {
    crate::to_csv(hints, HINT_HEADER)
}

//! `pathway compare BEFORE AFTER`: did yesterday's change to the new code do what it should?
//!
//! ```text
//! pathway compare runs/example/2026-11-20 runs/example/2026-11-21
//! pathway compare runs/example/2026-11-20 runs/example/2026-11-21 --format csv --fail-on-regression
//! ```
//!
//! The two nights must be of the same audit (exit 2 otherwise, naming both). Lists the (table,
//! district) pairs whose verdict changed (`fixed`: now FULL MATCH; `regressed`: FULL MATCH before,
//! not now; `no_input`: NO INPUT now, not before — the district sent nothing to compare, which
//! says nothing of the code; `input_back`: NO INPUT before, not now; `changed`: different counts
//! or status; `new`, `gone`), the discrepancy patterns that are `new`, `resolved` or touch a
//! different number of districts, and the change in mismatches per column. What each word means
//! is [`pathway_report::district_change`] and [`pathway_report::pattern_change`], which `pathway
//! run --fail-on regression` and the HTML report use too; the patterns and columns are
//! DataFusion SQL over the two runs' CSV files.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use comfy_table::{Table, presets};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use datafusion::prelude::{CsvReadOptions, SessionContext};

use pathway_report::{SummaryRow, district_changes, pattern_change, read_summary_csv};

use crate::ExitStatus;
use crate::cli::{CompareArgs, Format};
use pathway_night::catalog::{categories_schema, column_diff_schema, summary_schema};

const PATTERNS_SQL: &str = "\
WITH b AS (SELECT \"table\", \"column\", category, legacy_value, beta_value, shift_days,
                  count(DISTINCT district_id) AS districts, sum(cells) AS cells
           FROM before_categories GROUP BY 1, 2, 3, 4, 5, 6),
     a AS (SELECT \"table\", \"column\", category, legacy_value, beta_value, shift_days,
                  count(DISTINCT district_id) AS districts, sum(cells) AS cells
           FROM after_categories GROUP BY 1, 2, 3, 4, 5, 6)
SELECT COALESCE(a.\"table\", b.\"table\") AS \"table\", COALESCE(a.\"column\", b.\"column\") AS \"column\",
       COALESCE(a.category, b.category) AS category,
       CASE WHEN COALESCE(a.category, b.category) = 'value_remap'
                 THEN COALESCE(a.legacy_value, b.legacy_value) || ' → ' || COALESCE(a.beta_value, b.beta_value)
            WHEN COALESCE(a.category, b.category) = 'date_shift'
                 THEN CAST(COALESCE(a.shift_days, b.shift_days) AS VARCHAR) || ' day(s)'
            ELSE '' END AS pattern_change,
       b.districts AS before_districts, b.cells AS before_cells,
       a.districts AS after_districts, a.cells AS after_cells,
       COALESCE(b.districts, 0) AS districts_before, COALESCE(a.districts, 0) AS districts_after,
       COALESCE(b.cells, 0) AS cells_before, COALESCE(a.cells, 0) AS cells_after
FROM b FULL OUTER JOIN a
  ON b.\"table\" = a.\"table\" AND b.\"column\" = a.\"column\" AND b.category = a.category
 AND (b.legacy_value IS NOT DISTINCT FROM a.legacy_value) AND (b.beta_value IS NOT DISTINCT FROM a.beta_value)
 AND (b.shift_days IS NOT DISTINCT FROM a.shift_days)
ORDER BY \"table\", \"column\", category, pattern_change";

const COLUMNS_SQL: &str = "\
SELECT \"table\", \"column\", mismatches_before, mismatches_after, mismatches_after - mismatches_before AS delta FROM (
  SELECT COALESCE(a.\"table\", b.\"table\") AS \"table\", COALESCE(a.\"column\", b.\"column\") AS \"column\",
         CAST(COALESCE(b.m, 0) AS BIGINT) AS mismatches_before, CAST(COALESCE(a.m, 0) AS BIGINT) AS mismatches_after
  FROM (SELECT \"table\", \"column\", sum(mismatches) AS m FROM before_column_diff GROUP BY 1, 2) b
  FULL OUTER JOIN (SELECT \"table\", \"column\", sum(mismatches) AS m FROM after_column_diff GROUP BY 1, 2) a
    ON b.\"table\" = a.\"table\" AND b.\"column\" = a.\"column\") AS c
WHERE mismatches_after <> mismatches_before
ORDER BY \"table\", \"column\"";

/// One result set, as text cells (empty for null).
struct Rows {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Rows {
    fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .expect("known column")
    }
}

/// Compare the two runs and print what changed.
///
/// # Errors
/// When a folder is not a run, or a file in it is unreadable.
pub async fn compare(args: CompareArgs) -> anyhow::Result<ExitStatus> {
    let ctx = pathway_diff::reading_session();
    register(&ctx, "before", &args.before).await?;
    register(&ctx, "after", &args.after).await?;
    // A night of another audit has other districts and tables: "fixed" or "new" would mean
    // nothing.
    pathway_night::layout::same_audit(&args.before, &args.after)?;
    let districts = district_rows(
        &read_summary_csv(&args.before.join("summary.csv"))?,
        &read_summary_csv(&args.after.join("summary.csv"))?,
    );
    let patterns = pattern_rows(&run(&ctx, PATTERNS_SQL).await?);
    let columns = run(&ctx, COLUMNS_SQL).await?;

    let change = districts.column("change");
    let count = |what: &str| districts.rows.iter().filter(|r| r[change] == what).count();
    let (fixed, regressed, no_input) = (count("fixed"), count("regressed"), count("no_input"));
    let pattern_change = patterns.column("change");
    let pattern_count = |what: &str| {
        patterns
            .rows
            .iter()
            .filter(|r| r[pattern_change] == what)
            .count()
    };

    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            writeln!(
                stdout,
                "{} → {}: {fixed} fixed, {regressed} regressed, {no_input} now NO INPUT, {} other \
                 district change(s); patterns: {} new, {} resolved, {} changed",
                args.before.display(),
                args.after.display(),
                districts.rows.len() - fixed - regressed - no_input,
                pattern_count("new"),
                pattern_count("resolved"),
                pattern_count("changed"),
            )?;
            for (title, rows) in [
                ("districts", &districts),
                ("patterns", &patterns),
                ("columns", &columns),
            ] {
                if !rows.rows.is_empty() {
                    writeln!(stdout, "{title}:\n{}", table(rows))?;
                }
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record([
                "kind",
                "table",
                "district_id",
                "column",
                "category",
                "change",
                "before",
                "after",
                "delta",
            ])?;
            let d = |n: &str| districts.column(n);
            for r in &districts.rows {
                writer.write_record([
                    "district",
                    &r[d("table")],
                    &r[d("district_id")],
                    "",
                    "",
                    &r[d("change")],
                    &r[d("before")],
                    &r[d("after")],
                    &r[d("changed_rows_delta")],
                ])?;
            }
            let p = |n: &str| patterns.column(n);
            for r in &patterns.rows {
                let category =
                    [r[p("category")].as_str(), r[p("pattern_change")].as_str()].join(" ");
                let before: i64 = r[p("districts_before")].parse().unwrap_or(0);
                let after: i64 = r[p("districts_after")].parse().unwrap_or(0);
                writer.write_record([
                    "pattern",
                    &r[p("table")],
                    "",
                    &r[p("column")],
                    category.trim(),
                    &r[p("change")],
                    &r[p("districts_before")],
                    &r[p("districts_after")],
                    &(after - before).to_string(),
                ])?;
            }
            let c = |n: &str| columns.column(n);
            for r in &columns.rows {
                let delta: i64 = r[c("delta")].parse().unwrap_or(0);
                let change = if delta < 0 { "fewer" } else { "more" };
                writer.write_record([
                    "column",
                    &r[c("table")],
                    "",
                    &r[c("column")],
                    "",
                    change,
                    &r[c("mismatches_before")],
                    &r[c("mismatches_after")],
                    &r[c("delta")],
                ])?;
            }
            stdout.write_all(&writer.into_inner()?)?;
        }
        Format::Json => {
            let json = serde_json::json!({
                "before": args.before.display().to_string(),
                "after": args.after.display().to_string(),
                "fixed": fixed,
                "regressed": regressed,
                "no_input": no_input,
                "districts": objects(&districts),
                "patterns": objects(&patterns),
                "columns": objects(&columns),
            });
            writeln!(stdout, "{}", serde_json::to_string_pretty(&json)?)?;
        }
    }
    Ok(if args.fail_on_regression && regressed > 0 {
        ExitStatus::DiffsFound
    } else {
        ExitStatus::Completed
    })
}

/// The districts whose verdict or counts changed, as [`district_changes`] names them.
fn district_rows(before: &[SummaryRow], after: &[SummaryRow]) -> Rows {
    let header = [
        "table",
        "district_id",
        "change",
        "before",
        "after",
        "changed_rows_delta",
        "missing_delta",
        "extra_delta",
    ];
    // A district absent from a night has no status there: an empty cell, as for any null.
    let status = |row: Option<&SummaryRow>| row.map_or("", |r| r.status.as_str());
    let rows = district_changes(before, after)
        .into_iter()
        .map(|c| {
            vec![
                c.table.clone(),
                c.district_id.clone(),
                c.change.as_str().to_owned(),
                status(c.before.as_ref()).to_owned(),
                status(c.after.as_ref()).to_owned(),
                c.delta(|r| r.changed_rows).to_string(),
                c.delta(|r| r.missing_in_beta).to_string(),
                c.delta(|r| r.extra_in_beta).to_string(),
            ]
        })
        .collect();
    Rows {
        header: header.map(str::to_owned).to_vec(),
        rows,
    }
}

/// The patterns that are new, resolved or changed, as [`pattern_change`] names them, from every
/// pattern of either night (`PATTERNS_SQL`), with the `change` column in place of the four
/// nullable counts it is decided from.
fn pattern_rows(all: &Rows) -> Rows {
    let counts = |row: &[String], districts: &str, cells: &str| -> Option<(u64, u64)> {
        let (d, c) = (&row[all.column(districts)], &row[all.column(cells)]);
        // Null (not seen that night) comes out as an empty cell.
        Some((d.parse().ok()?, c.parse().ok()?))
    };
    let raw = [
        "before_districts",
        "before_cells",
        "after_districts",
        "after_cells",
    ];
    let keep: Vec<usize> = (0..all.header.len())
        .filter(|i| !raw.contains(&all.header[*i].as_str()))
        .collect();
    let at = all.column("districts_before");
    let mut header: Vec<String> = keep.iter().map(|i| all.header[*i].clone()).collect();
    let change_at = keep.iter().position(|i| *i == at).unwrap_or(header.len());
    header.insert(change_at, "change".to_owned());
    let rows = all
        .rows
        .iter()
        .filter_map(|row| {
            let change = pattern_change(
                counts(row, "before_districts", "before_cells"),
                counts(row, "after_districts", "after_cells"),
            )?;
            let mut cells: Vec<String> = keep.iter().map(|i| row[*i].clone()).collect();
            cells.insert(change_at, change.as_str().to_owned());
            Some(cells)
        })
        .collect();
    Rows { header, rows }
}

/// Register one run's summary, column diff and categories as `<prefix>_summary` etc.
async fn register(ctx: &SessionContext, prefix: &str, run: &Path) -> anyhow::Result<()> {
    if !run.join("summary.csv").exists() {
        bail!(
            "`{}` is not a run folder (it has no summary.csv)",
            run.display()
        );
    }
    let files: [(&str, Schema); 3] = [
        ("summary", summary_schema()),
        ("column_diff", column_diff_schema()),
        ("categories", categories_schema()),
    ];
    for (name, schema) in files {
        let path = run.join(format!("{name}.csv"));
        if !path.exists() {
            bail!(
                "`{}` has no {name}.csv: re-run it with this version of pathway",
                run.display()
            );
        }
        // Yesterday's night may predate a column appended since: read it as null.
        let options = CsvReadOptions::new()
            .has_header(true)
            .schema(&schema)
            .file_extension(".csv")
            .truncated_rows(true);
        ctx.register_csv(
            &format!("{prefix}_{name}"),
            &path.display().to_string(),
            options,
        )
        .await
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    }
    Ok(())
}

async fn run(ctx: &SessionContext, sql: &str) -> anyhow::Result<Rows> {
    let frame = ctx.sql(sql).await?;
    let header = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let batches: Vec<RecordBatch> = frame.collect().await?;
    let rows = crate::output::text_rows(&batches, "")?;
    Ok(Rows { header, rows })
}

fn table(rows: &Rows) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_header(rows.header.clone());
    for row in &rows.rows {
        table.add_row(row.clone());
    }
    table
}

fn objects(rows: &Rows) -> Vec<serde_json::Value> {
    rows.rows
        .iter()
        .map(|r| {
            let map = rows
                .header
                .iter()
                .zip(r)
                .map(|(h, v)| {
                    // Counts are numbers; ids and statuses stay text even when they look numeric.
                    let count = h == "delta"
                        || h.ends_with("_delta")
                        || h.ends_with("_before")
                        || h.ends_with("_after");
                    let parsed = if count { v.parse::<i64>().ok() } else { None };
                    let value = parsed.map_or_else(
                        || serde_json::Value::from(v.as_str()),
                        serde_json::Value::from,
                    );
                    (h.clone(), value)
                })
                .collect();
            serde_json::Value::Object(map)
        })
        .collect()
}

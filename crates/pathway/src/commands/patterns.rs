//! `pathway patterns`: discrepancy patterns ranked by how many districts they touch.
//!
//! ```text
//! pathway patterns --run runs/example/2026-11-21
//! pathway patterns --format csv --limit 10
//! ```
//!
//! A pattern is (table, column, category), and for a value remap the legacy → beta pair, for a
//! date shift the number of days. One bug in the new code usually shows up as one pattern in many
//! districts; this is where a team sees that.

use anyhow::bail;

use crate::ExitStatus;
use std::io::Write;

use crate::cli::{Format, PatternsArgs};
use crate::output::write_batches;
use pathway_night::RunFolder;

/// The ranking query over the run's `categories` table (changed cells), and its `summary`
/// (rows missing in beta and extra in beta, in districts that have rows on both sides: a side
/// with no row at all is a status, LEGACY ONLY or BETA ONLY, not a pattern). For row
/// patterns, `cells` counts rows and `example_keys` names districts.
pub(crate) const PATTERNS_SQL: &str = "\
SELECT * FROM (
SELECT \"table\", \"column\", category,
       CASE WHEN category = 'value_remap' THEN legacy_value || ' → ' || beta_value
            WHEN category = 'date_shift' THEN CAST(shift_days AS VARCHAR) || ' day(s)'
            ELSE '' END AS change,
       count(DISTINCT district_id) AS districts,
       sum(cells) AS cells,
       array_to_string(array_slice(array_agg(district_id || ':' || example_key ORDER BY district_id), 1, 3), ', ')
           AS example_keys
FROM categories
GROUP BY \"table\", \"column\", category, legacy_value, beta_value, shift_days
UNION ALL
SELECT \"table\", '' AS \"column\", 'missing_in_beta' AS category, '' AS change,
       count(*) AS districts, sum(missing_in_beta) AS cells,
       array_to_string(array_slice(array_agg(district_id ORDER BY district_id), 1, 3), ', ')
           AS example_keys
FROM summary WHERE missing_in_beta > 0 AND status <> 'LEGACY ONLY'
GROUP BY \"table\"
UNION ALL
SELECT \"table\", '' AS \"column\", 'extra_in_beta' AS category, '' AS change,
       count(*) AS districts, sum(extra_in_beta) AS cells,
       array_to_string(array_slice(array_agg(district_id ORDER BY district_id), 1, 3), ', ')
           AS example_keys
FROM summary WHERE extra_in_beta > 0 AND status <> 'BETA ONLY'
GROUP BY \"table\"
)
ORDER BY districts DESC, cells DESC, \"table\", \"column\", category, change";

/// Print the ranked patterns.
///
/// # Errors
/// An unreadable run, or a run written before categories existed.
pub async fn patterns(args: PatternsArgs, night: &RunFolder) -> anyhow::Result<ExitStatus> {
    let run_dir = &night.dir;
    let ctx = pathway_diff::reading_session();
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let catalog = night.register(&ctx, &masker).await?;
    if !catalog.tables.iter().any(|t| t == "categories") {
        bail!(
            "`{}` has no categories.csv: re-run it with this version of pathway",
            run_dir.display()
        );
    }
    let frame = ctx
        .sql(&format!("{PATTERNS_SQL} LIMIT {}", args.limit))
        .await?;
    let schema = frame.schema().inner().clone();
    let batches = frame.collect().await?;
    let mut stdout = std::io::stdout().lock();
    write_batches(&mut stdout, &schema, &batches, args.format)?;
    if args.format == Format::Table {
        let lines = hint_lines(&ctx, &catalog, &batches).await?;
        if !lines.is_empty() {
            writeln!(stdout, "Where they concentrate (pathway explain):")?;
            for line in lines {
                writeln!(stdout, "  {line}")?;
            }
        }
    }
    Ok(ExitStatus::Completed)
}

/// Under the patterns, the hints of each pattern's finding (its column's changed rows, or its
/// missing or extra rows) in the districts that have any, the best of each district first.
async fn hint_lines(
    ctx: &datafusion::prelude::SessionContext,
    catalog: &pathway_night::catalog::RunCatalog,
    patterns: &[datafusion::arrow::array::RecordBatch],
) -> anyhow::Result<Vec<String>> {
    let hints = catalog.hints(ctx, None, None).await?;
    let mut lines = Vec::new();
    let mut seen = Vec::new();
    for row in crate::output::text_rows(patterns, "")? {
        let (table, column, category) = (&row[0], &row[1], &row[2]);
        let finding = match category.as_str() {
            "missing_in_beta" | "extra_in_beta" => category.as_str(),
            _ => "changed",
        };
        let key = (table.clone(), finding.to_owned(), column.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        for h in hints
            .iter()
            .filter(|h| &h.table == table && h.finding == finding && &h.column == column)
        {
            let what = if column.is_empty() {
                format!("{table} {finding}")
            } else {
                format!("{table}.{column} changed")
            };
            lines.push(format!(
                "{what} in {}: {} = {} on {:.0}% of {} rows ({:.0}% of the district, {:.2}×)",
                h.district_id,
                h.hint_column,
                h.hint_value,
                h.share_of_affected * 100.0,
                h.affected_rows,
                h.share_of_district * 100.0,
                h.lift
            ));
        }
    }
    Ok(lines)
}

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
use crate::cli::PatternsArgs;
use crate::output::write_batches;
use pathway_night::catalog::{latest_run, register_run};

/// The ranking query over the run's `categories` table.
pub(crate) const PATTERNS_SQL: &str = "\
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
ORDER BY districts DESC, cells DESC, \"table\", \"column\", category, change";

/// Print the ranked patterns.
///
/// # Errors
/// An unreadable run, or a run written before categories existed.
pub async fn patterns(args: PatternsArgs) -> anyhow::Result<ExitStatus> {
    let run_dir = match &args.run {
        Some(run) => run.clone(),
        None => latest_run(&args.out)?,
    };
    let ctx = pathway_diff::reading_session();
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let catalog = register_run(&ctx, &run_dir, &masker).await?;
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
    Ok(ExitStatus::Completed)
}

//! `pathway explain`: where each district's differences concentrate.
//!
//! ```text
//! pathway explain --table students --district 146
//! pathway explain --run runs/example/2026-11-21 --format csv > hints.csv
//! ```
//!
//! For each finding (the rows changed in one column, the rows missing in beta, the rows extra
//! in beta) of each district, the values of the table's other low-cardinality columns that are
//! over-represented among the affected rows compared with the district's rows: "8 of 8 changed
//! `last_name` rows are in school 0102, which holds half the district". Personal columns show
//! their masked values.

use std::io::Write;

use anyhow::bail;
use comfy_table::{Cell, CellAlignment, Table, presets};
use pathway_profile::{Hint, hints_csv};

use crate::ExitStatus;
use crate::cli::{ExplainArgs, Format};
use pathway_night::RunFolder;

/// Print the hints the arguments select.
///
/// # Errors
/// An unknown table, or an unreadable run.
pub async fn explain(args: ExplainArgs, night: &RunFolder) -> anyhow::Result<ExitStatus> {
    let run_dir = &night.dir;
    let ctx = pathway_diff::reading_session();
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let catalog = night.register(&ctx, &masker).await?;
    if let Some(table) = &args.table
        && !catalog.info.iter().any(|t| &t.name == table)
    {
        let names: Vec<&str> = catalog.info.iter().map(|t| t.name.as_str()).collect();
        bail!(
            "table `{table}` is not in run `{}` (tables: {})",
            run_dir.display(),
            names.join(", ")
        );
    }
    let hints = catalog
        .hints(&ctx, args.table.as_deref(), args.district.as_deref())
        .await?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Table if hints.is_empty() => writeln!(
            stdout,
            "No finding concentrates on a value of another column (a hint needs {} affected \
             rows, {} of them sharing a value {:.1}× as frequent as in the district).",
            pathway_profile::MIN_AFFECTED_ROWS,
            pathway_profile::MIN_SUPPORT,
            pathway_profile::MIN_LIFT
        )?,
        Format::Table => writeln!(stdout, "{}", hints_table(&hints))?,
        Format::Csv => stdout.write_all(hints_csv(&hints)?.as_bytes())?,
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&hints)?)?,
    }
    Ok(ExitStatus::Completed)
}

/// One line per hint; shares in percent.
fn hints_table(hints: &[Hint]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_header(vec![
            "table",
            "district",
            "finding",
            "column",
            "affected",
            "hint",
            "of affected",
            "of district",
            "lift",
        ]);
    let right = |text: String| Cell::new(text).set_alignment(CellAlignment::Right);
    for h in hints {
        table.add_row(vec![
            Cell::new(&h.table),
            Cell::new(&h.district_id),
            Cell::new(&h.finding),
            Cell::new(&h.column),
            right(h.affected_rows.to_string()),
            Cell::new(format!("{} = {}", h.hint_column, h.hint_value)),
            right(format!("{:.1}%", h.share_of_affected * 100.0)),
            right(format!("{:.1}%", h.share_of_district * 100.0)),
            right(format!("{:.2}×", h.lift)),
        ]);
    }
    table
}

//! `pathway profile`: each column's profile on both sides, and the delta.
//!
//! ```text
//! pathway profile --table students --district 101
//! pathway profile --run runs/example/2026-11-21 --format csv > profile.csv
//! pathway profile --run diff-out            # the folder of `pathway diff --out`
//! ```
//!
//! Reads the night's profile.parquet (written by `pathway run` and `pathway diff --out`): one
//! line per measure, the columns whose measures moved the most (relative to their values)
//! first. Personal columns have counts only.

use std::io::Write;

use anyhow::bail;
use comfy_table::{Cell, CellAlignment, Table, presets};
use pathway_profile::{ProfileRow, profile_csv, ranked, read_profile_parquet};

use crate::ExitStatus;
use crate::cli::{Format, ProfileArgs};
use pathway_night::RunFolder;

/// Print the profile lines the arguments select.
///
/// # Errors
/// A run without profile.parquet, an unknown table or district.
pub fn profile(args: &ProfileArgs, night: &RunFolder) -> anyhow::Result<ExitStatus> {
    let run_dir = &night.dir;
    let path = run_dir.join("profile.parquet");
    if !path.exists() {
        bail!(
            "`{}` has no profile.parquet: it was written by a pathway older than profiles, or \
             by `pathway diff` without --out",
            run_dir.display()
        );
    }
    let all = read_profile_parquet(&path)?;
    if let Some(table) = &args.table
        && !all.iter().any(|r| &r.table == table)
    {
        let mut tables: Vec<&str> = all.iter().map(|r| r.table.as_str()).collect();
        tables.dedup();
        bail!(
            "table `{table}` has no profile in `{}` (tables: {})",
            run_dir.display(),
            if tables.is_empty() {
                "none: the run was made with --no-profile".to_owned()
            } else {
                tables.join(", ")
            }
        );
    }
    let selected: Vec<ProfileRow> = all
        .into_iter()
        .filter(|r| args.table.as_ref().is_none_or(|t| &r.table == t))
        .filter(|r| args.district.as_ref().is_none_or(|d| &r.district_id == d))
        .collect();
    if let Some(district) = &args.district
        && selected.is_empty()
    {
        bail!(
            "district `{district}` has no profile in `{}`",
            run_dir.display()
        );
    }
    let rows = ranked(selected);
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Table => writeln!(stdout, "{}", profile_table(&rows))?,
        Format::Csv => stdout.write_all(profile_csv(&rows)?.as_bytes())?,
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&rows)?)?,
    }
    Ok(ExitStatus::Completed)
}

/// The lines as a terminal table; a column's lines after its first leave the table, district
/// and column cells empty, so each column reads as one block.
fn profile_table(rows: &[ProfileRow]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_header(vec![
            "table", "district", "column", "measure", "legacy", "beta", "delta",
        ]);
    let mut previous: Option<(&str, &str, &str)> = None;
    for row in rows {
        let block = (
            row.table.as_str(),
            row.district_id.as_str(),
            row.column.as_str(),
        );
        let first = previous != Some(block);
        previous = Some(block);
        let shown = |text: &str| {
            if first {
                text.to_owned()
            } else {
                String::new()
            }
        };
        let value = |v: &Option<String>| v.clone().unwrap_or_default();
        table.add_row(vec![
            Cell::new(shown(&row.table)),
            Cell::new(shown(&row.district_id)),
            Cell::new(shown(&row.column)),
            Cell::new(&row.measure),
            Cell::new(value(&row.legacy)).set_alignment(CellAlignment::Right),
            Cell::new(value(&row.beta)).set_alignment(CellAlignment::Right),
            Cell::new(value(&row.delta)).set_alignment(CellAlignment::Right),
        ]);
    }
    table
}

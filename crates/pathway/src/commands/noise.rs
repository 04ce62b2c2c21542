//! `pathway noise AUDIT --input DIR`: what differs when the legacy side runs twice?
//!
//! ```text
//! pathway noise audits/example --input fixtures/districts
//! ```
//!
//! Load timestamps, generated ids and unordered picks differ between two runs of the *same* code,
//! so they would show up as discrepancies every night. This runs every table's legacy transform
//! twice per district on the same input, diffs the two outputs with the audit's keys, and lists
//! the columns that differed, with the `ignore = [...]` line to add to audit.toml.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use comfy_table::{Table, presets};
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::ParquetReadOptions;
use pathway_audit::{AuditSpec, Side};
use pathway_diff::{DiffSpec, diff_tables};
use pathway_input::{list_districts, read_district};
use pathway_transform::run_district;
use serde::Serialize;

use crate::ExitStatus;
use crate::cli::{Format, NoiseArgs};

/// One column that differed between two legacy runs.
#[derive(Debug, Serialize)]
struct NoisyColumn {
    table: String,
    column: String,
    districts: u64,
    cells: u64,
}

/// Run the legacy side twice and report the columns that are not reproducible.
///
/// # Errors
/// A bad audit or unreadable input.
pub async fn noise(args: NoiseArgs) -> anyhow::Result<ExitStatus> {
    let mut audit = AuditSpec::load(&args.audit)?;
    // "Beta" is the legacy transform again: any difference is the legacy side's own noise.
    for table in &mut audit.tables {
        table.beta = table.legacy.clone();
    }
    let list = list_districts(&args.input).with_context(|| {
        format!(
            "audit `{}`: cannot list the district folders of the input",
            audit.name
        )
    })?;
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let databases = pathway_night::pipeline::connect_database_sides(&audit).await;
    let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
    let reads = pathway_transform::TableInputs::of(&audit);
    let mut failed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for district in &list.districts {
        let input = match read_district(&audit, &args.input, district, &masker) {
            Ok(input) => input,
            Err(e) => {
                tracing::warn!("warning: district {district}: {e}");
                continue;
            }
        };
        for outcome in run_district(
            &audit,
            &reads,
            &input,
            scratch.path(),
            &databases,
            &std::collections::BTreeSet::default(),
        )
        .await
        {
            if let Err(e) = outcome.result {
                tracing::warn!(
                    "warning: table `{}`, district {district}: {}",
                    outcome.table,
                    e.to_string().lines().next().unwrap_or("")
                );
                failed
                    .entry(outcome.table)
                    .or_default()
                    .push(district.clone());
            }
        }
    }

    let ctx = pathway_diff::reading_session();
    let mut noisy = Vec::new();
    for table in &audit.tables {
        let mut names = Vec::new();
        for side in Side::BOTH {
            let dir = scratch.path().join(side.as_str()).join(&table.name);
            if !dir.exists() {
                continue;
            }
            let name = format!("{side}_{}", table.name);
            let options = ParquetReadOptions::default()
                .table_partition_cols(vec![("district_id".to_owned(), DataType::Utf8)]);
            ctx.register_parquet(&name, &format!("{}/", dir.display()), options)
                .await?;
            names.push(name);
        }
        if names.len() < 2 {
            continue;
        }
        let spec = DiffSpec::new(table.name.clone(), table.key.clone())
            .with_group_by(Some("district_id".into()))
            .with_exclude_groups(failed.get(&table.name).cloned().unwrap_or_default());
        let diff = diff_tables(
            &ctx,
            &names[0],
            &names[1],
            &spec,
            &scratch.path().join("row_diff").join(&table.name),
        )
        .await?;
        let mut columns: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for group in &diff.groups {
            for c in &group.columns {
                let entry = columns.entry(c.column.clone()).or_default();
                entry.0 += 1;
                entry.1 += c.mismatches;
            }
        }
        noisy.extend(
            columns
                .into_iter()
                .map(|(column, (districts, cells))| NoisyColumn {
                    table: table.name.clone(),
                    column,
                    districts,
                    cells,
                }),
        );
    }

    print_noisy(&noisy, args.format)?;
    Ok(ExitStatus::Completed)
}

/// Print the columns that differed between two runs of the legacy side, as `format`.
fn print_noisy(noisy: &[NoisyColumn], format: Format) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match format {
        Format::Table => {
            if noisy.is_empty() {
                writeln!(
                    stdout,
                    "the legacy side is reproducible: two runs on the same input gave the same rows"
                )?;
            } else {
                let mut table = Table::new();
                table.load_preset(presets::UTF8_FULL_CONDENSED).set_header([
                    "table",
                    "column",
                    "districts",
                    "cells",
                ]);
                for n in noisy {
                    table.add_row(vec![
                        n.table.clone(),
                        n.column.clone(),
                        n.districts.to_string(),
                        n.cells.to_string(),
                    ]);
                }
                writeln!(stdout, "{table}")?;
                let mut by_table: BTreeMap<&str, Vec<String>> = BTreeMap::new();
                for n in noisy {
                    by_table
                        .entry(&n.table)
                        .or_default()
                        .push(format!("\"{}\"", n.column));
                }
                for (table, columns) in by_table {
                    writeln!(
                        stdout,
                        "to ignore in audit.toml: [tables.{table}] ignore = [{}]",
                        columns.join(", ")
                    )?;
                }
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for n in noisy {
                writer.serialize(n)?;
            }
            if noisy.is_empty() {
                writer.write_record(["table", "column", "districts", "cells"])?;
            }
            stdout.write_all(&writer.into_inner()?)?;
        }
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&noisy)?)?,
    }
    Ok(())
}

//! `pathway history --out runs`: FULL MATCH districts per night and table.
//!
//! ```text
//! pathway history --out runs --format csv
//! ```

use std::io::Write;

use anyhow::Context;
use pathway_report::{full_match_counts, history_table, read_history};

use crate::ExitStatus;
use crate::cli::{Format, HistoryArgs};

/// Print the FULL MATCH counts from `<out>/history.csv`.
///
/// # Errors
/// When history.csv is unreadable or malformed.
pub fn history(args: &HistoryArgs) -> anyhow::Result<ExitStatus> {
    if args.metrics {
        return metrics(args);
    }
    let path = args.out.join("history.csv");
    let mut rows = read_history(&path)
        .with_context(|| format!("failed to read the history in `{}`", args.out.display()))?;
    if let Some(audit) = &args.audit {
        rows.retain(|r| &r.audit == audit);
    }
    let counts = full_match_counts(&rows);
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            if counts.is_empty() {
                writeln!(stdout, "no runs recorded in {}", path.display())?;
            } else {
                writeln!(stdout, "{}", history_table(&counts))?;
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record([
                "audit_date",
                "audit",
                "table",
                "districts",
                "full_match",
                "mismatch",
                "legacy_only",
                "beta_only",
                "error",
                "accepted",
                "no_input",
            ])?;
            for c in &counts {
                writer.serialize((
                    &c.audit_date,
                    &c.audit,
                    &c.table,
                    c.districts,
                    c.full_match,
                    c.mismatch,
                    c.legacy_only,
                    c.beta_only,
                    c.error,
                    c.accepted,
                    c.no_input,
                ))?;
            }
            stdout.write_all(&writer.into_inner()?)?;
        }
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&counts)?)?,
    }
    Ok(ExitStatus::Completed)
}

/// Per night: the run's time, rows and peak memory, from `<out>/metrics.csv`.
fn metrics(args: &HistoryArgs) -> anyhow::Result<ExitStatus> {
    let path = args.out.join("metrics.csv");
    let mut rows: Vec<pathway_report::MetricRow> = Vec::new();
    if path.exists() {
        let mut reader = csv::Reader::from_path(&path)?;
        for row in reader.deserialize() {
            let row: pathway_report::MetricRow =
                row.with_context(|| format!("`{}` is malformed", path.display()))?;
            if row.side == "run" && args.audit.as_ref().is_none_or(|a| *a == row.audit) {
                rows.push(row);
            }
        }
    }
    rows.sort_by(|a, b| (&a.audit_date, &a.audit).cmp(&(&b.audit_date, &b.audit)));
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            let mut table = comfy_table::Table::new();
            table
                .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_header([
                    "date",
                    "audit",
                    "seconds",
                    "rows read",
                    "rows rejected",
                    "rows written",
                    "rows/s",
                    "peak MiB",
                ]);
            for r in &rows {
                #[allow(clippy::cast_precision_loss)]
                let rate = if r.seconds > 0.0 {
                    (r.rows_written as f64 / r.seconds).round()
                } else {
                    0.0
                };
                table.add_row(vec![
                    r.audit_date.clone(),
                    r.audit.clone(),
                    format!("{:.2}", r.seconds),
                    r.rows_read.to_string(),
                    r.rows_rejected.to_string(),
                    r.rows_written.to_string(),
                    format!("{rate}"),
                    r.peak_rss_mib.map(|m| m.to_string()).unwrap_or_default(),
                ]);
            }
            writeln!(stdout, "{table}")?;
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for r in &rows {
                writer.serialize(r)?;
            }
            stdout.write_all(&writer.into_inner()?)?;
        }
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&rows)?)?,
    }
    Ok(ExitStatus::Completed)
}

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
                ))?;
            }
            stdout.write_all(&writer.into_inner()?)?;
        }
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&counts)?)?,
    }
    Ok(ExitStatus::Completed)
}

//! `pathway history --out runs`: FULL MATCH districts per night and table, of every audit whose
//! folder is in `runs` (or of the one `--audit` names).
//!
//! ```text
//! pathway history --out runs --format csv
//! pathway history --out runs --audit oneroster
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use pathway_report::{full_match_counts, history_table, read_history};

use crate::ExitStatus;
use crate::cli::{Format, HistoryArgs};

/// The `file` (history.csv or metrics.csv) of every audit of `out`: in each audit's folder, and
/// `out`'s own (a folder of the earlier layout, or an audit's folder given as `--out`).
fn files(out: &Path, file: &str) -> Vec<PathBuf> {
    std::iter::once(out.join(file))
        .chain(
            pathway_night::layout::audit_folders(out)
                .iter()
                .map(|a| pathway_night::layout::audit_folder(out, a).join(file)),
        )
        .filter(|p| p.is_file())
        .collect()
}

/// Keep the rows of `--audit`, which must be one of the audits the files hold.
fn only_audit<T>(
    args: &HistoryArgs,
    rows: &mut Vec<T>,
    audit_of: impl Fn(&T) -> &str,
) -> anyhow::Result<()> {
    let Some(wanted) = &args.audit else {
        return Ok(());
    };
    let mut audits: Vec<String> = rows.iter().map(|r| audit_of(r).to_owned()).collect();
    audits.extend(pathway_night::layout::audit_folders(&args.out));
    audits.sort();
    audits.dedup();
    if !audits.is_empty() && !audits.contains(wanted) {
        pathway_night::layout::pick_audit(&args.out.display().to_string(), &audits, Some(wanted))?;
    }
    rows.retain(|r| audit_of(r) == wanted);
    Ok(())
}

/// Print the FULL MATCH counts from the audits' history.csv.
///
/// # Errors
/// When a history.csv is unreadable or malformed, or `--audit` names an audit the output folder
/// has no history of.
pub fn history(args: &HistoryArgs) -> anyhow::Result<ExitStatus> {
    if args.metrics {
        return metrics(args);
    }
    let paths = files(&args.out, "history.csv");
    let mut rows = Vec::new();
    for path in &paths {
        rows.extend(
            read_history(path)
                .with_context(|| format!("failed to read the history `{}`", path.display()))?,
        );
    }
    only_audit(args, &mut rows, |r| r.audit.as_str())?;
    let counts = full_match_counts(&rows);
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            if counts.is_empty() {
                writeln!(stdout, "no runs recorded in {}", args.out.display())?;
            } else {
                writeln!(stdout, "{}", history_table(&counts))?;
            }
        }
        Format::Csv => {
            // HistoryCount's fields, in order: the header is its serialisation's.
            let mut writer = csv::Writer::from_writer(Vec::new());
            for c in &counts {
                writer.serialize(c)?;
            }
            let text = writer.into_inner()?;
            if counts.is_empty() {
                stdout.write_all(HISTORY_HEADER.as_bytes())?;
            } else {
                stdout.write_all(&text)?;
            }
        }
        Format::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&counts)?)?,
    }
    Ok(ExitStatus::Completed)
}

/// The header of `pathway history --format csv` when there is no row to serialise.
const HISTORY_HEADER: &str = "audit_date,audit,table,districts,full_match,mismatch,legacy_only,beta_only,error,accepted,no_input,match_pct\n";

/// Per night: the run's time, rows and peak memory, from the audits' metrics.csv.
fn metrics(args: &HistoryArgs) -> anyhow::Result<ExitStatus> {
    let mut rows: Vec<pathway_report::MetricRow> = Vec::new();
    for path in files(&args.out, "metrics.csv") {
        rows.extend(
            pathway_night::layout::read_metrics(&path)?
                .into_iter()
                .filter(|r| r.side == "run"),
        );
    }
    only_audit(args, &mut rows, |r| r.audit.as_str())?;
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

//! `pathway report --out runs --html report.html`: the team's dashboard for a run.
//!
//! ```text
//! pathway report --out runs --html report.html
//! pathway report --out runs --audit oneroster --html oneroster.html
//! pathway report --run runs/example/2026-11-21 --html /srv/www/pathway.html
//! ```
//!
//! One self-contained HTML file (inline CSS, SVG and JS; nothing fetched) about one night of one
//! audit: the FULL MATCH trend from the audit's history.csv, districts × tables colored by status
//! linking to each district's counts and a few masked differing rows, the top discrepancy
//! patterns, and what changed since the audit's previous night (in the words of `pathway
//! compare`, from the same definition).

use pathway_night::NightDate;
use std::collections::BTreeMap;

use pathway_diff::Status;
use pathway_diff::plan::{ident, literal};
use pathway_report::{
    DistrictChangeRow, HtmlReport, TextTable, atomic_write, district_changes, full_match_counts,
    read_history, read_summary_csv, render_html,
};

use crate::ExitStatus;
use crate::cli::ReportArgs;
use crate::output::text_rows;
use pathway_night::RunFolder;
use pathway_night::layout::{audit_of_night, same_audit};

/// Differing rows shown per district.
const EXAMPLE_ROWS: usize = 5;

/// Write the HTML page.
///
/// # Errors
/// An unreadable run or an unwritable --html path.
pub async fn report(args: ReportArgs, night: &RunFolder) -> anyhow::Result<ExitStatus> {
    let run_dir = &night.dir;
    // A folder that is not a night says so here.
    let audit = match &night.audit {
        Some(audit) => audit.clone(),
        None => audit_of_night(run_dir)?,
    };
    let ctx = pathway_diff::reading_session();
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let catalog = night.register(&ctx, &masker).await?;
    let summary = read_summary_csv(&run_dir.join("summary.csv"))?;
    let audit_date = summary
        .first()
        .map(|r| r.audit_date.clone())
        .unwrap_or_default();

    // The audit's own history and nights: those of another audit say nothing of this one.
    let mut history = match &night.nights {
        Some(nights) => read_history(&nights.join("history.csv"))?,
        None => Vec::new(),
    };
    history.retain(|r| r.audit == audit);
    let history = full_match_counts(&history);

    let patterns = if catalog.tables.iter().any(|t| t == "categories") {
        let frame = ctx
            .sql(&format!("{} LIMIT 10", super::patterns::PATTERNS_SQL))
            .await?;
        let header = frame
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        TextTable {
            header,
            rows: text_rows(&frame.collect().await?, "")?,
        }
    } else {
        TextTable::default()
    };

    // The audit's previous night, for fixed / regressed, named as `pathway compare` names them.
    let previous = NightDate::parse(&audit_date)
        .ok()
        .and_then(|date| night.previous(&date));
    let mut changes = Vec::new();
    if let Some(previous) = &previous {
        same_audit(previous, run_dir)?;
        let before = read_summary_csv(&previous.join("summary.csv"))?;
        // A verdict that changed; counts alone are for `pathway compare`.
        changes = district_changes(&before, &summary)
            .into_iter()
            .filter(DistrictChangeRow::verdict_changed)
            .collect();
    }
    let previous_date = previous
        .as_deref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());

    let mut examples = BTreeMap::new();
    for row in summary.iter().filter(|r| r.status != Status::FullMatch) {
        let view = format!("row_diff_{}", row.table);
        let Some(info) = catalog.info.iter().find(|t| t.name == row.table) else {
            continue;
        };
        if !catalog.tables.contains(&view) || info.key.is_empty() {
            continue;
        }
        let mut select: Vec<String> = info.key.iter().map(|k| ident(k)).collect();
        select.extend(["\"diff\"".to_owned(), "\"side\"".to_owned()]);
        for column in row
            .changed_columns
            .split(';')
            .filter(|c| info.compared_columns.iter().any(|x| x == c))
        {
            select.push(ident(&format!("legacy_{column}")));
            select.push(ident(&format!("beta_{column}")));
        }
        // Ties broken by side and values: rows under one duplicated key come in no order of
        // their own, and the same night must show the same samples whoever wrote its row diff.
        let mut order = vec!["\"diff\"".to_owned()];
        order.extend(info.key.iter().map(|k| ident(k)));
        order.push("\"side\"".to_owned());
        order.extend(select[info.key.len() + 2..].iter().cloned());
        let sql = format!(
            "SELECT {} FROM {} WHERE \"district_id\" = {} ORDER BY {} LIMIT {EXAMPLE_ROWS}",
            select.join(", "),
            ident(&view),
            literal(&row.district_id),
            order.join(", ")
        );
        let frame = ctx.sql(&sql).await?;
        let header = frame
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let rows = text_rows(&frame.collect().await?, "NULL")?;
        if !rows.is_empty() {
            examples.insert(
                (row.table.clone(), row.district_id.clone()),
                TextTable { header, rows },
            );
        }
    }

    // Where each district's differences concentrate, and how its columns moved.
    let hints = catalog.hints(&ctx, None, None).await?;
    let profile = pathway_profile::read_profile_parquet(&run_dir.join("profile.parquet"))?;

    let page = render_html(&HtmlReport {
        hints,
        profile,
        unread_files: catalog.unread_files.clone(),
        key_warnings: catalog.key_warnings.clone(),
        audit,
        audit_date,
        summary,
        history,
        patterns,
        changes,
        previous_date,
        examples,
    });
    atomic_write(&args.html, page.as_bytes())?;
    eprintln!("wrote {}", args.html.display());
    Ok(ExitStatus::Completed)
}

//! `pathway run AUDIT --input DIR --out DIR --date YYYY-MM-DD`: the nightly audit.
//!
//! ```text
//! pathway run audits/example --input fixtures/districts --out runs --date 2026-11-21
//! pathway run audits/sis-db --publish postgres://bi@reports/warehouse?schema=pathway
//! ```
//!
//! Prints districts per status and the districts that are not a FULL MATCH; exits 0 when every
//! district was audited, 3 when some are ERROR or NO INPUT, 2 when the audit could not run.

use pathway_night::NightDate;
use std::io::Write;

use clap::ValueEnum;
use pathway_diff::Status;
use pathway_report::{mismatch_table, status_table};

use crate::ExitStatus;
use crate::cli::{FailOn, OnlyDistricts, RunArgs};
use pathway_night::pipeline::reuse::ReuseMode;
use pathway_night::pipeline::{RunSettings, execute};
use pathway_night::storage::{Audits, OutFolder, Scratch, local_folder};

/// `pathway check`'s work, before any district runs: a column name of the audit that no column
/// has stops the run here (exit 2) instead of failing or silently doing nothing in every
/// district; a transform that does not plan against the checked district is said once, with
/// DataFusion's hint (the districts where it fails are ERROR, the others run).
async fn check_before_running(
    audit_dir: &std::path::Path,
    input: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let audit = pathway_audit::AuditSpec::load(audit_dir)?;
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let found = pathway_night::check::check_audit(&audit, input, &masker).await?;
    let errors: Vec<&str> = found.audit_errors().collect();
    if !errors.is_empty() {
        anyhow::bail!(
            "audit `{}`: nothing was run, every district would fail:\n{}",
            audit.name,
            errors
                .iter()
                .map(|e| format!("  - {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    for failure in found.plan_failures() {
        eprintln!("warning: audit `{}`: {failure}", audit.name);
    }
    for doubt in &found.doubtful {
        eprintln!(
            "warning: audit `{}`: {doubt} (fine if another version of the export has it)",
            audit.name
        );
    }
    if !found.unknown.is_empty() {
        anyhow::bail!(
            "audit `{}`: {} column name(s) match no column; nothing was run (`pathway check {}{}` checks without running):\n{}",
            audit.name,
            found.unknown.len(),
            audit_dir.display(),
            input
                .map(|i| format!(" --input {}", i.display()))
                .unwrap_or_default(),
            found
                .unknown
                .iter()
                .map(|u| format!("  - {u}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(())
}

/// Run the audit and print its summary.
///
/// # Errors
/// When the run cannot happen at all (exit code 2).
pub async fn run(args: RunArgs, scratch: &Scratch) -> anyhow::Result<ExitStatus> {
    let fail_on = args.fail_on.clone();
    let date = args.date.clone().unwrap_or_else(NightDate::today);
    // s3:// folders: the audit and the night are fetched; the output is a local working copy
    // holding history.csv, metrics.csv and the previous night, uploaded when the run is done.
    let audit_dir = local_folder(&args.audit, scratch).await?;
    let input = match &args.input {
        Some(input) => Some(local_folder(input, scratch).await?),
        None => None,
    };
    check_before_running(&audit_dir, input.as_deref()).await?;
    // The audit's name is its folder in the output folder: known before anything is fetched.
    let audit_name = pathway_audit::AuditSpec::load(&audit_dir)?.name;
    pathway_night::layout::check_audit_name(&audit_name)?;
    let out_folder = OutFolder::open(
        &args.out,
        scratch,
        Audits::Of(&audit_name),
        OutFolder::for_run(date.clone()),
    )
    .await?;
    let out = out_folder.local.clone();
    // Checked before the night runs, so a typo does not cost a whole run.
    if let Some(url) = &args.publish {
        pathway_db::DatabaseUrl::parse(url)?;
    }
    pathway_input::DecompressedLimit::from_env().map_err(anyhow::Error::msg)?;
    let settings = RunSettings {
        audit_dir,
        input,
        out: out.clone(),
        date: date.clone(),
        audit_label: args.audit.display().to_string(),
        input_label: args.input.as_ref().map(|i| i.display().to_string()),
        masker: pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?,
        engine: args.engine.settings(),
        reuse: match (args.only, args.no_reuse) {
            (Some(OnlyDistricts::Mismatched), _) => ReuseMode::OnlyMismatched,
            (None, true) => ReuseMode::Off,
            (None, false) => ReuseMode::Unchanged,
        },
        jobs: args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            usize::from,
        ),
        progress_bar: crate::logging::progress_bar_wanted(),
        profile: !args.no_profile,
    };
    let result = execute(&settings).await?;
    let report = &result.report;
    out_folder
        .publish_night(&report.audit, date.as_str())
        .await?;
    let shown_run_dir = pathway_night::layout::audit_folder(&args.out, &report.audit).join(&date);
    if let Some(url) = &args.publish {
        pathway_night::warehouse::publish_night(url, &result.nights, report).await?;
    }

    let mut stdout = std::io::stdout().lock();
    let reused = match report.reused_districts.len() {
        0 => String::new(),
        n => format!(" ({n} reused from the previous run)"),
    };
    writeln!(
        stdout,
        "audit {} · night {} · {} districts{reused} · {} tables → {}",
        report.audit,
        report.audit_date,
        report.districts.len(),
        report.schema_diff.len(),
        shown_run_dir.display()
    )?;
    writeln!(stdout, "{}", status_table(&report.summary))?;
    if report.summary.iter().any(|r| r.status != Status::FullMatch) {
        writeln!(stdout, "{}", mismatch_table(&report.summary))?;
    }
    for warning in &report.warnings {
        writeln!(stdout, "warning: {warning}")?;
    }
    for line in pathway_report::rule_hidden_lines(&report.rule_hidden) {
        writeln!(stdout, "{line}")?;
    }
    if report.rows_rejected > 0 {
        writeln!(
            stdout,
            "{} input rows rejected: see {}",
            report.rows_rejected,
            shown_run_dir.join("validation_errors.parquet").display()
        )?;
    }
    let any = |status: Status| report.summary.iter().any(|r| r.status == status);
    let (errored, no_input) = (any(Status::Error), any(Status::NoInput));
    let mut failed = Vec::new();
    for condition in &fail_on {
        let hit = match condition {
            FailOn::Error => errored,
            FailOn::NoInput => no_input,
            FailOn::Mismatch => report
                .summary
                .iter()
                .any(|r| r.status != Status::FullMatch && r.status != Status::Accepted),
            FailOn::Regression => {
                !pathway_night::layout::regressions(&result.nights, &date, report)?.is_empty()
            }
        };
        if hit {
            failed.push(
                condition
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_owned()),
            );
        }
    }
    if !failed.is_empty() {
        eprintln!("failing the run (--fail-on): {}", failed.join(", "));
        return Ok(ExitStatus::DiffsFound);
    }
    // A district that could not be compared, for an error or for want of input, was not
    // audited: the run did not do all it should have.
    Ok(if errored || no_input {
        ExitStatus::DistrictErrors
    } else {
        ExitStatus::Completed
    })
}

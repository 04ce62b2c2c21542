//! The nightly audit, end to end, as a sequence of named stages:
//!
//! 1. [`open`]: load and check the audit, connect its databases, list the districts, lock the
//!    audit's folder and start a staging folder;
//! 2. [`carry`]: keep the previous night's results of the districts whose input and audit did
//!    not change;
//! 3. [`transform`]: read and transform the others, side by side within the memory budget, and
//!    account for every file and row ([`ledger`]);
//! 4. [`diff`]: diff each table per district and summarise it;
//! 5. assemble summary.json's report, and [`publish`] the night.
//!
//! Each audit has its own folder in `<out>` (see [`crate::layout`]). Everything is written into a
//! staging folder below `<out>/<audit>/` first and published as `<out>/<audit>/<date>/` with a
//! rename, then that audit's `history.csv` is replaced atomically, so an interrupted run never
//! leaves a half-written night behind, and no run of one audit touches another audit's nights.

mod accepted;
mod budget;
mod carry;
mod databases;
mod diff;
mod ledger;
mod lock;
mod open;
mod publish;
pub mod reuse;
mod transform;
mod validation;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use pathway_diff::Status;
use pathway_report::{MetricRow, RunReport, atomic_write, update_history};

use carry::Carried;
use diff::TableResults;
use ledger::Ledger;
use open::OpenNight;

pub use databases::connect_sides as connect_database_sides;
pub use lock::RunLock;
pub use publish::{publish, recover};

/// What `pathway run` was asked to do, resolved and validated.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Audit folder.
    pub audit_dir: PathBuf,
    /// Input folder (one sub-folder per district); `None` for an audit read from databases only,
    /// whose districts are the ones the databases hold.
    pub input: Option<PathBuf>,
    /// Output folder, shared by every audit: this audit's nights go to `<out>/<audit>/`.
    pub out: PathBuf,
    /// The audit folder as the user named it (an `s3://` URL is fetched into `audit_dir`).
    pub audit_label: String,
    /// The input as the user named it.
    pub input_label: Option<String>,
    /// Night audited.
    pub date: crate::NightDate,
    /// How personal values are shown in reports.
    pub masker: pathway_mask::Masker,
    /// Memory pool, spilling and triage of the diff.
    pub engine: pathway_diff::EngineSettings,
    /// Which districts may be carried over from the previous run.
    pub reuse: reuse::ReuseMode,
    /// Districts read and transformed at the same time.
    pub jobs: usize,
    /// Draw a progress bar (a terminal with text logs) instead of a log line per district.
    pub progress_bar: bool,
    /// Profile each table's columns on both sides (profile.parquet): one more read of the
    /// outputs of the districts that ran tonight.
    pub profile: bool,
}

/// A finished run.
#[derive(Debug)]
pub struct RunResult {
    /// What summary.json holds.
    pub report: RunReport,
    /// The published run folder, `<out>/<audit>/<date>`.
    pub run_dir: PathBuf,
    /// The audit's folder, `<out>/<audit>`: its nights, history.csv and metrics.csv.
    pub nights: PathBuf,
}

/// Run the audit described by `settings`.
///
/// # Errors
/// Only for what stops the whole run (bad audit, unreadable input folder, unwritable output).
/// A district that fails is reported as ERROR in the result instead.
pub async fn execute(settings: &RunSettings) -> anyhow::Result<RunResult> {
    let started_at = now();
    let clock = std::time::Instant::now();
    let night = open::open(settings).await?;
    let mut ledger = Ledger::default();
    let mut progress =
        crate::progress::Progress::new(night.list.districts.len(), settings.progress_bar);
    let carried = carry::carry_over(&night, settings, &mut ledger, &mut progress);

    // Read and transform up to `jobs` districts at a time; then account for them in order, so
    // the reports do not depend on which finished first.
    let reads = Arc::new(pathway_transform::TableInputs::of(&night.audit));
    // A table that differed in a district on the last night will most likely differ again:
    // its footprints could not decide it, so they are not computed (they cost a hash of every
    // value written). Read from the last night's record, whether or not districts are reused.
    let differed = match &night.previous {
        Some((_, record)) => reuse::differed_tables(record),
        None => reuse::previous(&night.nights, &night.audit.name)
            .map(|(_, record)| reuse::differed_tables(&record))
            .unwrap_or_default(),
    };
    let mut worked = transform::read_and_transform_all(
        &night,
        settings,
        &reads,
        &carried.to_run,
        &differed,
        &mut progress,
    )
    .await;
    for district in &carried.to_run {
        let worked = worked
            .remove(district)
            .expect("every district to run has a result");
        ledger.account(
            &night.audit,
            &reads,
            settings.date.as_str(),
            district,
            worked,
        );
    }
    progress.finish();
    validation::write_validation_errors(
        &night.staging.join("validation_errors.parquet"),
        settings.date.as_str(),
        &ledger.rejections,
    )?;

    let diffed: Vec<String> = night
        .list
        .districts
        .iter()
        .filter(|d| !carried.reused.contains_key(*d))
        .cloned()
        .collect();
    ledger.warn_unread(&night.audit.name);
    let mut tables = Vec::new();
    for table in &night.audit.tables {
        let results =
            diff::diff_and_summarize(&night, settings, &carried, &mut ledger, table, &diffed)
                .await?;
        tables.push(results);
    }

    let report = assemble(
        &night,
        settings,
        &carried,
        &mut ledger,
        tables,
        started_at,
        clock,
    );
    publish_night(&night, settings, &carried, &ledger, report)
}

/// summary.json's report of the night, from its accounts (moved out of `ledger`, but for the
/// rejections and input warnings the reuse record keeps) and each table's results, with the
/// night's own metrics row (rows, seconds, peak memory).
fn assemble(
    night: &OpenNight,
    settings: &RunSettings,
    carried: &Carried,
    ledger: &mut Ledger,
    tables: Vec<TableResults>,
    started_at: String,
    clock: std::time::Instant,
) -> RunReport {
    let mut report = RunReport::default();
    report
        .warnings
        .extend(ledger.input_warnings.values().flatten().cloned());
    for table in tables {
        report.warnings.extend(table.warnings);
        report.key_warnings.extend(table.key_warnings);
        report
            .schema_diff
            .insert(table.info.name.clone(), table.schema);
        report.tables.push(table.info);
        report.summary.extend(table.summary);
        report.column_diff.extend(table.column_diff);
        report.categories.extend(table.categories);
        report.rule_hidden.extend(table.rule_hidden);
        report.profile.extend(table.profile);
    }
    for row in &report.summary {
        *report
            .rows_read
            .legacy
            .entry(row.table.clone())
            .or_default() += row.legacy_rows;
        *report.rows_read.beta.entry(row.table.clone()).or_default() += row.beta_rows;
        let counts = report.status_counts.entry(row.table.clone()).or_default();
        for status in Status::ALL {
            counts.entry(status.as_str().to_owned()).or_default();
        }
        *counts.entry(row.status.as_str().to_owned()).or_default() += 1;
    }
    let audit = &night.audit;
    report.audit = audit.name.clone();
    report.audit_dir.clone_from(&settings.audit_label);
    report.audit_date = settings.date.to_string();
    report.input = settings
        .input_label
        .clone()
        .unwrap_or_else(|| "(the audit's databases)".to_owned());
    report.database_sources =
        databases::sources_report(audit, &night.databases, &ledger.snapshotted);
    report.started_at = started_at;
    report.pathway_version = env!("CARGO_PKG_VERSION").to_owned();
    report.districts = night.list.districts.clone();
    report.reused_districts = carried.reused_names();
    report.skipped_folders = night.list.skipped.clone();
    report.unread_files = std::mem::take(&mut ledger.unread_files);
    report.rows_rejected = ledger.rejections.len() as u64;
    report.input_files = std::mem::take(&mut ledger.files);
    report.errors = std::mem::take(&mut ledger.errors);
    // Diffed and carried-over districts in one order, whichever ran tonight.
    report
        .key_warnings
        .sort_by(|a, b| (&a.table, &a.district_id).cmp(&(&b.table, &b.district_id)));
    report.finished_at = now();
    let mut metrics = std::mem::take(&mut ledger.metrics);
    metrics.push(MetricRow {
        audit_date: settings.date.to_string(),
        audit: audit.name.clone(),
        district_id: "*".into(),
        side: "run".into(),
        table: "*".into(),
        rows_read: report.input_files.iter().map(|f| f.rows_read).sum(),
        rows_loaded: report.input_files.iter().map(|f| f.rows_loaded).sum(),
        rows_rejected: report.rows_rejected,
        rows_written: metrics.iter().map(|m| m.rows_written).sum(),
        seconds: clock.elapsed().as_secs_f64(),
        peak_rss_mib: peak_rss_mib(),
    });
    report.metrics = metrics;
    report.code_mapping = std::mem::take(&mut ledger.code_mapping);
    report
}

/// Write the night's files and reuse record into the staging folder, publish it as
/// `<out>/<audit>/<date>`, then swap its rows into the audit's metrics.csv and history.csv.
fn publish_night(
    night: &OpenNight,
    settings: &RunSettings,
    carried: &Carried,
    ledger: &Ledger,
    report: RunReport,
) -> anyhow::Result<RunResult> {
    let staging = &night.staging;
    report.write_files(staging)?;
    let record = reuse::record_of(
        &report,
        &night.audit_fingerprint,
        &carried.input_fingerprints,
        &ledger.rejections,
        &ledger.input_warnings,
    );
    std::fs::write(
        staging.join(reuse::FILE),
        serde_json::to_string(&record).context("cannot serialise reuse.json")?,
    )
    .with_context(|| format!("cannot write `{}`", staging.join(reuse::FILE).display()))?;

    let nights = night.nights.clone();
    let run_dir = nights.join(&settings.date);
    publish(staging, &run_dir)?;
    let audit = &night.audit.name;
    update_metrics(
        &nights.join("metrics.csv"),
        audit,
        settings.date.as_str(),
        &report.metrics,
    )
    .context("the run is published, but metrics.csv could not be updated")?;
    update_history(
        &nights.join("history.csv"),
        audit,
        settings.date.as_str(),
        &report.summary,
    )
    .context("the run is published, but history.csv could not be updated")?;
    Ok(RunResult {
        report,
        run_dir,
        nights,
    })
}

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Swap this night's rows into `<out>/metrics.csv` (atomically), like history.csv.
fn update_metrics(path: &Path, audit: &str, date: &str, rows: &[MetricRow]) -> anyhow::Result<()> {
    let mut all: Vec<MetricRow> = Vec::new();
    if path.exists() {
        let mut reader = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        for row in reader.deserialize() {
            let row: MetricRow =
                row.with_context(|| format!("`{}` is malformed", path.display()))?;
            if !(row.audit == audit && row.audit_date == date) {
                all.push(row);
            }
        }
    }
    all.extend(rows.iter().cloned());
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &all {
        writer.serialize(row)?;
    }
    atomic_write(path, &writer.into_inner()?)?;
    Ok(())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

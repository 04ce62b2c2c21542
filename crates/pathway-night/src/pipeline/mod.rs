//! The nightly audit, end to end: read each district, run both transforms, diff, report, publish.
//!
//! Each audit has its own folder in `<out>` (see [`crate::layout`]). Everything is written into a
//! staging folder below `<out>/<audit>/` first and published as `<out>/<audit>/<date>/` with a
//! rename, then that audit's `history.csv` is replaced atomically, so an interrupted run never
//! leaves a half-written night behind, and no run of one audit touches another audit's nights.

mod accepted;
mod budget;
mod databases;
mod lock;
mod publish;
pub mod reuse;
mod validation;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use pathway_audit::{AuditSpec, Side};
use pathway_diff::{DiffSpec, Status, TableDiff, diff_tables};
use pathway_input::{Rejection, list_districts, read_district};
use pathway_report::{
    CodeMappingRow, ColumnDiffRow, DistrictError, FileAccount, MetricRow, RunReport, SummaryRow,
    TableInfo, atomic_write, category_rows, rows_for_table, rule_hidden_rows, update_history,
};
use pathway_transform::run_district;

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
    /// Night audited, `YYYY-MM-DD`.
    pub date: String,
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
    let mut metrics: Vec<MetricRow> = Vec::new();
    let mut code_mapping: Vec<CodeMappingRow> = Vec::new();
    let audit = AuditSpec::load(&settings.audit_dir)?;
    // Checked before any work: the name is the audit's folder in the output folder.
    crate::layout::check_audit_name(&audit.name)?;
    // The diff's session first: an unreachable cluster should stop the night before any work.
    let mut engine = settings.engine.clone();
    if engine.cluster.is_none() {
        engine.cluster.clone_from(&audit.cluster);
    }
    let ctx = crate::session::session(&engine).await?;
    // Database sides are connected once, before any district; one that cannot be reached makes
    // its districts ERROR and the rest of the night goes on.
    let databases = std::sync::Arc::new(if audit.reads_databases() {
        databases::connect_sides(&audit).await
    } else {
        pathway_transform::DatabaseTables::new()
    });
    let list = match &settings.input {
        Some(input) => {
            let list = list_districts(input).with_context(|| {
                format!(
                    "audit `{}`: cannot list the district folders of the input",
                    audit.name
                )
            })?;
            if list.districts.is_empty() {
                bail!(
                    "audit `{}`: no district folders in `{}` (expected <input>/<district_id>/<files>)",
                    audit.name,
                    input.display()
                );
            }
            list
        }
        None if audit.reads_databases_only() => {
            let (districts, skipped) = databases::districts_in(&audit, &databases).await?;
            if districts.is_empty() {
                bail!(
                    "audit `{}`: the databases hold no rows with a district id",
                    audit.name
                );
            }
            pathway_input::DistrictList { districts, skipped }
        }
        None => bail!(
            "audit `{}` reads input files: give the input folder with --input <folder>",
            audit.name
        ),
    };
    for (folder, reason) in &list.skipped {
        tracing::warn!("warning: skipping input folder `{folder}`: {reason}");
    }
    std::fs::create_dir_all(&settings.out).with_context(|| {
        format!(
            "cannot create the output folder `{}`",
            settings.out.display()
        )
    })?;
    // An output folder written by an earlier version (`<out>/<date>/` for every audit) is moved
    // into per-audit folders first, so this audit's earlier nights are found where they belong.
    if crate::layout::has_earlier_layout(&settings.out) {
        crate::layout::migrate(&settings.out).with_context(|| {
            format!(
                "audit `{}`: cannot move the nights of `{}` into per-audit folders",
                audit.name,
                settings.out.display()
            )
        })?;
    }
    // Everything below happens in the audit's own folder: its lock (runs of other audits into
    // the same output folder go on at the same time), its history, its previous night.
    let nights = crate::layout::audit_folder(&settings.out, &audit.name);
    std::fs::create_dir_all(&nights)
        .with_context(|| format!("cannot create the output folder `{}`", nights.display()))?;
    let _lock = RunLock::acquire(&nights, &audit.name)?;
    recover(&nights)?;
    let staging = nights.join(format!(".staging-{}-{}", settings.date, std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot clear `{}`", staging.display()))?;
    }
    std::fs::create_dir_all(&staging)
        .with_context(|| format!("cannot create `{}`", staging.display()))?;

    let audit_fingerprint =
        reuse::fingerprint_folder(&settings.audit_dir, env!("CARGO_PKG_VERSION"))
            .with_context(|| format!("audit `{}`: cannot read the audit folder", audit.name))?;
    // A database's rows can change while the audit's files stay the same: nothing read from
    // one is carried over.
    let reuse_mode = if audit.reads_databases() {
        if settings.reuse != reuse::ReuseMode::Off {
            tracing::info!(
                "audit `{}` reads databases: every district is run (none carried over)",
                audit.name
            );
        }
        reuse::ReuseMode::Off
    } else {
        settings.reuse
    };
    let previous = match reuse_mode {
        reuse::ReuseMode::Off => None,
        _ => reuse::previous(&nights, &audit.name),
    };
    let mut input_fingerprints: BTreeMap<String, String> = BTreeMap::new();
    let mut reused: BTreeMap<String, reuse::DistrictRecord> = BTreeMap::new();

    // Every (table, district) that was not diffed: ERROR or NO INPUT, with why.
    let mut not_diffed = NotDiffed::default();
    // Rows each side wrote, per (table, district): an ERROR row still says what each side
    // produced before the other failed.
    let mut written_rows: BTreeMap<(String, String), [Option<u64>; 2]> = BTreeMap::new();
    let mut unread_files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Per district: inputs that could not be read and that no table reads (no verdict says so).
    let mut input_warnings: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut files = Vec::new();
    let mut rejections: Vec<Rejection> = Vec::new();
    let mut progress = crate::progress::Progress::new(list.districts.len(), settings.progress_bar);
    // Which districts can be carried over is decided first, in order; it is cheap.
    let mut to_run: Vec<String> = Vec::new();
    // An accepted difference that expired since the previous night no longer makes a district
    // ACCEPTED: the districts it covered are run again instead of carried over as ACCEPTED.
    let previous_date = previous
        .as_ref()
        .and_then(|(dir, _)| dir.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    let expired_since_previous = audit.accepted.iter().any(|entry| {
        entry.expires.as_deref().is_some_and(|expires| {
            expires < settings.date.as_str()
                && previous_date.as_deref().is_none_or(|p| expires >= p)
        })
    });
    for district in &list.districts {
        // An unreadable folder gets no fingerprint and is never reused; reading it fails below.
        let fingerprint = match &settings.input {
            Some(input) => reuse::fingerprint_folder(&input.join(district), "").unwrap_or_default(),
            None => String::new(),
        };
        if let Some(record) = reuse::reusable(
            reuse_mode,
            previous.as_ref().map(|(_, record)| record),
            &audit_fingerprint,
            district,
            &fingerprint,
        )
        .filter(|_| !fingerprint.is_empty())
        .filter(|record| {
            !(expired_since_previous && record.categories.iter().any(|c| !c.accepted.is_empty()))
        }) {
            let record = record.for_night(&settings.date);
            // The results stand for the input they were computed from.
            input_fingerprints.insert(district.clone(), record.input_fingerprint.clone());
            files.extend(record.files.iter().cloned());
            rejections.extend(record.rejections.iter().cloned());
            metrics.extend(record.metrics.iter().cloned());
            code_mapping.extend(record.code_mapping.iter().cloned());
            if !record.unread_files.is_empty() {
                unread_files.insert(district.clone(), record.unread_files.clone());
            }
            for warning in &record.warnings {
                tracing::warn!("warning: {warning}");
            }
            if !record.warnings.is_empty() {
                input_warnings.insert(district.clone(), record.warnings.clone());
            }
            reused.insert(district.clone(), record);
            progress.district_reused(district);
            continue;
        }
        input_fingerprints.insert(district.clone(), fingerprint);
        to_run.push(district.clone());
    }

    // Read and transform up to `jobs` districts at a time; then account for them in order, so
    // the reports do not depend on which finished first.
    let reads = std::sync::Arc::new(pathway_transform::TableInputs::of(&audit));
    // A table that differed in a district on the last night will most likely differ again:
    // its footprints could not decide it, so they are not computed (they cost a hash of every
    // value written). Read from the last night's record, whether or not districts are reused.
    let differed = std::sync::Arc::new(match &previous {
        Some((_, record)) => reuse::differed_tables(record),
        None => reuse::previous(&nights, &audit.name)
            .map(|(_, record)| reuse::differed_tables(&record))
            .unwrap_or_default(),
    });
    let mut worked = read_and_transform_all(
        &audit,
        &reads,
        settings,
        &databases,
        &staging,
        &to_run,
        &differed,
        &mut progress,
    )
    .await;
    // (table, side) of a database side → (districts, rows) the snapshot copied.
    let mut snapshotted: BTreeMap<(String, Side), (u64, u64)> = BTreeMap::new();
    for district in &to_run {
        let (read, outcomes) = worked
            .remove(district)
            .expect("every district to run has a result");
        let input = match read {
            Ok(input) => input,
            Err(e) => {
                let message = format!("reading input: {e}");
                tracing::warn!(
                    "warning: audit `{}`, district {district}: {message}",
                    audit.name
                );
                for table in &audit.tables {
                    not_diffed.error(&table.name, district, &message);
                }
                errors.push(DistrictError {
                    table: "*".into(),
                    district_id: district.clone(),
                    stage: "input".into(),
                    message,
                });
                continue;
            }
        };
        files.extend(input.files.iter().map(|f| FileAccount {
            district_id: district.clone(),
            input: f.input.clone(),
            file: f.file.clone(),
            rows_read: f.rows_read,
            rows_loaded: f.rows_loaded,
            rows_rejected: f.rows_rejected,
            encoding: f.encoding.clone(),
            delimiter: f.delimiter.clone(),
            compression: f.compression.clone(),
            notes: f.notes.clone(),
        }));
        rejections.extend(input.rejections.iter().cloned());
        if !input.unread.is_empty() {
            unread_files.insert(district.clone(), input.unread.clone());
        }
        let warnings = unread_failures(&audit.name, &input, &reads);
        for warning in &warnings {
            tracing::warn!("warning: {warning}");
        }
        if !warnings.is_empty() {
            input_warnings.insert(district.clone(), warnings);
        }
        let (read, loaded, rejected) = input.files.iter().fold((0, 0, 0), |(r, l, j), f| {
            (r + f.rows_read, l + f.rows_loaded, j + f.rows_rejected)
        });
        for outcome in outcomes {
            if let (Ok(written), Some(table)) = (&outcome.result, audit.table(&outcome.table))
                && matches!(
                    table.transform(outcome.side),
                    pathway_audit::Transform::Database(_)
                )
            {
                let entry = snapshotted
                    .entry((outcome.table.clone(), outcome.side))
                    .or_default();
                entry.0 += 1;
                entry.1 += written.rows;
            }
            if let Ok(written) = &outcome.result {
                written_rows
                    .entry((outcome.table.clone(), district.clone()))
                    .or_default()[usize::from(outcome.side == Side::Beta)] = Some(written.rows);
                metrics.push(MetricRow {
                    audit_date: settings.date.clone(),
                    audit: audit.name.clone(),
                    district_id: district.clone(),
                    side: outcome.side.to_string(),
                    table: outcome.table.clone(),
                    rows_read: read,
                    rows_loaded: loaded,
                    rows_rejected: rejected,
                    rows_written: written.rows,
                    seconds: written.elapsed.as_secs_f64(),
                    peak_rss_mib: None,
                });
                let rows = code_mapping_rows(&settings.date, district, &outcome, written);
                warn_unmapped(&audit.name, district, &outcome, &rows);
                code_mapping.extend(rows);
            }
            if let Err(e) = outcome.result {
                let (table, side) = (outcome.table, outcome.side);
                if let Some(error) = not_diffed.record(&audit.name, &table, side, district, &e) {
                    errors.push(error);
                }
            }
        }
    }
    progress.finish();
    validation::write_validation_errors(
        &staging.join("validation_errors.parquet"),
        &settings.date,
        &rejections,
    )?;

    let mut summary: Vec<SummaryRow> = Vec::new();
    let mut column_diff: Vec<ColumnDiffRow> = Vec::new();
    let mut categories = Vec::new();
    let mut rule_hidden = Vec::new();
    let mut report = RunReport::default();
    report
        .warnings
        .extend(input_warnings.values().flatten().cloned());
    let diffed: Vec<String> = list
        .districts
        .iter()
        .filter(|d| !reused.contains_key(*d))
        .cloned()
        .collect();
    let reused_names: Vec<String> = reused.keys().cloned().collect();
    warn_unread(&audit.name, &unread_files);
    for table in &audit.tables {
        let mut table_failed = not_diffed.of(&table.name);
        let compared_tonight = diffed
            .iter()
            .filter(|d| !table_failed.contains_key(*d))
            .count();
        // A reused district's two outputs are linked in before the diff, which leaves the
        // district out but reads the table's schema from every file: its compared columns and
        // schema differences are then those of a full run, even when every district is reused.
        // Not when the audit changed since (`--only mismatched` after a fix): the carried files
        // were written by the old transforms, and tonight's districts are compared under the
        // new ones' schema alone, unless no district runs tonight.
        let same_transforms = previous
            .as_ref()
            .is_some_and(|(_, record)| record.audit_fingerprint == audit_fingerprint);
        let link_first = same_transforms || compared_tonight == 0;
        if let Some((previous_run, _)) = previous.as_ref().filter(|_| link_first) {
            for district in reused.keys() {
                reuse::link_district(
                    previous_run,
                    &staging,
                    &table.name,
                    district,
                    reuse::OUTPUTS,
                )
                .with_context(|| {
                    format!(
                        "audit `{}`, district {district}: cannot reuse the previous run",
                        audit.name
                    )
                })?;
            }
        }
        // The districts a full run would compare: those run tonight that did not fail, and
        // the reused ones that were compared (a reused district is never ERROR).
        let compared_reused = reused
            .values()
            .filter(|r| {
                r.summary
                    .iter()
                    .any(|row| row.table == table.name && row.status != Status::NoInput.as_str())
            })
            .count();
        let compared = compared_tonight + if link_first { compared_reused } else { 0 };
        // `--no-triage` reads every row: no footprint stands in for them.
        let footprints = if engine.triage {
            read_footprints(&staging, &table.name)
        } else {
            pathway_diff::GroupFootprints::default()
        };
        let diff = if compared == 0 {
            None
        } else {
            let skip: Vec<String> = table_failed.keys().chain(&reused_names).cloned().collect();
            let diff_clock = std::time::Instant::now();
            match diff_table(&ctx, &staging, table, &skip, &engine, &footprints).await {
                Ok(diff) => {
                    tracing::debug!(
                        "audit `{}`, table `{}`: diffed in {:.2} s; {} of {} district(s) \
                         decided by their outputs' footprints",
                        audit.name,
                        table.name,
                        diff_clock.elapsed().as_secs_f64(),
                        diff.decided_by_footprints,
                        diff.groups.len()
                    );
                    Some(diff)
                }
                Err(e) => {
                    // A table-wide failure (e.g. districts disagreeing on a column type): every
                    // district not already failed becomes ERROR with the reason.
                    let message = format!("diff: {e:#}");
                    for district in &diffed {
                        table_failed
                            .entry(district.clone())
                            .or_insert_with(|| (Status::Error, message.clone()));
                    }
                    errors.push(DistrictError {
                        table: table.name.clone(),
                        district_id: "*".into(),
                        stage: "diff".into(),
                        message,
                    });
                    None
                }
            }
        };
        let diff = diff.unwrap_or_else(|| TableDiff {
            table: table.name.clone(),
            key: table.key.clone(),
            compared_columns: Vec::new(),
            schema: pathway_diff::SchemaDiff::default(),
            groups: Vec::new(),
            categories: Vec::new(),
            decided_by_footprints: 0,
        });
        let (mut rows, columns) = rows_for_table(
            &audit.name,
            &settings.date,
            &diff,
            &diffed,
            &table_failed,
            &table.pii,
            &settings.masker,
        );
        if !table.key.is_empty() && diff.groups.iter().any(|g| g.legacy_rows + g.beta_rows > 0) {
            let warnings = key_warnings(&ctx, &audit.name, table, &diff, &footprints).await;
            report.key_warnings.extend(warnings);
        }
        for row in rows
            .iter_mut()
            .filter(|r| r.status == Status::Error.as_str())
        {
            if let Some([legacy, beta]) =
                written_rows.get(&(table.name.clone(), row.district_id.clone()))
            {
                row.legacy_rows = legacy.unwrap_or(0);
                row.beta_rows = beta.unwrap_or(0);
            }
        }
        report
            .schema_diff
            .insert(table.name.clone(), diff.schema.clone());
        report.tables.push(TableInfo {
            name: table.name.clone(),
            key: table.key.clone(),
            ignore: table.ignore.clone(),
            pii: table.pii.clone(),
            compared_columns: diff.compared_columns.clone(),
            rules: diff
                .compared_columns
                .iter()
                .map(|c| {
                    (
                        c.clone(),
                        column_rules(
                            &table
                                .columns
                                .iter()
                                .find(|(n, _)| n == c)
                                .map_or(table.compare.clone(), |(_, r)| r.over(&table.compare)),
                        )
                        .names(),
                    )
                })
                .filter(|(_, names)| !names.is_empty())
                .collect(),
        });
        let mut table_categories =
            category_rows(&settings.date, &diff, &table.pii, &settings.masker);
        report.warnings.extend(accepted::apply(
            &audit.accepted,
            &settings.date,
            &diff,
            &mut rows,
            &mut table_categories,
        ));
        let mut columns = columns;
        let mut table_rule_hidden = rule_hidden_rows(&settings.date, &diff);
        if let Some((previous_run, _)) = &previous {
            for (district, record) in &reused {
                let of = |t: &String| *t == table.name;
                rows.extend(record.summary.iter().filter(|r| of(&r.table)).cloned());
                columns.extend(record.column_diff.iter().filter(|r| of(&r.table)).cloned());
                table_categories.extend(record.categories.iter().filter(|r| of(&r.table)).cloned());
                table_rule_hidden
                    .extend(record.rule_hidden.iter().filter(|r| of(&r.table)).cloned());
                report
                    .key_warnings
                    .extend(record.key_warnings.iter().filter(|r| of(&r.table)).cloned());
                // The row diff after the diff, which empties its folder first.
                let parts = if link_first {
                    reuse::RESULTS
                } else {
                    reuse::ALL
                };
                reuse::link_district(previous_run, &staging, &table.name, district, parts)
                    .with_context(|| {
                        format!(
                            "audit `{}`, district {district}: cannot reuse the previous run",
                            audit.name
                        )
                    })?;
            }
        }
        rows.sort_by(|a, b| a.district_id.cmp(&b.district_id));
        columns.sort_by(|a, b| (&a.district_id, &a.column).cmp(&(&b.district_id, &b.column)));
        table_categories.sort_by(|a, b| a.district_id.cmp(&b.district_id));
        table_rule_hidden.sort_by(|a, b| a.district_id.cmp(&b.district_id));
        summary.extend(rows);
        column_diff.extend(columns);
        categories.extend(table_categories);
        rule_hidden.extend(table_rule_hidden);
    }

    for row in &summary {
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
        *counts.entry(row.status.clone()).or_default() += 1;
    }
    report.audit = audit.name.clone();
    report.audit_dir.clone_from(&settings.audit_label);
    report.audit_date = settings.date.clone();
    report.input = settings
        .input_label
        .clone()
        .unwrap_or_else(|| "(the audit's databases)".to_owned());
    report.database_sources = databases::sources_report(&audit, &databases, &snapshotted);
    report.started_at = started_at;
    report.pathway_version = env!("CARGO_PKG_VERSION").to_owned();
    report.districts = list.districts.clone();
    report.reused_districts = reused_names.clone();
    report.skipped_folders = list.skipped.clone();
    report.unread_files = unread_files;
    report.rows_rejected = rejections.len() as u64;
    report.input_files = files;
    report.errors = errors;
    report.summary = summary;
    report.column_diff = column_diff;
    report.categories = categories;
    report.rule_hidden = rule_hidden;
    // Diffed and carried-over districts in one order, whichever ran tonight.
    report
        .key_warnings
        .sort_by(|a, b| (&a.table, &a.district_id).cmp(&(&b.table, &b.district_id)));
    report.finished_at = now();
    metrics.push(MetricRow {
        audit_date: settings.date.clone(),
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
    report.code_mapping = code_mapping;

    report.write_files(&staging)?;
    let record = reuse::record_of(
        &report,
        &audit_fingerprint,
        &input_fingerprints,
        &rejections,
        &input_warnings,
    );
    std::fs::write(
        staging.join(reuse::FILE),
        serde_json::to_string(&record).context("cannot serialise reuse.json")?,
    )
    .with_context(|| format!("cannot write `{}`", staging.join(reuse::FILE).display()))?;

    let run_dir = nights.join(&settings.date);
    publish(&staging, &run_dir)?;
    update_metrics(
        &nights.join("metrics.csv"),
        &audit.name,
        &settings.date,
        &report.metrics,
    )
    .context("the run is published, but metrics.csv could not be updated")?;
    update_history(
        &nights.join("history.csv"),
        &audit.name,
        &settings.date,
        &report.summary,
    )
    .context("the run is published, but history.csv could not be updated")?;
    Ok(RunResult {
        report,
        run_dir,
        nights,
    })
}

/// code_mapping.csv rows for what one transform's `map_code` calls found.
fn code_mapping_rows(
    date: &str,
    district: &str,
    outcome: &pathway_transform::Outcome,
    written: &pathway_transform::Written,
) -> Vec<CodeMappingRow> {
    let year = |y: Option<i32>| y.map(|y| y.to_string()).unwrap_or_default();
    written
        .code_mapping
        .iter()
        .map(|(found, values)| CodeMappingRow {
            audit_date: date.to_owned(),
            table: outcome.table.clone(),
            district_id: district.to_owned(),
            side: outcome.side.to_string(),
            code_set: found.code_set.clone(),
            school_year: year(found.school_year),
            outcome: found.outcome.to_owned(),
            used_year: year(found.used_year),
            source_code: found.source_code.clone(),
            values: *values,
        })
        .collect()
}

/// One line per transform that met codes it could not map or years it mapped through an
/// earlier year; the codes themselves are in code_mapping.csv.
fn warn_unmapped(
    audit: &str,
    district: &str,
    outcome: &pathway_transform::Outcome,
    rows: &[CodeMappingRow],
) {
    let count = |kind: &str| -> (u64, usize) {
        let matching: Vec<&CodeMappingRow> = rows.iter().filter(|r| r.outcome == kind).collect();
        (matching.iter().map(|r| r.values).sum(), matching.len())
    };
    let (unmapped, codes) = count("unmapped");
    let (fell_back, _) = count("fallback");
    if unmapped > 0 {
        tracing::warn!(
            "warning: audit `{audit}`, table `{}` ({}), district {district}: {unmapped} value(s) of {codes} code(s) had no entry in the code map (see code_mapping.csv)",
            outcome.table,
            outcome.side
        );
    }
    if fell_back > 0 {
        tracing::info!(
            "audit `{audit}`, table `{}` ({}), district {district}: {fell_back} value(s) mapped with an earlier school year's entries",
            outcome.table,
            outcome.side
        );
    }
}

/// A district's input as read (or why it could not be), and its transforms' outcomes.
type Worked = (
    Result<pathway_input::DistrictInput, String>,
    Vec<pathway_transform::Outcome>,
);

/// Read and transform `districts`, at most `settings.jobs` at a time and no more than the
/// memory limit holds by their files' sizes ([`budget`]), the heaviest first (each in its own
/// task: reading is CPU-bound and runs on the blocking pool), reporting progress as each one
/// finishes.
async fn read_and_transform_all(
    audit: &AuditSpec,
    reads: &std::sync::Arc<pathway_transform::TableInputs>,
    settings: &RunSettings,
    databases: &std::sync::Arc<pathway_transform::DatabaseTables>,
    staging: &Path,
    districts: &[String],
    differed: &std::sync::Arc<BTreeMap<String, std::collections::BTreeSet<String>>>,
    progress: &mut crate::progress::Progress,
) -> BTreeMap<String, Worked> {
    use futures::StreamExt;
    let audit = std::sync::Arc::new(audit.clone());
    let budget = budget::Budget::new(settings.engine.memory_limit as u64);
    let mut weighed: Vec<(u64, String)> = districts
        .iter()
        .map(|district| {
            let weight = settings
                .input
                .as_ref()
                .map_or(0, |input| budget::district_weight(&input.join(district)));
            (weight, district.clone())
        })
        .collect();
    // Heaviest first: the largest districts do not end the night alone, and one that must run
    // alone does so while the others wait rather than at the end. Reports do not depend on it.
    weighed.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let started = std::time::Instant::now();
    let mut running = futures::stream::iter(weighed.into_iter().map(|(weight, district)| {
        let task = read_and_transform(
            audit.clone(),
            reads.clone(),
            databases.clone(),
            settings.input.clone(),
            settings.masker.clone(),
            staging.to_path_buf(),
            district.clone(),
            differed.get(&district).cloned().unwrap_or_default(),
        );
        let budget = budget.clone();
        async move {
            let admitted = budget.admit(weight).await;
            let clock = std::time::Instant::now();
            let worked = tokio::spawn(task)
                .await
                .unwrap_or_else(|e| (Err(format!("the district's task stopped: {e}")), Vec::new()));
            drop(admitted);
            (district, worked, clock.elapsed().as_secs_f64())
        }
    }))
    .buffer_unordered(settings.jobs.max(1));
    let mut done = BTreeMap::new();
    while let Some((district, worked, seconds)) = running.next().await {
        let written = worked
            .1
            .iter()
            .filter_map(|o| o.result.as_ref().ok())
            .map(|w| w.rows)
            .sum();
        progress.district_done(&district, written, seconds);
        done.insert(district, worked);
    }
    tracing::debug!(
        districts = done.len(),
        seconds = started.elapsed().as_secs_f64(),
        most_at_once = budget.most_in_flight(),
        "read and transformed {} district(s) in {:.2} s, at most {} at once (--jobs {}, memory limit {} MiB)",
        done.len(),
        started.elapsed().as_secs_f64(),
        budget.most_in_flight(),
        settings.jobs.max(1),
        settings.engine.memory_limit / (1024 * 1024),
    );
    done
}

async fn read_and_transform(
    audit: std::sync::Arc<AuditSpec>,
    reads: std::sync::Arc<pathway_transform::TableInputs>,
    databases: std::sync::Arc<pathway_transform::DatabaseTables>,
    input_root: Option<PathBuf>,
    masker: pathway_mask::Masker,
    staging: PathBuf,
    district: String,
    no_footprints: std::collections::BTreeSet<String>,
) -> Worked {
    let mut read = match input_root {
        // An audit without input files: the district is only a filter on its databases.
        None => Ok(pathway_input::DistrictInput::new(PathBuf::new(), &district)),
        Some(input_root) => {
            let (audit, district) = (audit.clone(), district.clone());
            tokio::task::spawn_blocking(move || {
                read_district(&audit, &input_root, &district, &masker).map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(format!("reading stopped: {e}")))
        }
    };
    let outcomes = match &mut read {
        Ok(input) => {
            let outcomes =
                run_district(&audit, &reads, input, &staging, &databases, &no_footprints).await;
            // The rows are in the outputs now; what is kept until every district is done is
            // the accounting. Holding the rows too made the night's peak the whole input.
            input.tables = Vec::new();
            outcomes
        }
        Err(_) => Vec::new(),
    };
    (read, outcomes)
}

/// The (table, district) pairs that were not diffed, with their verdict (ERROR or NO INPUT) and
/// why. Both sides of a table fail with one message when an input it reads failed or is absent:
/// it is kept once.
#[derive(Debug, Default)]
struct NotDiffed {
    by_table: BTreeMap<String, BTreeMap<String, (Status, String)>>,
}

impl NotDiffed {
    /// `table` is ERROR in `district`; a second message is added on its own line.
    fn error(&mut self, table: &str, district: &str, message: &str) {
        let slot = self
            .by_table
            .entry(table.to_owned())
            .or_default()
            .entry(district.to_owned())
            .or_insert_with(|| (Status::Error, String::new()));
        if !slot.1.is_empty() {
            slot.1.push('\n');
        }
        slot.1.push_str(message);
    }

    /// Account for a failed transform, warn about it, and return the error to list in
    /// summary.json (`None` for NO INPUT, or for the second side of a failed input).
    fn record(
        &mut self,
        audit: &str,
        table: &str,
        side: Side,
        district: &str,
        error: &pathway_transform::Error,
    ) -> Option<DistrictError> {
        let message = error.to_string();
        let seen = self
            .by_table
            .get(table)
            .is_some_and(|districts| districts.contains_key(district));
        let (stage, once) = match error {
            pathway_transform::Error::NoInput { .. } => {
                if !seen {
                    tracing::warn!(
                        "warning: audit `{audit}`, table `{table}`, district {district}: NO INPUT: {message}"
                    );
                }
                self.by_table
                    .entry(table.to_owned())
                    .or_default()
                    .insert(district.to_owned(), (Status::NoInput, message));
                return None;
            }
            pathway_transform::Error::Input { .. } => ("input".to_owned(), true),
            _ => (side.to_string(), false),
        };
        if once && seen {
            return None;
        }
        tracing::warn!(
            "warning: audit `{audit}`, table `{table}`, district {district}: {}",
            message.lines().next().unwrap_or_default()
        );
        self.error(table, district, &message);
        Some(DistrictError {
            table: table.to_owned(),
            district_id: district.to_owned(),
            stage,
            message,
        })
    }

    /// District → (status, why) for `table`.
    fn of(&self, table: &str) -> BTreeMap<String, (Status, String)> {
        self.by_table.get(table).cloned().unwrap_or_default()
    }
}

/// Inputs of a district that could not be read and that no table reads. No verdict says so (the
/// tables reading a failed input are ERROR with the reason), so each gets a warning naming the
/// district, the input, the files and why.
fn unread_failures(
    audit: &str,
    input: &pathway_input::DistrictInput,
    reads: &pathway_transform::TableInputs,
) -> Vec<String> {
    input
        .failed
        .iter()
        .filter(|(name, _)| !reads.read_by_any(name))
        .map(|(name, why)| {
            format!(
                "audit `{audit}`, district {}: input `{name}` could not be read (no table reads \
                 it): {why}",
                input.district_id
            )
        })
        .collect()
}

/// One warning per district holding files no input reads: they arrived and nobody looked.
fn warn_unread(audit: &str, unread: &BTreeMap<String, Vec<String>>) {
    for (district, files) in unread {
        tracing::warn!(
            "warning: audit `{audit}`, district {district}: {} file(s) no input reads: {}",
            files.len(),
            files.join(", ")
        );
    }
}

/// The districts where `table`'s key has nulls or duplicates, said once on stderr per table.
/// Duplicates come from the diff; null key rows from the footprints in the outputs' footers
/// when every diffed district has them, else from one query per side over the key columns of
/// the night's Parquet (registered by [`diff_table`]). A failing count query only loses the
/// null counts: it is a warning's detail, not a verdict.
async fn key_warnings(
    ctx: &SessionContext,
    audit: &str,
    table: &pathway_audit::TableSpec,
    diff: &TableDiff,
    footprints: &pathway_diff::GroupFootprints,
) -> Vec<pathway_report::KeyWarning> {
    let key: Vec<&String> = table.key.iter().filter(|k| *k != "district_id").collect();
    let mut nulls: [BTreeMap<String, u64>; 2] = Default::default();
    let footprinted = diff.groups.iter().all(|group| {
        [
            (&footprints.legacy, group.legacy_rows),
            (&footprints.beta, group.beta_rows),
        ]
        .into_iter()
        .all(|(side, rows)| {
            rows == 0
                || side
                    .get(&group.group)
                    .is_some_and(|f| f.rows == rows && f.key.iter().eq(key.iter().copied()))
        })
    });
    if footprinted {
        for (i, side) in [&footprints.legacy, &footprints.beta]
            .into_iter()
            .enumerate()
        {
            for group in &diff.groups {
                if let Some(footprint) = side.get(&group.group) {
                    nulls[i].insert(group.group.clone(), footprint.null_key_rows);
                }
            }
        }
    } else if !key.is_empty() {
        let any_null: Vec<String> = key
            .iter()
            .map(|k| format!("{} IS NULL", pathway_diff::plan::ident(k)))
            .collect();
        for (i, side) in Side::BOTH.into_iter().enumerate() {
            let sql = format!(
                "SELECT CAST(district_id AS VARCHAR), count(*) FROM {} WHERE {} GROUP BY 1",
                pathway_diff::plan::ident(&format!("{side}_{}", table.name)),
                any_null.join(" OR ")
            );
            let counted = async { ctx.sql(&sql).await?.collect().await };
            match counted.await {
                Ok(batches) => {
                    for batch in &batches {
                        // (VARCHAR is Utf8View in DataFusion 55: cast, never downcast blindly.)
                        let Ok(districts) =
                            datafusion::arrow::compute::cast(batch.column(0), &DataType::Utf8)
                        else {
                            continue;
                        };
                        let districts =
                            datafusion::arrow::array::AsArray::as_string::<i32>(&districts);
                        let counts = datafusion::arrow::array::AsArray::as_primitive::<
                            datafusion::arrow::datatypes::Int64Type,
                        >(batch.column(1));
                        for row in 0..batch.num_rows() {
                            nulls[i].insert(
                                districts.value(row).to_owned(),
                                u64::try_from(counts.value(row)).unwrap_or(0),
                            );
                        }
                    }
                }
                Err(e) => tracing::warn!(
                    "warning: audit `{audit}`, table `{}`: cannot count null keys: {}",
                    table.name,
                    pathway_mask::redact_quoted(&e.strip_backtrace())
                ),
            }
        }
    }
    let mut warnings = Vec::new();
    for group in &diff.groups {
        let null = |i: usize| nulls[i].get(&group.group).copied().unwrap_or(0);
        let warning = pathway_report::KeyWarning {
            table: table.name.clone(),
            key: table.key.join("+"),
            district_id: group.group.clone(),
            legacy_null_key_rows: null(0),
            beta_null_key_rows: null(1),
            legacy_dup_keys: group.legacy_dup_keys,
            beta_dup_keys: group.beta_dup_keys,
        };
        let troubled = warning.legacy_null_key_rows
            + warning.beta_null_key_rows
            + warning.legacy_dup_keys
            + warning.beta_dup_keys
            > 0;
        if troubled {
            warnings.push(warning);
        }
    }
    if !warnings.is_empty() {
        let districts: Vec<String> = warnings
            .iter()
            .map(|w| {
                format!(
                    "{} (null key rows {}/{}, duplicated keys {}/{})",
                    w.district_id,
                    w.legacy_null_key_rows,
                    w.beta_null_key_rows,
                    w.legacy_dup_keys,
                    w.beta_dup_keys
                )
            })
            .collect();
        tracing::warn!(
            "warning: audit `{audit}`, table `{}`: key `{}` has nulls or duplicates (legacy/beta) in {} district(s): {}; `pathway keys` lists the keys the data has",
            table.name,
            table.key.join("+"),
            warnings.len(),
            districts.join(", ")
        );
    }
    warnings
}

/// Register one table's two sides from the staging folder and diff them per district.
async fn diff_table(
    ctx: &SessionContext,
    staging: &Path,
    table: &pathway_audit::TableSpec,
    skip: &[String],
    engine: &pathway_diff::EngineSettings,
    footprints: &pathway_diff::GroupFootprints,
) -> anyhow::Result<TableDiff> {
    // A cluster's executors run in other processes: give them absolute paths.
    let staging = &std::path::absolute(staging)?;
    let mut names = Vec::new();
    for side in Side::BOTH {
        let name = format!("{side}_{}", table.name);
        let dir = format!(
            "{}/",
            staging.join(side.as_str()).join(&table.name).display()
        );
        let options = ParquetReadOptions::default()
            .table_partition_cols(vec![("district_id".to_owned(), DataType::Utf8)]);
        ctx.register_parquet(&name, &dir, options)
            .await
            .with_context(|| format!("cannot read the {side} output of `{}`", table.name))?;
        names.push(name);
    }
    let spec = DiffSpec::new(table.name.clone(), table.key.clone())
        .with_group_by(Some("district_id".into()))
        .with_ignore(table.ignore.clone())
        .with_exclude_groups(skip.to_vec())
        .with_engine(engine)
        .with_rename(table.rename.clone())
        .with_rules(
            column_rules(&table.compare),
            table
                .columns
                .iter()
                .map(|(column, rules)| (column.clone(), column_rules(&rules.over(&table.compare))))
                .collect(),
        )
        .with_max_row_diff(table.max_row_diff)
        .with_pair_unmatched(table.pair_unmatched, table.max_pair_columns)
        .with_footprints(footprints.clone());
    let diff = diff_tables(
        ctx,
        &names[0],
        &names[1],
        &spec,
        &staging.join("row_diff").join(&table.name),
    )
    .await?;
    Ok(diff)
}

/// The footprints the transforms wrote into the footers of `table`'s outputs (see
/// [`pathway_hash::Footprint`]), per side and district, so that the diff decides a district
/// whose two outputs agree without reading them. Only for a district folder holding the one
/// file the transform wrote, and whose name the partition column gives back unchanged (letters,
/// digits, `-`, `_`, `.`): any other district is read as usual.
pub(crate) fn read_footprints(run_dir: &Path, table: &str) -> pathway_diff::GroupFootprints {
    let mut footprints = pathway_diff::GroupFootprints::default();
    for (at, side) in Side::BOTH.into_iter().enumerate() {
        let (found, paths) = match side {
            Side::Legacy => (&mut footprints.legacy, &mut footprints.files[0]),
            Side::Beta => (&mut footprints.beta, &mut footprints.files[1]),
        };
        let Ok(folders) = std::fs::read_dir(run_dir.join(side.as_str()).join(table)) else {
            continue;
        };
        // Whether every entry of the table's folder is a district whose one file has a
        // footprint: the footprints then hold the table's rows per district.
        let mut complete = true;
        for folder in folders {
            let Ok(folder) = folder else {
                complete = false;
                continue;
            };
            let name = folder.file_name();
            let Some(district) = name.to_str().and_then(|n| n.strip_prefix("district_id=")) else {
                complete = false;
                continue;
            };
            let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
            if district.is_empty() || !district.chars().all(plain) {
                complete = false;
                continue;
            }
            let Ok(files) = std::fs::read_dir(folder.path()) else {
                complete = false;
                continue;
            };
            let files: Vec<_> = files.flatten().collect();
            if let [file] = files.as_slice()
                && file.file_name() == "part-0.parquet"
                && let Some(footprint) = pathway_diff::Footprint::read(&file.path())
            {
                found.insert(district.to_owned(), footprint);
                paths.insert(district.to_owned(), file.path());
            } else {
                complete = false;
            }
        }
        footprints.complete[at] = complete;
    }
    footprints
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

/// The audit's rules (unset = exact) as the diff engine takes them.
pub fn column_rules(rules: &pathway_audit::Rules) -> pathway_diff::ColumnRules {
    pathway_diff::ColumnRules {
        trim: rules.trim.unwrap_or(false),
        ignore_case: rules.ignore_case.unwrap_or(false),
        null_equals_empty: rules.null_equals_empty.unwrap_or(false),
        abs_tolerance: rules.abs_tolerance,
        rel_tolerance: rules.rel_tolerance,
        date_tolerance_days: rules.date_tolerance_days,
        cast: rules.cast.clone(),
        expected: rules.expected_pairs(),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

//! What a night accounts for beside the verdicts: every input file and rejected row, the rows
//! each transform wrote, code-mapping findings, warnings, and the (table, district) pairs that
//! could not be diffed. Filled by district, whether the district ran tonight or was carried
//! over; the report is assembled from it.

use std::collections::BTreeMap;

use pathway_audit::{AuditSpec, Side};
use pathway_diff::Status;
use pathway_input::FileRead;
use pathway_input::Rejection;
use pathway_report::{CodeMappingRow, DistrictError, MetricRow};

use super::reuse::DistrictRecord;
use super::transform::Worked;

/// The night's accounts, by district (see the module comment).
#[derive(Debug, Default)]
pub(super) struct Ledger {
    pub files: Vec<FileRead>,
    pub rejections: Vec<Rejection>,
    pub metrics: Vec<MetricRow>,
    pub code_mapping: Vec<CodeMappingRow>,
    /// Per district: its files no input reads.
    pub unread_files: BTreeMap<String, Vec<String>>,
    /// Per district: inputs that could not be read and that no table reads (no verdict says so).
    pub input_warnings: BTreeMap<String, Vec<String>>,
    pub errors: Vec<DistrictError>,
    /// Every (table, district) that was not diffed: ERROR or NO INPUT, with why.
    pub not_diffed: NotDiffed,
    /// Rows each side wrote, per (table, district): an ERROR row still says what each side
    /// produced before the other failed.
    pub written_rows: BTreeMap<(String, String), [Option<u64>; 2]>,
    /// (table, side) of a database side → (districts, rows) the snapshot copied.
    pub snapshotted: BTreeMap<(String, Side), (u64, u64)>,
}

impl Ledger {
    /// Take over the accounts of a district carried over from the previous night.
    pub fn carry(&mut self, district: &str, record: &DistrictRecord) {
        self.files.extend(record.files.iter().cloned());
        self.rejections.extend(record.rejections.iter().cloned());
        self.metrics.extend(record.metrics.iter().cloned());
        self.code_mapping
            .extend(record.code_mapping.iter().cloned());
        if !record.unread_files.is_empty() {
            self.unread_files
                .insert(district.to_owned(), record.unread_files.clone());
        }
        for warning in &record.warnings {
            tracing::warn!("warning: {warning}");
        }
        if !record.warnings.is_empty() {
            self.input_warnings
                .insert(district.to_owned(), record.warnings.clone());
        }
    }

    /// Account for a district read and transformed tonight: its files, rejections and unread
    /// inputs, each transform's rows and code mapping, and what failed.
    pub fn account(
        &mut self,
        audit: &AuditSpec,
        reads: &pathway_transform::TableInputs,
        date: &str,
        district: &str,
        (read, outcomes): Worked,
    ) {
        let input = match read {
            Ok(input) => input,
            Err(e) => {
                let message = format!("reading input: {e}");
                tracing::warn!(
                    "warning: audit `{}`, district {district}: {message}",
                    audit.name
                );
                for table in &audit.tables {
                    self.not_diffed.error(&table.name, district, &message);
                }
                self.errors.push(DistrictError {
                    table: "*".into(),
                    district_id: district.to_owned(),
                    stage: "input".into(),
                    message,
                });
                return;
            }
        };
        self.files.extend(input.files.iter().cloned());
        self.rejections.extend(input.rejections.iter().cloned());
        if !input.unread.is_empty() {
            self.unread_files
                .insert(district.to_owned(), input.unread.clone());
        }
        let warnings = unread_failures(&audit.name, &input, reads);
        for warning in &warnings {
            tracing::warn!("warning: {warning}");
        }
        if !warnings.is_empty() {
            self.input_warnings.insert(district.to_owned(), warnings);
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
                let entry = self
                    .snapshotted
                    .entry((outcome.table.clone(), outcome.side))
                    .or_default();
                entry.0 += 1;
                entry.1 += written.rows;
            }
            if let Ok(written) = &outcome.result {
                self.written_rows
                    .entry((outcome.table.clone(), district.to_owned()))
                    .or_default()[usize::from(outcome.side == Side::Beta)] = Some(written.rows);
                self.metrics.push(MetricRow {
                    audit_date: date.to_owned(),
                    audit: audit.name.clone(),
                    district_id: district.to_owned(),
                    side: outcome.side.to_string(),
                    table: outcome.table.clone(),
                    rows_read: read,
                    rows_loaded: loaded,
                    rows_rejected: rejected,
                    rows_written: written.rows,
                    seconds: written.elapsed.as_secs_f64(),
                    peak_rss_mib: None,
                });
                let rows = code_mapping_rows(date, district, &outcome, written);
                warn_unmapped(&audit.name, district, &outcome, &rows);
                self.code_mapping.extend(rows);
            }
            if let Err(e) = outcome.result {
                let (table, side) = (outcome.table, outcome.side);
                if let Some(error) = self
                    .not_diffed
                    .record(&audit.name, &table, side, district, &e)
                {
                    self.errors.push(error);
                }
            }
        }
    }

    /// One warning per district holding files no input reads: they arrived and nobody looked.
    pub fn warn_unread(&self, audit: &str) {
        for (district, files) in &self.unread_files {
            tracing::warn!(
                "warning: audit `{audit}`, district {district}: {} file(s) no input reads: {}",
                files.len(),
                files.join(", ")
            );
        }
    }
}

/// The (table, district) pairs that were not diffed, with their verdict (ERROR or NO INPUT) and
/// why. Both sides of a table fail with one message when an input it reads failed or is absent:
/// it is kept once.
#[derive(Debug, Default)]
pub(super) struct NotDiffed {
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
    pub fn of(&self, table: &str) -> BTreeMap<String, (Status, String)> {
        self.by_table.get(table).cloned().unwrap_or_default()
    }
}

/// `code_mapping.csv` rows for what one transform's `map_code` calls found.
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
/// earlier year; the codes themselves are in `code_mapping.csv`.
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

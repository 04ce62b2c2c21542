//! Incremental nights: a district whose input files and audit definition are byte for byte those
//! of the previous run reuses that run's results instead of being read, transformed and diffed.
//!
//! Every run writes `reuse.json`: the fingerprint of the audit folder and, per district, the
//! fingerprint of its input folder and everything the run reported about it (summary, column
//! diff, categories, rule counts, files read, rejected rows, metrics). The next run compares
//! fingerprints; a district that matches, and was not ERROR, gets those rows back (with the new
//! date, `reused = true`) and hard links to the previous run's Parquet (legacy, beta, row diff),
//! so the new run folder is complete and queryable on its own.
//!
//! `--only mismatched` reuses every district that was FULL MATCH (or ACCEPTED) in every table
//! last time, whatever changed, and runs the others: the quick check after a fix to the beta code.
//! `--no-reuse` runs everything. Neither reuses a night recorded by a build whose
//! [`REUSE_FORMAT`] differs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use pathway_diff::Status;
use pathway_input::Rejection;
use pathway_report::{
    CategoryRow, CodeMappingRow, ColumnDiffRow, FileRead, MetricRow, RuleHiddenRow, RunReport,
    SummaryRow,
};
use serde::{Deserialize, Serialize};

/// File name of the record in each run folder.
pub const FILE: &str = "reuse.json";

/// The format of what a reused district carries, recorded in every reuse.json. A previous night
/// recorded with another format is never carried over: its districts are run again.
///
/// Bump it whenever what a reused district carries (the fields of [`DistrictRecord`]) or how a
/// verdict is computed (statuses, what makes a district ERROR or NO INPUT, the counts) changes,
/// so that no night computed by an older build is reused as if it were this one's. The pathway
/// version alone does not do it: it is not bumped with every change.
///
/// - 1: records without a `format` (before NO INPUT, unread files and input warnings).
/// - 2: NO INPUT, `unread_files`, warnings about inputs no table reads.
/// - 3: key warnings, and `column_diff`'s `expected_cells`.
pub const REUSE_FORMAT: u32 = 3;

/// The format of a reuse.json written before formats were recorded.
fn format_before_it_was_recorded() -> u32 {
    1
}

/// Which districts may be carried over from the previous run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReuseMode {
    /// Districts whose input and audit are unchanged.
    #[default]
    Unchanged,
    /// Districts that were FULL MATCH (or ACCEPTED) in every table, changed or not.
    OnlyMismatched,
    /// None: run every district.
    Off,
}

/// What one run knows about its districts, for the next run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReuseRecord {
    /// The [`REUSE_FORMAT`] of the build that wrote it.
    #[serde(default = "format_before_it_was_recorded")]
    pub format: u32,
    /// Audit name.
    pub audit: String,
    /// Fingerprint of the audit folder and the pathway version.
    pub audit_fingerprint: String,
    /// Per district.
    pub districts: BTreeMap<String, DistrictRecord>,
}

/// Everything a run reported about one district.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DistrictRecord {
    /// Fingerprint of the district's input folder.
    pub input_fingerprint: String,
    /// Its rows of summary.csv.
    pub summary: Vec<SummaryRow>,
    /// Its rows of `column_diff.csv`.
    pub column_diff: Vec<ColumnDiffRow>,
    /// Its rows of categories.csv.
    pub categories: Vec<CategoryRow>,
    /// Its cells made equal by a rule.
    pub rule_hidden: Vec<RuleHiddenRow>,
    /// Its input files' accounting.
    pub files: Vec<FileRead>,
    /// Its rejected input rows (`validation_errors.parquet`).
    pub rejections: Vec<Rejection>,
    /// Its rows of metrics.csv.
    pub metrics: Vec<MetricRow>,
    #[serde(default)]
    /// Its rows of `code_mapping.csv`.
    pub code_mapping: Vec<CodeMappingRow>,
    /// Files of the district folder no input reads.
    #[serde(default)]
    pub unread_files: Vec<String>,
    /// Warnings about the district's input that changed no verdict (an input no table reads
    /// that could not be read), said again when the district is carried over.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Its tables whose key has nulls or duplicates.
    #[serde(default)]
    pub key_warnings: Vec<pathway_report::KeyWarning>,
    /// Its column profiles (none in a record written before pathway had profiles).
    #[serde(default)]
    pub profile: Vec<pathway_profile::ProfileRow>,
}

impl DistrictRecord {
    /// Every table of the district was ERROR-free.
    fn has_errors(&self) -> bool {
        self.summary.iter().any(|r| r.status == Status::Error)
    }

    /// Every table matched (FULL MATCH or ACCEPTED).
    fn all_matched(&self) -> bool {
        !self.summary.is_empty()
            && self
                .summary
                .iter()
                .all(|r| matches!(r.status, Status::FullMatch | Status::Accepted))
    }

    /// The record with its rows moved to night `date` and marked reused.
    #[must_use]
    pub fn for_night(&self, date: &str) -> DistrictRecord {
        let mut record = self.clone();
        for row in &mut record.summary {
            row.audit_date = date.to_owned();
            row.reused = true;
        }
        for row in &mut record.column_diff {
            row.audit_date = date.to_owned();
        }
        for row in &mut record.categories {
            row.audit_date = date.to_owned();
        }
        for row in &mut record.rule_hidden {
            row.audit_date = date.to_owned();
        }
        for row in &mut record.metrics {
            row.audit_date = date.to_owned();
            // Nothing was read or transformed for it tonight.
            row.seconds = 0.0;
        }
        for row in &mut record.code_mapping {
            row.audit_date = date.to_owned();
        }
        record
    }
}

/// Fingerprint of every file below `dir` (relative path and content), sorted by path, plus
/// `salt`. Hex, 32 characters.
///
/// # Errors
/// A file that cannot be read.
pub fn fingerprint_folder(dir: &Path, salt: &str) -> anyhow::Result<String> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.sort();
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(salt.as_bytes());
    for relative in files {
        let path = dir.join(&relative);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
        let name = relative.to_string_lossy();
        // Lengths first, so no two different folders hash the same byte stream.
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(format!("{:032x}", hasher.digest128()))
}

/// The files below `dir` (sub-folders included), as paths relative to `root`.
pub(crate) fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_files(root, &path, out)?;
        } else {
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

/// Per district, the tables a night's record says differed there (MISMATCH, LEGACY ONLY, BETA
/// ONLY or ACCEPTED): tonight their outputs in that district are written without a footprint,
/// which could not decide them.
#[must_use]
pub fn differed_tables(
    record: &ReuseRecord,
) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    let differs = [
        Status::Mismatch,
        Status::LegacyOnly,
        Status::BetaOnly,
        Status::Accepted,
    ];
    record
        .districts
        .iter()
        .map(|(district, r)| {
            let tables = r
                .summary
                .iter()
                .filter(|row| differs.contains(&row.status))
                .map(|row| row.table.clone())
                .collect();
            (district.clone(), tables)
        })
        .collect()
}

/// The record of the latest run of `audit` in `out`, with its folder, whatever its date: a
/// night run again (after a fix, `--only mismatched`) carries over from its own earlier run,
/// and a record stands for its input whichever night read it. Runs without a record (or with
/// an unreadable one) are passed over.
#[must_use]
pub fn previous(out: &Path, audit: &str) -> Option<(PathBuf, ReuseRecord)> {
    crate::layout::dates_in(out)
        .into_iter()
        .rev()
        .find_map(|date| {
            let night = out.join(date);
            let text = std::fs::read_to_string(night.join(FILE)).ok()?;
            let record: ReuseRecord = serde_json::from_str(&text).ok()?;
            (record.audit == audit).then_some((night, record))
        })
}

/// Whether `district` may be carried over from `previous` under `mode`: never when `previous`
/// was recorded in another [`REUSE_FORMAT`], nor when the district was ERROR.
#[must_use]
pub fn reusable<'a>(
    mode: ReuseMode,
    previous: Option<&'a ReuseRecord>,
    audit_fingerprint: &str,
    district: &str,
    input_fingerprint: &str,
) -> Option<&'a DistrictRecord> {
    let previous = previous?;
    if previous.format != REUSE_FORMAT {
        return None;
    }
    let record = previous.districts.get(district)?;
    if record.has_errors() {
        return None;
    }
    match mode {
        ReuseMode::Off => None,
        ReuseMode::OnlyMismatched => record.all_matched().then_some(record),
        ReuseMode::Unchanged => (previous.audit_fingerprint == audit_fingerprint
            && record.input_fingerprint == input_fingerprint)
            .then_some(record),
    }
}

/// What a district's transforms wrote: both sides' Parquet, and a program side's stderr.
pub const OUTPUTS: &[&str] = &["legacy", "beta", "commands/legacy", "commands/beta"];

/// What the diff wrote for a district: its row diff.
pub const RESULTS: &[&str] = &["row_diff"];

/// Both.
pub const ALL: &[&str] = &[
    "legacy",
    "beta",
    "commands/legacy",
    "commands/beta",
    "row_diff",
];

/// Link (or copy) the previous run's files of `district` for `table` in the folders `parts`
/// (see [`OUTPUTS`], [`RESULTS`]) into the staging folder.
///
/// # Errors
/// A file that can be neither linked nor copied.
pub fn link_district(
    previous_run: &Path,
    staging: &Path,
    table: &str,
    district: &str,
    parts: &[&str],
) -> anyhow::Result<()> {
    let partition = format!("district_id={district}");
    for part in parts {
        let from = previous_run.join(part).join(table).join(&partition);
        if from.is_dir() {
            link_tree(&from, &staging.join(part).join(table).join(&partition))?;
        }
    }
    Ok(())
}

/// Hard-link (or copy, across file systems) every file below `from` to the same place below `to`.
fn link_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create `{}`", to.display()))?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).with_context(|| {
                format!(
                    "cannot copy `{}` from the previous run",
                    entry.path().display()
                )
            })?;
        }
    }
    Ok(())
}

/// This run's record, built from its report.
#[must_use]
pub fn record_of(
    report: &RunReport,
    audit_fingerprint: &str,
    input_fingerprints: &BTreeMap<String, String>,
    rejections: &[Rejection],
    input_warnings: &BTreeMap<String, Vec<String>>,
) -> ReuseRecord {
    let mut districts = BTreeMap::new();
    for (district, fingerprint) in input_fingerprints {
        let of = |d: &String| d == district;
        districts.insert(
            district.clone(),
            DistrictRecord {
                input_fingerprint: fingerprint.clone(),
                summary: report
                    .summary
                    .iter()
                    .filter(|r| of(&r.district_id))
                    .map(|r| SummaryRow {
                        reused: false,
                        ..r.clone()
                    })
                    .collect(),
                column_diff: filtered(&report.column_diff, |r| of(&r.district_id)),
                categories: filtered(&report.categories, |r| of(&r.district_id)),
                rule_hidden: filtered(&report.rule_hidden, |r| of(&r.district_id)),
                files: filtered(&report.input_files, |r| of(&r.district_id)),
                rejections: filtered(rejections, |r| of(&r.district_id)),
                metrics: filtered(&report.metrics, |r| of(&r.district_id)),
                code_mapping: filtered(&report.code_mapping, |r| of(&r.district_id)),
                unread_files: report
                    .unread_files
                    .get(district)
                    .cloned()
                    .unwrap_or_default(),
                warnings: input_warnings.get(district).cloned().unwrap_or_default(),
                key_warnings: filtered(&report.key_warnings, |r| of(&r.district_id)),
                profile: filtered(&report.profile, |r| of(&r.district_id)),
            },
        );
    }
    ReuseRecord {
        format: REUSE_FORMAT,
        audit: report.audit.clone(),
        audit_fingerprint: audit_fingerprint.to_owned(),
        districts,
    }
}

fn filtered<T: Clone>(rows: &[T], keep: impl Fn(&T) -> bool) -> Vec<T> {
    rows.iter().filter(|r| keep(r)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(format: u32) -> ReuseRecord {
        let matched = DistrictRecord {
            input_fingerprint: "in".into(),
            summary: vec![SummaryRow {
                status: Status::FullMatch,
                ..SummaryRow::default()
            }],
            ..DistrictRecord::default()
        };
        ReuseRecord {
            format,
            audit: "example".into(),
            audit_fingerprint: "audit".into(),
            districts: BTreeMap::from([("101".to_owned(), matched)]),
        }
    }

    #[test]
    fn a_night_recorded_in_another_format_is_never_reused() {
        let reused =
            |mode, format| reusable(mode, Some(&night(format)), "audit", "101", "in").is_some();
        for mode in [ReuseMode::Unchanged, ReuseMode::OnlyMismatched] {
            assert!(reused(mode, REUSE_FORMAT), "{mode:?}");
            assert!(!reused(mode, REUSE_FORMAT - 1), "{mode:?}");
            assert!(!reused(mode, REUSE_FORMAT + 1), "{mode:?}");
        }
        // A reuse.json written before formats were recorded is format 1, this one's is written.
        let old: ReuseRecord = serde_json::from_str(
            r#"{"audit": "example", "audit_fingerprint": "audit", "districts": {}}"#,
        )
        .unwrap();
        assert_eq!(old.format, 1);
        assert_eq!(REUSE_FORMAT, 3);
        let written = serde_json::to_value(night(REUSE_FORMAT)).unwrap();
        assert_eq!(written["format"], 3);
    }
}

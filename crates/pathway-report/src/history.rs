//! history.csv: every night's summary rows, the FULL MATCH tracking sheet.

use std::collections::BTreeMap;
use std::path::Path;

use pathway_diff::{MatchScore, Status};
use serde::Serialize;

use crate::csv_files::{read_summary_csv, summary_csv};
use crate::error::Result;
use crate::rows::SummaryRow;
use crate::write::atomic_write;

/// Read history.csv (no file: no rows).
///
/// # Errors
/// When the file exists but is unreadable or malformed.
pub fn read_history(path: &Path) -> Result<Vec<SummaryRow>> {
    read_summary_csv(path)
}

/// Put `rows` into history.csv in place of any earlier rows of the same audit and date, so a
/// re-run replaces a night instead of counting it twice. The file is replaced atomically.
///
/// # Errors
/// When history.csv is malformed or cannot be replaced; it is then left as it was.
pub fn update_history(
    path: &Path,
    audit: &str,
    audit_date: &str,
    rows: &[SummaryRow],
) -> Result<()> {
    let mut all: Vec<SummaryRow> = read_history(path)?
        .into_iter()
        .filter(|r| !(r.audit == audit && r.audit_date == audit_date))
        .collect();
    all.extend(rows.iter().cloned());
    all.sort_by(|a, b| {
        (&a.audit_date, &a.audit, &a.table, &a.district_id).cmp(&(
            &b.audit_date,
            &b.audit,
            &b.table,
            &b.district_id,
        ))
    });
    atomic_write(path, summary_csv(&all)?.as_bytes())
}

/// Districts per status for one date, audit and table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HistoryCount {
    /// Night.
    pub audit_date: String,
    /// Audit name.
    pub audit: String,
    /// Output table.
    pub table: String,
    /// Districts audited.
    pub districts: u64,
    /// FULL MATCH districts.
    pub full_match: u64,
    /// MISMATCH districts.
    pub mismatch: u64,
    /// LEGACY ONLY districts.
    pub legacy_only: u64,
    /// BETA ONLY districts.
    pub beta_only: u64,
    /// ERROR districts.
    pub error: u64,
    /// ACCEPTED districts.
    pub accepted: u64,
    /// NO INPUT districts.
    pub no_input: u64,
    /// The mean match score of the districts that have one (docs/cli.md, "Match score").
    pub match_pct: Option<MatchScore>,
}

/// Count districts per status for every (date, audit, table), in date order.
#[must_use]
pub fn full_match_counts(rows: &[SummaryRow]) -> Vec<HistoryCount> {
    let mut counts: BTreeMap<(String, String, String), HistoryCount> = BTreeMap::new();
    let mut scores: BTreeMap<(String, String, String), Vec<MatchScore>> = BTreeMap::new();
    for row in rows {
        if let Some(score) = row.match_pct {
            scores
                .entry((row.audit_date.clone(), row.audit.clone(), row.table.clone()))
                .or_default()
                .push(score);
        }
        let key = (row.audit_date.clone(), row.audit.clone(), row.table.clone());
        let entry = counts.entry(key).or_insert_with(|| HistoryCount {
            audit_date: row.audit_date.clone(),
            audit: row.audit.clone(),
            table: row.table.clone(),
            ..HistoryCount::default()
        });
        entry.districts += 1;
        match row.status {
            Status::FullMatch => entry.full_match += 1,
            Status::Mismatch => entry.mismatch += 1,
            Status::LegacyOnly => entry.legacy_only += 1,
            Status::BetaOnly => entry.beta_only += 1,
            Status::Error => entry.error += 1,
            Status::Accepted => entry.accepted += 1,
            Status::NoInput => entry.no_input += 1,
        }
    }
    for (key, scores) in scores {
        if let Some(entry) = counts.get_mut(&key) {
            entry.match_pct = MatchScore::mean(scores);
        }
    }
    counts.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(date: &str, district: &str, status: &str) -> SummaryRow {
        SummaryRow {
            audit_date: date.into(),
            table: "students".into(),
            district_id: district.into(),
            status: Status::parse(status).expect("a status"),
            audit: "example".into(),
            ..SummaryRow::default()
        }
    }

    #[test]
    fn rerun_of_a_date_replaces_its_rows() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("history.csv");
        update_history(
            &path,
            "example",
            "2026-11-20",
            &[row("2026-11-20", "101", "MISMATCH")],
        )
        .unwrap();
        update_history(
            &path,
            "example",
            "2026-11-21",
            &[row("2026-11-21", "101", "MISMATCH")],
        )
        .unwrap();
        update_history(
            &path,
            "example",
            "2026-11-21",
            &[
                row("2026-11-21", "101", "FULL MATCH"),
                row("2026-11-21", "102", "FULL MATCH"),
            ],
        )
        .unwrap();
        let rows = read_history(&path).unwrap();
        assert_eq!(rows.len(), 3);
        let counts = full_match_counts(&rows);
        assert_eq!(counts.len(), 2);
        assert_eq!(
            (
                counts[0].districts,
                counts[0].full_match,
                counts[0].mismatch
            ),
            (1, 0, 1)
        );
        assert_eq!(
            (
                counts[1].districts,
                counts[1].full_match,
                counts[1].mismatch
            ),
            (2, 2, 0)
        );
    }
}

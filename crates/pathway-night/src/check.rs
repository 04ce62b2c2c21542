//! Checking an audit before a night runs: every transform planned against one district's inputs,
//! every column name the audit mentions looked up in what those transforms produce (see
//! `pathway_audit::names`). `pathway check` prints the result; `pathway run` stops on an unknown
//! name before any district runs, and warns once about a transform that does not plan.

use std::path::Path;

use anyhow::Context;
use pathway_audit::AuditSpec;
use pathway_audit::names::{SideColumns, UnknownName, unknown_names};
use pathway_input::DistrictInput;
use pathway_transform::PlannedSide;

/// At most this many districts are read to find one that has a file for every input.
const DISTRICTS_TRIED: usize = 3;

/// What the check found.
#[derive(Debug)]
pub struct AuditCheck {
    /// The district the transforms were planned against, if any.
    pub district: Option<String>,
    /// Per table: its planned sides (legacy, beta).
    pub tables: Vec<(String, [PlannedSide; 2])>,
    /// Names of the audit no column has.
    pub unknown: Vec<UnknownName>,
    /// Inputs' `pii` names the checked district's header lacks, with no close name: warnings.
    pub doubtful: Vec<UnknownName>,
    /// Column names the audit mentions, all of them.
    pub names: usize,
}

impl AuditCheck {
    /// The transforms that fail whatever the district (see [`PlannedSide::stops_the_run`]).
    pub fn audit_errors(&self) -> impl Iterator<Item = &str> {
        self.tables
            .iter()
            .flat_map(|(_, sides)| sides.iter())
            .filter(|s| s.stops_the_run)
            .filter_map(|s| s.note.as_deref())
    }

    /// The transforms that did not plan, with DataFusion's message.
    pub fn plan_failures(&self) -> impl Iterator<Item = &str> {
        self.tables
            .iter()
            .flat_map(|(_, sides)| sides.iter())
            .filter(|s| s.failed)
            .filter_map(|s| s.note.as_deref())
    }
}

/// Check `audit` against the first district of `input` that has a file for every input (of
/// the first few), or without an input folder, against nothing: only the names of inputs and
/// tables that need no data are then checkable, which is none.
///
/// # Errors
/// An input folder that cannot be listed or read.
pub async fn check_audit(
    audit: &AuditSpec,
    input: Option<&Path>,
    masker: &pathway_mask::Masker,
) -> anyhow::Result<AuditCheck> {
    let names = name_count(audit);
    let Some(input) = input else {
        return Ok(AuditCheck {
            district: None,
            tables: Vec::new(),
            unknown: Vec::new(),
            doubtful: Vec::new(),
            names,
        });
    };
    let Some(district) = district_to_check(audit, input, masker)? else {
        return Ok(AuditCheck {
            district: None,
            tables: Vec::new(),
            unknown: Vec::new(),
            doubtful: Vec::new(),
            names,
        });
    };
    let tables = pathway_transform::plan_outputs(audit, &district).await;
    let outputs = |table: &str, side: pathway_audit::Side| {
        tables
            .iter()
            .find(|(name, _)| name == table)
            .map_or(SideColumns::Unknown, |(_, sides)| {
                sides[usize::from(side == pathway_audit::Side::Beta)]
                    .columns
                    .clone()
            })
    };
    let inputs = |name: &str| {
        district
            .tables
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.schema.fields().iter().map(|f| f.name().clone()).collect())
    };
    let checked = unknown_names(audit, &outputs, &inputs);
    Ok(AuditCheck {
        district: Some(district.district_id.clone()),
        tables,
        unknown: checked.unknown,
        doubtful: checked.doubtful,
        names,
    })
}

/// The first district (by name, of the first few) with a file and a row for every input; else
/// the one of those with the fewest missing inputs.
fn district_to_check(
    audit: &AuditSpec,
    input: &Path,
    masker: &pathway_mask::Masker,
) -> anyhow::Result<Option<DistrictInput>> {
    // An input folder that cannot be listed is the night's own error, said by the pipeline
    // with its usual words; there is nothing to check against here.
    let Ok(listed) = pathway_input::list_districts(input) else {
        return Ok(None);
    };
    let mut best: Option<DistrictInput> = None;
    for district in listed.districts.iter().take(DISTRICTS_TRIED) {
        let read = pathway_input::read_district(audit, input, district, masker)
            .with_context(|| format!("cannot read district {district}"))?;
        let missing = read.absent().len() + read.failed.len();
        if missing == 0 {
            return Ok(Some(read));
        }
        let fewer = best
            .as_ref()
            .is_none_or(|b| missing < b.absent().len() + b.failed.len());
        if fewer {
            best = Some(read);
        }
    }
    Ok(best)
}

/// How many column names `audit` mentions.
fn name_count(audit: &AuditSpec) -> usize {
    let inputs: usize = audit.inputs.iter().map(|i| i.pii.len()).sum();
    let tables: usize = audit
        .tables
        .iter()
        .map(|t| t.key.len() + t.pii.len() + t.ignore.len() + 2 * t.rename.len() + t.columns.len())
        .sum();
    inputs + tables + audit.accepted.len()
}

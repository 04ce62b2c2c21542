//! Every column name an audit mentions, checked against the columns that exist.
//!
//! A name that matches nothing does nothing: a misspelled `pii` column shows students' names in
//! clear, a misspelled `[[accepted]]` column accepts nothing, a misspelled key fails every
//! district. So before a night runs, each name is looked up in the columns the transforms
//! produce (planned against a district's inputs) and the inputs hold, and an unknown one stops
//! the run with the file, the table, the option and the closest names.

use crate::spec::{AuditSpec, Side};

/// The columns one side of a table produces, as far as they are known before running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SideColumns {
    /// The SQL planned: these columns, in order.
    Known(Vec<String>),
    /// Not known without running it (a program's output, a database that was not asked).
    Unknown,
}

impl SideColumns {
    fn has(&self, column: &str) -> Option<bool> {
        match self {
            SideColumns::Known(columns) => Some(columns.iter().any(|c| c == column)),
            SideColumns::Unknown => None,
        }
    }
}

/// A name the audit mentions that no column has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// `audit.toml`, or `legacy/<table>.sql` ...
    pub file: String,
    /// Where in it: `[tables.students] pii`, `[[accepted]] column` ...
    pub option: String,
    /// The name.
    pub name: String,
    /// Where it was looked for: `the legacy output of students`.
    pub looked_in: String,
    /// Existing names close to it, closest first (at most three).
    pub close: Vec<String>,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} names `{}`, which is not a column of {}",
            self.file, self.option, self.name, self.looked_in
        )?;
        if !self.close.is_empty() {
            let close: Vec<String> = self.close.iter().map(|c| format!("`{c}`")).collect();
            write!(f, " (did you mean {}?)", close.join(" or "))?;
        }
        Ok(())
    }
}

/// What [`unknown_names`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameCheck {
    /// Names no column has: errors.
    pub unknown: Vec<UnknownName>,
    /// An input's `pii` name the checked district's header lacks, with no close name in it:
    /// another version of the export may have it (OneRoster 1.1 has `password`, 1.0 not), so a
    /// warning rather than an error.
    pub doubtful: Vec<UnknownName>,
}

/// The names of `audit` that no column has. `outputs(table, side)` gives a side's columns;
/// `inputs(input)` a raw input's columns (`None` when the district has no file for it). The
/// group column `district_id` exists in every output.
#[must_use]
pub fn unknown_names(
    audit: &AuditSpec,
    outputs: &dyn Fn(&str, Side) -> SideColumns,
    inputs: &dyn Fn(&str) -> Option<Vec<String>>,
) -> NameCheck {
    let mut found = Vec::new();
    let mut doubtful = Vec::new();
    for input in &audit.inputs {
        let Some(columns) = inputs(&input.name) else {
            continue;
        };
        for name in &input.pii {
            if !columns.contains(name) {
                let name = unknown(
                    &format!("[inputs.{}] pii", input.name),
                    name,
                    &format!(
                        "the input `{}` in the checked district's header",
                        input.name
                    ),
                    &columns,
                );
                if name.close.is_empty() {
                    doubtful.push(name);
                } else {
                    found.push(name);
                }
            }
        }
    }
    for table in &audit.tables {
        let legacy = outputs(&table.name, Side::Legacy);
        let beta = outputs(&table.name, Side::Beta);
        // Beta's columns under the names the comparison uses (a rename gives beta's column the
        // legacy name).
        let beta_renamed = match &beta {
            SideColumns::Known(columns) => SideColumns::Known(
                columns
                    .iter()
                    .map(|c| {
                        table
                            .rename
                            .iter()
                            .find(|(_, b)| b == c)
                            .map_or_else(|| c.clone(), |(l, _)| l.clone())
                    })
                    .collect(),
            ),
            SideColumns::Unknown => SideColumns::Unknown,
        };
        let section = format!("[tables.{}]", table.name);
        let known = |side: &SideColumns| match side {
            SideColumns::Known(c) => c.clone(),
            SideColumns::Unknown => Vec::new(),
        };
        let is_group = |name: &str| name == "district_id";
        let mut check =
            |option: &str, name: &str, sides: &[(&SideColumns, &str)], need_all: bool| {
                if is_group(name) {
                    return;
                }
                let answers: Vec<Option<bool>> = sides.iter().map(|(s, _)| s.has(name)).collect();
                let missing = if need_all {
                    answers.contains(&Some(false))
                } else {
                    // Unknown on a side means it may be there.
                    !answers.is_empty() && answers.iter().all(|a| *a == Some(false))
                };
                if missing {
                    let (side, label) = sides
                        .iter()
                        .find(|(s, _)| s.has(name) == Some(false))
                        .expect("a side without the name");
                    found.push(unknown(
                        option,
                        name,
                        &format!("{label} of `{}`", table.name),
                        &known(side),
                    ));
                }
            };
        let both = [
            (&legacy, "the legacy output"),
            (&beta_renamed, "the beta output"),
        ];
        let option = |name: &str| format!("{section} {name}");
        for name in &table.key {
            check(&option("key"), name, &both, true);
        }
        for name in &table.pii {
            check(&option("pii"), name, &both, false);
        }
        for name in &table.ignore {
            check(&option("ignore"), name, &both, false);
        }
        for (legacy_name, beta_name) in &table.rename {
            let legacy_only = [(&legacy, "the legacy output")];
            check(&option("rename"), legacy_name, &legacy_only, true);
            check(
                &option("rename"),
                beta_name,
                &[(&beta, "the beta output")],
                true,
            );
        }
        for (column, _) in &table.columns {
            let legacy_only = [(&legacy, "the legacy output")];
            let section = format!("[tables.{}.columns.{column}]", table.name);
            check(&section, column, &legacy_only, true);
        }
    }
    for accepted in &audit.accepted {
        let Some(table) = audit.tables.iter().find(|t| t.name == accepted.table) else {
            continue;
        };
        let legacy = outputs(&table.name, Side::Legacy);
        let beta = outputs(&table.name, Side::Beta);
        let answers = [legacy.has(&accepted.column), beta.has(&accepted.column)];
        if answers.iter().all(|a| *a == Some(false)) {
            let SideColumns::Known(columns) = legacy else {
                continue;
            };
            found.push(unknown(
                "[[accepted]] column",
                &accepted.column,
                &format!("the outputs of `{}`", table.name),
                &columns,
            ));
        }
    }
    NameCheck {
        unknown: found,
        doubtful,
    }
}

fn unknown(option: &str, name: &str, looked_in: &str, columns: &[String]) -> UnknownName {
    UnknownName {
        file: "audit.toml".to_owned(),
        option: option.trim().to_owned(),
        name: name.to_owned(),
        looked_in: looked_in.to_owned(),
        close: close_matches(name, columns),
    }
}

/// Up to three of `candidates` a few edits away from `name` (a swapped, missing, extra or
/// wrong letter counts one; case ignored), closest first: `studnet_name` finds `student_name`.
#[must_use]
pub fn close_matches(name: &str, candidates: &[String]) -> Vec<String> {
    let lower = name.to_lowercase();
    let allowed = (name.chars().count() / 4).max(1);
    let mut scored: Vec<(usize, &String)> = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(distance, _)| *distance <= allowed)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_column() {
        let columns: Vec<String> = ["student_id", "student_name", "grade_level", "letter_grade"]
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        assert_eq!(close_matches("studnet_name", &columns), ["student_name"]);
        assert_eq!(close_matches("leter_grade", &columns), ["letter_grade"]);
        assert_eq!(close_matches("GRADE_LEVEL", &columns), ["grade_level"]);
        assert!(close_matches("zip", &columns).is_empty());
    }
}

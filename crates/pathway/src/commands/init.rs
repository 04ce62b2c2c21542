//! `pathway init FOLDER`: a commented audit to start from, with a two-district sample night, that
//! passes `pathway check` and runs.
//!
//! ```text
//! pathway init audits/attendance
//! pathway check audits/attendance --input audits/attendance/sample-input
//! pathway run audits/attendance --input audits/attendance/sample-input
//! ```

use std::path::Path;

use anyhow::{Context, bail};

use crate::ExitStatus;
use crate::cli::InitArgs;

const AUDIT_TOML: &str = r#"# The audit `{name}`: the legacy load of student files against its rewrite.
# Check it without running: pathway check {folder} --input {folder}/sample-input
# Run it:                   pathway run {folder} --input {folder}/sample-input
# Every option: docs/audit-definition.md.
name = "{name}"
description = "Student load: the legacy ETL against its rewrite"

# Raw input tables, filled per district from the files matching `glob` in <input>/<district_id>/
# (compressed copies such as students.csv.gz match too). Columns keep the header's spelling and
# stay text: quote mixed-case names in SQL ("StudentID").
[inputs.students_raw]
glob = "students*.csv"
delimiter = "auto"                  # ",", "tab", "|", ";" or "auto"
encoding = "auto"                   # "utf-8", "windows-1252" or "auto"
pii = ["LastName", "FirstName"]     # masked in rejected-row samples

# One output table per pair of SQL files, legacy/students.sql and beta/students.sql.
[tables.students]
key = ["student_id"]                # identifies a row within a district ([] compares multisets)
ignore = []                         # columns left out of the comparison (load timestamps, ...)
pii = ["last_name", "first_name"]   # masked in every report, query and sample

# Comparison rules for every column of the table (all optional; exact by default):
# [tables.students.compare]
# trim = true
# Rules of one column (by its legacy name):
# [tables.students.columns.grade_level]
# cast = "integer"

# A difference the team decided to keep (optional):
# [[accepted]]
# table = "students"
# column = "grade_level"
# category = "type_format"
# reason = "beta drops the zero padding on purpose"
"#;

const LEGACY_SQL: &str = r#"-- The legacy transform of `students`: one DataFusion SELECT over the raw tables.
SELECT
    trim("StudentID") AS student_id,
    trim("LastName") AS last_name,
    trim("FirstName") AS first_name,
    trim("Grade") AS grade_level
FROM students_raw
"#;

const BETA_SQL: &str = r#"-- The rewrite of `students`: it must produce what legacy/students.sql produces.
SELECT
    trim("StudentID") AS student_id,
    trim("LastName") AS last_name,
    trim("FirstName") AS first_name,
    trim("Grade") AS grade_level
FROM students_raw
"#;

const SAMPLE: [(&str, &str); 2] = [
    (
        "101",
        "StudentID,LastName,FirstName,Grade\n1001,Rivera,Ana,07\n1002,Chen,Leo,08\n",
    ),
    (
        "102",
        "StudentID,LastName,FirstName,Grade\n2001,Okafor,Ada,05\n",
    ),
];

/// Create the audit folder.
///
/// # Errors
/// When the folder exists already or cannot be written (exit code 2).
pub fn init(args: &InitArgs) -> anyhow::Result<ExitStatus> {
    let folder = &args.folder;
    if folder.exists() {
        bail!(
            "`{}` exists already: pathway init creates a new folder (pick another name)",
            folder.display()
        );
    }
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        bail!(
            "`{name}` cannot name an audit: use lower-case letters, digits, `_` and `-` (the folder's last part names it)"
        );
    }
    let shown = folder.display().to_string();
    let toml = AUDIT_TOML
        .replace("{name}", &name)
        .replace("{folder}", &shown);
    write(&folder.join("audit.toml"), &toml)?;
    write(&folder.join("legacy/students.sql"), LEGACY_SQL)?;
    write(&folder.join("beta/students.sql"), BETA_SQL)?;
    for (district, csv) in SAMPLE {
        write(
            &folder
                .join("sample-input")
                .join(district)
                .join("students.csv"),
            csv,
        )?;
    }
    println!(
        "created the audit `{name}` in {shown}:\n  audit.toml, legacy/students.sql, beta/students.sql, sample-input/ (districts 101 and 102)\nnext: pathway check {shown} --input {shown}/sample-input"
    );
    Ok(ExitStatus::Completed)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}

//! Which raw inputs each table's transforms read, and whether a district gave them anything.
//!
//! A table computed from an input that sent nothing would be computed from nothing, and could
//! come out a FULL MATCH (two empty sides agree). So before a table is transformed in a district,
//! the inputs it reads are checked: one that could not be read makes the table fail with the
//! reason; one with no file, or whose files loaded no row, makes it [`Error::NoInput`].
//!
//! What an SQL side reads is what DataFusion's parser finds in its `FROM` clauses (CTE names
//! excluded, identifiers normalised as when the SQL runs); a program side may read any file of the
//! district folder, so it counts as reading every input; a database side reads none.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::execution::session_state::SessionState;
use datafusion::prelude::SessionContext;
use pathway_audit::{AuditSpec, Side, TableSpec, Transform};
use pathway_input::DistrictInput;

use crate::error::Error;

/// The raw inputs a table's transforms (both sides) read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputsRead {
    /// Every input of the audit (a side is a program).
    All,
    /// These inputs, by name.
    Only(BTreeSet<String>),
}

impl InputsRead {
    /// Whether `input` is among them.
    #[must_use]
    pub fn contains(&self, input: &str) -> bool {
        match self {
            InputsRead::All => true,
            InputsRead::Only(names) => names.contains(input),
        }
    }
}

/// What every table of an audit reads: worked out once per run, from the SQL text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableInputs {
    by_table: BTreeMap<String, InputsRead>,
}

impl TableInputs {
    /// The inputs of every table of `audit`.
    #[must_use]
    pub fn of(audit: &AuditSpec) -> TableInputs {
        let state = SessionContext::new().state();
        let by_table = audit
            .tables
            .iter()
            .map(|table| (table.name.clone(), inputs_read(&state, audit, table)))
            .collect();
        TableInputs { by_table }
    }

    /// What `table` reads (nothing, for a table the audit does not have).
    #[must_use]
    pub fn get(&self, table: &str) -> InputsRead {
        self.by_table
            .get(table)
            .cloned()
            .unwrap_or_else(|| InputsRead::Only(BTreeSet::new()))
    }

    /// Whether any table reads `input`. An input no table reads changes no verdict, so when it
    /// cannot be read only a warning says so.
    #[must_use]
    pub fn read_by_any(&self, input: &str) -> bool {
        self.by_table.values().any(|reads| reads.contains(input))
    }

    /// Why `table` cannot be transformed in this district, if it cannot: an input it reads
    /// failed, or gave no row. A failure wins over an absence.
    #[must_use]
    pub fn blocked(&self, table: &str, input: &DistrictInput) -> Option<Blocked> {
        let reads = self.get(table);
        let failed: Vec<String> = input
            .failed
            .iter()
            .filter(|(name, _)| reads.contains(name))
            .map(|(name, why)| format!("input `{name}`: {why}"))
            .collect();
        let absent: Vec<String> = input
            .absent()
            .into_iter()
            .filter(|(name, _)| reads.contains(name))
            .map(|(_, why)| why)
            .collect();
        let (no_input, reasons) = match (failed.is_empty(), absent.is_empty()) {
            (false, _) => (false, failed),
            (true, false) => (true, absent),
            (true, true) => return None,
        };
        Some(Blocked {
            table: table.to_owned(),
            district: input.district_id.clone(),
            no_input,
            message: reasons.join("; "),
        })
    }
}

/// Why a table is not transformed in a district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    table: String,
    district: String,
    /// True when its inputs gave no row, false when one could not be read.
    no_input: bool,
    message: String,
}

impl Blocked {
    /// The error both sides of the table report: [`Error::NoInput`] or [`Error::Input`].
    #[must_use]
    pub fn error(&self) -> Error {
        let (table, district, message) = (
            self.table.clone(),
            self.district.clone(),
            self.message.clone(),
        );
        if self.no_input {
            Error::NoInput {
                table,
                district,
                message,
            }
        } else {
            Error::Input {
                table,
                district,
                message,
            }
        }
    }
}

/// The inputs `table` reads, over both sides.
fn inputs_read(state: &SessionState, audit: &AuditSpec, table: &TableSpec) -> InputsRead {
    let mut names = BTreeSet::new();
    for side in Side::BOTH {
        match table.transform(side) {
            Transform::Command(_) => return InputsRead::All,
            Transform::Database(_) => {}
            Transform::Sql(sql) => names.extend(sql_inputs(state, audit, &sql.sql)),
        }
    }
    InputsRead::Only(names)
}

/// The audit's inputs that `sql` names as tables. SQL that does not parse names none: it will
/// fail when it runs, with the parser's message.
fn sql_inputs(state: &SessionState, audit: &AuditSpec, sql: &str) -> BTreeSet<String> {
    let dialect = state.config().options().sql_parser.dialect;
    let Ok(statement) = state.sql_to_statement(sql, &dialect) else {
        return BTreeSet::new();
    };
    let Ok(references) = state.resolve_table_references(&statement) else {
        return BTreeSet::new();
    };
    references
        .iter()
        .map(|r| r.table())
        .filter(|name| audit.inputs.iter().any(|i| i.name == *name))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use pathway_audit::{CommandSpec, Encoding, InputFormat, InputSpec, SqlFile};

    use super::*;

    fn input(name: &str) -> InputSpec {
        InputSpec {
            name: name.into(),
            glob: format!("{name}*.csv"),
            format: InputFormat::Csv,
            delimiter: None,
            header: true,
            encoding: Encoding::Auto,
            pii: Vec::new(),
            optional_columns: Vec::new(),
        }
    }

    fn sql(text: &str) -> Transform {
        Transform::Sql(SqlFile {
            path: PathBuf::from("x.sql"),
            sql: text.into(),
        })
    }

    fn table(name: &str, legacy: Transform, beta: Transform) -> TableSpec {
        TableSpec {
            name: name.into(),
            key: Vec::new(),
            ignore: Vec::new(),
            pii: Vec::new(),
            rename: Vec::new(),
            compare: pathway_audit::Rules::default(),
            columns: Vec::new(),
            legacy,
            beta,
        }
    }

    fn command() -> Transform {
        Transform::Command(CommandSpec {
            argv: vec!["python3".into(), "legacy/job.py".into()],
            output: "out.csv".into(),
            format: InputFormat::Csv,
            timeout: std::time::Duration::from_secs(60),
            env: std::collections::BTreeMap::new(),
            types: std::collections::BTreeMap::new(),
            defined_in: PathBuf::from("audit.toml"),
        })
    }

    fn audit(tables: Vec<TableSpec>) -> AuditSpec {
        AuditSpec {
            name: "t".into(),
            description: String::new(),
            dir: PathBuf::new(),
            inputs: vec![input("students_raw"), input("grades_raw"), input("courses")],
            tables,
            accepted: Vec::new(),
            code_map: None,
            cluster: None,
        }
    }

    fn audit_without_courses() -> AuditSpec {
        audit(vec![table(
            "students",
            sql("SELECT * FROM students_raw"),
            sql("SELECT * FROM students_raw"),
        )])
    }

    fn only(names: &[&str]) -> InputsRead {
        InputsRead::Only(names.iter().map(|n| (*n).to_owned()).collect())
    }

    #[test]
    fn the_parser_finds_the_inputs_a_table_reads() {
        let students = table(
            "students",
            sql("SELECT * FROM students_raw s LEFT JOIN \"grades_raw\" g ON s.id = g.id"),
            // A CTE named like an input is not that input; a subquery's table is read; names
            // that are not inputs (code_map) are not inputs.
            sql(
                "WITH courses AS (SELECT 1 AS x) SELECT * FROM courses, code_map \
                 WHERE EXISTS (SELECT 1 FROM Students_Raw)",
            ),
        );
        let broken = table("b", sql("SELEC nonsense FROM"), sql("SELECT 1"));
        let program = table("c", command(), sql("SELECT * FROM courses"));
        let audit = audit(vec![students, broken, program]);
        let reads = TableInputs::of(&audit);
        assert_eq!(reads.get("students"), only(&["grades_raw", "students_raw"]));
        assert_eq!(reads.get("b"), only(&[]));
        assert_eq!(reads.get("c"), InputsRead::All);
    }

    #[test]
    fn a_failed_input_wins_over_an_absent_one_and_others_do_not_matter() {
        let audit = audit(vec![
            table(
                "students",
                sql("SELECT * FROM students_raw"),
                sql("SELECT * FROM students_raw JOIN grades_raw USING (id)"),
            ),
            table(
                "courses",
                sql("SELECT * FROM courses"),
                sql("SELECT * FROM courses"),
            ),
        ]);
        let mut district = DistrictInput::new(PathBuf::from("in/101"), "101");
        district
            .missing
            .push(("grades_raw".into(), "grades*.csv".into()));
        let reads = TableInputs::of(&audit);
        let no_input = reads.blocked("students", &district).unwrap().error();
        assert!(matches!(no_input, Error::NoInput { .. }));
        assert_eq!(
            no_input.to_string(),
            "no file matches `grades*.csv` in district 101 (input `grades_raw`)"
        );
        assert!(reads.blocked("courses", &district).is_none());
        assert!(reads.read_by_any("grades_raw") && reads.read_by_any("courses"));
        assert!(!TableInputs::of(&audit_without_courses()).read_by_any("courses"));
        district
            .failed
            .push(("students_raw".into(), "`101/s.csv.gz` is corrupt".into()));
        let failed = reads.blocked("students", &district).unwrap().error();
        assert!(matches!(failed, Error::Input { .. }));
        assert_eq!(
            failed.to_string(),
            "input `students_raw`: `101/s.csv.gz` is corrupt"
        );
    }
}

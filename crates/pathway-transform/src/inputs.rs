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

use datafusion::common::TableReference;
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
///
/// The raw tables are registered in the session's default catalog and schema (`datafusion`,
/// `public`), so `students_raw`, `public.students_raw` and `datafusion.public.students_raw` read
/// the input, and `staging.students_raw` does not (it fails when it runs: no such table).
fn sql_inputs(state: &SessionState, audit: &AuditSpec, sql: &str) -> BTreeSet<String> {
    let options = state.config().options();
    let dialect = options.sql_parser.dialect;
    let (catalog, schema) = (
        options.catalog.default_catalog.as_str(),
        options.catalog.default_schema.as_str(),
    );
    let Ok(statement) = state.sql_to_statement(sql, &dialect) else {
        return BTreeSet::new();
    };
    let Ok(references) = state.resolve_table_references(&statement) else {
        return BTreeSet::new();
    };
    references
        .iter()
        .filter(|r| match r {
            TableReference::Bare { .. } => true,
            TableReference::Partial { schema: s, .. } => s.as_ref() == schema,
            TableReference::Full {
                catalog: c,
                schema: s,
                ..
            } => c.as_ref() == catalog && s.as_ref() == schema,
        })
        .map(datafusion::common::TableReference::table)
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
            max_row_diff: None,
            pair_unmatched: false,
            max_pair_columns: None,
            legacy,
            beta,
        }
    }

    fn command() -> Transform {
        Transform::Command(CommandSpec {
            argv: vec!["python3".into(), "legacy/job.py".into()],
            output: "out.csv".into(),
            format: InputFormat::Csv,
            timeout: std::time::Duration::from_mins(1),
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
        // One SQL text per case, on the legacy side; the beta side reads nothing.
        let cases: [(&str, &str, &[&str]); 9] = [
            // A CTE named like the input it reads: the CTE's own body reads the input.
            (
                "cte",
                "WITH students_raw AS (SELECT * FROM students_raw WHERE id > 0) \
                 SELECT * FROM students_raw",
                &["students_raw"],
            ),
            // Schema-qualified in DataFusion's default catalog and schema: the input...
            (
                "schema",
                "SELECT * FROM public.grades_raw JOIN datafusion.public.courses USING (id)",
                &["courses", "grades_raw"],
            ),
            // ...in another schema or catalog: not the input (the SQL fails: table not found).
            (
                "other_schema",
                "SELECT * FROM staging.students_raw, other.public.courses",
                &[],
            ),
            // Quoted names keep their case: "STUDENTS_RAW" is not students_raw.
            ("quoted_upper", "SELECT * FROM \"STUDENTS_RAW\"", &[]),
            (
                "quoted",
                "SELECT * FROM \"grades_raw\", \"public\".\"courses\"",
                &["courses", "grades_raw"],
            ),
            (
                "union",
                "SELECT id FROM students_raw UNION ALL SELECT id FROM grades_raw \
                 UNION SELECT id FROM courses",
                &["courses", "grades_raw", "students_raw"],
            ),
            (
                "in_subquery",
                "SELECT * FROM courses WHERE id IN (SELECT id FROM grades_raw)",
                &["courses", "grades_raw"],
            ),
            (
                "scalar_subquery",
                "SELECT (SELECT count(*) FROM courses) AS n, id FROM students_raw",
                &["courses", "students_raw"],
            ),
            // A CTE shadowing an input in the outer query only; the input read in a subquery.
            (
                "cte_shadow",
                "WITH grades_raw AS (SELECT 1 AS id) SELECT * FROM grades_raw \
                 WHERE id IN (SELECT id FROM students_raw)",
                &["students_raw"],
            ),
        ];
        let mut tables = vec![students, broken, program];
        tables.extend(
            cases
                .iter()
                .map(|(name, text, _)| table(name, sql(text), sql("SELECT 1"))),
        );
        let audit = audit(tables);
        let reads = TableInputs::of(&audit);
        assert_eq!(reads.get("students"), only(&["grades_raw", "students_raw"]));
        assert_eq!(reads.get("b"), only(&[]));
        assert_eq!(reads.get("c"), InputsRead::All);
        for (name, text, expected) in cases {
            assert_eq!(reads.get(name), only(expected), "{name}: {text}");
        }
    }

    /// What the parser counts is what DataFusion resolves when the SQL runs: the qualified names
    /// counted above plan against a raw table registered as the district's are, the others
    /// do not.
    #[tokio::test]
    async fn qualified_names_counted_as_inputs_are_the_ones_datafusion_finds() {
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        let ctx = SessionContext::new();
        let schema = std::sync::Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, true)]));
        let table = datafusion::datasource::MemTable::try_new(schema, vec![vec![]]).unwrap();
        ctx.register_table("courses", std::sync::Arc::new(table))
            .unwrap();
        for found in [
            "SELECT * FROM courses",
            "SELECT * FROM public.courses",
            "SELECT * FROM datafusion.public.courses",
            "SELECT * FROM \"public\".\"courses\"",
            "SELECT * FROM Courses",
        ] {
            assert!(ctx.sql(found).await.is_ok(), "{found}");
        }
        for missing in [
            "SELECT * FROM staging.courses",
            "SELECT * FROM other.public.courses",
            "SELECT * FROM \"COURSES\"",
        ] {
            assert!(ctx.sql(missing).await.is_err(), "{missing}");
        }
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

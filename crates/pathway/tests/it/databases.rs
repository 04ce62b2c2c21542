//! Legacy and beta tables in PostgreSQL and MariaDB: the type mapping against independently
//! written Parquet, a nightly audit read from databases only (snapshot, districts from the data,
//! a broken source, passwords kept out of every output) and `--publish`.
//!
//! The servers and when a test is skipped: `pathway_testkit::databases`.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use pathway_testkit::databases::{MyDatabase, PgSchema};

use crate::common::{assert_exit, pathway, pathway_with_env, read_csv};

fn write_parquet(path: &Path, columns: Vec<(&str, DataType, ArrayRef)>) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, data_type, _)| Field::new(*name, data_type.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch =
        RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.2).collect()).unwrap();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None)
            .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// Days since 1970-01-01 of a date, and microseconds since the epoch of a UTC time.
fn days(y: i32, m: u32, d: u32) -> i32 {
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    i32::try_from((date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days()).unwrap()
}

fn micros(text: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

fn summary_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn postgres_types_map_to_arrow_as_documented() {
    let Some(pg) = PgSchema::create("types") else {
        return;
    };
    let s = &pg.schema;
    let _ = pg.sql(&format!(
        "CREATE TABLE {s}.typed (id integer, small smallint, big bigint, price numeric(10,2),
            ratio numeric, score double precision, name text, code varchar(5), flag boolean,
            born date, at timestamp, seen timestamptz);
         INSERT INTO {s}.typed VALUES
           (1, 7, 9000000000, 12.50, 0.125, 3.5, 'Zoë', 'KG', true, '2010-01-02',
            '2026-11-30 10:00:00.123456', '2026-11-30 10:00:00.5+02'),
           (2, -1, 0, -0.01, 100, -2.25, '', '09', false, '1999-12-31',
            '2001-02-03 04:05:06', '2000-01-01 00:00:00+00'),
           (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
    ));
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("typed.parquet");
    let ns = |text: &str| Some(micros(text) * 1000);
    write_parquet(
        &export,
        vec![
            (
                "id",
                DataType::Int32,
                Arc::new(Int32Array::from(vec![1, 2, 3])),
            ),
            (
                "small",
                DataType::Int16,
                Arc::new(Int16Array::from(vec![Some(7), Some(-1), None])),
            ),
            (
                "big",
                DataType::Int64,
                Arc::new(Int64Array::from(vec![Some(9_000_000_000), Some(0), None])),
            ),
            (
                "price",
                DataType::Decimal128(10, 2),
                Arc::new(
                    Decimal128Array::from(vec![Some(1250), Some(-1), None])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
            ),
            (
                "ratio",
                DataType::Decimal128(38, 20),
                Arc::new(
                    Decimal128Array::from(vec![
                        Some(125 * 10_i128.pow(17)),
                        Some(100 * 10_i128.pow(20)),
                        None,
                    ])
                    .with_precision_and_scale(38, 20)
                    .unwrap(),
                ),
            ),
            (
                "score",
                DataType::Float64,
                Arc::new(Float64Array::from(vec![Some(3.5), Some(-2.25), None])),
            ),
            (
                "name",
                DataType::Utf8,
                Arc::new(StringArray::from(vec![Some("Zoë"), Some(""), None])),
            ),
            (
                "code",
                DataType::Utf8,
                Arc::new(StringArray::from(vec![Some("KG"), Some("09"), None])),
            ),
            (
                "flag",
                DataType::Boolean,
                Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            ),
            (
                "born",
                DataType::Date32,
                Arc::new(Date32Array::from(vec![
                    Some(days(2010, 1, 2)),
                    Some(days(1999, 12, 31)),
                    None,
                ])),
            ),
            (
                "at",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                Arc::new(TimestampNanosecondArray::from(vec![
                    ns("2026-11-30 10:00:00.123456"),
                    ns("2001-02-03 04:05:06"),
                    None,
                ])),
            ),
            (
                "seen",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                Arc::new(
                    TimestampNanosecondArray::from(vec![
                        ns("2026-11-30 08:00:00.5"),
                        ns("2000-01-01 00:00:00"),
                        None,
                    ])
                    .with_timezone("UTC"),
                ),
            ),
        ],
    );
    let out = tmp.path().join("diff");
    let output = pathway(&[
        "diff",
        &pg.url,
        export.to_str().unwrap(),
        "--left-table",
        &format!("{s}.typed"),
        "--key",
        "id",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_exit(&output, 0);
    let summary = read_csv(&out.join("summary.csv"));
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0]["status"], "FULL MATCH");
    assert_eq!(
        (
            summary[0]["legacy_rows"].as_str(),
            summary[0]["matched_rows"].as_str()
        ),
        ("3", "3")
    );
    // Not only equal values: the same Arrow types, column for column.
    let json = summary_json(&out);
    assert_eq!(
        json["schema_diff"]["typed"]["type_changes"],
        serde_json::json!([])
    );
    assert_eq!(
        json["tables"][0]["compared_columns"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    // The snapshot is real Parquet next to the reports.
    assert!(out.join("snapshot/legacy.parquet").is_file());
}

#[test]
fn mysql_types_map_to_arrow_as_documented() {
    let Some(my) = MyDatabase::create("types") else {
        return;
    };
    let _ = my.sql(
        "CREATE TABLE typed (id INT, small SMALLINT, big BIGINT, price DECIMAL(10,2),
            score DOUBLE, name TEXT, code VARCHAR(5), flag TINYINT(1), born DATE,
            at DATETIME(6), seen TIMESTAMP(6) NULL);
         INSERT INTO typed VALUES
           (1, 7, 9000000000, 12.50, 3.5, 'Zoë', 'KG', 1, '2010-01-02',
            '2026-11-30 10:00:00.123456', '2026-11-30 08:00:00.500000'),
           (2, -1, 0, -0.01, -2.25, '', '09', 0, '1999-12-31',
            '2001-02-03 04:05:06', '2000-01-01 00:00:00'),
           (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);",
    );
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("typed.parquet");
    let us = |text: &str| Some(micros(text));
    write_parquet(
        &export,
        vec![
            (
                "id",
                DataType::Int32,
                Arc::new(Int32Array::from(vec![1, 2, 3])),
            ),
            (
                "small",
                DataType::Int16,
                Arc::new(Int16Array::from(vec![Some(7), Some(-1), None])),
            ),
            (
                "big",
                DataType::Int64,
                Arc::new(Int64Array::from(vec![Some(9_000_000_000), Some(0), None])),
            ),
            (
                "price",
                DataType::Decimal128(10, 2),
                Arc::new(
                    Decimal128Array::from(vec![Some(1250), Some(-1), None])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
            ),
            (
                "score",
                DataType::Float64,
                Arc::new(Float64Array::from(vec![Some(3.5), Some(-2.25), None])),
            ),
            (
                "name",
                DataType::Utf8,
                Arc::new(StringArray::from(vec![Some("Zoë"), Some(""), None])),
            ),
            (
                "code",
                DataType::Utf8,
                Arc::new(StringArray::from(vec![Some("KG"), Some("09"), None])),
            ),
            (
                "flag",
                DataType::Int8,
                Arc::new(Int8Array::from(vec![Some(1), Some(0), None])),
            ),
            (
                "born",
                DataType::Date32,
                Arc::new(Date32Array::from(vec![
                    Some(days(2010, 1, 2)),
                    Some(days(1999, 12, 31)),
                    None,
                ])),
            ),
            (
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                Arc::new(TimestampMicrosecondArray::from(vec![
                    us("2026-11-30 10:00:00.123456"),
                    us("2001-02-03 04:05:06"),
                    None,
                ])),
            ),
            (
                "seen",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                Arc::new(TimestampMicrosecondArray::from(vec![
                    us("2026-11-30 08:00:00.5"),
                    us("2000-01-01 00:00:00"),
                    None,
                ])),
            ),
        ],
    );
    let out = tmp.path().join("diff");
    let output = pathway(&[
        "diff",
        &my.url,
        export.to_str().unwrap(),
        "--left-table",
        "typed",
        "--key",
        "id",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_exit(&output, 0);
    let summary = read_csv(&out.join("summary.csv"));
    assert_eq!(summary[0]["status"], "FULL MATCH");
    assert_eq!(summary[0]["matched_rows"], "3");
    let json = summary_json(&out);
    assert_eq!(
        json["schema_diff"]["typed"]["type_changes"],
        serde_json::json!([])
    );
}

/// Everything under `dir`, as text, for searching.
fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in walk(dir) {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    text
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_night_read_from_databases_only() {
    let (Some(pg), Some(my)) = (PgSchema::create("night"), MyDatabase::create("night")) else {
        return;
    };
    let s = &pg.schema;
    let _ = pg.sql(&format!(
        "CREATE TABLE {s}.legacy_students (district_id text, student_id text, grade text,
            gpa numeric(4,2), birth_date date);
         INSERT INTO {s}.legacy_students VALUES
           ('101', 'S1', '07', 3.50, '2010-01-01'), ('101', 'S2', 'KG', NULL, '2015-02-02'),
           ('102', 'S3', '08', 2.25, '2009-03-03'), ('102', 'S4', '09', 3.00, '2008-04-04'),
           ('103', 'S5', '10', 1.75, '2007-05-05');
         CREATE TABLE {s}.legacy_enrollments (district_id text, enrollment_id text,
            student_id text, course text);
         INSERT INTO {s}.legacy_enrollments VALUES
           ('101', 'E1', 'S1', 'math'), ('101', 'E2', 'S2', 'art'), ('102', 'E3', 'S3', 'math');
         CREATE TABLE {s}.beta_enrollments (district_id text, enrollment_id text,
            student_id text, course text);
         INSERT INTO {s}.beta_enrollments VALUES
           ('101', 'E1', 'S1', 'MATH'), ('101', 'E2', 'S2', 'art'), ('102', 'E3', 'S3', 'MATH');"
    ));
    let _ = my.sql(
        "CREATE TABLE beta_students (district_id VARCHAR(10), student_id VARCHAR(10),
            grade VARCHAR(2), gpa DECIMAL(4,2), birth_date DATE);
         INSERT INTO beta_students VALUES
           ('101', 'S1', '07', 3.50, '2010-01-01'), ('101', 'S2', 'KG', NULL, '2015-02-02'),
           ('102', 'S3', '8', 2.25, '2009-03-03'), ('102', 'S4', '09', 3.00, '2008-04-04'),
           ('104', 'S9', '11', 2.00, '2006-06-06');",
    );
    // The legacy side's password comes from a variable; trust authentication ignores it, so it
    // is accepted, and it must appear nowhere. The scores table's legacy database is down.
    let with_password = pg.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:${PATHWAY_IT_PG_PASSWORD}@",
        1,
    );
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("sis");
    std::fs::create_dir_all(&audit).unwrap();
    std::fs::write(
        audit.join("audit.toml"),
        format!(
            r#"name = "sis"
[tables.students]
key = ["student_id"]
pii = ["birth_date"]
[tables.students.legacy]
database = "{with_password}"
table = "{s}.legacy_students"
[tables.students.beta]
database = "{my_url}"
table = "beta_students"

[tables.enrollments]
key = ["enrollment_id"]
[tables.enrollments.legacy]
database = "{with_password}"
query = "SELECT district_id, enrollment_id, student_id, upper(course) AS course FROM {s}.legacy_enrollments"
[tables.enrollments.beta]
database = "{pg_url}"
table = "{s}.beta_enrollments"

[tables.scores]
key = ["student_id"]
[tables.scores.legacy]
database = "postgres://postgres:Pw-literal-secret@127.0.0.1:1/test"
table = "legacy.scores"
[tables.scores.beta]
database = "{pg_url}"
table = "{s}.beta_enrollments"
"#,
            my_url = my.url,
            pg_url = pg.url,
        ),
    )
    .unwrap();
    let out = tmp.path().join("runs");
    let publish = format!("{}?schema={s}", pg.url);
    let output = pathway_with_env(
        &[
            "run",
            audit.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--date",
            "2026-11-23",
            "--publish",
            &publish,
        ],
        &[("PATHWAY_IT_PG_PASSWORD", "Pw-from-variable")],
    );
    // Exit 3: the scores table is ERROR in every district; the others were audited.
    assert_exit(&output, 3);
    let run = out.join("sis/2026-11-23");
    let rows: Vec<String> = read_csv(&run.join("summary.csv"))
        .iter()
        .map(|r| {
            [
                "table",
                "district_id",
                "status",
                "legacy_rows",
                "beta_rows",
                "matched_rows",
                "changed_rows",
                "missing_in_beta",
                "extra_in_beta",
                "changed_columns",
            ]
            .iter()
            .map(|c| r[*c].as_str())
            .collect::<Vec<_>>()
            .join(",")
        })
        .collect();
    assert_eq!(
        rows,
        [
            // The districts are those the databases hold: 101-103 in legacy, 104 in beta.
            "enrollments,101,MISMATCH,2,2,1,1,0,0,course",
            "enrollments,102,FULL MATCH,1,1,1,0,0,0,",
            "enrollments,103,FULL MATCH,0,0,0,0,0,0,",
            "enrollments,104,FULL MATCH,0,0,0,0,0,0,",
            // scores' legacy database cannot be read: ERROR, with the rows beta did read.
            "scores,101,ERROR,0,2,0,0,0,0,",
            "scores,102,ERROR,0,1,0,0,0,0,",
            "scores,103,ERROR,0,0,0,0,0,0,",
            "scores,104,ERROR,0,0,0,0,0,0,",
            // PostgreSQL numeric(4,2) and MariaDB DECIMAL(4,2) are the same type: only the
            // grade that lost its zero differs.
            "students,101,FULL MATCH,2,2,2,0,0,0,",
            "students,102,MISMATCH,2,2,1,1,0,0,grade",
            "students,103,LEGACY ONLY,1,0,0,0,1,0,",
            "students,104,BETA ONLY,0,1,0,0,0,1,",
        ]
    );
    let summary = read_csv(&run.join("summary.csv"));
    let scores_error = &summary.iter().find(|r| r["table"] == "scores").unwrap()["error"];
    assert!(
        scores_error.contains("cannot connect to postgres://postgres:***@127.0.0.1:1/test"),
        "{scores_error}"
    );

    // summary.json: where each side came from and what its snapshot copied.
    let json = summary_json(&run);
    let sources = json["database_sources"].as_array().unwrap();
    let described: Vec<String> = sources
        .iter()
        .map(|d| {
            format!(
                "{} {} {} {} {}",
                d["table"].as_str().unwrap(),
                d["side"].as_str().unwrap(),
                d["relation"].as_str().unwrap(),
                d["districts"],
                d["rows"]
            )
        })
        .collect();
    assert_eq!(
        described,
        [
            "enrollments legacy query 4 3",
            "enrollments beta table 4 3",
            "scores legacy table 0 0",
            "scores beta table 4 3",
            "students legacy table 4 5",
            "students beta table 4 5",
        ]
    );
    assert_eq!(
        sources[4]["database"],
        format!(
            "{}",
            with_password.replace("${PATHWAY_IT_PG_PASSWORD}", "***")
        )
    );
    assert!(
        sources[2]["error"]
            .as_str()
            .unwrap()
            .contains("cannot connect")
    );
    // The snapshot is the run's Parquet: queryable after the databases move on.
    assert!(
        run.join("legacy/students/district_id=103/part-0.parquet")
            .is_file()
    );

    // No password anywhere: not in the files, not on the terminal.
    let everything = format!(
        "{}{}{}",
        all_text(&out),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for secret in ["Pw-from-variable", "Pw-literal-secret"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }

    // Published: 12 summary rows, the two columns that differ, one history row per table.
    let read = |sql: &str| pg.sql(sql).trim().to_owned();
    assert_eq!(
        read(&format!(
            "SELECT table_name, count(*), sum(CASE WHEN status = 'FULL MATCH' THEN 1 ELSE 0 END)
             FROM {s}.pathway_summary WHERE audit = 'sis' GROUP BY 1 ORDER BY 1"
        )),
        "enrollments|4|3\nscores|4|0\nstudents|4|1"
    );
    assert_eq!(
        read(&format!(
            "SELECT table_name, district_id, column_name, mismatches FROM {s}.pathway_column_diff ORDER BY 1"
        )),
        "enrollments|101|course|1\nstudents|102|grade|1"
    );
    // The columns summary.csv and column_diff.csv gained later are published too (none capped,
    // paired or declared on this night).
    assert_eq!(
        read(&format!(
            "SELECT bool_or(row_diff_capped), sum(paired_rows) FROM {s}.pathway_summary"
        )),
        "f|0"
    );
    assert_eq!(
        read(&format!(
            "SELECT sum(expected_cells) FROM {s}.pathway_column_diff"
        )),
        "0"
    );
    assert_eq!(
        read(&format!(
            "SELECT audit_date, table_name, districts, full_match, error FROM {s}.pathway_history ORDER BY 2"
        )),
        "2026-11-23|enrollments|4|3|0\n2026-11-23|scores|4|0|4\n2026-11-23|students|4|1|0"
    );
}

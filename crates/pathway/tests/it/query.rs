//! `pathway query`: SQL over a run, in every output format.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{assert_exit, pathway, root, run_example};

fn query(run: &std::path::Path, format: &str, sql: &str) -> String {
    let output = pathway(&[
        "query",
        "--run",
        run.to_str().unwrap(),
        "--format",
        format,
        sql,
    ]);
    assert_exit(&output, 0);
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn summary_row_diff_history_and_validation_errors_are_queryable() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-21"), 0);
    let run = runs.join("example/2026-11-21");

    assert_eq!(
        query(
            &run,
            "csv",
            "SELECT \"table\", status, count(*) AS n FROM summary GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        "table,status,n\nenrollments,FULL MATCH,4\nenrollments,MISMATCH,1\nstudents,FULL MATCH,2\nstudents,LEGACY ONLY,1\nstudents,MISMATCH,2\n"
    );
    assert_eq!(
        query(
            &run,
            "csv",
            "SELECT \"table\", diff, count(*) AS n FROM row_diff GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        "table,diff,n\nenrollments,extra_in_beta,1\nstudents,changed,6\nstudents,duplicate_key,3\nstudents,missing_in_beta,4\n"
    );
    assert_eq!(
        query(
            &run,
            "csv",
            "SELECT (SELECT count(*) FROM history) AS h, (SELECT count(*) FROM validation_errors) AS v, (SELECT sum(mismatches) FROM column_diff) AS m"
        ),
        "h,v,m\n10,1,6\n"
    );
    assert_eq!(
        query(
            &run,
            "csv",
            "SELECT student_id, legacy_grade_level, beta_grade_level FROM row_diff_students WHERE district_id = '101' ORDER BY 1"
        ),
        "student_id,legacy_grade_level,beta_grade_level\n1001,07,7\n1003,09,9\n1004,06,6\n1010,05,5\n"
    );

    // JSON parses back; personal columns are masked in the side tables too.
    let json: serde_json::Value = serde_json::from_str(&query(
        &run,
        "json",
        "SELECT l.student_id, l.first_name, b.first_name AS beta_first_name, l.grade_level \
         FROM legacy_students l JOIN beta_students b USING (district_id, student_id) \
         WHERE l.district_id = '103' AND l.student_id <> '3002' ORDER BY 1",
    ))
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"student_id": "3001", "first_name": "***", "beta_first_name": "***", "grade_level": "08"},
            {"student_id": "3003", "first_name": "***", "beta_first_name": "***", "grade_level": "07"},
            {"student_id": "3004", "first_name": "***", "beta_first_name": "***", "grade_level": "10"},
            {"student_id": "3005", "first_name": "***", "beta_first_name": "***", "grade_level": "06"},
        ])
    );
    assert_eq!(query(&run, "json", "SELECT 1 AS x WHERE false"), "[]\n");

    let table = query(
        &run,
        "table",
        "SELECT district_id, status FROM summary WHERE \"table\" = 'students' ORDER BY 1",
    );
    assert!(table.contains("│ 104         ┆ LEGACY ONLY │"), "{table}");
    assert!(table.ends_with("5 row(s)\n"), "{table}");
}

#[test]
fn the_latest_run_is_the_default_and_piped_statements_all_run() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-20"), 0);
    assert_exit(&run_example(&runs, "2026-11-21"), 0);
    let output = pathway(&[
        "query",
        "--out",
        runs.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT DISTINCT audit_date FROM summary",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "audit_date\n2026-11-21\n"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_pathway"))
        .args(["query", "--out", runs.to_str().unwrap(), "--format", "csv"])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SELECT count(*) AS n FROM history;\nSELECT count(*) AS m\n  FROM summary\n  WHERE status = 'MISMATCH';\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 0);
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "n\n20\nm\n3\n");
}

#[test]
fn sql_errors_carry_datafusions_message_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-21"), 0);
    let run = runs.join("example/2026-11-21");
    let fail = |sql: &str| {
        let output = pathway(&["query", "--run", run.to_str().unwrap(), sql]);
        assert_exit(&output, 2);
        String::from_utf8(output.stderr).unwrap()
    };
    let stderr = fail("SELECT nope FROM summary");
    assert!(
        stderr.starts_with("error: SQL error: Schema error: No field named nope."),
        "{stderr}"
    );
    let stderr = fail("SELEC 1");
    assert!(
        stderr.contains("Expected: an SQL statement, found: SELEC"),
        "{stderr}"
    );
    let target = tmp.path().join("copy.csv");
    let stderr = fail(&format!("COPY (SELECT 1) TO '{}'", target.display()));
    assert!(stderr.contains("DML not supported"), "{stderr}");
    assert!(!target.exists());
    let output = pathway(&["query", "--run", tmp.path().to_str().unwrap(), "SELECT 1"]);
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("is not a run folder (it has no summary.json)")
    );
}

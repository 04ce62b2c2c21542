//! Comparison rules in audit.toml: what they hide is equal, and counted.

use std::fs;

use crate::common::{assert_exit, copy_tree, read_csv, root, run_audit};

#[test]
fn rules_in_the_audit_hide_and_count_differences() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("example-rules");
    copy_tree(&root().join("audits/example"), &audit);
    let mut toml = fs::read_to_string(audit.join("audit.toml")).unwrap();
    toml.push_str(
        "\n[tables.students.columns.first_name]\ntrim = true\n\n\
         [tables.students.columns.grade_level]\ncast = \"integer\"\n",
    );
    fs::write(audit.join("audit.toml"), toml).unwrap();
    let runs = tmp.path().join("runs");
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &runs,
        "2026-11-21",
    );
    assert_exit(&output, 0);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(
            "4 value(s) of students.grade_level equal only after cast:integer (1 district(s))"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 value(s) of students.first_name equal only after trim (1 district(s))"),
        "{stdout}"
    );

    let summary = read_csv(&runs.join("example/2026-11-21/summary.csv"));
    let students: Vec<(&str, &str, &str, &str)> = summary
        .iter()
        .filter(|r| r["table"] == "students")
        .map(|r| {
            (
                r["district_id"].as_str(),
                r["status"].as_str(),
                r["matched_rows"].as_str(),
                r["changed_rows"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        students,
        [
            ("101", "FULL MATCH", "10", "0"),
            ("102", "FULL MATCH", "5", "0"),
            // Still a duplicate key in beta.
            ("103", "MISMATCH", "4", "0"),
            ("104", "LEGACY ONLY", "0", "0"),
            ("255901", "FULL MATCH", "8", "0"),
        ]
    );
    assert_eq!(
        read_csv(&runs.join("example/2026-11-21/column_diff.csv")).len(),
        0
    );

    let json: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(runs.join("example/2026-11-21/summary.json")).unwrap(),
    )
    .unwrap();
    let hidden: Vec<(String, String, String, u64)> = json["rule_hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["district_id"].as_str().unwrap().to_owned(),
                h["column"].as_str().unwrap().to_owned(),
                h["rules"].as_str().unwrap().to_owned(),
                h["cells"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        hidden,
        [
            (
                "101".to_owned(),
                "grade_level".to_owned(),
                "cast:integer".to_owned(),
                4
            ),
            (
                "103".to_owned(),
                "first_name".to_owned(),
                "trim".to_owned(),
                2
            ),
        ]
    );
}

#[test]
fn an_unknown_cast_or_rule_column_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("bad-rules");
    copy_tree(&root().join("audits/example"), &audit);
    let base = fs::read_to_string(audit.join("audit.toml")).unwrap();
    fs::write(
        audit.join("audit.toml"),
        format!("{base}\n[tables.students.columns.grade_level]\ncast = \"roman\"\n"),
    )
    .unwrap();
    let runs = tmp.path().join("runs");
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &runs,
        "2026-11-21",
    );
    assert_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("table `students`, grade_level: cast `roman` is not one of text, integer, decimal, date, timestamp"));

    fs::write(
        audit.join("audit.toml"),
        format!("{base}\n[tables.students.columns.gpa]\ntrim = true\n"),
    )
    .unwrap();
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &runs,
        "2026-11-21",
    );
    // Checked before any district runs: exit 2, nothing written, the column named.
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "audit.toml: [tables.students.columns.gpa] names `gpa`, which is not a column of the legacy output of `students`"
        ),
        "{stderr}"
    );
    assert!(!runs.join("example/2026-11-21").exists());
}

#[test]
fn pathway_schema_shows_types_roles_and_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("example-rules");
    copy_tree(&root().join("audits/example"), &audit);
    let mut toml = fs::read_to_string(audit.join("audit.toml")).unwrap();
    toml = toml.replace(
        "key = [\"student_id\"]\nignore = []",
        "key = [\"student_id\"]\nignore = [\"gender_code\"]",
    );
    toml.push_str("\n[tables.students.columns.grade_level]\ncast = \"integer\"\n");
    fs::write(audit.join("audit.toml"), toml).unwrap();
    // Beta also emits a column legacy does not have.
    let beta = fs::read_to_string(audit.join("beta/students.sql")).unwrap();
    fs::write(
        audit.join("beta/students.sql"),
        beta.replace("SELECT\n", "SELECT\n    'v2' AS loader,\n"),
    )
    .unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(
        &run_audit(
            audit.to_str().unwrap(),
            &root().join("fixtures/districts"),
            &runs,
            "2026-11-21",
        ),
        0,
    );
    let output =
        crate::common::pathway(&["schema", "--out", runs.to_str().unwrap(), "--format", "csv"]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let students: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("students,"))
        .collect();
    assert_eq!(
        students,
        [
            "students,student_id,Utf8View,Utf8View,key,exact",
            "students,school_id,Utf8View,Utf8View,compared,exact",
            "students,last_name,Utf8View,Utf8View,compared,exact",
            "students,first_name,Utf8View,Utf8View,compared,exact",
            "students,birth_date,Date32,Date32,compared,exact",
            "students,grade_level,Utf8View,Utf8View,compared,cast:integer",
            "students,gender_code,Utf8View,Utf8View,ignored,",
            "students,loader,,Utf8View,beta only,",
        ]
    );
}

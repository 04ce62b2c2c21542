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

    // `pathway show` lists differences: the pairs equal under the rules only when asked for.
    let show = |district: &str, extra: &[&str]| {
        let mut args = vec![
            "show",
            "--out",
            "runs",
            "--table",
            "students",
            "--district",
            district,
        ];
        args.extend(extra);
        let output = crate::common::pathway_in(tmp.path(), &args);
        assert_exit(&output, 0);
        String::from_utf8(output.stdout).unwrap()
    };
    let title = |text: &str| text.lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        title(&show("101", &[])),
        "students · district 101 · FULL MATCH · 0 differing row(s), showing 0"
    );
    let by_rule = show("101", &["--kind", "equal-by-rule"]);
    assert_eq!(
        title(&by_rule),
        "students · district 101 · FULL MATCH · 4 differing row(s) of kind equal_by_rule, showing 4"
    );
    for student in ["1001", "1003", "1004", "1010"] {
        assert!(by_rule.contains(student), "{by_rule}");
    }
    // 103: its 3 rows under the duplicated key; the 2 names equal after trim are not listed.
    assert_eq!(
        title(&show("103", &[])),
        "students · district 103 · MISMATCH · 3 differing row(s), showing 3"
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

/// The lines of `column_diff.csv` for one table: (district, column, mismatches, legacy example,
/// beta example, expected cells).
fn column_lines(
    run: &std::path::Path,
    table: &str,
) -> Vec<(String, String, String, String, String, String)> {
    read_csv(&run.join("column_diff.csv"))
        .iter()
        .filter(|r| r["table"] == table)
        .map(|r| {
            (
                r["district_id"].clone(),
                r["column"].clone(),
                r["mismatches"].clone(),
                r["legacy_example"].clone(),
                r["beta_example"].clone(),
                r["expected_cells"].clone(),
            )
        })
        .collect()
}

#[test]
fn declared_value_pairs_are_equal_counted_and_an_undeclared_pair_still_differs() {
    // District 101 sends single-digit grades 7, 9, 6 and 5 (students 1001, 1003, 1004, 1010):
    // legacy pads them to 07, 09, 06, 05, beta keeps 7, 9, 6, 5. Every other grade is equal.
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("example-expected");
    copy_tree(&root().join("audits/example"), &audit);
    fs::create_dir_all(audit.join("reference")).unwrap();
    // 05 is declared as becoming 6, not 5: the 05 -> 5 cell is not a declared pair.
    fs::write(
        audit.join("reference/grade_map.csv"),
        "legacy,beta\n07,7\n09,9\n06,6\n05,6\n",
    )
    .unwrap();
    let base = fs::read_to_string(audit.join("audit.toml")).unwrap();
    fs::write(
        audit.join("audit.toml"),
        format!(
            "{base}\n[tables.students.columns.grade_level]\n\
             expected_file = \"reference/grade_map.csv\"\n"
        ),
    )
    .unwrap();
    let runs = tmp.path().join("runs");
    let input = root().join("fixtures/districts");
    let output = run_audit(audit.to_str().unwrap(), &input, &runs, "2026-11-21");
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "3 value(s) of students.grade_level equal only after expected, 3 of them declared \
             pairs (1 district(s))"
        ),
        "{stdout}"
    );
    let run = runs.join("example/2026-11-21");
    let district_101 = |run: &std::path::Path| {
        read_csv(&run.join("summary.csv"))
            .iter()
            .find(|r| r["table"] == "students" && r["district_id"] == "101")
            .map(|r| {
                (
                    r["status"].clone(),
                    r["matched_rows"].clone(),
                    r["changed_rows"].clone(),
                    r["changed_columns"].clone(),
                )
            })
            .unwrap()
    };
    assert_eq!(
        district_101(&run),
        (
            "MISMATCH".into(),
            "9".into(),
            "1".into(),
            "grade_level".into()
        )
    );
    let s = |t: &str| t.to_owned();
    let lines = column_lines(&run, "students");
    assert!(
        lines.contains(&(s("101"), s("grade_level"), s("1"), s("05"), s("5"), s("3"))),
        "{lines:?}"
    );
    // Exactly one line for 101: the undeclared pair, with the three declared cells beside it.
    assert_eq!(
        lines.iter().filter(|l| l.0 == "101").count(),
        1,
        "{lines:?}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let hidden: Vec<(&str, &str, &str, u64, u64)> = json["rule_hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["district_id"].as_str().unwrap(),
                h["column"].as_str().unwrap(),
                h["rules"].as_str().unwrap(),
                h["cells"].as_u64().unwrap(),
                h["expected_cells"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(hidden, [("101", "grade_level", "expected", 3, 3)]);

    // Declaring 05 -> 5 as well (inline, beside the file) makes 101 a FULL MATCH, with a
    // column_diff line of 0 mismatches that still counts the four declared cells.
    fs::write(
        audit.join("audit.toml"),
        format!(
            "{base}\n[tables.students.columns.grade_level]\n\
             expected_file = \"reference/grade_map.csv\"\nexpected = [[\"05\", \"5\"]]\n"
        ),
    )
    .unwrap();
    let output = run_audit(audit.to_str().unwrap(), &input, &runs, "2026-11-22");
    assert_exit(&output, 0);
    let run = runs.join("example/2026-11-22");
    assert_eq!(
        district_101(&run),
        ("FULL MATCH".into(), "10".into(), "0".into(), String::new())
    );
    let lines = column_lines(&run, "students");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.0 == "101")
            .cloned()
            .collect::<Vec<_>>(),
        [(s("101"), s("grade_level"), s("0"), s(""), s(""), s("4"))]
    );
}

#[test]
fn misplaced_or_unreadable_expected_pairs_are_refused_before_any_district() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("bad-expected");
    copy_tree(&root().join("audits/example"), &audit);
    let base = fs::read_to_string(audit.join("audit.toml")).unwrap();
    let runs = tmp.path().join("runs");
    let refused = |extra: &str, message: &str| {
        fs::write(audit.join("audit.toml"), format!("{base}\n{extra}")).unwrap();
        let output = run_audit(
            audit.to_str().unwrap(),
            &root().join("fixtures/districts"),
            &runs,
            "2026-11-21",
        );
        assert_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{stderr}");
        assert!(!runs.join("example/2026-11-21").exists());
    };
    refused(
        "[tables.students.compare]\nexpected = [[\"Y\", \"true\"]]\n",
        "table `students`: expected pairs belong to one column: move them to [tables.students.columns.<column>]",
    );
    refused(
        "[tables.students.columns.grade_level]\nexpected_file = \"grades.csv\"\n",
        "table `students`, column `grade_level`: expected_file: cannot read",
    );
    fs::write(audit.join("grades.csv"), "old,new\n07,7\n").unwrap();
    refused(
        "[tables.students.columns.grade_level]\nexpected_file = \"grades.csv\"\n",
        "grades.csv` line 1 must be the header `legacy,beta`, not `old,new`",
    );
    fs::write(audit.join("grades.csv"), "legacy,beta\n07,7\n08,8,9\n").unwrap();
    refused(
        "[tables.students.columns.grade_level]\nexpected_file = \"grades.csv\"\n",
        "grades.csv` line 3 has 3 fields, not 2 (legacy value, beta value)",
    );
}

#[test]
fn pathway_diff_takes_declared_pairs_from_a_file_per_column() {
    let tmp = tempfile::tempdir().unwrap();
    let (legacy, beta, pairs) = (
        tmp.path().join("legacy.csv"),
        tmp.path().join("beta.csv"),
        tmp.path().join("active.csv"),
    );
    fs::write(
        &legacy,
        "student_id,active,grade\n1,Y,K\n2,N,01\n3,Y,02\n4,N,K\n",
    )
    .unwrap();
    // Student 3: Y became false, a pair nobody declared.
    fs::write(
        &beta,
        "student_id,active,grade\n1,true,K\n2,false,01\n3,false,02\n4,false,K\n",
    )
    .unwrap();
    fs::write(&pairs, "legacy,beta\nY,true\nN,false\n").unwrap();
    let out = tmp.path().join("out");
    let output = crate::common::pathway(&[
        "diff",
        legacy.to_str().unwrap(),
        beta.to_str().unwrap(),
        "--key",
        "student_id",
        "--expected",
        &format!("active={}", pairs.display()),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_exit(&output, 1);
    let summary = read_csv(&out.join("summary.csv"));
    assert_eq!(
        (
            summary[0]["matched_rows"].as_str(),
            summary[0]["changed_rows"].as_str(),
            summary[0]["changed_columns"].as_str()
        ),
        ("3", "1", "active")
    );
    let lines = column_lines(&out, "legacy");
    let s = |t: &str| t.to_owned();
    assert_eq!(
        lines,
        [(s("*"), s("active"), s("1"), s("Y"), s("false"), s("3"))]
    );

    // A pairs file that is not one is refused before anything is read.
    fs::write(&pairs, "Y,true\n").unwrap();
    let output = crate::common::pathway(&[
        "diff",
        legacy.to_str().unwrap(),
        beta.to_str().unwrap(),
        "--key",
        "student_id",
        "--expected",
        &format!("active={}", pairs.display()),
    ]);
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("line 1 must be the header `legacy,beta`, not `Y,true`")
    );
}

//! Columns in the roles users give them: the natural composite key of a district table includes
//! `district_id`; option combinations that make no sense are refused naming the option and the
//! column.

use std::path::Path;

use crate::common::{assert_exit, copy_tree, pathway, root, run_audit};

/// summary.csv and `column_diff.csv` of the example audit run with the students key `key`.
fn run_with_students_key(tmp: &Path, name: &str, key: &str) -> (String, String) {
    let audit = tmp.join(name);
    copy_tree(&root().join("audits/example"), &audit);
    let toml = std::fs::read_to_string(audit.join("audit.toml")).unwrap();
    let toml = toml.replacen("key = [\"student_id\"]", &format!("key = {key}"), 1);
    std::fs::write(audit.join("audit.toml"), toml).unwrap();
    let out = tmp.join(format!("{name}-runs"));
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &out,
        "2026-11-21",
    );
    assert_exit(&output, 0);
    let read =
        |file: &str| std::fs::read_to_string(out.join("example/2026-11-21").join(file)).unwrap();
    (read("summary.csv"), read("column_diff.csv"))
}

#[test]
fn a_key_with_district_id_gives_the_figures_of_the_key_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = run_with_students_key(tmp.path(), "plain", r#"["student_id"]"#);
    for (i, key) in [
        r#"["district_id", "student_id"]"#,
        r#"["student_id", "district_id"]"#,
    ]
    .into_iter()
    .enumerate()
    {
        let with_district = run_with_students_key(tmp.path(), &format!("with-district-{i}"), key);
        assert_eq!(with_district, plain, "key {key}");
    }
    // The example night's hand-checked students figures (README): 2 FULL MATCH, 2 MISMATCH,
    // 1 LEGACY ONLY, none ERROR.
    let students: Vec<&str> = plain
        .0
        .lines()
        .filter(|l| l.contains(",students,"))
        .collect();
    let status = |s: &str| {
        students
            .iter()
            .filter(|l| l.contains(&format!(",{s},")))
            .count()
    };
    assert_eq!(
        (
            status("FULL MATCH"),
            status("MISMATCH"),
            status("LEGACY ONLY"),
            status("ERROR")
        ),
        (2, 2, 1, 0)
    );
    assert!(
        plain
            .0
            .contains("2026-11-21,students,101,MISMATCH,10,10,6,4,0,0,0,0,grade_level"),
        "{}",
        plain.0
    );
}

#[test]
fn options_that_make_no_sense_exit_2_naming_the_column() {
    let tmp = tempfile::tempdir().unwrap();
    let (left, right) = (tmp.path().join("a.csv"), tmp.path().join("b.csv"));
    std::fs::write(&left, "id,name\n1,Ann\n").unwrap();
    std::fs::write(&right, "id,full_name\n1,Ann\n").unwrap();
    let (left, right) = (left.to_str().unwrap(), right.to_str().unwrap());
    for (args, message) in [
        (
            vec!["--key", "id", "--rename", "nope=full_name"],
            "column `nope` named in a rename does not exist on the legacy side",
        ),
        (
            vec!["--key", "id", "--rename", "name=nope"],
            "column `nope` named in a rename does not exist on the beta side",
        ),
        (
            vec!["--key", "id", "--ignore", "id"],
            "column `id` is a key column and ignored",
        ),
        (
            vec!["--key", "id", "--abs-tolerance", "nan"],
            "`nan` is not a finite number of at least 0",
        ),
        (
            vec!["--key", "id", "--rel-tolerance", "1e400"],
            "`1e400` is not a finite number of at least 0",
        ),
        (
            vec!["--key", "id", "--date-tolerance-days=-1"],
            "`-1` is not a finite number of at least 0",
        ),
        (
            vec!["--key", "id", "--abs-tolerance", "x"],
            "`x` is not a number",
        ),
    ] {
        let mut all = vec!["diff", left, right];
        all.extend(args.iter().copied());
        let output = pathway(&all);
        assert_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn a_tolerance_that_is_not_a_finite_number_is_refused_when_the_audit_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    copy_tree(&root().join("audits/example"), &audit);
    let toml = std::fs::read_to_string(audit.join("audit.toml")).unwrap();
    std::fs::write(
        audit.join("audit.toml"),
        format!("{toml}\n[tables.students.columns.grade_level]\nabs_tolerance = nan\n"),
    )
    .unwrap();
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &tmp.path().join("runs"),
        "2026-11-21",
    );
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("table `students`, grade_level: abs_tolerance = NaN is not a finite number of at least 0"),
        "{stderr}"
    );
}

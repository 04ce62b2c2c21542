//! `pathway check`, `pathway init`, and the same check at the start of `pathway run`: a name that
//! matches no column stops the run before any district, naming the file, the option and the
//! closest column.

use std::path::{Path, PathBuf};

use crate::common::{assert_exit, copy_tree, pathway, root, run_audit};

/// The example audit copied into `tmp`, with `edit` applied to audit.toml.
fn example_with(tmp: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let audit = tmp.join("example");
    copy_tree(&root().join("audits/example"), &audit);
    let toml = std::fs::read_to_string(audit.join("audit.toml")).unwrap();
    std::fs::write(audit.join("audit.toml"), edit(toml)).unwrap();
    audit
}

fn check(audit: &Path) -> std::process::Output {
    let input = root().join("fixtures/districts");
    pathway(&[
        "check",
        audit.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ])
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_example_audit_checks_clean() {
    let output = check(&root().join("audits/example"));
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("audit `example` ("), "{stdout}");
    assert!(
        lines[0].ends_with("): 2 input(s), 2 table(s), 0 accepted entries"),
        "{stdout}"
    );
    assert!(lines[1].starts_with("transforms planned against district 101 of "));
    assert!(stdout.contains(
        "│ enrollments ┆ not checked: a program: its columns are known once it runs ┆ 5 column(s) │"
    ));
    assert!(stdout.contains(
        "│ students    ┆ 7 column(s)                                                ┆ 7 column(s) │"
    ));
    assert!(stdout.contains("10 column name(s) of the audit looked up"));
    assert_eq!(lines.last(), Some(&"ok"));
}

#[test]
fn a_misspelled_name_stops_check_and_run_before_any_district() {
    let cases: [(&str, &str, &str); 4] = [
        (
            r#"pii = ["last_name", "first_name", "birth_date"]"#,
            r#"pii = ["last_name", "frist_name", "birth_date"]"#,
            "audit.toml: [tables.students] pii names `frist_name`, which is not a column of the legacy output of `students` (did you mean `first_name`?)",
        ),
        (
            r#"key = ["student_id"]"#,
            r#"key = ["studentid"]"#,
            "audit.toml: [tables.students] key names `studentid`, which is not a column of the legacy output of `students` (did you mean `student_id`?)",
        ),
        (
            "[tables.enrollments]",
            "[[accepted]]\ntable = \"students\"\ncolumn = \"grade_levle\"\nreason = \"kept on purpose\"\n\n[tables.enrollments]",
            "audit.toml: [[accepted]] column names `grade_levle`, which is not a column of the outputs of `students` (did you mean `grade_level`?)",
        ),
        (
            r#"pii = ["LastName", "FirstName", "BirthDate"]"#,
            r#"pii = ["LastName", "FristName", "BirthDate"]"#,
            "audit.toml: [inputs.students_raw] pii names `FristName`, which is not a column of the input `students_raw` in the checked district's header (did you mean `FirstName`?)",
        ),
    ];
    for (from, to, message) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let audit = example_with(tmp.path(), |toml| {
            assert!(toml.contains(from), "{from}");
            toml.replacen(from, to, 1)
        });
        let output = check(&audit);
        assert_exit(&output, 2);
        assert!(stderr(&output).contains(message), "{}", stderr(&output));

        let runs = tmp.path().join("runs");
        let output = run_audit(
            audit.to_str().unwrap(),
            &root().join("fixtures/districts"),
            &runs,
            "2026-11-21",
        );
        assert_exit(&output, 2);
        let text = stderr(&output);
        assert!(
            text.contains("1 column name(s) match no column; nothing was run"),
            "{text}"
        );
        assert!(text.contains(message), "{text}");
        assert!(
            !runs.join("example/2026-11-21").exists(),
            "a night was written"
        );
    }
}

#[test]
fn a_transform_that_does_not_plan_is_reported_once_with_datafusions_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = example_with(tmp.path(), |toml| toml);
    let sql = std::fs::read_to_string(audit.join("beta/students.sql")).unwrap();
    std::fs::write(
        audit.join("beta/students.sql"),
        sql.replacen("\"StudentID\"", "\"StudentId\"", 1),
    )
    .unwrap();
    let output = check(&audit);
    assert_exit(&output, 2);
    let text = stderr(&output);
    assert!(text.contains("audit `example`: 1 problem(s):"), "{text}");
    assert!(
        text.contains("beta/students.sql` does not plan against district 101's inputs"),
        "{text}"
    );
    assert!(
        text.contains(r#"No field named "StudentId". Did you mean 'students_raw."StudentID"'?"#),
        "{text}"
    );

    // The night runs: the warning once, then the students table ERROR in each district.
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &tmp.path().join("runs"),
        "2026-11-21",
    );
    assert_exit(&output, 3);
    let text = stderr(&output);
    assert_eq!(
        text.matches("does not plan against district 101's inputs")
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn init_creates_an_audit_that_checks_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("attendance");
    let output = pathway(&["init", folder.to_str().unwrap()]);
    assert_exit(&output, 0);
    for file in [
        "audit.toml",
        "legacy/students.sql",
        "beta/students.sql",
        "sample-input/101/students.csv",
        "sample-input/102/students.csv",
    ] {
        assert!(folder.join(file).is_file(), "{file}");
    }
    let input = folder.join("sample-input");
    let output = pathway(&[
        "check",
        folder.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_exit(&output, 0);
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("│ students ┆ 4 column(s) ┆ 4 column(s) │")
    );
    let runs = tmp.path().join("runs");
    assert_exit(
        &run_audit(folder.to_str().unwrap(), &input, &runs, "2026-12-01"),
        0,
    );
    let summary = std::fs::read_to_string(runs.join("attendance/2026-12-01/summary.csv")).unwrap();
    assert!(
        summary.contains("2026-12-01,students,101,FULL MATCH,2,2,2,0,0,0,0,0,"),
        "{summary}"
    );
    assert!(
        summary.contains("2026-12-01,students,102,FULL MATCH,1,1,1,0,0,0,0,0,"),
        "{summary}"
    );

    // An existing folder is never overwritten.
    let output = pathway(&["init", folder.to_str().unwrap()]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("exists already"));
}

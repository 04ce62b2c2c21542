//! `pathway profile`: the column profiles `pathway run` and `pathway diff --out` write, read
//! back by hand-checked figures, and never a personal value.

use std::collections::BTreeMap;
use std::fs;

use crate::common::{assert_exit, night, pathway, pathway_with_env, root, run_example};

/// `column measure` → (legacy, beta, delta) of `pathway profile ... --format csv`.
fn profile_lines(args: &[&str]) -> BTreeMap<String, (String, String, String)> {
    let output = pathway(args);
    assert_exit(&output, 0);
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("table,district_id,column,measure,legacy,beta,delta")
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                format!("{} {}", &r[2], &r[3]),
                (r[4].to_owned(), r[5].to_owned(), r[6].to_owned()),
            )
        })
        .collect()
}

fn line(legacy: &str, beta: &str, delta: &str) -> (String, String, String) {
    (legacy.to_owned(), beta.to_owned(), delta.to_owned())
}

/// District 101's students: 10 active students on both sides (1007 is inactive, 1011's line
/// has a field too many). Legacy pads grades to two digits, beta does not: 07, 08, 09, 06, 10,
/// KG, 08, 09, 05, 10 against 7, 08, 9, 6, 10, KG, 08, 09, 5, 10.
#[test]
fn a_nights_profile_is_the_hand_count() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-21"), 0);
    let out = runs.to_str().unwrap();
    let district_101 = [
        "profile",
        "--out",
        out,
        "--table",
        "students",
        "--district",
        "101",
        "--format",
        "csv",
    ];
    let lines = profile_lines(&district_101);
    assert_eq!(lines[" rows"], line("10", "10", "0"));
    assert_eq!(lines["grade_level distinct"], line("7", "8", "+1"));
    assert_eq!(
        lines["grade_level top"],
        line(
            "08=2;09=2;10=2;05=1;06=1",
            "08=2;10=2;09=1;5=1;6=1",
            "changed"
        )
    );
    // Text that reads as numbers gets a numeric delta (the minimum itself is the text's).
    assert_eq!(lines["grade_level min"], line("05", "08", "+3"));
    assert_eq!(
        lines["school_id top"],
        line("0101=5;0102=5", "0101=5;0102=5", "")
    );
    assert_eq!(lines["gender_code top"], line("F=5;M=5", "F=5;M=5", ""));
    assert_eq!(lines["school_id empty"], line("0", "0", "0"));
    // Personal columns: counts only.
    for column in ["first_name", "last_name", "birth_date"] {
        let measures: Vec<&str> = lines
            .keys()
            .filter_map(|k| k.strip_prefix(&format!("{column} ")))
            .collect();
        assert_eq!(measures, ["distinct", "nulls"], "{column}");
    }
    assert_eq!(lines["first_name distinct"], line("10", "10", "0"));

    // The same night through SQL: one `rows` line per table and district (2 tables × 5).
    let output = pathway(&[
        "query",
        "--out",
        out,
        "--format",
        "csv",
        "SELECT COUNT(*) AS n FROM profile WHERE measure = 'rows'",
    ]);
    assert_exit(&output, 0);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "n\n10\n");

    // `pathway diff --out` on the night's outputs profiles the same figures.
    let run = night(&runs, "example", "2026-11-21");
    let diffed = tmp.path().join("diff-students");
    let output = pathway(&[
        "diff",
        run.join("legacy/students").to_str().unwrap(),
        run.join("beta/students").to_str().unwrap(),
        "--key",
        "student_id",
        "--pii",
        "first_name,last_name,birth_date",
        "--out",
        diffed.to_str().unwrap(),
    ]);
    assert_exit(&output, 1);
    let from_diff = profile_lines(&[
        "profile",
        "--run",
        diffed.to_str().unwrap(),
        "--district",
        "101",
        "--format",
        "csv",
    ]);
    assert_eq!(from_diff, lines);

    // A quiet night reuses every district: their profiles are carried over, line for line.
    let quiet = run_example(&runs, "2026-11-22");
    assert_exit(&quiet, 0);
    assert!(String::from_utf8_lossy(&quiet.stdout).contains("5 districts (5 reused"));
    let carried = profile_lines(&district_101);
    assert_eq!(carried, lines);

    // Unknown table or district: exit 2, naming what there is.
    let output = pathway(&["profile", "--out", out, "--table", "sudents"]);
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("(tables: enrollments, students)"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every personal value of the fixtures: names and birth dates.
fn personal_values() -> Vec<String> {
    let mut values = Vec::new();
    for district in fs::read_dir(root().join("fixtures/districts")).unwrap() {
        let path = district.unwrap().path().join("students.csv");
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        for record in text.lines().skip(1) {
            let fields: Vec<&str> = record.split(',').collect();
            // LastName, FirstName, BirthDate (a quoted name with a comma spans two fields).
            values.extend(
                fields
                    .iter()
                    .skip(2)
                    .take(3)
                    .map(|f| f.trim().trim_matches('"').to_owned())
                    .filter(|f| f.len() > 2),
            );
        }
    }
    values
}

#[test]
fn a_profile_never_shows_a_personal_value() {
    let values = personal_values();
    assert!(values.len() > 30, "{values:?}");
    for env in [vec![], vec![("PATHWAY_MASK_KEY", "team-secret")]] {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path().join("runs");
        let output = pathway_with_env(
            &[
                "run",
                "audits/example",
                "--input",
                root().join("fixtures/districts").to_str().unwrap(),
                "--out",
                runs.to_str().unwrap(),
                "--date",
                "2026-11-21",
            ],
            &env,
        );
        assert_exit(&output, 0);
        for format in ["table", "csv", "json"] {
            let output = pathway_with_env(
                &[
                    "profile",
                    "--out",
                    runs.to_str().unwrap(),
                    "--format",
                    format,
                ],
                &env,
            );
            assert_exit(&output, 0);
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(text.contains("first_name"), "{text}");
            for value in &values {
                assert!(
                    !text.contains(value.as_str()),
                    "`{value}` in the {format} profile ({env:?})"
                );
            }
        }
    }
}

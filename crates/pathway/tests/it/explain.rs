//! `pathway explain`: root-cause hints on a night whose differences sit in one school and one
//! grade, every share counted by hand, personal values masked.

use std::fs;
use std::path::Path;

use crate::common::{assert_exit, pathway_with_env};

/// An audit whose beta upper-cases `last_name` in school 0102 for students 21–32, and drops
/// the grade 12 students of school 0101; and one district of 40 students: 1–20 in school 0101,
/// 21–40 in 0102, grade 9 + id % 4 (ten of each), gender F for odd ids (personal).
fn night(tmp: &Path, env: &[(&str, &str)]) -> std::path::PathBuf {
    let audit = tmp.join("hints");
    fs::create_dir_all(audit.join("legacy")).unwrap();
    fs::create_dir_all(audit.join("beta")).unwrap();
    fs::write(
        audit.join("audit.toml"),
        "name = \"hints\"\n\n[inputs.students_raw]\nglob = \"students.csv\"\n\
         pii = [\"last_name\", \"gender\"]\n\n[tables.students]\nkey = [\"student_id\"]\n\
         pii = [\"last_name\", \"gender\"]\n",
    )
    .unwrap();
    fs::write(
        audit.join("legacy/students.sql"),
        "SELECT student_id, school_id, grade, gender, last_name FROM students_raw",
    )
    .unwrap();
    fs::write(
        audit.join("beta/students.sql"),
        "SELECT student_id, school_id, grade, gender, \
         CASE WHEN school_id = '0102' AND CAST(student_id AS INT) <= 32 THEN upper(last_name) \
         ELSE last_name END AS last_name \
         FROM students_raw WHERE NOT (school_id = '0101' AND grade = '12')",
    )
    .unwrap();
    let district = tmp.join("input/300");
    fs::create_dir_all(&district).unwrap();
    let mut csv = String::from("student_id,school_id,grade,gender,last_name\n");
    for id in 1..=40 {
        let school = if id <= 20 { "0101" } else { "0102" };
        let gender = if id % 2 == 1 { "F" } else { "M" };
        csv.push_str(&format!(
            "{id},{school},{},{gender},Surname{id}\n",
            9 + id % 4
        ));
    }
    fs::write(district.join("students.csv"), csv).unwrap();
    let runs = tmp.join("runs");
    let output = pathway_with_env(
        &[
            "run",
            audit.to_str().unwrap(),
            "--input",
            tmp.join("input").to_str().unwrap(),
            "--out",
            runs.to_str().unwrap(),
            "--date",
            "2026-12-01",
        ],
        env,
    );
    assert_exit(&output, 0);
    runs
}

fn explain(runs: &Path, format: &str, env: &[(&str, &str)]) -> String {
    let output = pathway_with_env(
        &[
            "explain",
            "--out",
            runs.to_str().unwrap(),
            "--format",
            format,
        ],
        env,
    );
    assert_exit(&output, 0);
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_school_that_holds_every_changed_row_is_the_first_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = night(tmp.path(), &[]);
    // Changed last_name: ids 21–32, all 12 in school 0102 (half the district: lift 2); their
    // grades are 3 of each, as in the district (lift 1), their genders half and half: no hint.
    // Missing in beta: ids 3, 7, 11, 15, 19, all grade 12 (a quarter of the district: lift 4)
    // and school 0101 (lift 2); all F, but with no masking key every gender reads `***`, as
    // for every row of the district (lift 1).
    assert_eq!(
        explain(&runs, "csv", &[]),
        "table,district_id,finding,column,affected_rows,hint_column,hint_value,share_of_affected,share_of_district,lift\n\
         students,300,changed,last_name,12,school_id,0102,1.0,0.5,2.0\n\
         students,300,missing_in_beta,,5,grade,12,1.0,0.25,4.0\n\
         students,300,missing_in_beta,,5,school_id,0101,1.0,0.5,2.0\n"
    );
    let table = explain(&runs, "table", &[]);
    assert!(
        table.contains("school_id = 0102 ┆      100.0% ┆       50.0% ┆ 2.00×"),
        "{table}"
    );
    // One district, one table: the same lines.
    let output = pathway_with_env(
        &[
            "explain",
            "--out",
            runs.to_str().unwrap(),
            "--table",
            "students",
            "--district",
            "300",
            "--format",
            "json",
        ],
        &[],
    );
    assert_exit(&output, 0);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
    assert_eq!(json[0]["hint_value"], "0102");
    assert_eq!(json[0]["lift"], 2.0);

    // `pathway patterns` says them under the patterns they explain.
    let output = pathway_with_env(&["patterns", "--out", runs.to_str().unwrap()], &[]);
    assert_exit(&output, 0);
    let patterns = String::from_utf8(output.stdout).unwrap();
    for line in [
        "Where they concentrate (pathway explain):",
        "  students.last_name changed in 300: school_id = 0102 on 100% of 12 rows (50% of the \
         district, 2.00×)",
        "  students missing_in_beta in 300: grade = 12 on 100% of 5 rows (25% of the district, \
         4.00×)",
    ] {
        assert!(patterns.contains(line), "{line}\n{patterns}");
    }

    // The report shows them in the district's details, with the profile lines that moved.
    let html = tmp.path().join("report.html");
    let output = pathway_with_env(
        &[
            "report",
            "--out",
            runs.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
        &[],
    );
    assert_exit(&output, 0);
    let page = fs::read_to_string(&html).unwrap();
    assert!(
        page.contains(
            "<tr><td>changed</td><td>last_name</td><td>12</td><td>school_id = 0102</td>\
             <td>100.0%</td><td>50.0%</td><td>2.00×</td></tr>"
        ),
        "{page}"
    );
    // Beta lost the 5 grade 12 rows of school 0101: grade's top values moved.
    assert!(
        page.contains("<table class=\"profile-deltas\"><thead><tr><th>column</th>"),
        "{page}"
    );
    assert!(page.contains("<tr><td>grade</td><td>top</td>"), "{page}");
}

#[test]
fn a_hint_on_a_personal_column_shows_its_masked_value() {
    let key = [("PATHWAY_MASK_KEY", "team-secret")];
    let tmp = tempfile::tempdir().unwrap();
    let runs = night(tmp.path(), &key);
    let csv = explain(&runs, "csv", &key);
    let lines: Vec<&str> = csv.lines().collect();
    // Keyed masks keep values apart: the missing rows' one gender is a hint, masked.
    assert_eq!(lines.len(), 5, "{csv}");
    assert_eq!(
        lines[2],
        "students,300,missing_in_beta,,5,grade,12,1.0,0.25,4.0"
    );
    let gender: Vec<&str> = lines[3].split(',').collect();
    assert_eq!(
        gender[..6],
        ["students", "300", "missing_in_beta", "", "5", "gender"]
    );
    assert_eq!(gender[7..], ["1.0", "0.5", "2.0"]);
    assert_ne!(gender[6], "F");
    assert!(gender[6].len() > 6, "{}", gender[6]);
    for format in ["csv", "json", "table"] {
        for env in [&key[..], &[]] {
            let text = explain(&runs, format, env);
            assert!(!text.contains("Surname"), "{text}");
            assert!(!text.contains("= F ") && !text.contains(",F,"), "{text}");
        }
    }
}

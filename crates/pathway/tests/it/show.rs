//! `pathway show`: one district's differing rows, exactly as printed.

use crate::common::{assert_exit, pathway, run_example};

fn show(run: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["show", "--run", run.to_str().unwrap()];
    all.extend_from_slice(args);
    pathway(&all)
}

#[test]
fn differing_rows_are_side_by_side_with_marked_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-21"), 0);
    let run = runs.join("example/2026-11-21");

    let output = show(
        &run,
        &[
            "--table",
            "students",
            "--district",
            "101",
            "--column",
            "grade_level",
            "--limit",
            "2",
        ],
    );
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "\
students · district 101 · MISMATCH · 4 differing row(s) in `grade_level`, showing 2
┌────────┬─────────┬────────────┬─────────────┐
│ side   ┆ diff    ┆ student_id ┆ grade_level │
╞════════╪═════════╪════════════╪═════════════╡
│ legacy ┆ changed ┆ 1001       ┆ 07 *        │
│ beta   ┆         ┆ 1001       ┆ 7 *         │
│ legacy ┆ changed ┆ 1003       ┆ 09 *        │
│ beta   ┆         ┆ 1003       ┆ 9 *         │
└────────┴─────────┴────────────┴─────────────┘
* differs · — no row on this side · personal data shown as ***
"
    );

    let output = show(&run, &["--table", "students", "--district", "104"]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout
            .starts_with("students · district 104 · LEGACY ONLY · 4 differing row(s), showing 4\n"),
        "{stdout}"
    );
    assert!(stdout.contains("│ legacy ┆ missing_in_beta ┆ 4001       ┆ 0401      ┆ ***       ┆ ***        ┆ ***        ┆ 08          ┆ F           │"), "{stdout}");
    assert!(stdout.contains("│ beta   ┆                 ┆ 4001       ┆ —         ┆ —         ┆ —          ┆ —          ┆ —           ┆ —           │"), "{stdout}");
    for secret in ["Reyes", "Camila", "2011-04-02"] {
        assert!(!stdout.contains(secret), "{secret} leaked");
    }

    let output = show(&run, &["--table", "enrollments", "--district", "102"]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "enrollments · district 102 · FULL MATCH · 0 differing row(s), showing 0\n"
    );
}

#[test]
fn unknown_table_district_or_column_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-21"), 0);
    let run = runs.join("example/2026-11-21");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--table", "courses", "--district", "101"],
            "table `courses` is not in run",
        ),
        (
            &["--table", "students", "--district", "999"],
            "district `999` is not in the summary of table `students`",
        ),
        (
            &[
                "--table",
                "students",
                "--district",
                "101",
                "--column",
                "gpa",
            ],
            "column `gpa` is not compared in `students`",
        ),
    ];
    for (args, message) in cases {
        let output = show(&run, args);
        assert_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn rows_of_a_table_without_a_key_are_shown_in_one_order_whatever_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let (legacy, beta) = (tmp.path().join("legacy.csv"), tmp.path().join("beta.csv"));
    std::fs::write(
        &legacy,
        "name,grade\nZoe,09\nAmy,07\nBen,08\nCal,10\nAmy,07\n",
    )
    .unwrap();
    std::fs::write(&beta, "name,grade\nZoe,9\nAmy,7\nBen,08\nDan,11\n").unwrap();
    let out = tmp.path().join("out");
    let output = pathway(&[
        "diff",
        legacy.to_str().unwrap(),
        beta.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_exit(&output, 1);
    // Three rows extra in beta, three missing (Amy 07 twice, shown once): the first two by
    // kind of difference, then by value.
    let first_two = "\
legacy · district * · MISMATCH · 6 differing distinct row(s), showing 2
┌──────┬───────┬───────────────┬──────┬─────────────────┬────────────────┬──────┐
│ name ┆ grade ┆ diff          ┆ side ┆ changed_columns ┆ hidden_columns ┆ rows │
╞══════╪═══════╪═══════════════╪══════╪═════════════════╪════════════════╪══════╡
│ Amy  ┆ 7     ┆ extra_in_beta ┆ beta ┆                 ┆                ┆ 1    │
│ Dan  ┆ 11    ┆ extra_in_beta ┆ beta ┆                 ┆                ┆ 1    │
└──────┴───────┴───────────────┴──────┴─────────────────┴────────────────┴──────┘
2 row(s)
";
    for _ in 0..3 {
        let output = show(
            &out,
            &["--table", "legacy", "--district", "*", "--limit", "2"],
        );
        assert_exit(&output, 0);
        assert_eq!(String::from_utf8(output.stdout).unwrap(), first_two);
    }
    let output = show(
        &out,
        &["--table", "legacy", "--district", "*", "--limit", "6"],
    );
    let all = String::from_utf8(output.stdout).unwrap();
    let names: Vec<&str> = all
        .lines()
        .filter(|l| l.starts_with("│ ") && !l.starts_with("│ name"))
        .map(|l| l.split('┆').next().unwrap().trim_start_matches('│').trim())
        .collect();
    assert_eq!(names, ["Amy", "Dan", "Zoe", "Amy", "Cal", "Zoe"], "{all}");
}

/// `--kind` keeps one kind of differing row; `--format csv|json` writes the records of the row
/// diff as `pathway query` does, masked, with the title on stderr so stdout is only data.
#[test]
fn rows_of_one_kind_as_csv_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-21"), 0);
    let run = runs.join("example/2026-11-21");

    // District 104 sent students beta never wrote: four rows missing in beta, names masked.
    let args = [
        "--table",
        "students",
        "--district",
        "104",
        "--kind",
        "missing",
    ];
    let output = show(&run, &[&args[..], &["--format", "csv"]].concat());
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "\
student_id,diff,side,changed_columns,legacy_school_id,beta_school_id,legacy_last_name,beta_last_name,legacy_first_name,beta_first_name,legacy_birth_date,beta_birth_date,legacy_grade_level,beta_grade_level,legacy_gender_code,beta_gender_code
4001,missing_in_beta,legacy,,0401,,***,,***,,***,,08,,F,
4002,missing_in_beta,legacy,,0401,,***,,***,,***,,09,,M,
4003,missing_in_beta,legacy,,0401,,***,,***,,***,,07,,F,
4004,missing_in_beta,legacy,,0401,,***,,***,,***,,10,,M,
"
    );
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "students · district 104 · LEGACY ONLY · 4 differing row(s) of kind missing_in_beta, \
         showing 4\n"
    );
    // None of that district's rows is extra in beta.
    let output = show(
        &run,
        &[
            "--table",
            "students",
            "--district",
            "104",
            "--kind",
            "extra",
        ],
    );
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "students · district 104 · LEGACY ONLY · 0 differing row(s) of kind extra_in_beta, \
         showing 0\n"
    );

    // District 103: two first names changed (masked), and beta's duplicated key 3002.
    let output = show(
        &run,
        &[
            "--table",
            "students",
            "--district",
            "103",
            "--kind",
            "changed",
            "--column",
            "first_name",
            "--format",
            "json",
        ],
    );
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "[{\"student_id\":\"3001\",\"diff\":\"changed\",\"side\":\"both\",\
         \"changed_columns\":\"first_name\",\"legacy_first_name\":\"***\",\
         \"beta_first_name\":\"***\"},{\"student_id\":\"3003\",\"diff\":\"changed\",\
         \"side\":\"both\",\"changed_columns\":\"first_name\",\"legacy_first_name\":\"***\",\
         \"beta_first_name\":\"***\"}]\n"
    );
    let output = show(
        &run,
        &[
            "--table",
            "students",
            "--district",
            "103",
            "--kind",
            "duplicate",
            "--format",
            "csv",
        ],
    );
    assert_exit(&output, 0);
    let csv = String::from_utf8(output.stdout).unwrap();
    let sides: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    // Key 3002: one legacy row, two beta rows.
    assert_eq!(sides, ["beta", "beta", "legacy"]);
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.starts_with("3002,duplicate_key,"))
    );
}

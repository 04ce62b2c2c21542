//! `--pair-unmatched` / `pair_unmatched`: rows whose surrogate key the rewrite renumbered are
//! paired with the row that differs in the fewest columns instead of counting as missing plus
//! extra.

use std::fs;
use std::path::Path;

use crate::common::{assert_exit, pathway, read_csv};

const LEGACY: &str = "\
id,district_id,name,grade_level,birth
1,7,Ann,03,2015-01-02
2,7,Bo,04,2014-03-04
3,7,Cy,05,2013-05-06
4,7,Di,06,2012-07-08
5,7,Ed,07,2011-09-10
6,7,Flo,08,2010-11-12
";

/// Beta numbers every row anew (101-106, in another order) and changes three grades.
const BETA: &str = "\
id,district_id,name,grade_level,birth
106,7,Flo,08,2010-11-12
101,7,Ann,3,2015-01-02
102,7,Bo,4,2014-03-04
103,7,Cy,5,2013-05-06
104,7,Di,06,2012-07-08
105,7,Ed,07,2011-09-10
";

fn diff(
    dir: &Path,
    beta: &str,
    extra: &[&str],
) -> (
    i32,
    Vec<std::collections::BTreeMap<String, String>>,
    std::path::PathBuf,
) {
    let (l, b) = (dir.join("legacy.csv"), dir.join("beta.csv"));
    fs::write(&l, LEGACY).unwrap();
    fs::write(&b, beta).unwrap();
    let out = dir.join(format!("out{}", extra.len()));
    let mut args = vec![
        "diff",
        l.to_str().unwrap(),
        b.to_str().unwrap(),
        "--key",
        "id",
        "--table",
        "students",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let output = pathway(&args);
    let code = output.status.code().unwrap();
    assert!(
        matches!(code, 0 | 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (code, read_csv(&out.join("summary.csv")), out)
}

fn figures(summary: &[std::collections::BTreeMap<String, String>]) -> Vec<String> {
    summary
        .iter()
        .map(|r| {
            format!(
                "{} matched {} changed {} missing {} extra {} paired {}",
                r["status"],
                r["matched_rows"],
                r["changed_rows"],
                r["missing_in_beta"],
                r["extra_in_beta"],
                r["paired_rows"]
            )
        })
        .collect()
}

/// `column_diff.csv`'s lines as `column mismatches legacy_example beta_example`.
fn column_examples(out: &Path) -> Vec<String> {
    read_csv(&out.join("column_diff.csv"))
        .into_iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["column"], r["mismatches"], r["legacy_example"], r["beta_example"]
            )
        })
        .collect()
}

#[test]
fn renumbered_surrogate_ids_pair_and_only_the_changed_grades_differ() {
    let tmp = tempfile::tempdir().unwrap();
    // Without pairing: every row is missing and extra.
    let (code, summary, _) = diff(tmp.path(), BETA, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        figures(&summary),
        ["MISMATCH matched 0 changed 0 missing 6 extra 6 paired 0"]
    );
    // Paired: three rows equal but for the id, three with another grade (1 of 3 compared
    // columns, within the default bound of half of them, rounded down: 1).
    let (code, summary, out) = diff(tmp.path(), BETA, &["--pair-unmatched"]);
    assert_eq!(code, 1);
    assert_eq!(
        figures(&summary),
        ["MISMATCH matched 3 changed 3 missing 0 extra 0 paired 6"]
    );
    assert_eq!(column_examples(&out), ["grade_level 3 03 3"]);
    // The row diff: one row per pair, the legacy id in the key, the beta id beside it.
    let output = pathway(&[
        "query",
        "--run",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT id, paired_beta_key, diff, changed_columns FROM row_diff_students ORDER BY id",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "id,paired_beta_key,diff,changed_columns\n\
         1,101,changed,grade_level\n\
         2,102,changed,grade_level\n\
         3,103,changed,grade_level\n\
         4,104,paired_equal,\n\
         5,105,paired_equal,\n\
         6,106,paired_equal,\n"
    );

    // No pair may differ in a column: the three regraded rows stay missing and extra.
    let (_, summary, _) = diff(
        tmp.path(),
        BETA,
        &["--pair-unmatched", "--max-pair-columns", "0"],
    );
    assert_eq!(
        figures(&summary),
        ["MISMATCH matched 3 changed 0 missing 3 extra 3 paired 3"]
    );

    // Renumbered and nothing else changed: a FULL MATCH.
    let same = BETA
        .replace(",3,2015", ",03,2015")
        .replace(",4,2014", ",04,2014")
        .replace(",5,2013", ",05,2013");
    let (code, summary, _) = diff(tmp.path(), &same, &["--pair-unmatched"]);
    assert_eq!(code, 0);
    assert_eq!(
        figures(&summary),
        ["FULL MATCH matched 6 changed 0 missing 0 extra 0 paired 6"]
    );
}

#[test]
fn an_audit_pairs_renumbered_students_and_the_report_says_how_many() {
    use crate::common::{copy_tree, root, run_audit};
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("example");
    copy_tree(&root().join("audits/example"), &audit);
    // Beta prefixes every student id: no key matches any more.
    let sql = fs::read_to_string(audit.join("beta/students.sql")).unwrap();
    fs::write(
        audit.join("beta/students.sql"),
        sql.replacen(
            "trim(\"StudentID\") AS student_id",
            "'B' || trim(\"StudentID\") AS student_id",
            1,
        ),
    )
    .unwrap();
    let toml = fs::read_to_string(audit.join("audit.toml")).unwrap();
    fs::write(
        audit.join("audit.toml"),
        toml.replacen(
            "[tables.students]\nkey = [\"student_id\"]",
            "[tables.students]\nkey = [\"student_id\"]\npair_unmatched = true",
            1,
        ),
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
    let run = runs.join("example/2026-11-21");
    let students: Vec<String> = read_csv(&run.join("summary.csv"))
        .into_iter()
        .filter(|r| r["table"] == "students")
        .map(|r| {
            format!(
                "{} {} matched {} changed {} missing {} extra {} paired {} {}",
                r["district_id"],
                r["status"],
                r["matched_rows"],
                r["changed_rows"],
                r["missing_in_beta"],
                r["extra_in_beta"],
                r["paired_rows"],
                r["changed_columns"]
            )
        })
        .collect();
    // 101: four regraded students; 103: two untrimmed first names, and beta's second copy of
    // student 3002 has no legacy row left to pair with; 104: beta drops every student.
    assert_eq!(
        students,
        [
            "101 MISMATCH matched 6 changed 4 missing 0 extra 0 paired 10 grade_level",
            "102 FULL MATCH matched 5 changed 0 missing 0 extra 0 paired 5 ",
            "103 MISMATCH matched 3 changed 2 missing 0 extra 1 paired 5 first_name",
            "104 LEGACY ONLY matched 0 changed 0 missing 4 extra 0 paired 0 ",
            "255901 FULL MATCH matched 8 changed 0 missing 0 extra 0 paired 8 ",
        ]
    );
    let html = tmp.path().join("report.html");
    assert_exit(
        &pathway(&[
            "report",
            "--run",
            run.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]),
        0,
    );
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.contains(
        "<p class=\"paired\">10 row(s) paired without a key: counted as matched or changed \
         instead of missing and extra.</p>"
    ));
    // A line in the details of the two MISMATCH districts (FULL MATCH ones have no details).
    assert_eq!(page.matches("<p class=\"paired\">").count(), 2);
    // And one table of them, district by district.
    assert!(page.contains(
        "<h2>Rows paired without a key</h2><table class=\"paired\"><thead><tr><th>table</th>\
         <th>district</th><th>status</th><th>paired rows</th><th>changed</th><th>missing</th>\
         <th>extra</th></tr></thead><tbody>\
         <tr><td>students</td><td>101</td><td>MISMATCH</td><td>10</td><td>4</td><td>0</td><td>0</td></tr>\
         <tr><td>students</td><td>102</td><td>FULL MATCH</td><td>5</td><td>0</td><td>0</td><td>0</td></tr>\
         <tr><td>students</td><td>103</td><td>MISMATCH</td><td>5</td><td>2</td><td>0</td><td>1</td></tr>\
         <tr><td>students</td><td>255901</td><td>FULL MATCH</td><td>8</td><td>0</td><td>0</td><td>0</td></tr>\
         </tbody></table>"
    ));
}

#[test]
fn a_table_without_a_key_pairs_its_leftover_rows_in_their_compared_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let without_id = |csv: &str| -> String {
        csv.lines()
            .map(|l| l.split_once(',').unwrap().1)
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    let (l, b) = (tmp.path().join("legacy.csv"), tmp.path().join("beta.csv"));
    fs::write(&l, without_id(LEGACY)).unwrap();
    // Beta: the same three regraded rows, and one row legacy has nothing like (it differs in
    // name, grade and birth: 3 of the 4 compared columns, over the default bound of 2).
    fs::write(&b, without_id(BETA) + "7,Zed,09,2009-01-01\n").unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec![
            "diff",
            l.to_str().unwrap(),
            b.to_str().unwrap(),
            "--table",
            "students",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        assert_exit(&pathway(&args), 1);
        out
    };
    // As a multiset: the three regraded rows are missing and extra.
    let plain = run("plain", &[]);
    assert_eq!(
        figures(&read_csv(&plain.join("summary.csv"))),
        ["MISMATCH matched 3 changed 0 missing 3 extra 4 paired 0"]
    );
    let paired = run("paired", &["--pair-unmatched"]);
    assert_eq!(
        figures(&read_csv(&paired.join("summary.csv"))),
        ["MISMATCH matched 3 changed 3 missing 0 extra 1 paired 3"]
    );
    assert_eq!(column_examples(&paired), ["grade_level 3 03 3"]);
    // One row per pair or leftover, both sides' columns, no key.
    let output = pathway(&[
        "query",
        "--run",
        paired.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT legacy_name, beta_name, legacy_grade_level, beta_grade_level, diff, side, \
         changed_columns FROM row_diff_students ORDER BY beta_name",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "legacy_name,beta_name,legacy_grade_level,beta_grade_level,diff,side,changed_columns\n\
         Ann,Ann,03,3,changed,both,grade_level\n\
         Bo,Bo,04,4,changed,both,grade_level\n\
         Cy,Cy,05,5,changed,both,grade_level\n\
         ,Zed,,09,extra_in_beta,beta,\n"
    );
}

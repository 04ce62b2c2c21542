//! `--max-row-diff` / `max_row_diff`: a district whose rows all differ keeps a row diff of the
//! first keys only, and every count stays what the uncapped run says.

use std::fs;
use std::path::Path;

use crate::common::{assert_exit, copy_tree, pathway, read_csv, root, run_audit};

/// `pathway query` of a run folder, as CSV lines without the header.
fn query(run: &Path, sql: &str) -> Vec<String> {
    let output = pathway(&[
        "query",
        "--run",
        run.to_str().unwrap(),
        "--format",
        "csv",
        sql,
    ]);
    assert_exit(&output, 0);
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// summary.csv without the column that says whether the row diff was capped.
fn counts(run: &Path) -> Vec<String> {
    read_csv(&run.join("summary.csv"))
        .into_iter()
        .map(|mut r| {
            r.remove("row_diff_capped");
            format!("{r:?}")
        })
        .collect()
}

#[test]
fn a_capped_row_diff_keeps_the_first_keys_and_every_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (legacy, beta) = (tmp.path().join("legacy.csv"), tmp.path().join("beta.csv"));
    // District 1: beta changes every grade of students 1-6 and lacks student 7 (7 differing
    // rows). District 2: one changed grade of two students.
    let mut l = String::from("district_id,student_id,grade\n");
    let mut b = l.clone();
    for id in 1..=6 {
        l.push_str(&format!("1,{id},K{id}\n"));
        b.push_str(&format!("1,{id},k{id}\n"));
    }
    l.push_str("1,7,K7\n");
    l.push_str("2,10,10\n2,11,11\n");
    b.push_str("2,10,10\n2,11,12\n");
    fs::write(&legacy, l).unwrap();
    fs::write(&beta, b).unwrap();
    let diff = |out: &Path, cap: Option<&str>| {
        let mut args = vec![
            "diff",
            legacy.to_str().unwrap(),
            beta.to_str().unwrap(),
            "--key",
            "student_id",
            "--table",
            "students",
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(cap) = cap {
            args.extend(["--max-row-diff", cap]);
        }
        assert_exit(&pathway(&args), 1);
    };
    let (full, capped) = (tmp.path().join("full"), tmp.path().join("capped"));
    diff(&full, None);
    diff(&capped, Some("2"));

    // Every count as without the cap; district 1 says it was capped, district 2 (1 row) not.
    assert_eq!(counts(&capped), counts(&full));
    let summary = read_csv(&capped.join("summary.csv"));
    let figures: Vec<(&str, &str, &str, &str, &str)> = summary
        .iter()
        .map(|r| {
            (
                r["district_id"].as_str(),
                r["changed_rows"].as_str(),
                r["missing_in_beta"].as_str(),
                r["matched_rows"].as_str(),
                r["row_diff_capped"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        figures,
        [("1", "6", "1", "0", "true"), ("2", "1", "0", "1", "false")]
    );
    // column_diff: the exact mismatches, the example of the first key.
    let columns: Vec<(String, String, String, String)> = read_csv(&capped.join("column_diff.csv"))
        .into_iter()
        .map(|r| {
            (
                r["district_id"].clone(),
                r["mismatches"].clone(),
                r["legacy_example"].clone(),
                r["beta_example"].clone(),
            )
        })
        .collect();
    let s = |t: &str| t.to_owned();
    assert_eq!(
        columns,
        [
            (s("1"), s("6"), s("K1"), s("k1")),
            (s("2"), s("1"), s("11"), s("12"))
        ]
    );
    // The row diff: students 1 and 2 of district 1, all of district 2.
    assert_eq!(
        query(
            &capped,
            "SELECT district_id, student_id, diff FROM row_diff_students ORDER BY 1, 2"
        ),
        ["1,1,changed", "1,2,changed", "2,11,changed"]
    );
    assert_eq!(
        query(&full, "SELECT count(*) FROM row_diff_students"),
        ["8"]
    );

    // A cap of 0 keeps no row and still counts them all.
    let none = tmp.path().join("none");
    diff(&none, Some("0"));
    assert_eq!(counts(&none), counts(&full));
    let files = walk(&none.join("row_diff/students"));
    assert!(
        files
            .iter()
            .all(|f| f.extension().is_none_or(|e| e != "parquet")),
        "{files:?}"
    );
}

#[test]
fn an_audit_caps_a_tables_row_diff_and_the_report_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("example");
    copy_tree(&root().join("audits/example"), &audit);
    let toml = fs::read_to_string(audit.join("audit.toml")).unwrap();
    fs::write(
        audit.join("audit.toml"),
        toml.replacen(
            "[tables.students]\nkey = [\"student_id\"]",
            "[tables.students]\nkey = [\"student_id\"]\nmax_row_diff = 1",
            1,
        ),
    )
    .unwrap();
    let input = root().join("fixtures/districts");
    let (full, capped) = (tmp.path().join("full"), tmp.path().join("capped"));
    assert_exit(&run_audit("audits/example", &input, &full, "2026-11-21"), 0);
    assert_exit(
        &run_audit(audit.to_str().unwrap(), &input, &capped, "2026-11-21"),
        0,
    );
    let (full, capped) = (
        full.join("example/2026-11-21"),
        capped.join("example/2026-11-21"),
    );
    assert_eq!(counts(&capped), counts(&full));
    // Students: 101 has 4 changed grades, 103 two changed names and three rows under the
    // duplicated key 3002, 104 four missing rows: each more than one row. 102 and 255901 match.
    let capped_districts: Vec<String> = read_csv(&capped.join("summary.csv"))
        .into_iter()
        .filter(|r| r["row_diff_capped"] == "true")
        .map(|r| format!("{} {}", r["table"], r["district_id"]))
        .collect();
    assert_eq!(
        capped_districts,
        ["students 101", "students 103", "students 104"]
    );
    assert_eq!(
        query(
            &capped,
            "SELECT district_id, student_id, diff FROM row_diff_students ORDER BY 1, 2"
        ),
        [
            "101,1001,changed",
            "103,3001,changed",
            "104,4001,missing_in_beta"
        ]
    );
    let html = tmp.path().join("report.html");
    assert_exit(
        &pathway(&[
            "report",
            "--run",
            capped.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]),
        0,
    );
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>Row diffs capped</h2>"));
    assert!(page.contains("<tr><td>students</td><td>101</td><td>MISMATCH</td><td>4</td></tr>"));
    assert!(page.contains("<tr><td>students</td><td>104</td><td>LEGACY ONLY</td><td>4</td></tr>"));
    assert_eq!(page.matches("<p class=\"capped\">").count(), 3);
}

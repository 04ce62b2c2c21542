//! `pathway keys`: the health of a given key per side and district, and the candidate keys.

use crate::common::{assert_exit, pathway};

/// Districts 101 and 102 each send `student_id` twice; `local_id` is the real key within a
/// district. Beta (JSON lines) also has a student without an id in 102.
fn pair(dir: &std::path::Path) -> (String, String) {
    let legacy = dir.join("legacy.csv");
    std::fs::write(
        &legacy,
        "district_id,local_id,student_id,name\n\
         101,1,S1,Ann\n101,2,S2,Bo\n101,3,S2,Cy\n\
         102,1,S5,Di\n102,2,S5,Di\n102,3,S6,Fa\n\
         103,1,S7,Gu\n",
    )
    .unwrap();
    let beta = dir.join("beta.jsonl");
    let row = |d: &str, l: &str, s: Option<&str>, n: &str| {
        let s = s.map_or("null".to_owned(), |s| format!("\"{s}\""));
        format!(
            "{{\"district_id\":\"{d}\",\"local_id\":\"{l}\",\"student_id\":{s},\"name\":\"{n}\"}}\n"
        )
    };
    let text = [
        row("101", "1", Some("S1"), "Ann"),
        row("101", "2", Some("S2"), "Bo"),
        row("101", "3", Some("S2"), "Cy"),
        row("102", "1", Some("S5"), "Di"),
        row("102", "2", Some("S5"), "Di"),
        row("102", "3", None, "Fa"),
        row("103", "1", Some("S7"), "Gu"),
    ]
    .concat();
    std::fs::write(&beta, text).unwrap();
    (
        legacy.to_str().unwrap().to_owned(),
        beta.to_str().unwrap().to_owned(),
    )
}

#[test]
fn the_given_key_is_measured_and_the_real_key_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let (legacy, beta) = pair(tmp.path());
    let output = pathway(&[
        "keys",
        &legacy,
        &beta,
        "--key",
        "student_id",
        "--format",
        "csv",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "role,key,legacy_null_keys,beta_null_keys,legacy_dup_keys,beta_dup_keys,unique\n\
         given,student_id,0,1,2,2,false\n\
         candidate,local_id,0,0,0,0,true\n"
    );
    // The key with the district: the same figures (the group is not part of a key).
    let output = pathway(&[
        "keys",
        &legacy,
        &beta,
        "--key",
        "district_id,local_id",
        "--format",
        "csv",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "role,key,legacy_null_keys,beta_null_keys,legacy_dup_keys,beta_dup_keys,unique\n\
         given,district_id+local_id,0,0,0,0,true\n\
         candidate,local_id,0,0,0,0,true\n"
    );
    // Per district, for people.
    let output = pathway(&["keys", &legacy, &beta, "--key", "student_id"]);
    let text = String::from_utf8_lossy(&output.stdout);
    for line in [
        "│ legacy ┆ 101   ┆ 3    ┆ 0             ┆ 1        ┆ 2                   │",
        "│ beta   ┆ 102   ┆ 3    ┆ 1             ┆ 1        ┆ 2                   │",
        "│ beta   ┆ 103   ┆ 1    ┆ 0             ┆ 0        ┆ 0                   │",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    assert!(text.ends_with(
        "candidate keys (unique and non-null in every group on both sides): local_id\n"
    ));
    // Without a key: the candidates only (`--by` named, as the default would pick).
    let output = pathway(&[
        "keys",
        &legacy,
        &beta,
        "--format",
        "csv",
        "--by",
        "district_id",
    ]);
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("candidate,local_id,0,0,0,0,true\n"));
}

#[test]
fn a_key_column_missing_from_a_side_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let (legacy, beta) = pair(tmp.path());
    let output = pathway(&["keys", &legacy, &beta, "--key", "sis_id"]);
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("column `sis_id` is missing from the legacy side"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_night_warns_about_keys_with_nulls_or_duplicates() {
    use crate::common::{copy_tree, root, run_audit};
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("example");
    copy_tree(&root().join("audits/example"), &audit);
    // Beta loses the id of student 1001 (district 101): a null key.
    let sql = std::fs::read_to_string(audit.join("beta/students.sql")).unwrap();
    std::fs::write(
        audit.join("beta/students.sql"),
        sql.replacen(
            "trim(\"StudentID\") AS student_id",
            "NULLIF(trim(\"StudentID\"), '1001') AS student_id",
            1,
        ),
    )
    .unwrap();
    let runs = tmp.path().join("runs");
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &runs,
        "2026-11-21",
    );
    assert_exit(&output, 0);
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runs.join("example/2026-11-21/summary.json")).unwrap(),
    )
    .unwrap();
    let warnings: Vec<String> = json["key_warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{} {} {} {}/{} {}/{}",
                w["table"].as_str().unwrap(),
                w["key"].as_str().unwrap(),
                w["district_id"].as_str().unwrap(),
                w["legacy_null_key_rows"],
                w["beta_null_key_rows"],
                w["legacy_dup_keys"],
                w["beta_dup_keys"]
            )
        })
        .collect();
    // 101: the null key; 103: beta loads a student twice (no DISTINCT). Enrollments are clean.
    assert_eq!(
        warnings,
        [
            "students student_id 101 0/1 0/0",
            "students student_id 103 0/0 0/1"
        ]
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "warning: audit `example`, table `students`: key `student_id` has nulls or duplicates (legacy/beta) in 2 district(s): 101 (null key rows 0/1, duplicated keys 0/0), 103 (null key rows 0/0, duplicated keys 0/1); `pathway keys` lists the keys the data has"
        ),
        "{stderr}"
    );
}

#[test]
fn the_html_report_lists_keys_with_nulls_or_duplicates() {
    use crate::common::{copy_tree, pathway, root, run_audit};
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("example");
    copy_tree(&root().join("audits/example"), &audit);
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
    let html = tmp.path().join("report.html");
    let output = pathway(&[
        "report",
        "--out",
        runs.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_exit(&output, 0);
    let page = std::fs::read_to_string(&html).unwrap();
    // The example's beta loads student 3002 of district 103 twice: one duplicated beta key.
    assert!(
        page.contains("<h2>Keys with nulls or duplicates</h2>"),
        "{page}"
    );
    assert!(
        page.contains(
            "<tr><td>students</td><td>student_id</td><td>103</td><td>0/0</td><td>0/1</td></tr>"
        ),
        "{page}"
    );
    assert!(
        page.contains(
            "<p class=\"key-warning\">The key student_id has 1 duplicated beta key(s): every row \
             under such a key is a difference.</p>"
        ),
        "{page}"
    );
    assert_eq!(page.matches("class=\"key-warning\"").count(), 1);
}

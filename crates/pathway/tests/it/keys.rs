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

//! Personal data never appears in clear: keyed masks, error redaction.

use std::fs;

use crate::common::{assert_exit, copy_tree, pathway_with_env, read_csv, root};

#[test]
fn a_masking_key_gives_stable_joinable_hashes_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let key_file = tmp.path().join("mask.key");
    fs::write(&key_file, "team-secret\n").unwrap();
    let input = root().join("fixtures/districts");
    let args = [
        "run",
        "audits/example",
        "--input",
        input.to_str().unwrap(),
        "--out",
        runs.to_str().unwrap(),
        "--date",
        "2026-11-21",
    ];
    assert_exit(
        &pathway_with_env(&args, &[("PATHWAY_MASK_KEY", "team-secret")]),
        0,
    );
    let by_env = fs::read_to_string(runs.join("example/2026-11-21/column_diff.csv")).unwrap();
    assert_exit(
        &pathway_with_env(
            &args,
            &[("PATHWAY_MASK_KEY_FILE", key_file.to_str().unwrap())],
        ),
        0,
    );
    let by_file = fs::read_to_string(runs.join("example/2026-11-21/column_diff.csv")).unwrap();
    assert_eq!(
        by_env, by_file,
        "the same key masks the same way across runs"
    );

    let rows = read_csv(&runs.join("example/2026-11-21/column_diff.csv"));
    let first_name = rows.iter().find(|r| r["column"] == "first_name").unwrap();
    // HMAC-SHA256("team-secret", "Amelia") and ("Amelia "): different values, different masks.
    assert_eq!(
        first_name["legacy_example"],
        pathway_mask::Masker::with_key(b"team-secret").mask_value("Amelia")
    );
    assert_eq!(
        first_name["beta_example"],
        pathway_mask::Masker::with_key(b"team-secret").mask_value("Amelia ")
    );
    assert_ne!(first_name["legacy_example"], first_name["beta_example"]);
    assert!(!by_env.contains("Amelia"));

    // Queries mask with the same key, so a masked example joins back to the side tables.
    let sql = format!(
        "SELECT count(*) AS n FROM legacy_students WHERE first_name = '{}'",
        first_name["legacy_example"]
    );
    let run = runs.join("example/2026-11-21");
    let output = pathway_with_env(
        &[
            "query",
            "--run",
            run.to_str().unwrap(),
            "--format",
            "csv",
            &sql,
        ],
        &[("PATHWAY_MASK_KEY", "team-secret")],
    );
    assert_exit(&output, 0);
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "n\n1\n");

    let output = pathway_with_env(&args, &[("PATHWAY_MASK_KEY", "")]);
    assert_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("PATHWAY_MASK_KEY is set but empty"));
}

#[test]
fn data_errors_never_quote_a_students_value() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    // A birth date no format parses: both transforms fail on the data, quoting the value.
    let students = input.join("102/students.txt");
    let text = fs::read(&students).unwrap();
    let text = String::from_utf8_lossy(&text).replace("2011-03-03", "3rd of March");
    fs::write(&students, text).unwrap();
    let runs = tmp.path().join("runs");
    let output = pathway_with_env(
        &[
            "run",
            "audits/example",
            "--input",
            input.to_str().unwrap(),
            "--out",
            runs.to_str().unwrap(),
            "--date",
            "2026-11-21",
        ],
        &[],
    );
    assert_exit(&output, 3);
    let summary = read_csv(&runs.join("example/2026-11-21/summary.csv"));
    let row = summary
        .iter()
        .find(|r| r["table"] == "students" && r["district_id"] == "102")
        .unwrap();
    assert_eq!(row["status"], "ERROR");
    assert!(
        row["error"].contains("failed on the data of district 102"),
        "{}",
        row["error"]
    );
    assert!(row["error"].contains("'***'"), "{}", row["error"]);
    for place in [
        fs::read_to_string(runs.join("example/2026-11-21/summary.csv")).unwrap(),
        fs::read_to_string(runs.join("example/2026-11-21/summary.json")).unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ] {
        assert!(!place.contains("3rd of March"), "value leaked: {place}");
    }
}

//! Accepted differences: covered cells counted apart, ACCEPTED districts, expired entries flagged.

use std::fs;

use crate::common::{assert_exit, copy_tree, read_csv, root, run_audit};

fn audit_with(tmp: &std::path::Path, accepted: &str) -> std::path::PathBuf {
    let audit = tmp.join("example-accepted");
    copy_tree(&root().join("audits/example"), &audit);
    let toml = fs::read_to_string(audit.join("audit.toml")).unwrap();
    fs::write(audit.join("audit.toml"), format!("{toml}\n{accepted}")).unwrap();
    audit
}

#[test]
fn a_district_whose_only_differences_are_accepted_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = audit_with(
        tmp.path(),
        "[[accepted]]\ntable = \"students\"\ncolumn = \"grade_level\"\ncategory = \"type_format\"\n\
         reason = \"beta drops the zero padding on purpose\"\nexpires = \"2026-12-31\"\n\n\
         [[accepted]]\ntable = \"students\"\ncolumn = \"first_name\"\ncategory = \"whitespace\"\n\
         districts = [\"103\"]\nreason = \"beta keeps names as sent\"\nexpires = \"2026-11-01\"\n",
    );
    let runs = tmp.path().join("runs");
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &runs,
        "2026-11-21",
    );
    assert_exit(&output, 0);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(
            "warning: accepted difference students.first_name expired on 2026-11-01 and no longer applies (beta keeps names as sent)"
        ),
        "{stdout}"
    );

    let summary = read_csv(&runs.join("example/2026-11-21/summary.csv"));
    let students: Vec<(&str, &str, &str, &str)> = summary
        .iter()
        .filter(|r| r["table"] == "students")
        .map(|r| {
            (
                r["district_id"].as_str(),
                r["status"].as_str(),
                r["accepted_cells"].as_str(),
                r["match_pct"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        students,
        [
            // The 4 accepted cells leave the score: 56 of 56 cells equal (93.33 with them).
            ("101", "ACCEPTED", "4", "100.0"),
            ("102", "FULL MATCH", "0", "100.0"),
            // The whitespace entry expired: 103 stays a MISMATCH.
            ("103", "MISMATCH", "0", "52.38"),
            ("104", "LEGACY ONLY", "0", "0.0"),
            ("255901", "FULL MATCH", "0", "100.0"),
        ]
    );
    let categories = read_csv(&runs.join("example/2026-11-21/categories.csv"));
    let accepted: Vec<(&str, &str)> = categories
        .iter()
        .map(|r| (r["district_id"].as_str(), r["accepted"].as_str()))
        .collect();
    assert_eq!(
        accepted,
        [
            ("101", "beta drops the zero padding on purpose"),
            ("103", "")
        ]
    );

    let json: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(runs.join("example/2026-11-21/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["status_counts"]["students"]["ACCEPTED"], 1);
    assert_eq!(json["warnings"].as_array().unwrap().len(), 1);
}

#[test]
fn a_bad_accepted_entry_names_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = audit_with(
        tmp.path(),
        "[[accepted]]\ntable = \"students\"\ncolumn = \"grade_level\"\ncategory = \"typo\"\nreason = \"x\"\n",
    );
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &tmp.path().join("runs"),
        "2026-11-21",
    );
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "[[accepted]] #1 (students.grade_level): category `typo` is not one of null_vs_empty"
        ),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_district_accepted_under_an_entry_that_expired_since_is_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = audit_with(
        tmp.path(),
        "[[accepted]]\ntable = \"students\"\ncolumn = \"grade_level\"\ncategory = \"type_format\"\n\
         reason = \"beta drops the zero padding on purpose\"\nexpires = \"2026-11-20\"\n",
    );
    let runs = tmp.path().join("runs");
    let input = root().join("fixtures/districts");
    let status_of_101 = |date: &str| {
        read_csv(&runs.join("example").join(date).join("summary.csv"))
            .into_iter()
            .find(|r| r["table"] == "students" && r["district_id"] == "101")
            .map(|r| {
                (
                    r["status"].clone(),
                    r["accepted_cells"].clone(),
                    r["reused"].clone(),
                )
            })
            .unwrap()
    };
    assert_exit(
        &run_audit(audit.to_str().unwrap(), &input, &runs, "2026-11-20"),
        0,
    );
    assert_eq!(
        status_of_101("2026-11-20"),
        ("ACCEPTED".into(), "4".into(), "false".into())
    );
    // The same files the night after the entry's last night: a full run makes 101 a MISMATCH
    // again, and so must this one, rather than carry ACCEPTED over.
    let output = run_audit(audit.to_str().unwrap(), &input, &runs, "2026-11-21");
    assert_exit(&output, 0);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("5 districts (4 reused from the previous run)"),
        "{stdout}"
    );
    assert_eq!(
        status_of_101("2026-11-21"),
        ("MISMATCH".into(), "0".into(), "false".into())
    );
}

//! `pathway run --fail-on` and scripts/nightly.sh, as a scheduler sees them.

use std::fs;
use std::process::Command;

use crate::common::{assert_exit, copy_tree, pathway, regress_district_102, root};

fn nightly(
    out: &std::path::Path,
    input: &std::path::Path,
    date: &str,
    keep: &str,
) -> std::process::Output {
    nightly_of("audits/example", out, input, date, keep)
}

fn nightly_of(
    audit: &str,
    out: &std::path::Path,
    input: &std::path::Path,
    date: &str,
    keep: &str,
) -> std::process::Output {
    Command::new("bash")
        .arg("scripts/nightly.sh")
        .current_dir(root())
        .env("PATHWAY", env!("CARGO_BIN_EXE_pathway"))
        .env("AUDIT", audit)
        .env("INPUT", input)
        .env("OUT", out)
        .env("DATE", date)
        .env("KEEP", keep)
        .env_remove("PATHWAY_MASK_KEY")
        .env_remove("PATHWAY_MASK_KEY_FILE")
        .output()
        .unwrap()
}

#[test]
fn the_nightly_job_goes_red_on_regression_and_keeps_the_last_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    let clean = root().join("fixtures/districts");
    assert_exit(&nightly(&out, &clean, "2026-11-19", "2"), 0);
    assert_exit(&nightly(&out, &clean, "2026-11-20", "2"), 0);
    assert!(out.join("example/2026-11-20/compare.csv").exists());
    assert!(out.join("example/report.html").exists());

    // District 102 regresses on the third night.
    let input = tmp.path().join("night3");
    copy_tree(&clean, &input);
    regress_district_102(&input);
    let output = nightly(&out, &input, "2026-11-21", "2");
    assert_exit(&output, 1);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("failing the run (--fail-on): regression")
    );
    let compare = fs::read_to_string(out.join("example/2026-11-21/compare.csv")).unwrap();
    assert!(
        compare.contains("district,students,102,,,regressed,FULL MATCH,MISMATCH,1"),
        "{compare}"
    );

    // Only the last two nights are kept; history keeps all three.
    let nights = |audit: &str| {
        let mut nights: Vec<String> = fs::read_dir(out.join(audit))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("2026"))
            .collect();
        nights.sort();
        nights
    };
    assert_eq!(nights("example"), ["2026-11-20", "2026-11-21"]);
    let history = fs::read_to_string(out.join("example/history.csv")).unwrap();
    assert_eq!(
        history
            .lines()
            .filter(|l| l.starts_with("2026-11-19,"))
            .count(),
        10
    );

    // The OneRoster audit's job on the same output folder and night: its own folder, report and
    // KEEP; the example's nights, history and report stay as they were.
    let example_history = fs::read(out.join("example/history.csv")).unwrap();
    let output = nightly_of(
        "audits/oneroster",
        &out,
        &root().join("fixtures/oneroster"),
        "2026-11-21",
        "1",
    );
    assert_exit(&output, 0);
    assert_eq!(nights("oneroster"), ["2026-11-21"]);
    assert!(out.join("oneroster/report.html").exists());
    assert!(
        !out.join("oneroster/2026-11-21/compare.csv").exists(),
        "a first night is compared with nothing, not with the example's night"
    );
    assert_eq!(nights("example"), ["2026-11-20", "2026-11-21"]);
    assert_eq!(
        fs::read(out.join("example/history.csv")).unwrap(),
        example_history
    );
    assert_eq!(
        fs::read_to_string(out.join("example/2026-11-21/compare.csv")).unwrap(),
        compare
    );
}

#[test]
fn fail_on_mismatch_and_error_are_separate_choices() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    let run = |fail_on: &str| {
        pathway(&[
            "run",
            "audits/example",
            "--input",
            "fixtures/districts",
            "--out",
            out.to_str().unwrap(),
            "--date",
            "2026-11-21",
            "--fail-on",
            fail_on,
        ])
    };
    // The example has MISMATCH districts but no ERROR and no earlier night.
    assert_exit(&run("error,regression"), 0);
    let output = run("mismatch");
    assert_exit(&output, 1);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("failing the run (--fail-on): mismatch")
    );
    assert_exit(
        &pathway(&[
            "run",
            "audits/example",
            "--input",
            "fixtures/districts",
            "--fail-on",
            "typo",
        ]),
        2,
    );
}

#[test]
fn json_logs_are_one_object_per_line_with_no_student_values() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    let output = pathway(&[
        "--log-format",
        "json",
        "run",
        "audits/example",
        "--input",
        "fixtures/districts",
        "--out",
        out.to_str().unwrap(),
        "--date",
        "2026-11-21",
    ]);
    assert_exit(&output, 0);
    let stderr = String::from_utf8(output.stderr).unwrap();
    let all: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Besides progress, one warning: beta loads student 3002 of district 103 twice.
    let (events, warnings): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|e| e["fields"]["district"].is_string());
    assert_eq!(
        events.len(),
        5,
        "one progress event per district:\n{stderr}"
    );
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert_eq!(warnings[0]["level"], "WARN");
    assert!(
        warnings[0]["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("key `student_id` has nulls or duplicates (legacy/beta) in 1 district(s): 103 (null key rows 0/0, duplicated keys 0/1)")
    );
    let last = &events[4]["fields"];
    assert_eq!(
        (last["done"].as_u64(), last["total"].as_u64()),
        (Some(5), Some(5))
    );
    // Districts finish in any order (the heaviest start first); each event names its own.
    let largest = events
        .iter()
        .map(|e| &e["fields"])
        .find(|f| f["district"] == "255901")
        .unwrap();
    assert_eq!(
        largest["rows"], 56,
        "8 + 8 students and 20 + 20 enrollments"
    );
    for secret in ["Amelia", "Archer", "Sofia"] {
        assert!(!stderr.contains(secret));
    }
}

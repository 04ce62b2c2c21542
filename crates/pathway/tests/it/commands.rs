//! Command sides in a whole run: the example's legacy enrollment job is a Python script; a job
//! that fails, hangs or writes garbage makes only its district ERROR, with the reason.

use std::fs;

use crate::common::{assert_exit, copy_tree, read_csv, root, run_audit, run_example};

#[test]
fn the_example_legacy_job_runs_as_a_program_per_district() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    let run = out.join("example/2026-11-21");
    // The script reproduces the old SQL load exactly: the same statuses and counts as before
    // it replaced legacy/enrollments.sql (run.rs checks them all); here the shape of its output.
    let enrollments: Vec<(String, String, String)> = read_csv(&run.join("summary.csv"))
        .into_iter()
        .filter(|r| r["table"] == "enrollments")
        .map(|r| {
            (
                r["district_id"].clone(),
                r["status"].clone(),
                r["legacy_rows"].clone(),
            )
        })
        .collect();
    assert_eq!(
        enrollments,
        [
            ("101".into(), "FULL MATCH".into(), "6".into()),
            ("102".into(), "FULL MATCH".into(), "5".into()),
            ("103".into(), "MISMATCH".into(), "4".into()),
            ("104".into(), "FULL MATCH".into(), "3".into()),
            ("255901".into(), "FULL MATCH".into(), "20".into()),
        ]
    );
    // Its stderr is kept per district, owner-only.
    let log = run.join("commands/legacy/enrollments/district_id=103/stderr.log");
    assert_eq!(fs::read_to_string(&log).unwrap(), "wrote 4 enrollments\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The typed columns came out as dates, like the beta SQL's.
    let schema =
        crate::common::pathway(&["schema", "--run", run.to_str().unwrap(), "--format", "csv"]);
    assert_exit(&schema, 0);
    let text = String::from_utf8(schema.stdout).unwrap();
    assert!(
        text.contains("enrollments,entry_date,Date32,Date32,key,exact"),
        "{text}"
    );
    assert!(
        text.contains("enrollments,school_id,Utf8View,Utf8View,compared,exact"),
        "{text}"
    );
}

/// The example audit with its legacy job wrapped: district 102's job writes a ragged line,
/// 103's exits 2 quoting a name, 104's hangs past the time limit; the others run the real job.
#[test]
fn failing_hanging_and_malformed_jobs_make_only_their_districts_error() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("example");
    copy_tree(&root().join("audits/example"), &audit);
    fs::write(
        audit.join("legacy/wrapper.sh"),
        r#"case "$PATHWAY_DISTRICT_ID" in
  102) printf 'student_id,section_id,school_id,entry_date,exit_date\n2001,A,0201,2025-08-25,,oops\n' > "$2/enrollments.csv" ;;
  103) echo "ValueError: bad name 'Chloe Alvarez' in line 4" >&2; exit 2 ;;
  104) echo "waiting for the database" >&2; sleep 300 ;;
  *) exec python3 legacy/enrollments.py "$1" "$2" ;;
esac
"#,
    )
    .unwrap();
    let toml = fs::read_to_string(audit.join("audit.toml")).unwrap();
    let toml = toml
        .replace(
            r#"command = ["python3", "legacy/enrollments.py"]"#,
            r#"command = ["sh", "legacy/wrapper.sh"]"#,
        )
        .replace("timeout_seconds = 60", "timeout_seconds = 3");
    fs::write(audit.join("audit.toml"), toml).unwrap();
    let out = tmp.path().join("runs");
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &out,
        "2026-11-21",
    );
    // The run completes; some districts are ERROR.
    assert_exit(&output, 3);
    let run = out.join("example/2026-11-21");
    let summary = read_csv(&run.join("summary.csv"));
    let status = |table: &str, district: &str| -> (String, String) {
        let row = summary
            .iter()
            .find(|r| r["table"] == table && r["district_id"] == district)
            .unwrap();
        (row["status"].clone(), row["error"].clone())
    };
    for district in ["101", "255901"] {
        assert_eq!(
            status("enrollments", district).0,
            "FULL MATCH",
            "{district}"
        );
    }
    // Students are untouched by the enrollment job's failures.
    let students: Vec<String> = ["101", "102", "103", "104", "255901"]
        .iter()
        .map(|d| status("students", d).0)
        .collect();
    assert_eq!(
        students,
        [
            "MISMATCH",
            "FULL MATCH",
            "MISMATCH",
            "LEGACY ONLY",
            "FULL MATCH"
        ]
    );

    let (s102, e102) = status("enrollments", "102");
    assert_eq!(s102, "ERROR");
    assert!(
        e102.starts_with(
            "legacy command of table `enrollments` failed for district 102: `sh` wrote malformed \
             output `enrollments.csv`: line 2: expected 5 fields, found 6"
        ),
        "{e102}"
    );
    let (s103, e103) = status("enrollments", "103");
    assert_eq!(s103, "ERROR");
    assert!(
        e103.starts_with(
            "legacy command of table `enrollments` failed for district 103: `sh` exited with \
             status 2 after "
        ),
        "{e103}"
    );
    assert!(
        e103.contains(
            "; last stderr line: ValueError: bad name '***' in line 4 (full stderr: \
             `commands/legacy/enrollments/district_id=103/stderr.log` in the run folder)"
        ),
        "{e103}"
    );
    let (s104, e104) = status("enrollments", "104");
    assert_eq!(s104, "ERROR");
    assert!(
        e104.starts_with(
            "legacy command of table `enrollments` failed for district 104: `sh` ran past its \
             time limit of 3 s and was killed; last stderr line: waiting for the database"
        ),
        "{e104}"
    );
    // The quoted name reaches neither the reports nor the terminal; the private log keeps it.
    let everything = [
        fs::read_to_string(run.join("summary.csv")).unwrap(),
        fs::read_to_string(run.join("summary.json")).unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ]
    .concat();
    assert!(!everything.contains("Chloe"), "{everything}");
    assert!(
        fs::read_to_string(run.join("commands/legacy/enrollments/district_id=103/stderr.log"))
            .unwrap()
            .contains("Chloe")
    );
}

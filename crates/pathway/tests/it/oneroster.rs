//! `audits/oneroster` on the real Grand Bend OneRoster 1.0 and 1.1 exports and Ed-Fi assessment
//! files: two layouts through one transform per side, the CEDS code map with its school-year
//! fallback and an unmapped code, and the real export's broken teacher rows rejected by line.

use crate::common::{assert_exit, pathway, read_csv, root, run_audit};

#[test]
fn oneroster_audit_gives_the_hand_checked_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    let output = run_audit(
        "audits/oneroster",
        &root().join("fixtures/oneroster"),
        &out,
        "2026-11-22",
    );
    assert_exit(&output, 0);
    let run = out.join("oneroster/2026-11-22");

    // table, district, status, legacy, beta, matched, changed, missing, extra, changed columns
    let summary: Vec<String> = read_csv(&run.join("summary.csv"))
        .into_iter()
        .map(|r| {
            [
                "table",
                "district_id",
                "status",
                "legacy_rows",
                "beta_rows",
                "matched_rows",
                "changed_rows",
                "missing_in_beta",
                "extra_in_beta",
                "changed_columns",
            ]
            .iter()
            .map(|c| r[*c].clone())
            .collect::<Vec<_>>()
            .join(",")
        })
        .collect();
    assert_eq!(
        summary,
        [
            "enrollments,grandbend-v1.0,MISMATCH,24,24,20,4,0,0,is_primary",
            "enrollments,grandbend-v1.1,FULL MATCH,24,24,24,0,0,0,",
            "scores,grandbend-v1.0,FULL MATCH,10,10,10,0,0,0,",
            // The Ed-Fi file with padded ids: beta keeps the padding, so no key matches.
            "scores,grandbend-v1.1,MISMATCH,10,10,0,0,10,10,",
            "students,grandbend-v1.0,MISMATCH,8,8,0,8,0,0,grade_level",
            "students,grandbend-v1.1,FULL MATCH,8,8,8,0,0,0,",
        ]
    );

    // What map_code found: every lookup of the 2020-21 roster fell back to the 2020 entries, and
    // OneRoster 1.0's unpadded grade 9 is listed as unmapped, 8 times.
    let mapping: Vec<String> = read_csv(&run.join("code_mapping.csv"))
        .into_iter()
        .map(|r| {
            [
                "district_id",
                "table",
                "side",
                "code_set",
                "school_year",
                "outcome",
                "used_year",
                "source_code",
                "values",
            ]
            .iter()
            .map(|c| r[*c].clone())
            .collect::<Vec<_>>()
            .join(",")
        })
        .collect();
    assert_eq!(
        mapping,
        [
            "grandbend-v1.0,students,beta,grade_level,2021,unmapped,2020,9,8",
            "grandbend-v1.0,students,beta,sex,2021,fallback,2020,,8",
            "grandbend-v1.1,students,beta,grade_level,2021,fallback,2020,,8",
            "grandbend-v1.1,students,beta,sex,2021,fallback,2020,,8",
        ]
    );

    // The column diff: legacy zero-padded `9`, beta left it unmapped (null).
    let columns = read_csv(&run.join("column_diff.csv"));
    assert_eq!(columns.len(), 2);
    assert_eq!(
        (
            columns[1]["column"].as_str(),
            columns[1]["mismatches"].as_str(),
            columns[1]["legacy_example"].as_str(),
            columns[1]["beta_example"].as_str()
        ),
        ("grade_level", "8", "09", "")
    );

    // The real 1.1 users.csv has two teacher rows with 19 fields under 18 columns: rejected by
    // line, queryable; everything else loaded.
    let query = pathway(&[
        "query",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT district_id, input, file, line, reason FROM validation_errors ORDER BY line",
    ]);
    assert_exit(&query, 0);
    assert_eq!(
        String::from_utf8(query.stdout).unwrap(),
        "district_id,input,file,line,reason\n\
         grandbend-v1.1,users,grandbend-v1.1/users.csv,10,\"expected 18 fields, found 19\"\n\
         grandbend-v1.1,users,grandbend-v1.1/users.csv,11,\"expected 18 fields, found 19\"\n"
    );
    let query = pathway(&[
        "query",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT outcome, sum(\"values\") AS n FROM code_mapping GROUP BY outcome ORDER BY outcome",
    ]);
    assert_exit(&query, 0);
    assert_eq!(
        String::from_utf8(query.stdout).unwrap(),
        "outcome,n\nfallback,24\nunmapped,8\n"
    );

    // Names and birth dates stay masked.
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("8 value(s) of 1 code(s) had no entry in the code map"),
        "{stderr}"
    );
    for secret in ["Archer", "Hughes", "1997-05-30"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} leaked"
        );
    }
}

#[test]
fn a_code_set_the_code_map_lacks_stops_the_run_before_any_district() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("oneroster");
    crate::common::copy_tree(&root().join("audits/oneroster"), &audit);
    let sql = std::fs::read_to_string(audit.join("beta/students.sql")).unwrap();
    // A typo in the code set's name: every district would be ERROR.
    std::fs::write(
        audit.join("beta/students.sql"),
        sql.replace("map_code('grade_level',", "map_code('grade_levels',"),
    )
    .unwrap();
    let runs = tmp.path().join("runs");
    let input = root().join("fixtures/oneroster");
    let output = run_audit(audit.to_str().unwrap(), &input, &runs, "2026-11-21");
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("audit `oneroster`: nothing was run, every district would fail:"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "beta/students.sql` calls map_code with code set(s) `grade_levels` that the code map"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("(it has: "), "{stderr}");
    assert!(!runs.join("oneroster/2026-11-21").exists());
    // `pathway check` says the same, and exits 2.
    let output = pathway(&[
        "check",
        audit.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("code set(s) `grade_levels`"));
}

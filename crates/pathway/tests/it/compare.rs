//! `pathway compare`: a fix resolves one pattern and a new input regresses one district.

use std::fs;

use crate::common::{
    assert_exit, copy_tree, pathway, regress_district_102, root, run_audit, run_example,
};

/// Night 1: the example as shipped. Night 2: beta zero-pads grades (the fix for district 101's
/// `grade_level` mismatches) and district 102 now sends a first name with a trailing space.
fn two_nights(tmp: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let runs = tmp.join("runs");
    assert_exit(&run_example(&runs, "2026-11-20"), 0);
    let audit = tmp.join("example-fixed");
    copy_tree(&root().join("audits/example"), &audit);
    let sql = fs::read_to_string(audit.join("beta/students.sql")).unwrap();
    let fixed = sql.replace(
        "        ELSE trim(\"Grade\")",
        "        WHEN length(trim(\"Grade\")) = 1 THEN lpad(trim(\"Grade\"), 2, '0')\n        ELSE trim(\"Grade\")",
    );
    assert_ne!(sql, fixed);
    fs::write(audit.join("beta/students.sql"), fixed).unwrap();
    let input = tmp.join("night2");
    copy_tree(&root().join("fixtures/districts"), &input);
    regress_district_102(&input);
    assert_exit(
        &run_audit(audit.to_str().unwrap(), &input, &runs, "2026-11-21"),
        0,
    );
    (
        runs.join("example/2026-11-20"),
        runs.join("example/2026-11-21"),
    )
}

#[test]
fn a_fix_and_a_regression_between_two_nights() {
    let tmp = tempfile::tempdir().unwrap();
    let (before, after) = two_nights(tmp.path());
    let args = [
        "compare",
        before.to_str().unwrap(),
        after.to_str().unwrap(),
        "--format",
        "csv",
    ];
    let output = pathway(&args);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "kind,table,district_id,column,category,change,before,after,delta\n\
         district,students,101,,,fixed,MISMATCH,FULL MATCH,-4\n\
         district,students,102,,,regressed,FULL MATCH,MISMATCH,1\n\
         pattern,students,,first_name,whitespace,changed,1,2,1\n\
         pattern,students,,grade_level,type_format,resolved,1,0,-1\n\
         column,students,,first_name,,more,2,3,1\n\
         column,students,,grade_level,,fewer,4,0,-4\n"
    );

    let mut failing = args.to_vec();
    failing.push("--fail-on-regression");
    assert_exit(&pathway(&failing), 1);

    let output = pathway(&[
        "compare",
        before.to_str().unwrap(),
        after.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_exit(&output, 0);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (json["fixed"].as_u64(), json["regressed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(json["districts"][0]["district_id"], "101");
    assert_eq!(json["districts"][0]["changed_rows_delta"], -4);
    assert_eq!(json["patterns"][1]["change"], "resolved");
    assert_eq!(json["columns"][1]["delta"], -4);

    let output = pathway(&["compare", before.to_str().unwrap(), after.to_str().unwrap()]);
    assert_exit(&output, 0);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.lines().next().unwrap().ends_with("1 fixed, 1 regressed, 0 now NO INPUT, 0 other district change(s); patterns: 0 new, 1 resolved, 1 changed"),
        "{text}"
    );

    // The same night against itself: nothing changed, even with --fail-on-regression.
    let output = pathway(&[
        "compare",
        after.to_str().unwrap(),
        after.to_str().unwrap(),
        "--format",
        "csv",
        "--fail-on-regression",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "kind,table,district_id,column,category,change,before,after,delta\n"
    );

    let output = pathway(&[
        "compare",
        tmp.path().to_str().unwrap(),
        after.to_str().unwrap(),
    ]);
    assert_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a run folder"));
}

#[test]
fn nights_of_two_audits_are_not_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-21"), 0);
    assert_exit(
        &run_audit(
            "audits/oneroster",
            &root().join("fixtures/oneroster"),
            &runs,
            "2026-11-21",
        ),
        0,
    );
    let (example, oneroster) = (
        runs.join("example/2026-11-21"),
        runs.join("oneroster/2026-11-21"),
    );
    for (before, after) in [(&example, &oneroster), (&oneroster, &example)] {
        let output = pathway(&[
            "compare",
            before.to_str().unwrap(),
            after.to_str().unwrap(),
            "--format",
            "csv",
            "--fail-on-regression",
        ]);
        assert_exit(&output, 2);
        assert!(
            output.stdout.is_empty(),
            "nothing compared, nothing printed"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let (b, a) = if before == &example {
            ("example", "oneroster")
        } else {
            ("oneroster", "example")
        };
        assert!(
            stderr.contains(&format!(
                "`{}` is a night of audit `{b}` and `{}` a night of audit `{a}`: compare two \
                 nights of the same audit",
                before.display(),
                after.display()
            )),
            "{stderr}"
        );
    }
}

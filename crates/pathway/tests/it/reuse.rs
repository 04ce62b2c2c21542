//! Incremental nights: unchanged districts are carried over from the previous run, with the
//! same figures a full run gives; `--only mismatched` re-runs only the districts that differed.

use std::path::Path;

use crate::common::{
    assert_exit, copy_tree, night, pathway, read_csv, regress_district_102, root, run_audit,
};

/// summary.csv rows without the columns that legitimately differ between a reused and a full
/// run of the same night (`reused`).
fn figures(run: &Path) -> Vec<String> {
    read_csv(&run.join("summary.csv"))
        .into_iter()
        .map(|mut r| {
            r.remove("reused");
            format!("{r:?}")
        })
        .collect()
}

fn reused_column(run: &Path) -> Vec<(String, String, String)> {
    read_csv(&run.join("summary.csv"))
        .into_iter()
        .map(|r| {
            (
                r["table"].clone(),
                r["district_id"].clone(),
                r["reused"].clone(),
            )
        })
        .collect()
}

#[test]
fn unchanged_districts_are_reused_with_the_figures_of_a_full_run() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    let out = tmp.path().join("runs");
    assert_exit(&run_audit("audits/example", &input, &out, "2026-11-20"), 0);

    // Night two: district 102 sends a changed file, the four others send the same bytes.
    regress_district_102(&input);
    let output = run_audit("audits/example", &input, &out, "2026-11-21");
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("5 districts (4 reused from the previous run)"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .matches("unchanged, reused from the previous run")
            .count(),
        4,
        "{stderr}"
    );
    let night = out.join("example/2026-11-21");
    let reused: Vec<(String, String, String)> = reused_column(&night);
    let mut expected = Vec::new();
    for table in ["enrollments", "students"] {
        for district in ["101", "102", "103", "104", "255901"] {
            let flag = if district == "102" { "false" } else { "true" };
            expected.push((table.to_owned(), district.to_owned(), flag.to_owned()));
        }
    }
    let mut sorted = reused;
    sorted.sort();
    assert_eq!(sorted, expected);

    // The same night run in full gives the same figures, row for row.
    let full = tmp.path().join("full");
    let output = pathway(&[
        "run",
        "audits/example",
        "--input",
        input.to_str().unwrap(),
        "--out",
        full.to_str().unwrap(),
        "--date",
        "2026-11-21",
        "--no-reuse",
    ]);
    assert_exit(&output, 0);
    assert_eq!(figures(&night), figures(&full.join("example/2026-11-21")));
    assert_eq!(
        std::fs::read_to_string(night.join("column_diff.csv")).unwrap(),
        std::fs::read_to_string(full.join("example/2026-11-21/column_diff.csv")).unwrap()
    );

    // The reused night is complete on its own: its Parquet, row diff and rejected rows are
    // there for queries (32 legacy students, 1 rejected line of 101, 4 changed rows of 101).
    let output = pathway(&[
        "query",
        "--run",
        night.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT (SELECT count(*) FROM legacy_students) AS students, \
                (SELECT count(*) FROM validation_errors) AS rejected, \
                (SELECT count(*) FROM row_diff_students WHERE district_id = '101' AND diff = 'changed') AS changed",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "students,rejected,changed\n32,1,4\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(night.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        json["reused_districts"],
        serde_json::json!(["101", "103", "104", "255901"])
    );
}

#[test]
fn a_changed_audit_reruns_everything_and_only_mismatched_reruns_what_differed() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    copy_tree(&root().join("audits/example"), &audit);
    let input = root().join("fixtures/districts");
    let out = tmp.path().join("runs");
    let audit_arg = audit.to_str().unwrap();
    assert_exit(&run_audit(audit_arg, &input, &out, "2026-11-20"), 0);

    // Any change to the audit folder (here a comment) means nothing can be reused.
    let toml = audit.join("audit.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{text}\n# reviewed\n")).unwrap();
    let output = run_audit(audit_arg, &input, &out, "2026-11-21");
    assert_exit(&output, 0);
    assert!(!String::from_utf8_lossy(&output.stdout).contains("reused"));

    // --only mismatched carries over the districts that matched in every table (102 and
    // 255901) and runs 101, 103 and 104 again.
    let output = pathway(&[
        "run",
        audit_arg,
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--date",
        "2026-11-22",
        "--only",
        "mismatched",
    ]);
    assert_exit(&output, 0);
    assert!(String::from_utf8_lossy(&output.stdout).contains("(2 reused from the previous run)"));
    let mut reused: Vec<String> = reused_column(&out.join("example/2026-11-22"))
        .into_iter()
        .filter(|(_, _, flag)| flag == "true")
        .map(|(table, district, _)| format!("{table}/{district}"))
        .collect();
    reused.sort();
    assert_eq!(
        reused,
        [
            "enrollments/102",
            "enrollments/255901",
            "students/102",
            "students/255901"
        ]
    );
    assert_eq!(
        figures(&out.join("example/2026-11-22")),
        figures(&out.join("example/2026-11-21"))
            .into_iter()
            .map(|r| r.replace("2026-11-21", "2026-11-22"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_night_recorded_by_a_build_of_another_reuse_format_is_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    let input = root().join("fixtures/districts");
    assert_exit(&run_audit("audits/example", &input, &out, "2026-11-20"), 0);
    // As an older build wrote it: the same pathway version (0.1.0), no `format` recorded.
    let record = out.join("example/2026-11-20/reuse.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(json["format"], 3);
    json.as_object_mut().unwrap().remove("format");
    std::fs::write(&record, json.to_string()).unwrap();
    for (date, only) in [("2026-11-21", false), ("2026-11-22", true)] {
        let mut args = vec![
            "run",
            "audits/example",
            "--input",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--date",
            date,
        ];
        if only {
            args.extend(["--only", "mismatched"]);
        }
        let output = pathway(&args);
        assert_exit(&output, 0);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains(&format!("night {date} · 5 districts · 2 tables")),
            "{stdout}"
        );
        let reused = reused_column(&out.join("example").join(date));
        assert!(
            reused.iter().all(|(_, _, flag)| flag == "false"),
            "{reused:?}"
        );
        // The night written by this build is recorded in its format; the next one uses it.
        let record = out.join("example").join(date).join("reuse.json");
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
        // A later build's night is not reused either.
        json["format"] = serde_json::json!(4);
        std::fs::write(&record, json.to_string()).unwrap();
    }
    let output = run_audit("audits/example", &input, &out, "2026-11-23");
    assert_exit(&output, 0);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("5 districts · 2 tables"),
        "a night of format 4 is run again"
    );
    // Untouched, this build's record is reused: every district.
    let output = run_audit("audits/example", &input, &out, "2026-11-24");
    assert_exit(&output, 0);
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("5 districts (5 reused from the previous run)"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// The text of `pathway <args>` run on a night, which must succeed.
fn stdout_of(args: &[&str]) -> String {
    let output = pathway(args);
    assert_exit(&output, 0);
    String::from_utf8(output.stdout).unwrap()
}

/// metrics.csv rows of `date` without what a reused district legitimately changes (seconds: it
/// took none tonight) or a run cannot repeat (the whole run's seconds and peak memory).
fn metrics_figures(out: &Path, date: &str) -> Vec<String> {
    read_csv(&out.join("example/metrics.csv"))
        .into_iter()
        .filter(|r| r["audit_date"] == date)
        .map(|mut r| {
            r.remove("seconds");
            r.remove("peak_rss_mib");
            format!("{r:?}")
        })
        .collect()
}

#[test]
fn a_fully_reused_night_is_the_night_run_in_full() {
    let tmp = tempfile::tempdir().unwrap();
    let input = root().join("fixtures/districts");
    let (carried, full) = (tmp.path().join("carried"), tmp.path().join("full"));
    assert_exit(
        &run_audit("audits/example", &input, &carried, "2026-11-20"),
        0,
    );
    // The same files again (a weekend with no new files): every district is carried over.
    let output = run_audit("audits/example", &input, &carried, "2026-11-21");
    assert_exit(&output, 0);
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("5 districts (5 reused from the previous run)"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let output = pathway(&[
        "run",
        "audits/example",
        "--input",
        input.to_str().unwrap(),
        "--out",
        full.to_str().unwrap(),
        "--date",
        "2026-11-21",
        "--no-reuse",
    ]);
    assert_exit(&output, 0);
    let (a, b) = (
        night(&carried, "example", "2026-11-21"),
        night(&full, "example", "2026-11-21"),
    );
    assert!(reused_column(&a).iter().all(|(_, _, flag)| flag == "true"));
    assert!(reused_column(&b).iter().all(|(_, _, flag)| flag == "false"));

    // The files, row for row.
    assert_eq!(figures(&a), figures(&b));
    for file in ["column_diff.csv", "categories.csv"] {
        assert_eq!(
            std::fs::read_to_string(a.join(file)).unwrap(),
            std::fs::read_to_string(b.join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(
        metrics_figures(&carried, "2026-11-21"),
        metrics_figures(&full, "2026-11-21")
    );
    // summary.json: what was compared and the schema differences, which a fully reused night
    // once left empty.
    let json = |night: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(night.join("summary.json")).unwrap()).unwrap()
    };
    let (ja, jb) = (json(&a), json(&b));
    for field in [
        "tables",
        "schema_diff",
        "status_counts",
        "rows_read",
        "column_diff",
        "categories",
        "rule_hidden",
        "input_files",
        "unread_files",
        "warnings",
    ] {
        assert_eq!(ja[field], jb[field], "{field}");
    }
    assert_eq!(
        ja["tables"][1]["compared_columns"],
        serde_json::json!([
            "school_id",
            "last_name",
            "first_name",
            "birth_date",
            "grade_level",
            "gender_code"
        ])
    );

    // What the commands show of it.
    let show = |night: &Path| {
        stdout_of(&[
            "show",
            "--run",
            night.to_str().unwrap(),
            "--table",
            "students",
            "--district",
            "101",
        ])
    };
    let shown = show(&a);
    assert_eq!(shown, show(&b));
    assert!(
        shown.contains("│ legacy ┆ changed ┆ 1001       ┆ 0101      ┆ ***       ┆ ***        ┆ ***        ┆ 07 *        ┆ F           │"),
        "{shown}"
    );
    let query = |night: &Path| {
        stdout_of(&[
            "query",
            "--run",
            night.to_str().unwrap(),
            "--format",
            "csv",
            "SELECT student_id, diff, legacy_grade_level, beta_grade_level FROM row_diff_students \
             WHERE district_id = '101' ORDER BY student_id",
        ])
    };
    let rows = query(&a);
    assert_eq!(rows, query(&b));
    assert_eq!(
        rows,
        "student_id,diff,legacy_grade_level,beta_grade_level\n\
         1001,changed,07,7\n1003,changed,09,9\n1004,changed,06,6\n1010,changed,05,5\n"
    );
    let schema = |night: &Path| {
        stdout_of(&[
            "schema",
            "--run",
            night.to_str().unwrap(),
            "--format",
            "csv",
        ])
    };
    assert_eq!(schema(&a), schema(&b));
    // The HTML report's district details: counts, changed columns and row samples.
    let details = |night: &Path, name: &str| {
        let html = tmp.path().join(name);
        stdout_of(&[
            "report",
            "--run",
            night.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]);
        let page = std::fs::read_to_string(&html).unwrap();
        let at = page.find("<h2>District details</h2>").unwrap();
        page[at..].to_owned()
    };
    let page = details(&a, "carried.html");
    assert_eq!(page, details(&b, "full.html"));
    assert!(
        page.contains("<th>legacy_grade_level</th><th>beta_grade_level</th>"),
        "row samples keep their values"
    );
}

//! `runs/history.csv` and `pathway history`.

use crate::common::{assert_exit, pathway, read_csv, run_example};

#[test]
fn history_gains_each_night_and_a_rerun_replaces_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-20"), 0);
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    assert_exit(&run_example(&out, "2026-11-21"), 0);

    let history = read_csv(&out.join("example/history.csv"));
    assert_eq!(
        history.len(),
        20,
        "2 nights x 2 tables x 5 districts, the re-run not counted twice"
    );
    assert_eq!(
        history
            .iter()
            .filter(|r| r["audit_date"] == "2026-11-21")
            .count(),
        10
    );
    let leftovers: Vec<_> = std::fs::read_dir(out.join("example"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "staging folders left behind: {leftovers:?}"
    );

    let output = pathway(&["history", "--out", out.to_str().unwrap(), "--format", "csv"]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "audit_date,audit,table,districts,full_match,mismatch,legacy_only,beta_only,error,accepted,no_input,match_pct\n\
         2026-11-20,example,enrollments,5,4,1,0,0,0,0,0,96.0\n\
         2026-11-20,example,students,5,2,2,1,0,0,0,0,69.14\n\
         2026-11-21,example,enrollments,5,4,1,0,0,0,0,0,96.0\n\
         2026-11-21,example,students,5,2,2,1,0,0,0,0,69.14\n"
    );

    let output = pathway(&["history", "--out", out.to_str().unwrap()]);
    assert_exit(&output, 0);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("FULL MATCH"), "{table}");
    assert!(table.contains("2026-11-21"), "{table}");
    // The mean of the districts' scores: (93.33 + 100 + 52.38 + 0 + 100) / 5, rounded down.
    assert!(table.contains("┆ 69.14% │"), "{table}");
}

#[test]
fn each_run_records_its_metrics_and_a_rerun_replaces_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    let metrics = read_csv(&out.join("example/metrics.csv"));
    assert_eq!(
        metrics.len(),
        21,
        "5 districts x 2 tables x 2 sides, plus the run, once"
    );
    let row = metrics
        .iter()
        .find(|r| r["district_id"] == "101" && r["side"] == "legacy" && r["table"] == "students")
        .unwrap();
    let counts: Vec<&str> = ["rows_read", "rows_loaded", "rows_rejected", "rows_written"]
        .iter()
        .map(|c| row[*c].as_str())
        .collect();
    // District 101 sends 12 student and 6 enrollment rows, one student row ragged.
    assert_eq!(counts, ["18", "17", "1", "10"]);
    let run = metrics.iter().find(|r| r["side"] == "run").unwrap();
    let counts: Vec<&str> = ["rows_read", "rows_loaded", "rows_rejected", "rows_written"]
        .iter()
        .map(|c| run[*c].as_str())
        .collect();
    // 74 input rows; legacy wrote 32 + 38, beta 29 + 39.
    assert_eq!(counts, ["74", "73", "1", "138"]);
    assert!(run["peak_rss_mib"].parse::<u64>().unwrap() > 0);
    assert!(run["seconds"].parse::<f64>().unwrap() > 0.0);

    let output = pathway(&[
        "history",
        "--out",
        out.to_str().unwrap(),
        "--metrics",
        "--format",
        "json",
    ]);
    assert_exit(&output, 0);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["rows_written"], 138);
}

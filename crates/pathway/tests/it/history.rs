//! `runs/history.csv` and `pathway history`.

use crate::common::{assert_exit, pathway, read_csv, run_example};

#[test]
fn history_gains_each_night_and_a_rerun_replaces_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-20"), 0);
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    assert_exit(&run_example(&out, "2026-11-21"), 0);

    let history = read_csv(&out.join("history.csv"));
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
    let leftovers: Vec<_> = std::fs::read_dir(&out)
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
        "audit_date,audit,table,districts,full_match,mismatch,legacy_only,beta_only,error,accepted\n\
         2026-11-20,example,enrollments,5,4,1,0,0,0,0\n\
         2026-11-20,example,students,5,2,2,1,0,0,0\n\
         2026-11-21,example,enrollments,5,4,1,0,0,0,0\n\
         2026-11-21,example,students,5,2,2,1,0,0,0\n"
    );

    let output = pathway(&["history", "--out", out.to_str().unwrap()]);
    assert_exit(&output, 0);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("FULL MATCH"), "{table}");
    assert!(table.contains("2026-11-21"), "{table}");
}

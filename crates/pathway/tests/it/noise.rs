//! `pathway noise`: columns that differ between two runs of the same legacy code.

use std::fs;

use crate::common::{assert_exit, copy_tree, pathway, root};

#[test]
fn generated_ids_are_found_and_a_reproducible_side_is_said_so() {
    let output = pathway(&["noise", "audits/example", "--input", "fixtures/districts"]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "the legacy side is reproducible: two runs on the same input gave the same rows\n"
    );

    // A legacy job that stamps every row with a fresh id.
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("stamped");
    copy_tree(&root().join("audits/example"), &audit);
    let sql = fs::read_to_string(audit.join("legacy/students.sql")).unwrap();
    let stamped = sql.replace(
        "SELECT DISTINCT\n",
        "SELECT DISTINCT\n    uuid() AS row_id,\n",
    );
    assert_ne!(sql, stamped);
    fs::write(audit.join("legacy/students.sql"), stamped).unwrap();
    let output = pathway(&[
        "noise",
        audit.to_str().unwrap(),
        "--input",
        "fixtures/districts",
        "--format",
        "csv",
    ]);
    assert_exit(&output, 0);
    // Every legacy student row of the 5 districts (10 + 5 + 4 + 4 + 8): in 103 the fresh id
    // defeats the DISTINCT, so student 3002 appears twice on each side and, as a duplicated key,
    // is not compared column by column.
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "table,column,districts,cells\nstudents,row_id,5,31\n"
    );

    let output = pathway(&[
        "noise",
        audit.to_str().unwrap(),
        "--input",
        "fixtures/districts",
    ]);
    assert_exit(&output, 0);
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("to ignore in audit.toml: [tables.students] ignore = [\"row_id\"]")
    );
}

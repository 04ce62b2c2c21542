//! Categories of changed cells and `pathway patterns` across districts.

use std::fs;

use crate::common::{assert_exit, copy_tree, pathway, read_csv, root, run_audit};

#[test]
fn one_bug_in_three_districts_is_one_pattern_ranked_first() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    // Two more districts send grades the way 101 does.
    copy_tree(&input.join("101"), &input.join("105"));
    copy_tree(&input.join("101"), &input.join("106"));
    let runs = tmp.path().join("runs");
    assert_exit(&run_audit("audits/example", &input, &runs, "2026-11-21"), 0);
    let run = runs.join("example/2026-11-21");

    let categories = read_csv(&run.join("categories.csv"));
    let rows: Vec<Vec<&str>> = categories
        .iter()
        .map(|r| {
            [
                "table",
                "district_id",
                "column",
                "category",
                "cells",
                "example_key",
            ]
            .iter()
            .map(|c| r[*c].as_str())
            .collect()
        })
        .collect();
    assert_eq!(
        rows,
        [
            ["students", "101", "grade_level", "type_format", "4", "1001"],
            ["students", "103", "first_name", "whitespace", "2", "3001"],
            ["students", "105", "grade_level", "type_format", "4", "1001"],
            ["students", "106", "grade_level", "type_format", "4", "1001"],
        ]
    );

    let output = pathway(&[
        "patterns",
        "--run",
        run.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "table,column,category,change,districts,cells,example_keys\n\
         students,grade_level,type_format,,3,12,\"101:1001, 105:1001, 106:1001\"\n\
         students,first_name,whitespace,,1,2,103:3001\n\
         enrollments,,extra_in_beta,,1,1,103\n"
    );

    let output = pathway(&[
        "patterns",
        "--run",
        run.to_str().unwrap(),
        "--format",
        "json",
        "--limit",
        "1",
    ]);
    assert_exit(&output, 0);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // Rows missing in beta in a district that has rows on both sides are a pattern too (104,
    // LEGACY ONLY, is a status): enrollments 103's extra row is the last line above.
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["districts"], 3);
    assert_eq!(json[0]["cells"], 12);

    let output = pathway(&[
        "query",
        "--run",
        run.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT category, sum(cells) AS cells FROM categories GROUP BY category ORDER BY category",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "category,cells\ntype_format,12\nwhitespace,2\n"
    );
}

#[test]
fn a_run_without_categories_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(
        &run_audit(
            "audits/example",
            &root().join("fixtures/districts"),
            &runs,
            "2026-11-21",
        ),
        0,
    );
    fs::remove_file(runs.join("example/2026-11-21/categories.csv")).unwrap();
    let output = pathway(&["patterns", "--out", runs.to_str().unwrap()]);
    assert_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no categories.csv"));
}

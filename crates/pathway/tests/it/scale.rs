//! `pathway diff` on a generated pair with known differences (fixtures/generator): every
//! district's status and counts equal the generator's truth, on the triage path at several
//! chunk sizes and on the full join.

use std::path::Path;

use pathway_fixtures::{Params, Truth, generate};

use crate::common::{pathway, read_csv};

fn check_against_truth(truth: &Truth, out: &Path) {
    let summary = read_csv(&out.join("summary.csv"));
    assert_eq!(summary.len(), truth.districts.len());
    for row in &summary {
        let expected = &truth.districts[&row["district_id"]];
        let n = |k: &str| row[k].parse::<u64>().unwrap();
        assert_eq!(
            (
                row["status"].as_str(),
                [
                    n("legacy_rows"),
                    n("beta_rows"),
                    n("matched_rows"),
                    n("changed_rows"),
                    n("missing_in_beta"),
                    n("extra_in_beta"),
                    n("legacy_dup_keys"),
                    n("beta_dup_keys"),
                ]
            ),
            (
                expected.status.as_str(),
                [
                    expected.legacy_rows,
                    expected.beta_rows,
                    expected.matched_rows,
                    expected.changed_rows,
                    expected.missing_in_beta,
                    expected.extra_in_beta,
                    expected.legacy_dup_keys,
                    expected.beta_dup_keys,
                ]
            ),
            "district {}",
            row["district_id"]
        );
    }
    let mut by_column = std::collections::BTreeMap::new();
    for row in read_csv(&out.join("column_diff.csv")) {
        by_column.insert(
            (row["district_id"].clone(), row["column"].clone()),
            row["mismatches"].parse::<u64>().unwrap(),
        );
    }
    let mut expected = std::collections::BTreeMap::new();
    for (district, t) in &truth.districts {
        for (column, n) in &t.changed_by_column {
            expected.insert((district.clone(), column.clone()), *n);
        }
    }
    assert_eq!(by_column, expected);
}

#[test]
fn generated_pair_diffs_to_its_truth_on_every_path() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("pair");
    let truth = generate(
        &Params {
            rows: 30_000,
            districts: 24,
            diff_rate: 0.02,
            identical_share: 0.3,
            seed: 7,
            csv: false,
        },
        &data,
    )
    .unwrap();
    // 24 legacy districts plus the beta-only one, with the special districts among them.
    assert_eq!(truth.districts.len(), 25);
    let statuses: Vec<&str> = truth
        .districts
        .values()
        .map(|d| d.status.as_str())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "LEGACY ONLY").count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == "BETA ONLY").count(), 1);
    assert!(
        truth
            .districts
            .values()
            .any(|d| d.status == "FULL MATCH" && d.legacy_dup_keys == 1)
    );

    let legacy = data.join("legacy/students");
    let beta = data.join("beta/students");
    for (name, extra) in [
        ("default", vec![]),
        ("small-chunks", vec!["--chunk-rows", "2000"]),
        ("join", vec!["--no-triage"]),
    ] {
        let out = tmp.path().join(name);
        let mut args = vec![
            "diff",
            legacy.to_str().unwrap(),
            beta.to_str().unwrap(),
            "--key",
            "student_id",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let output = pathway(&args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        check_against_truth(&truth, &out);
    }
}

#[test]
fn the_bench_audit_loads_a_generated_csv_night_row_for_row() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("night");
    let truth = generate(
        &Params {
            rows: 3_000,
            districts: 8,
            diff_rate: 0.02,
            identical_share: 0.3,
            seed: 11,
            csv: true,
        },
        &data,
    )
    .unwrap();
    let out = tmp.path().join("runs");
    let output = crate::common::run_audit("audits/bench", &data.join("input"), &out, "2026-11-21");
    crate::common::assert_exit(&output, 0);
    // Every district with legacy rows sent a file; both sides load it row for row (duplicates
    // included) and agree.
    let summary = read_csv(&out.join("bench/2026-11-21/summary.csv"));
    let senders: Vec<(&String, u64)> = truth
        .districts
        .iter()
        .filter(|(_, t)| t.legacy_rows > 0)
        .map(|(d, t)| (d, t.legacy_rows))
        .collect();
    assert_eq!(summary.len(), senders.len());
    for (row, (district, rows)) in summary.iter().zip(senders) {
        assert_eq!(&row["district_id"], district);
        assert_eq!(row["status"], "FULL MATCH", "district {district}");
        assert_eq!(row["legacy_rows"], rows.to_string(), "district {district}");
        assert_eq!(row["beta_rows"], rows.to_string(), "district {district}");
    }
    // Each output carries its footprint: the truth's rows and duplicated keys, and the same
    // fingerprint on both sides (the sides load the same rows).
    let night = out.join("bench/2026-11-21");
    let mut footprinted = 0;
    for (district, t) in truth.districts.iter().filter(|(_, t)| t.legacy_rows > 0) {
        let footprint = |side: &str| {
            pathway_diff::Footprint::read(
                &night
                    .join(side)
                    .join("students")
                    .join(format!("district_id={district}"))
                    .join("part-0.parquet"),
            )
            .unwrap_or_else(|| panic!("district {district}: no footprint in the {side} output"))
        };
        let (legacy, beta) = (footprint("legacy"), footprint("beta"));
        assert_eq!(
            (legacy.rows, legacy.dup_keys, legacy.null_key_rows),
            (t.legacy_rows, t.legacy_dup_keys, 0),
            "district {district}"
        );
        assert_eq!(legacy.key, vec!["student_id".to_owned()]);
        assert_eq!(legacy.fingerprint, beta.fingerprint, "district {district}");
        footprinted += 1;
    }
    assert_eq!(footprinted, senders_count(&truth));
    // Decided from the footers or read in full, the night's answers are the same.
    let joined = tmp.path().join("joined");
    let output = pathway(&[
        "run",
        "audits/bench",
        "--input",
        data.join("input").to_str().unwrap(),
        "--out",
        joined.to_str().unwrap(),
        "--date",
        "2026-11-21",
        "--no-triage",
    ]);
    crate::common::assert_exit(&output, 0);
    assert_eq!(
        read_csv(&joined.join("bench/2026-11-21/summary.csv")),
        read_csv(&out.join("bench/2026-11-21/summary.csv"))
    );
}

fn senders_count(truth: &Truth) -> usize {
    truth
        .districts
        .values()
        .filter(|t| t.legacy_rows > 0)
        .count()
}

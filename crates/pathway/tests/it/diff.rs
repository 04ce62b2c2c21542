//! `pathway diff`: same figures as `pathway run`, options, formats and errors.

use std::fs;

use pathway_input::Compression;

use crate::common::{assert_exit, pathway, read_csv, run_example};

const COMPARED_FIELDS: [&str; 12] = [
    "table",
    "district_id",
    "status",
    "legacy_rows",
    "beta_rows",
    "matched_rows",
    "changed_rows",
    "missing_in_beta",
    "extra_in_beta",
    "legacy_dup_keys",
    "beta_dup_keys",
    "changed_columns",
];

#[test]
fn diffing_a_runs_parquet_gives_the_runs_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-21"), 0);
    let run = runs.join("example/2026-11-21");
    let run_summary = read_csv(&run.join("summary.csv"));
    for (table, key) in [
        ("students", "student_id"),
        ("enrollments", "student_id,section_id,entry_date"),
    ] {
        let out = tmp.path().join(format!("diff-{table}"));
        let output = pathway(&[
            "diff",
            run.join("legacy").join(table).to_str().unwrap(),
            run.join("beta").join(table).to_str().unwrap(),
            "--key",
            key,
            "--pii",
            "first_name,last_name,birth_date",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_exit(&output, 1);
        let diff_summary = read_csv(&out.join("summary.csv"));
        let expected: Vec<_> = run_summary.iter().filter(|r| r["table"] == table).collect();
        assert_eq!(diff_summary.len(), expected.len());
        for (got, want) in diff_summary.iter().zip(expected) {
            for field in COMPARED_FIELDS {
                assert_eq!(
                    got[field], want[field],
                    "{table}/{}: {field}",
                    want["district_id"]
                );
            }
            assert_eq!(got["audit"], "diff");
        }
        let columns: Vec<_> = read_csv(&out.join("column_diff.csv"))
            .into_iter()
            .map(|r| {
                (
                    r["district_id"].clone(),
                    r["column"].clone(),
                    r["legacy_example"].clone(),
                )
            })
            .collect();
        let run_columns: Vec<_> = read_csv(&run.join("column_diff.csv"))
            .into_iter()
            .filter(|r| r["table"] == table)
            .map(|r| {
                (
                    r["district_id"].clone(),
                    r["column"].clone(),
                    r["legacy_example"].clone(),
                )
            })
            .collect();
        assert_eq!(columns, run_columns);
        assert!(out.join("summary.json").exists());
        assert!(out.join(format!("row_diff/{table}")).is_dir());
    }
}

fn write_pair(dir: &std::path::Path) -> (String, String) {
    let left = dir.join("students.csv");
    let right = dir.join("students_beta.csv");
    fs::write(
        &left,
        "id,name,grade,loaded_at\n1,Ann,07,08:00\n2,Bo,08,08:00\n3,Cy,09,08:00\n",
    )
    .unwrap();
    fs::write(
        &right,
        "id,full_name,grade,loaded_at\n1,Ann,7,09:30\n2,Bo,08,09:30\n4,Di,10,09:30\n",
    )
    .unwrap();
    (
        left.to_str().unwrap().to_owned(),
        right.to_str().unwrap().to_owned(),
    )
}

#[test]
fn csv_files_with_renamed_and_ignored_columns_are_one_group() {
    let tmp = tempfile::tempdir().unwrap();
    let (left, right) = write_pair(tmp.path());
    let output = pathway(&[
        "diff",
        &left,
        &right,
        "--key",
        "id",
        "--rename",
        "name=full_name",
        "--ignore",
        "loaded_at",
        "--format",
        "csv",
    ]);
    assert_exit(&output, 1);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        stdout,
        format!(
            "audit_date,table,district_id,status,legacy_rows,beta_rows,matched_rows,changed_rows,missing_in_beta,extra_in_beta,legacy_dup_keys,beta_dup_keys,changed_columns,audit,error,accepted_cells,reused,row_diff_capped,paired_rows,match_pct\n\
             {today},students,*,MISMATCH,3,3,1,1,1,1,0,0,grade,diff,,0,false,false,0,37.5\n"
        )
    );
    // The summary table went to stderr, so stdout stays machine-readable.
    assert!(String::from_utf8_lossy(&output.stderr).contains("MISMATCH"));

    let output = pathway(&[
        "diff",
        &left,
        &right,
        "--key",
        "id",
        "--rename",
        "name=full_name",
        "--format",
        "json",
    ]);
    assert_exit(&output, 1);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["summary"][0]["changed_columns"], "grade;loaded_at");
    assert_eq!(json["column_diff"][0]["column"], "grade");
    assert_eq!(json["column_diff"][0]["legacy_example"], "07");
    assert_eq!(json["column_diff"][0]["beta_example"], "7");
    assert_eq!(json["column_diff"][1]["column"], "loaded_at");
    assert_eq!(json["column_diff"][1]["mismatches"], 2);
    assert_eq!(json["status_counts"]["students"]["MISMATCH"], 1);

    // Without the rename, `name` and `full_name` are one-sided columns.
    let output = pathway(&[
        "diff",
        &left,
        &right,
        "--key",
        "id",
        "--ignore",
        "loaded_at",
        "--format",
        "json",
    ]);
    assert_exit(&output, 1);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schema_diff"]["students"]["legacy_only"][0], "name");
    assert_eq!(json["schema_diff"]["students"]["beta_only"][0], "full_name");
    assert_eq!(
        json["summary"][0]["changed_columns"],
        "full_name;grade;name"
    );
}

#[test]
fn identical_tables_exit_0_and_errors_exit_2_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let (left, right) = write_pair(tmp.path());
    let output = pathway(&["diff", &left, &left, "--key", "id"]);
    assert_exit(&output, 0);
    assert!(String::from_utf8_lossy(&output.stdout).contains("FULL MATCH"));

    let cases: [(&[&str], &str); 5] = [
        (
            &["--key", "idx"],
            "key column `idx` is missing from legacy and beta (columns there: id, name, grade, loaded_at)",
        ),
        (
            &["--key", "name"],
            "key column `name` is missing from beta (columns there: id, full_name, grade, loaded_at)",
        ),
        (
            &["--key", "id", "--by", "school"],
            "group column `school` is missing from legacy",
        ),
        (
            &["--key", "id", "--ignore", "nope"],
            "column `nope` named in the ignored columns does not exist",
        ),
        (
            &["--key", "id", "--rename", "name=nope"],
            "column `nope` named in a rename does not exist on the beta side",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["diff", left.as_str(), right.as_str()];
        args.extend_from_slice(extra);
        let output = pathway(&args);
        assert_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
    }
    let missing = tmp.path().join("nope.parquet");
    let output = pathway(&["diff", &left, missing.to_str().unwrap(), "--key", "id"]);
    assert_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("no such file or folder"));
}

#[test]
fn without_a_key_tables_compare_as_multisets() {
    let tmp = tempfile::tempdir().unwrap();
    let left = tmp.path().join("scores.csv");
    let right = tmp.path().join("scores_beta.csv");
    fs::write(&left, "subject,score\nmath,1\nmath,1\nela,2\n").unwrap();
    fs::write(&right, "subject,score\nmath,1\nela,2\nela,2\nsci,3\n").unwrap();
    let out = tmp.path().join("out");
    let output = pathway(&[
        "diff",
        left.to_str().unwrap(),
        right.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_exit(&output, 1);
    let row = &read_csv(&out.join("summary.csv"))[0];
    let got: Vec<&str> = [
        "status",
        "legacy_rows",
        "beta_rows",
        "matched_rows",
        "missing_in_beta",
        "extra_in_beta",
    ]
    .iter()
    .map(|c| row[*c].as_str())
    .collect();
    assert_eq!(got, ["MISMATCH", "3", "4", "2", "1", "2"]);

    let output = pathway(&[
        "show",
        "--run",
        out.to_str().unwrap(),
        "--table",
        "scores",
        "--district",
        "*",
    ]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with(
            "scores · district * · MISMATCH · 3 differing distinct row(s), showing 3\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("│ math    ┆ 1     ┆ missing_in_beta ┆ legacy ┆"),
        "{stdout}"
    );
}

/// `pathway diff` run in `dir`, so that files are named as a user in that folder names them.
fn pathway_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pathway"))
        .args(args)
        .current_dir(dir)
        .env_remove("PATHWAY_MASK_KEY")
        .env_remove("PATHWAY_MASK_KEY_FILE")
        .output()
        .unwrap()
}

#[test]
fn compressed_sides_give_the_summary_of_the_plain_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_pair(dir);
    let left = fs::read(dir.join("students.csv")).unwrap();
    // The beta side as JSON lines: values are strings, as in the CSV.
    let beta_jsonl = "{\"id\": \"1\", \"full_name\": \"Ann\", \"grade\": \"7\", \"loaded_at\": \"09:30\"}\n\
                      {\"id\": \"2\", \"full_name\": \"Bo\", \"grade\": \"08\", \"loaded_at\": \"09:30\"}\n\
                      {\"id\": \"4\", \"full_name\": \"Di\", \"grade\": \"10\", \"loaded_at\": \"09:30\"}\n";
    fs::write(dir.join("students_beta.jsonl"), beta_jsonl).unwrap();
    let options = [
        "--key",
        "id",
        "--rename",
        "name=full_name",
        "--ignore",
        "loaded_at",
        "--format",
        "csv",
    ];
    let run = |left: &str, right: &str| {
        let mut args = vec!["diff", left, right];
        args.extend(options);
        let output = pathway_in(dir, &args);
        assert_exit(&output, 1);
        String::from_utf8(output.stdout).unwrap()
    };
    let plain = run("students.csv", "students_beta.csv");
    assert!(
        plain.contains(",students,*,MISMATCH,3,3,1,1,1,1,0,0,grade,diff,,0,false,false,0,37.5\n"),
        "{plain}"
    );
    assert_eq!(run("students.csv", "students_beta.jsonl"), plain);
    for compression in Compression::ALL {
        let suffix = compression.suffix();
        let left_name = format!("students.csv{suffix}");
        fs::write(dir.join(&left_name), compression.compress(&left).unwrap()).unwrap();
        let right_name = format!("students_beta.jsonl{suffix}");
        fs::write(
            dir.join(&right_name),
            compression.compress(beta_jsonl.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(run(&left_name, "students_beta.csv"), plain, "{suffix}");
        assert_eq!(run(&left_name, &right_name), plain, "{suffix}");
    }
    // A gzip file sent under a plain name is recognised by its content.
    fs::write(
        dir.join("sent.csv"),
        Compression::Gzip.compress(&left).unwrap(),
    )
    .unwrap();
    assert_eq!(
        run("sent.csv", "students_beta.csv").replace(",sent,", ",students,"),
        plain
    );
}

#[test]
fn a_side_that_holds_no_table_exits_2_naming_the_file_and_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("good.csv"), "id,name\n1,Ann\n").unwrap();
    let packed = Compression::Gzip
        .compress("id,name\n1,Ann\n".repeat(100).as_bytes())
        .unwrap();
    let cases: [(&str, &[u8], &str); 8] = [
        (
            "empty.csv",
            b"",
            "error: `empty.csv` is empty: no header row\n",
        ),
        (
            "blank.txt",
            b"\r\n\n   \n",
            "error: `blank.txt` holds only blank lines: no header row\n",
        ),
        (
            "sheet.csv",
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x01\x02\x03\x04\x05\x06\x07",
            "error: `sheet.csv` is not text (binary content)\n",
        ),
        ("empty.jsonl", b"", "error: `empty.jsonl` is empty\n"),
        (
            "truncated.csv.gz",
            &packed[..packed.len() / 2],
            "error: `truncated.csv.gz` is corrupt or truncated gzip data: ",
        ),
        (
            "plain.csv.zst",
            b"id,name\n1,Ann\n",
            "error: `plain.csv.zst` is named as zstd-compressed but does not hold zstd data\n",
        ),
        (
            "scores.parquet.gz",
            &packed,
            "error: `scores.parquet.gz` is gzip-compressed, and compressed Parquet is not \
             supported: decompress it first (Parquet compresses its own pages)\n",
        ),
        (
            "notes.docx",
            b"PK\x03\x04",
            "error: `notes.docx` is not a Parquet file, a folder of Parquet, a CSV/TXT file or a \
             JSON-lines file",
        ),
    ];
    for (name, bytes, message) in cases {
        fs::write(dir.join(name), bytes).unwrap();
        for (left, right) in [(name, "good.csv"), ("good.csv", name)] {
            let output = pathway_in(dir, &["diff", left, right, "--key", "id"]);
            assert_exit(&output, 2);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.starts_with(message), "{name}: {stderr}");
        }
    }
    // A header-only file is a table with no row: the other side's row is extra.
    fs::write(dir.join("header.csv"), "id,name\r\n").unwrap();
    let output = pathway_in(
        dir,
        &[
            "diff",
            "header.csv",
            "good.csv",
            "--key",
            "id",
            "--format",
            "csv",
        ],
    );
    assert_exit(&output, 1);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(",header,*,BETA ONLY,0,1,0,0,0,1,0,0,,diff,,0,false,false,0,0.0\n"),
        "{stdout}"
    );
}

#[test]
fn a_side_decompressing_past_the_limit_exits_2_naming_the_file_and_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("good.csv"), "id,name\n1,Ann\n").unwrap();
    // 10 MB of zeros, gzip'd to about 10 kB.
    fs::write(
        dir.join("bomb.csv.gz"),
        Compression::Gzip.compress(&vec![0; 10_000_000]).unwrap(),
    )
    .unwrap();
    for (left, right) in [("bomb.csv.gz", "good.csv"), ("good.csv", "bomb.csv.gz")] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_pathway"))
            .args(["diff", left, right, "--key", "id"])
            .current_dir(dir)
            .env("PATHWAY_MAX_DECOMPRESSED_BYTES", "1000000")
            .output()
            .unwrap();
        assert_exit(&output, 2);
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "error: `bomb.csv.gz` is gzip data that decompresses to more than 1000000 bytes, \
             the limit PATHWAY_MAX_DECOMPRESSED_BYTES sets: not read\n"
        );
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pathway"))
        .args(["diff", "good.csv", "good.csv", "--key", "id"])
        .current_dir(dir)
        .env("PATHWAY_MAX_DECOMPRESSED_BYTES", "1MB")
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: PATHWAY_MAX_DECOMPRESSED_BYTES must be a whole number of bytes (the most a \
         compressed file may decompress to), not `1MB`\n"
    );
}

/// Under its counts, `pathway diff` shows the first differing rows, legacy above beta, by kind
/// then key, personal columns masked; `--sample 0` and the CSV format show none.
#[test]
fn a_few_differing_rows_are_shown_under_the_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(
        dir.join("a.csv"),
        "id,name,grade\n1,Ann,07\n2,Bo,08\n3,Cy,09\n5,Ed,11\n",
    )
    .unwrap();
    fs::write(
        dir.join("b.csv"),
        "id,name,grade\n1,Ann,7\n2,BO,08\n4,Di,10\n5,Ed,11\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["diff", "a.csv", "b.csv", "--key", "id", "--pii", "name"];
        args.extend(extra);
        let output = crate::common::pathway_in(dir, &args);
        assert_exit(&output, 1);
        String::from_utf8(output.stdout).unwrap()
    };
    let cells = |text: &str| -> Vec<String> {
        let start = text.find("differing row(s)").expect("a sample");
        text[start..]
            .lines()
            .filter(|l| l.starts_with('│'))
            .map(|l| {
                l.split(['│', '┆'])
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect()
    };
    let stdout = run(&[]);
    assert!(stdout.contains("4 of 4 differing row(s)"), "{stdout}");
    assert_eq!(
        cells(&stdout),
        [
            "side | diff | id | name | grade",
            "legacy | changed | 1 | *** | 07 *",
            "beta | 1 | *** | 7 *",
            "legacy | changed | 2 | *** * | 08",
            "beta | 2 | *** * | 08",
            "legacy | extra_in_beta | 4 | — | —",
            "beta | 4 | *** | 10",
            "legacy | missing_in_beta | 3 | *** | 09",
            "beta | 3 | — | —",
        ]
    );
    assert!(!stdout.contains("Bo") && !stdout.contains("BO"), "{stdout}");
    let stdout = run(&["--sample", "2"]);
    assert!(stdout.contains("2 of 4 differing row(s)"), "{stdout}");
    assert!(!run(&["--sample", "0"]).contains("differing row(s)"));
    // Bo and BO are equal ignoring case: that pair is no difference, and is not shown, nor is
    // `name`, which then differs nowhere.
    let stdout = run(&["--ignore-case"]);
    assert!(stdout.contains("3 of 3 differing row(s)"), "{stdout}");
    assert_eq!(
        cells(&stdout),
        [
            "side | diff | id | grade",
            "legacy | changed | 1 | 07 *",
            "beta | 1 | 7 *",
            "legacy | extra_in_beta | 4 | —",
            "beta | 4 | 10",
            "legacy | missing_in_beta | 3 | 09",
            "beta | 3 | —",
        ]
    );
    assert!(!run(&["--format", "csv"]).contains("differing row(s)"));
}

//! `pathway run`: exact figures for every district of the bundled fixtures, files and exit codes.

use std::fs;

use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};

use crate::common::{
    assert_exit, copy_tree, header_line, pathway_with_env, read_csv, root, run_audit, run_example,
};

/// (table, district, status, legacy, beta, matched, changed, missing, extra, legacy dups, beta dups, changed columns)
type Expected = (
    &'static str,
    &'static str,
    &'static str,
    [u64; 8],
    &'static str,
);

const EXPECTED: &[Expected] = &[
    (
        "enrollments",
        "101",
        "FULL MATCH",
        [6, 6, 6, 0, 0, 0, 0, 0],
        "",
    ),
    (
        "enrollments",
        "102",
        "FULL MATCH",
        [5, 5, 5, 0, 0, 0, 0, 0],
        "",
    ),
    (
        "enrollments",
        "103",
        "MISMATCH",
        [4, 5, 4, 0, 0, 1, 0, 0],
        "",
    ),
    (
        "enrollments",
        "104",
        "FULL MATCH",
        [3, 3, 3, 0, 0, 0, 0, 0],
        "",
    ),
    (
        "enrollments",
        "255901",
        "FULL MATCH",
        [20, 20, 20, 0, 0, 0, 0, 0],
        "",
    ),
    (
        "students",
        "101",
        "MISMATCH",
        [10, 10, 6, 4, 0, 0, 0, 0],
        "grade_level",
    ),
    (
        "students",
        "102",
        "FULL MATCH",
        [5, 5, 5, 0, 0, 0, 0, 0],
        "",
    ),
    (
        "students",
        "103",
        "MISMATCH",
        [5, 6, 2, 2, 0, 0, 0, 1],
        "first_name",
    ),
    (
        "students",
        "104",
        "LEGACY ONLY",
        [4, 0, 0, 0, 4, 0, 0, 0],
        "",
    ),
    (
        "students",
        "255901",
        "FULL MATCH",
        [8, 8, 8, 0, 0, 0, 0, 0],
        "",
    ),
];

const COUNT_COLUMNS: [&str; 8] = [
    "legacy_rows",
    "beta_rows",
    "matched_rows",
    "changed_rows",
    "missing_in_beta",
    "extra_in_beta",
    "legacy_dup_keys",
    "beta_dup_keys",
];

#[test]
fn example_audit_gives_the_hand_checked_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    let output = run_example(&out, "2026-11-21");
    assert_exit(&output, 0);
    let run = out.join("example/2026-11-21");

    assert_eq!(
        header_line(&run.join("summary.csv")),
        "audit_date,table,district_id,status,legacy_rows,beta_rows,matched_rows,changed_rows,missing_in_beta,\
         extra_in_beta,legacy_dup_keys,beta_dup_keys,changed_columns,audit,error,accepted_cells,reused,row_diff_capped,paired_rows,match_pct"
    );
    let summary = read_csv(&run.join("summary.csv"));
    // Match scores by hand (docs/cli.md, "Match score"). enrollments compares 2 columns
    // (school_id, exit_date): 103 has 4 equal pairs and 1 extra row, 8 of 10 cells equal.
    // students compares 6: 101 has 10 pairs with 4 grade_level cells differing, 56 of 60; 103
    // has 4 pairs (2 first_name cells differ) and 3 rows under a key duplicated in beta, all
    // unequal: 42 cells, 18 + 2 unequal, 22 / 42 = 52.38…; 104 has no beta row.
    let scores: Vec<&str> = summary.iter().map(|r| r["match_pct"].as_str()).collect();
    assert_eq!(
        scores,
        [
            "100.0", "100.0", "80.0", "100.0", "100.0", "93.33", "100.0", "52.38", "0.0", "100.0"
        ]
    );
    assert_eq!(summary.len(), EXPECTED.len());
    for (row, (table, district, status, counts, changed)) in summary.iter().zip(EXPECTED) {
        let at = format!("{table}/{district}");
        assert_eq!(row["audit_date"], "2026-11-21", "{at}");
        assert_eq!(row["table"], *table, "{at}");
        assert_eq!(row["district_id"], *district, "{at}");
        assert_eq!(row["status"], *status, "{at}");
        let got: Vec<u64> = COUNT_COLUMNS
            .iter()
            .map(|c| row[*c].parse().unwrap())
            .collect();
        assert_eq!(got, counts, "{at}");
        assert_eq!(row["changed_columns"], *changed, "{at}");
        assert_eq!(row["audit"], "example", "{at}");
        assert_eq!(row["error"], "", "{at}");
    }

    assert_eq!(
        header_line(&run.join("column_diff.csv")),
        "audit_date,table,district_id,column,mismatches,legacy_example,beta_example,categories,expected_cells"
    );
    let columns: Vec<Vec<String>> = read_csv(&run.join("column_diff.csv"))
        .into_iter()
        .map(|r| {
            [
                "table",
                "district_id",
                "column",
                "mismatches",
                "legacy_example",
                "beta_example",
                "categories",
            ]
            .iter()
            .map(|c| r[*c].clone())
            .collect()
        })
        .collect();
    assert_eq!(
        columns,
        [
            [
                "students",
                "101",
                "grade_level",
                "4",
                "07",
                "7",
                "type_format=4"
            ],
            // first_name is personal data: masked.
            [
                "students",
                "103",
                "first_name",
                "2",
                "***",
                "***",
                "whitespace=2"
            ],
        ]
    );

    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("audit example · night 2026-11-21 · 5 districts · 2 tables"),
        "{stdout}"
    );
    assert!(stdout.contains("1 input rows rejected"), "{stdout}");
    // No personal value reaches the terminal.
    for secret in ["Amelia", "Chloe", "Walker", "Alvarez"] {
        assert!(!stdout.contains(secret), "{secret} leaked:\n{stdout}");
    }
}

#[test]
fn outputs_are_hive_partitioned_parquet_with_owner_only_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    let run = out.join("example/2026-11-21");
    let rows = |path: std::path::PathBuf| -> i64 {
        let reader = SerializedFileReader::new(fs::File::open(&path).unwrap()).unwrap();
        reader.metadata().file_metadata().num_rows()
    };
    assert_eq!(
        rows(run.join("legacy/students/district_id=101/part-0.parquet")),
        10
    );
    assert_eq!(
        rows(run.join("beta/students/district_id=103/part-0.parquet")),
        6
    );
    assert_eq!(
        rows(run.join("beta/students/district_id=104/part-0.parquet")),
        0
    );
    assert_eq!(
        rows(run.join("legacy/enrollments/district_id=255901/part-0.parquet")),
        20
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(run.join("legacy/students/district_id=101/part-0.parquet"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The row diff: 4 changed rows in 101, 2 changed + 3 duplicate-key rows in 103, 4 missing in 104.
    let row_diff_rows = |district: &str| -> i64 {
        let dir = run.join(format!("row_diff/students/district_id={district}"));
        fs::read_dir(dir)
            .unwrap()
            .map(|e| rows(e.unwrap().path()))
            .sum()
    };
    assert_eq!(row_diff_rows("101"), 4);
    assert_eq!(row_diff_rows("103"), 5);
    assert_eq!(row_diff_rows("104"), 4);
    assert!(!run.join("row_diff/students/district_id=102").exists());
    assert_eq!(
        fs::read_dir(run.join("row_diff/enrollments"))
            .unwrap()
            .count(),
        1,
        "only district 103 differs in enrollments"
    );
}

#[test]
fn summary_json_accounts_for_every_input_row() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    let text = fs::read_to_string(out.join("example/2026-11-21/summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["audit"], "example");
    assert_eq!(json["audit_date"], "2026-11-21");
    assert_eq!(json["pathway_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["districts"].as_array().unwrap().len(), 5);
    assert_eq!(json["rows_read"]["legacy"]["students"], 32);
    assert_eq!(json["rows_read"]["beta"]["students"], 29);
    assert_eq!(json["rows_read"]["legacy"]["enrollments"], 38);
    assert_eq!(json["rows_read"]["beta"]["enrollments"], 39);
    assert_eq!(json["status_counts"]["students"]["FULL MATCH"], 2);
    assert_eq!(json["status_counts"]["students"]["MISMATCH"], 2);
    assert_eq!(json["status_counts"]["students"]["LEGACY ONLY"], 1);
    assert_eq!(json["status_counts"]["enrollments"]["FULL MATCH"], 4);
    assert_eq!(json["summary"].as_array().unwrap().len(), 10);
    assert_eq!(json["column_diff"].as_array().unwrap().len(), 2);
    assert_eq!(json["rows_rejected"], 1);

    let files = json["input_files"].as_array().unwrap();
    assert_eq!(files.len(), 10);
    let mut read = 0;
    for f in files {
        let (r, l, j) = (
            f["rows_read"].as_u64().unwrap(),
            f["rows_loaded"].as_u64().unwrap(),
            f["rows_rejected"].as_u64().unwrap(),
        );
        assert_eq!(r, l + j, "{f}");
        read += r;
    }
    assert_eq!(read, 35 + 39);
    let maple = files
        .iter()
        .find(|f| f["file"] == "101/students.csv")
        .unwrap();
    assert_eq!(
        (maple["rows_read"].as_u64(), maple["rows_rejected"].as_u64()),
        (Some(12), Some(1))
    );
    assert_eq!(maple["encoding"], "UTF-8");
    let cedar = files
        .iter()
        .find(|f| f["file"] == "102/students.txt")
        .unwrap();
    assert_eq!(
        (cedar["encoding"].as_str(), cedar["delimiter"].as_str()),
        (Some("windows-1252"), Some("|"))
    );
    // No personal value in the JSON either.
    for secret in ["Amelia", "Sofia", "Jones", "2012-07-07"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

#[test]
fn rejected_rows_are_queryable_with_file_line_and_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_example(&out, "2026-11-21"), 0);
    let path = out.join("example/2026-11-21/validation_errors.parquet");
    let reader =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            fs::File::open(path).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    // Nine fields for eight columns: the values' positions are lost, and the input has
    // personal columns, so the record is masked whole.
    let expected = "\
+------------+-------------+--------------+------------------+------+--------+----------------------------+----------+
| audit_date | district_id | input        | file             | line | column | reason                     | raw_line |
+------------+-------------+--------------+------------------+------+--------+----------------------------+----------+
| 2026-11-21 | 101         | students_raw | 101/students.csv | 12   |        | expected 8 fields, found 9 | ***      |
+------------+-------------+--------------+------------------+------+--------+----------------------------+----------+";
    assert_eq!(text, expected);
}

#[test]
fn a_broken_district_is_error_and_the_others_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    let students = "StudentID,SchoolID,LastName,FirstName,BirthDate,Grade,Gender,Status\n\
                    5001,0501,Ng,Al,2011-01-01,08,M,Active\n";
    // District 105 sends students but no enrollment file; 106 sends an enrollment date that
    // neither side can read.
    for district in ["105", "106"] {
        fs::create_dir_all(input.join(district)).unwrap();
        fs::write(input.join(district).join("students.csv"), students).unwrap();
    }
    fs::write(
        input.join("106/enrollments.csv"),
        "StudentID,SchoolID,SectionID,EntryDate,ExitDate\n5001,0501,MATH8-01,someday,\n",
    )
    .unwrap();
    let out = tmp.path().join("runs");
    let output = run_audit("audits/example", &input, &out, "2026-11-21");
    assert_exit(&output, 3);
    let summary = read_csv(&out.join("example/2026-11-21/summary.csv"));
    assert_eq!(summary.len(), 14);
    let find = |table: &str, district: &str| {
        summary
            .iter()
            .find(|r| r["table"] == table && r["district_id"] == district)
            .unwrap()
    };
    assert_eq!(find("students", "105")["status"], "FULL MATCH");
    assert_eq!(find("students", "106")["status"], "FULL MATCH");
    // Without its file, 105's enrollments are not compared at all, and the message says why
    // in the user's terms rather than DataFusion's.
    let no_input = find("enrollments", "105");
    assert_eq!(no_input["status"], "NO INPUT");
    assert_eq!(
        no_input["error"],
        "no file matches `enrollments*.{csv,txt,tsv}` in district 105 (input `enrollments_raw`)"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "warning: audit `example`, table `enrollments`, district 105: NO INPUT: no file \
             matches `enrollments*.{csv,txt,tsv}` in district 105 (input `enrollments_raw`)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("not found"), "{stderr}");
    // Both sides of 106 fail, each with its own reason: the legacy job exits 1 saying why (the
    // date redacted), the beta SQL cannot cast the date.
    let error = find("enrollments", "106");
    assert_eq!(error["status"], "ERROR");
    assert!(
        error["error"].starts_with(
            "legacy command of table `enrollments` failed for district 106: `python3` exited \
             with status 1 after "
        ),
        "{}",
        error["error"]
    );
    assert!(
        error["error"].contains(
            "; last stderr line: ValueError: unparseable date '***' (full stderr: \
             `commands/legacy/enrollments/district_id=106/stderr.log` in the run folder)"
        ),
        "{}",
        error["error"]
    );
    assert!(
        error["error"].contains(
            "\nbeta transform `audits/example/beta/enrollments.sql` failed on the data of \
             district 106: "
        ),
        "{}",
        error["error"]
    );
    assert!(!error["error"].contains("someday"), "{}", error["error"]);
    // The other districts are unaffected.
    assert_eq!(find("enrollments", "103")["status"], "MISMATCH");
    assert_eq!(find("students", "101")["status"], "MISMATCH");
}

#[test]
fn could_not_run_exits_2_with_a_message_naming_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");

    let output = run_audit(
        "audits/example",
        &tmp.path().join("nowhere"),
        &out,
        "2026-11-21",
    );
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("audit `example`: cannot list the district folders of the input"),
        "{stderr}"
    );

    let audit = tmp.path().join("bad");
    copy_tree(&root().join("audits/example"), &audit);
    fs::write(
        audit.join("audit.toml"),
        "[inputs.students_raw]\nglob = \"x.csv\"\nkey = 1\n",
    )
    .unwrap();
    let output = run_audit(
        audit.to_str().unwrap(),
        &root().join("fixtures/districts"),
        &out,
        "2026-11-21",
    );
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("audit `bad`"), "{stderr}");
    assert!(stderr.contains("audit.toml"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");

    let output = run_audit(
        "audits/example",
        &root().join("fixtures/districts"),
        &out,
        "21/11/2026",
    );
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not a date in the form YYYY-MM-DD")
    );
    assert!(
        !out.join("example/history.csv").exists(),
        "nothing is recorded when nothing ran"
    );
}

#[test]
fn an_unreadable_district_file_makes_the_tables_reading_it_error() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    // Files no one can read: symbolic links to themselves. 104's students feed both tables
    // (the legacy enrollment job may read any file); 103's enrollments feed only enrollments.
    for file in ["104/students.csv", "103/enrollments.txt"] {
        fs::remove_file(input.join(file)).unwrap();
        let name = file.split('/').next_back().unwrap();
        std::os::unix::fs::symlink(name, input.join(file)).unwrap();
    }
    let out = tmp.path().join("runs");
    let output = run_audit("audits/example", &input, &out, "2026-11-21");
    assert_exit(&output, 3);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "warning: audit `example`, table `students`, district 104: input `students_raw`: \
             cannot read"
        ),
        "{stderr}"
    );
    let summary = read_csv(&out.join("example/2026-11-21/summary.csv"));
    let statuses: Vec<(&str, &str, &str)> = summary
        .iter()
        .map(|r| {
            (
                r["table"].as_str(),
                r["district_id"].as_str(),
                r["status"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("enrollments", "101", "FULL MATCH"),
            ("enrollments", "102", "FULL MATCH"),
            ("enrollments", "103", "ERROR"),
            ("enrollments", "104", "ERROR"),
            ("enrollments", "255901", "FULL MATCH"),
            ("students", "101", "MISMATCH"),
            ("students", "102", "FULL MATCH"),
            ("students", "103", "MISMATCH"),
            ("students", "104", "ERROR"),
            ("students", "255901", "FULL MATCH"),
        ]
    );
    let error = |table: &str, district: &str| {
        summary
            .iter()
            .find(|r| r["table"] == table && r["district_id"] == district)
            .unwrap()["error"]
            .clone()
    };
    for (table, district, file) in [
        ("students", "104", "104/students.csv`"),
        ("enrollments", "104", "104/students.csv`"),
        ("enrollments", "103", "103/enrollments.txt`"),
    ] {
        let error = error(table, district);
        assert!(error.contains(file), "{error}");
        // Both sides failed for one reason: said once.
        assert_eq!(error.lines().count(), 1, "{error}");
    }
}

#[test]
fn districts_run_in_parallel_report_as_when_run_one_by_one() {
    let tmp = tempfile::tempdir().unwrap();
    // Each district also sends a 24 MiB file no input reads (sparse: nothing is written),
    // which makes it weigh 96 MiB against the memory limit.
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    for district in fs::read_dir(&input).unwrap() {
        let padding = fs::File::create(district.unwrap().path().join("padding.bin")).unwrap();
        padding.set_len(24 << 20).unwrap();
    }
    let mut outputs = Vec::new();
    // The third run may take 4 districts at once, but two do not fit in its memory limit
    // together: they are read and transformed one at a time.
    for (jobs, memory_limit) in [("1", "1GiB"), ("4", "1GiB"), ("4", "128MiB")] {
        let out = tmp.path().join(format!("jobs-{jobs}-{memory_limit}"));
        let output = pathway_with_env(
            &[
                "run",
                "audits/example",
                "--input",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--date",
                "2026-11-21",
                "--jobs",
                jobs,
                "--memory-limit",
                memory_limit,
            ],
            &[("PATHWAY_LOG", "warn,pathway_night::pipeline=debug")],
        );
        assert_exit(&output, 0);
        let log = String::from_utf8_lossy(&output.stderr);
        if jobs == "1" || memory_limit == "128MiB" {
            assert!(
                log.contains("read and transformed 5 district(s)")
                    && log.contains("at most 1 at once"),
                "{log}"
            );
        }
        let night = out.join("example/2026-11-21");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(night.join("summary.json")).unwrap())
                .unwrap();
        outputs.push((
            std::fs::read_to_string(night.join("summary.csv")).unwrap(),
            std::fs::read_to_string(night.join("column_diff.csv")).unwrap(),
            json["input_files"].clone(),
            json["errors"].clone(),
        ));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    // Every input row of the night is accounted for either way: 74 rows read.
    let rows_read: u64 = outputs[0]
        .2
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rows_read"].as_u64().unwrap())
        .sum();
    assert_eq!(rows_read, 74);
}

#[test]
fn compressed_district_files_give_the_figures_of_the_plain_files() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    // Each district sends its students export compressed another way (102's is Windows-1252,
    // pipe-delimited: decompression comes before decoding).
    let packed = [
        ("101/students.csv", pathway_input::Compression::Gzip),
        ("102/students.txt", pathway_input::Compression::Zstd),
        ("103/students.txt", pathway_input::Compression::Bzip2),
        ("104/students.csv", pathway_input::Compression::Xz),
    ];
    for (file, compression) in packed {
        let plain = input.join(file);
        let bytes = fs::read(&plain).unwrap();
        fs::write(
            input.join(format!("{file}{}", compression.suffix())),
            compression.compress(&bytes).unwrap(),
        )
        .unwrap();
        fs::remove_file(plain).unwrap();
    }
    let out = tmp.path().join("runs");
    assert_exit(&run_audit("audits/example", &input, &out, "2026-11-21"), 0);
    let plain_out = tmp.path().join("plain");
    assert_exit(&run_example(&plain_out, "2026-11-21"), 0);
    for file in ["summary.csv", "column_diff.csv", "categories.csv"] {
        assert_eq!(
            fs::read_to_string(out.join("example/2026-11-21").join(file)).unwrap(),
            fs::read_to_string(plain_out.join("example/2026-11-21").join(file)).unwrap(),
            "{file}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(out.join("example/2026-11-21/summary.json")).unwrap(),
    )
    .unwrap();
    let files: Vec<(&str, u64, u64, &str)> = json["input_files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["input"] == "students_raw")
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["rows_read"].as_u64().unwrap(),
                f["rows_rejected"].as_u64().unwrap(),
                f["compression"].as_str().unwrap_or("none"),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("101/students.csv.gz", 12, 1, "gzip"),
            ("102/students.txt.zst", 5, 0, "zstd"),
            ("103/students.txt.bz2", 6, 0, "bzip2"),
            ("104/students.csv.xz", 4, 0, "xz"),
            ("255901/students.csv", 8, 0, "none"),
        ]
    );
}

#[test]
fn an_error_row_keeps_the_rows_the_other_side_produced() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    // District 107 sends two students, one in grade `7th`, which the beta SQL below cannot
    // cast: beta fails there, legacy loads both.
    fs::create_dir_all(input.join("107")).unwrap();
    fs::write(
        input.join("107/students.csv"),
        "StudentID,SchoolID,LastName,FirstName,BirthDate,Grade,Gender,Status\n\
         7001,0701,Ng,Al,2011-01-01,7th,M,Active\n\
         7002,0701,Ng,Bo,2011-01-01,08,F,Active\n",
    )
    .unwrap();
    fs::write(
        input.join("107/enrollments.csv"),
        "StudentID,SchoolID,SectionID,EntryDate,ExitDate\n7001,0701,MATH8-01,2026-09-01,\n",
    )
    .unwrap();
    let audit = tmp.path().join("example");
    copy_tree(&root().join("audits/example"), &audit);
    let sql = fs::read_to_string(audit.join("beta/students.sql")).unwrap();
    fs::write(
        audit.join("beta/students.sql"),
        sql.replacen(
            "ELSE trim(\"Grade\")",
            "ELSE CAST(CAST(trim(\"Grade\") AS INT) AS VARCHAR)",
            1,
        ),
    )
    .unwrap();
    let out = tmp.path().join("runs");
    let output = run_audit(audit.to_str().unwrap(), &input, &out, "2026-11-21");
    assert_exit(&output, 3);
    let summary = read_csv(&out.join("example/2026-11-21/summary.csv"));
    let row = summary
        .iter()
        .find(|r| r["table"] == "students" && r["district_id"] == "107")
        .unwrap();
    assert_eq!(
        (
            row["status"].as_str(),
            row["legacy_rows"].as_str(),
            row["beta_rows"].as_str()
        ),
        ("ERROR", "2", "0")
    );
    assert!(row["error"].starts_with("beta"), "{}", row["error"]);
}

/// A table that differed in a district on the last night gets no footprint tonight (it could
/// not decide the district, and costs a hash of every value); one that matched gets one; the
/// answers are the same.
#[test]
fn outputs_that_differed_last_night_are_written_without_a_footprint() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&crate::common::run_example(&out, "2026-11-20"), 0);
    let footprint = |date: &str, district: &str| {
        pathway_diff::Footprint::read(
            &crate::common::night(&out, "example", date)
                .join("legacy/students")
                .join(format!("district_id={district}"))
                .join("part-0.parquet"),
        )
    };
    // The first night has no last night: every output has its footprint.
    assert!(footprint("2026-11-20", "101").is_some());
    assert_eq!(footprint("2026-11-20", "102").map(|f| f.rows), Some(5));
    let root = crate::common::root();
    let output = crate::common::pathway(&[
        "run",
        "audits/example",
        "--input",
        root.join("fixtures/districts").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--date",
        "2026-11-21",
        "--no-reuse",
    ]);
    assert_exit(&output, 0);
    // students: 101 was MISMATCH, 102 FULL MATCH.
    assert_eq!(footprint("2026-11-21", "101"), None);
    assert_eq!(footprint("2026-11-21", "102").map(|f| f.rows), Some(5));
    let summary = |date: &str| -> Vec<Vec<String>> {
        crate::common::read_csv(&crate::common::night(&out, "example", date).join("summary.csv"))
            .into_iter()
            .map(|row| {
                [
                    "table",
                    "district_id",
                    "status",
                    "legacy_rows",
                    "beta_rows",
                    "matched_rows",
                ]
                .iter()
                .map(|k| row[*k].clone())
                .collect()
            })
            .collect()
    };
    assert_eq!(summary("2026-11-21"), summary("2026-11-20"));
}

//! What districts send that no table can use: files no input reads, inputs that sent no row.
//! Nothing arrives unseen, and a district with nothing to compare is never a FULL MATCH.

use std::fs;

use pathway_input::Compression;

use crate::common::{assert_exit, copy_tree, pathway, pathway_with_env, read_csv, root, run_audit};

/// The fixtures, with 101's students compressed and a stray `notes.txt` beside them, an empty
/// enrollment file in 102 and a document in 104 that no input reads.
fn night_with_stray_and_empty_files(input: &std::path::Path) {
    copy_tree(&root().join("fixtures/districts"), input);
    let students = input.join("101/students.csv");
    let bytes = fs::read(&students).unwrap();
    fs::write(
        input.join("101/students.csv.gz"),
        Compression::Gzip.compress(&bytes).unwrap(),
    )
    .unwrap();
    fs::remove_file(students).unwrap();
    fs::write(input.join("101/notes.txt"), "sent late, sorry").unwrap();
    fs::write(input.join("102/enrollments.txt"), "").unwrap();
    fs::write(input.join("104/README.docx"), b"PK\x03\x04").unwrap();
    // Hidden files (an editor's or a file manager's) are not district files.
    fs::write(input.join("104/.DS_Store"), b"\0\0\0\x01Bud1").unwrap();
}

fn statuses(summary: &[std::collections::BTreeMap<String, String>]) -> Vec<(&str, &str, &str)> {
    summary
        .iter()
        .map(|r| {
            (
                r["table"].as_str(),
                r["district_id"].as_str(),
                r["status"].as_str(),
            )
        })
        .collect()
}

#[test]
fn stray_files_are_listed_and_an_empty_input_is_no_input_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    let plain = root().join("fixtures/districts");
    assert_exit(&run_audit("audits/example", &plain, &out, "2026-11-20"), 0);
    let input = tmp.path().join("input");
    night_with_stray_and_empty_files(&input);
    let output = pathway(&[
        "run",
        "audits/example",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--date",
        "2026-11-21",
        "--fail-on",
        "regression,no-input",
    ]);
    // 102's enrollments went from FULL MATCH to NO INPUT: the input is missing, not the code
    // regressed, so only `no-input` fails the run.
    assert_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("failing the run (--fail-on): no-input\n"),
        "{stderr}"
    );
    for warning in [
        "warning: audit `example`, district 101: 1 file(s) no input reads: notes.txt",
        "warning: audit `example`, district 104: 1 file(s) no input reads: README.docx",
        "warning: audit `example`, table `enrollments`, district 102: NO INPUT: input \
         `enrollments_raw` has no data row in district 102: `102/enrollments.txt` is empty: no \
         header row",
    ] {
        assert!(stderr.contains(warning), "{warning}\n{stderr}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("┆ NO INPUT ┆"), "{stdout}");

    let night = out.join("example/2026-11-21");
    let summary = read_csv(&night.join("summary.csv"));
    assert_eq!(
        statuses(&summary),
        [
            ("enrollments", "101", "FULL MATCH"),
            ("enrollments", "102", "NO INPUT"),
            ("enrollments", "103", "MISMATCH"),
            ("enrollments", "104", "FULL MATCH"),
            ("enrollments", "255901", "FULL MATCH"),
            ("students", "101", "MISMATCH"),
            ("students", "102", "FULL MATCH"),
            ("students", "103", "MISMATCH"),
            ("students", "104", "LEGACY ONLY"),
            ("students", "255901", "FULL MATCH"),
        ]
    );
    let row = |table: &str, district: &str| {
        summary
            .iter()
            .find(|r| r["table"] == table && r["district_id"] == district)
            .unwrap()
    };
    // Compressed, 101's students come out as the plain file does: 10 rows a side, 6 matched,
    // 4 changed in grade_level.
    let students = row("students", "101");
    let counts: Vec<&str> = ["legacy_rows", "beta_rows", "matched_rows", "changed_rows"]
        .iter()
        .map(|c| students[*c].as_str())
        .collect();
    assert_eq!(counts, ["10", "10", "6", "4"]);
    assert_eq!(students["changed_columns"], "grade_level");
    let no_input = row("enrollments", "102");
    assert_eq!(
        no_input["error"],
        "input `enrollments_raw` has no data row in district 102: `102/enrollments.txt` is \
         empty: no header row"
    );
    assert_eq!(
        (
            no_input["legacy_rows"].as_str(),
            no_input["beta_rows"].as_str()
        ),
        ("0", "0")
    );
    // Nothing was transformed for it: no output, no row diff.
    assert!(!night.join("legacy/enrollments/district_id=102").exists());
    assert!(!night.join("beta/enrollments/district_id=102").exists());

    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(night.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        json["unread_files"],
        serde_json::json!({"101": ["notes.txt"], "104": ["README.docx"]})
    );
    assert_eq!(json["status_counts"]["enrollments"]["NO INPUT"], 1);
    assert_eq!(json["status_counts"]["students"]["NO INPUT"], 0);
    let empty = json["input_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "102/enrollments.txt")
        .unwrap();
    assert_eq!(empty["rows_read"], 0);
    assert_eq!(
        empty["notes"],
        serde_json::json!(["file is empty: no header row"])
    );
    let packed = json["input_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "101/students.csv.gz")
        .unwrap();
    assert_eq!(
        (packed["rows_read"].as_u64(), packed["compression"].as_str()),
        (Some(12), Some("gzip"))
    );

    // history.csv holds the NO INPUT row; `pathway history` counts it in its own column, and
    // leaves it out of the mean score: (100 + 80 + 100 + 100) / 4 for enrollments.
    let history = read_csv(&out.join("example/history.csv"));
    let counted: Vec<&str> = history
        .iter()
        .filter(|r| r["audit_date"] == "2026-11-21" && r["status"] == "NO INPUT")
        .map(|r| r["district_id"].as_str())
        .collect();
    assert_eq!(counted, ["102"]);
    let output = pathway(&["history", "--out", out.to_str().unwrap(), "--format", "csv"]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "audit_date,audit,table,districts,full_match,mismatch,legacy_only,beta_only,error,accepted,no_input,match_pct\n\
         2026-11-20,example,enrollments,5,4,1,0,0,0,0,0,96.0\n\
         2026-11-20,example,students,5,2,2,1,0,0,0,0,69.14\n\
         2026-11-21,example,enrollments,5,3,1,0,0,0,0,1,95.0\n\
         2026-11-21,example,students,5,2,2,1,0,0,0,0,69.14\n"
    );

    // `pathway compare` calls it what it is: neither fixed nor regressed.
    let output = pathway(&[
        "compare",
        out.join("example/2026-11-20").to_str().unwrap(),
        night.to_str().unwrap(),
        "--format",
        "csv",
        "--fail-on-regression",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "kind,table,district_id,column,category,change,before,after,delta\n\
         district,enrollments,102,,,no_input,FULL MATCH,NO INPUT,0\n"
    );

    // The dashboard lists the files nobody read and colours the NO INPUT cell.
    let html = tmp.path().join("report.html");
    assert_exit(
        &pathway(&[
            "report",
            "--out",
            out.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]),
        0,
    );
    let page = fs::read_to_string(html).unwrap();
    assert!(
        page.contains(
            "<h2>Files no input read</h2><div id=\"unread\"><table class=\"unread\"><thead><tr>\
             <th>district</th><th>files</th></tr></thead><tbody><tr><td>101</td><td>notes.txt</td>\
             </tr><tr><td>104</td><td>README.docx</td></tr></tbody></table></div>"
        ),
        "{page}"
    );
    assert!(page.contains(
        "<td class=\"status no-input\" data-status=\"NO INPUT\" data-table=\"enrollments\" \
         data-district=\"102\">"
    ));
    assert!(page.contains("<td>102</td><td>FULL MATCH</td><td>NO INPUT</td><td>no input</td>"));
}

#[test]
fn a_reused_district_keeps_its_unread_files_and_its_no_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs");
    let input = tmp.path().join("input");
    night_with_stray_and_empty_files(&input);
    for date in ["2026-11-21", "2026-11-22"] {
        // NO INPUT districts were not audited: exit 3, as for ERROR.
        assert_exit(&run_audit("audits/example", &input, &out, date), 3);
    }
    let night = out.join("example/2026-11-22");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(night.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["reused_districts"].as_array().unwrap().len(), 5);
    assert_eq!(
        json["unread_files"],
        serde_json::json!({"101": ["notes.txt"], "104": ["README.docx"]})
    );
    let summary = read_csv(&night.join("summary.csv"));
    let row = summary
        .iter()
        .find(|r| r["table"] == "enrollments" && r["district_id"] == "102")
        .unwrap();
    assert_eq!(
        (row["status"].as_str(), row["reused"].as_str()),
        ("NO INPUT", "true")
    );
    // Every row as the first night's, but for the date and the `reused` flag.
    let without_date_and_reuse = |path: &std::path::Path| {
        let mut rows = read_csv(path);
        for row in &mut rows {
            row.remove("audit_date");
            row.remove("reused");
        }
        rows
    };
    assert_eq!(
        without_date_and_reuse(&night.join("summary.csv")),
        without_date_and_reuse(&out.join("example/2026-11-21/summary.csv"))
    );
}

/// A small audit read by SQL only: `students` reads `students_raw`; no table reads `notes_raw`.
fn audit_with_an_input_no_table_reads(dir: &std::path::Path) {
    fs::create_dir_all(dir.join("legacy")).unwrap();
    fs::create_dir_all(dir.join("beta")).unwrap();
    fs::write(
        dir.join("audit.toml"),
        "name = \"notes\"\n\
         [inputs.students_raw]\nglob = \"students*.csv\"\n\
         [inputs.notes_raw]\nglob = \"notes*.csv\"\n\
         [tables.students]\nkey = [\"id\"]\n",
    )
    .unwrap();
    for side in ["legacy", "beta"] {
        fs::write(
            dir.join(side).join("students.sql"),
            "SELECT id, name FROM students_raw",
        )
        .unwrap();
    }
}

#[test]
fn a_failed_input_is_reported_even_when_no_table_reads_it_and_its_good_files_count() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    audit_with_an_input_no_table_reads(&audit);
    let input = tmp.path().join("input");
    for district in ["101", "102"] {
        fs::create_dir_all(input.join(district)).unwrap();
        fs::write(
            input.join(district).join("students.csv"),
            "id,name\n1,Ann\n2,Bo\n",
        )
        .unwrap();
    }
    // 101: notes, which no table reads, sent truncated beside a good file with a ragged row.
    let packed = Compression::Gzip
        .compress("id\n1\n".repeat(100).as_bytes())
        .unwrap();
    fs::write(input.join("101/notes.csv.gz"), &packed[..packed.len() / 2]).unwrap();
    fs::write(input.join("101/notes-2.csv"), "id\n1\n2,x\n").unwrap();
    // 102: a second students file named as gzip that is not.
    fs::write(input.join("102/students-2.csv.gz"), "id,name\n3,Cy\n").unwrap();
    let out = tmp.path().join("runs");
    let warning = "audit `notes`, district 101: input `notes_raw` could not be read (no table \
                   reads it): `101/notes.csv.gz` is corrupt or truncated gzip data: incomplete \
                   deflate stream";
    for (date, reused) in [("2026-11-21", 0), ("2026-11-22", 1)] {
        let output = run_audit(audit.to_str().unwrap(), &input, &out, date);
        assert_exit(&output, 3);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("warning: {warning}\n")),
            "{stderr}"
        );
        assert!(
            stderr.contains(
                "warning: audit `notes`, table `students`, district 102: input `students_raw`: \
                 `102/students-2.csv.gz` is named as gzip-compressed but does not hold gzip data\n"
            ),
            "{stderr}"
        );
        let night = out.join("notes").join(date);
        let summary = read_csv(&night.join("summary.csv"));
        assert_eq!(
            statuses(&summary),
            [
                ("students", "101", "FULL MATCH"),
                ("students", "102", "ERROR")
            ]
        );
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(night.join("summary.json")).unwrap()).unwrap();
        // Carried over, 101 says it again.
        assert_eq!(json["reused_districts"].as_array().unwrap().len(), reused);
        assert_eq!(json["warnings"], serde_json::json!([warning]));
        assert_eq!(
            json["errors"],
            serde_json::json!([{
                "table": "students",
                "district_id": "102",
                "stage": "input",
                "message": "input `students_raw`: `102/students-2.csv.gz` is named as \
                            gzip-compressed but does not hold gzip data"
            }])
        );
        // The files of the failed inputs that could be read are accounted for, rejected row
        // included.
        let files: Vec<(&str, u64, u64, u64)> = json["input_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["file"].as_str().unwrap(),
                    f["rows_read"].as_u64().unwrap(),
                    f["rows_loaded"].as_u64().unwrap(),
                    f["rows_rejected"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            files,
            [
                ("101/notes-2.csv", 2, 1, 1),
                ("101/students.csv", 2, 2, 0),
                ("102/students.csv", 2, 2, 0),
            ]
        );
        assert_eq!(json["rows_rejected"], 1);
    }
}

#[test]
fn a_compressed_file_past_the_decompression_limit_fails_its_input() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    // 101 sends a small decompression bomb as its students file: 10 MB of zeros, about 10 kB
    // of gzip, refused under a limit of 1,000,000 bytes.
    fs::remove_file(input.join("101/students.csv")).unwrap();
    fs::write(
        input.join("101/students.csv.gz"),
        Compression::Gzip.compress(&vec![0; 10_000_000]).unwrap(),
    )
    .unwrap();
    let out = tmp.path().join("runs");
    let run = |limit: &str| {
        pathway_with_env(
            &[
                "run",
                "audits/example",
                "--input",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--date",
                "2026-11-21",
            ],
            &[("PATHWAY_MAX_DECOMPRESSED_BYTES", limit)],
        )
    };
    let output = run("1000000");
    assert_exit(&output, 3);
    let message = "input `students_raw`: `101/students.csv.gz` is gzip data that decompresses to \
                   more than 1000000 bytes, the limit PATHWAY_MAX_DECOMPRESSED_BYTES sets: not read";
    let summary = read_csv(&out.join("example/2026-11-21/summary.csv"));
    // Both tables read students_raw (the legacy enrollment job is a program: every input).
    assert_eq!(
        statuses(&summary),
        [
            ("enrollments", "101", "ERROR"),
            ("enrollments", "102", "FULL MATCH"),
            ("enrollments", "103", "MISMATCH"),
            ("enrollments", "104", "FULL MATCH"),
            ("enrollments", "255901", "FULL MATCH"),
            ("students", "101", "ERROR"),
            ("students", "102", "FULL MATCH"),
            ("students", "103", "MISMATCH"),
            ("students", "104", "LEGACY ONLY"),
            ("students", "255901", "FULL MATCH"),
        ]
    );
    for row in summary.iter().filter(|r| r["district_id"] == "101") {
        assert_eq!(row["error"], message);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: audit `example`, table `students`, district 101: {message}\n"
        )),
        "{stderr}"
    );
    // A limit that is not a number stops the run before it starts.
    let output = run("lots");
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "PATHWAY_MAX_DECOMPRESSED_BYTES must be a whole number of bytes (the most a \
             compressed file may decompress to), not `lots`"
        ),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn json_lines_whose_objects_have_no_field_are_no_input_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit");
    fs::create_dir_all(audit.join("legacy")).unwrap();
    fs::create_dir_all(audit.join("beta")).unwrap();
    fs::write(
        audit.join("audit.toml"),
        "name = \"scores\"\n\
         [inputs.scores_raw]\nglob = \"scores*.jsonl\"\n\
         [tables.scores]\nkey = [\"id\"]\n",
    )
    .unwrap();
    for side in ["legacy", "beta"] {
        fs::write(
            audit.join(side).join("scores.sql"),
            "SELECT id, score FROM scores_raw",
        )
        .unwrap();
    }
    let input = tmp.path().join("input");
    for district in ["101", "102"] {
        fs::create_dir_all(input.join(district)).unwrap();
    }
    // 101's objects have no field at all; in 102 `{}` beside an object with fields is a row of
    // nulls (as before).
    fs::write(input.join("101/scores.jsonl"), "{}\n{}\n\n{ }\n").unwrap();
    fs::write(
        input.join("102/scores.jsonl"),
        "{\"id\": \"1\", \"score\": 90}\n{}\n",
    )
    .unwrap();
    let out = tmp.path().join("runs");
    let output = run_audit(audit.to_str().unwrap(), &input, &out, "2026-11-21");
    assert_exit(&output, 3);
    let why = "input `scores_raw` has no data row in district 101: `101/scores.jsonl` has no \
               field: its 3 JSON object(s) are all empty ({}), so there is no column to load \
               (rejected, see validation_errors)";
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: audit `scores`, table `scores`, district 101: NO INPUT: {why}\n"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("not found"), "{stderr}");
    let night = out.join("scores/2026-11-21");
    let summary = read_csv(&night.join("summary.csv"));
    assert_eq!(
        statuses(&summary),
        [
            ("scores", "101", "NO INPUT"),
            ("scores", "102", "FULL MATCH")
        ]
    );
    assert_eq!(summary[0]["error"], why);
    assert_eq!(
        (
            summary[1]["legacy_rows"].as_str(),
            summary[1]["beta_rows"].as_str()
        ),
        ("2", "2")
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(night.join("summary.json")).unwrap()).unwrap();
    let files: Vec<(&str, u64, u64, u64)> = json["input_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["rows_read"].as_u64().unwrap(),
                f["rows_loaded"].as_u64().unwrap(),
                f["rows_rejected"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [("101/scores.jsonl", 3, 0, 3), ("102/scores.jsonl", 2, 2, 0)]
    );
    assert_eq!(
        json["input_files"][0]["notes"],
        serde_json::json!([
            "file has no field: its 3 JSON object(s) are all empty ({}), so there is no column \
             to load (rejected, see validation_errors)"
        ])
    );
    // The three objects are in validation_errors, lines 1, 2 and 4.
    let output = pathway(&[
        "query",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT file, line, reason FROM validation_errors ORDER BY line",
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "file,line,reason\n\
         101/scores.jsonl,1,empty JSON object ({}): no line of the file has a field\n\
         101/scores.jsonl,2,empty JSON object ({}): no line of the file has a field\n\
         101/scores.jsonl,4,empty JSON object ({}): no line of the file has a field\n"
    );
}

#[test]
fn a_program_side_reads_the_district_folder_as_sent_compressed_files_included() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    copy_tree(&root().join("fixtures/districts"), &input);
    // 102 sends its enrollments compressed, and nothing else for them. The SQL side reads it
    // decompressed; the legacy job is given the folder as sent, finds no enrollments*.txt and
    // exits 1, as it would in production.
    let plain = input.join("102/enrollments.txt");
    let bytes = fs::read(&plain).unwrap();
    fs::write(
        input.join("102/enrollments.txt.gz"),
        Compression::Gzip.compress(&bytes).unwrap(),
    )
    .unwrap();
    fs::remove_file(plain).unwrap();
    let out = tmp.path().join("runs");
    assert_exit(&run_audit("audits/example", &input, &out, "2026-11-21"), 3);
    let night = out.join("example/2026-11-21");
    let summary = read_csv(&night.join("summary.csv"));
    assert_eq!(
        statuses(&summary),
        [
            ("enrollments", "101", "FULL MATCH"),
            ("enrollments", "102", "ERROR"),
            ("enrollments", "103", "MISMATCH"),
            ("enrollments", "104", "FULL MATCH"),
            ("enrollments", "255901", "FULL MATCH"),
            ("students", "101", "MISMATCH"),
            ("students", "102", "FULL MATCH"),
            ("students", "103", "MISMATCH"),
            ("students", "104", "LEGACY ONLY"),
            ("students", "255901", "FULL MATCH"),
        ]
    );
    // The message, with the seconds the job took (`after 0.0 s`) written as `after T s`.
    let error = &summary[1]["error"];
    let (before, rest) = error.split_once(" after ").unwrap();
    let (seconds, after) = rest.split_once(" s;").unwrap();
    assert!(seconds.parse::<f64>().is_ok(), "{error}");
    assert_eq!(
        format!("{before} after T s;{after}"),
        "legacy command of table `enrollments` failed for district 102: `python3` exited with \
         status 1 after T s; last stderr line: no enrollments file in district 102 (full stderr: \
         `commands/legacy/enrollments/district_id=102/stderr.log` in the run folder)"
    );
    assert_eq!(
        fs::read_to_string(night.join("commands/legacy/enrollments/district_id=102/stderr.log"))
            .unwrap(),
        "no enrollments file in district 102\n"
    );
    // The beta side read the compressed file: its rows are in the run.
    assert!(
        night
            .join("beta/enrollments/district_id=102/part-0.parquet")
            .exists()
    );
}

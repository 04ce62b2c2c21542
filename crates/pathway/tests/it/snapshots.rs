//! Snapshots of what users see: every command's `--help`, the terminal output of two nights of
//! the example audit, the files a team lead opens (`summary.csv`, `column_diff.csv`, `history.csv`,
//! summary.json) and the outline of the HTML report. A change to any of them shows up as a
//! diff of a `.snap` file under `tests/it/snapshots/`, reviewed like code (`cargo insta
//! review`, or `INSTA_UPDATE=always` and `git diff`). Timings, temporary paths, clock times and
//! the version are filtered out; every figure is kept.

use std::fs;
use std::path::Path;

use crate::common::{
    assert_exit, copy_tree, night, pathway, pathway_with_env, regress_district_102, root,
    run_audit, run_example,
};

/// Snapshot settings: snapshots named by the test, what changes from run to run filtered.
fn settings(tmp: Option<&Path>) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    if let Some(tmp) = tmp {
        settings.add_filter(&regex::escape(&tmp.display().to_string()), "[tmp]");
    }
    settings.add_filter(&regex::escape(&root().display().to_string()), "[repo]");
    settings.add_filter(&regex::escape(env!("CARGO_PKG_VERSION")), "[version]");
    settings.add_filter(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
        "[time]",
    );
    settings.add_filter(r#""seconds": [0-9.e-]+"#, r#""seconds": "[seconds]""#);
    settings.add_filter(r#""peak_rss_mib": \d+"#, r#""peak_rss_mib": "[MiB]""#);
    settings.add_filter(r"\b\d+\.\d+ s\b", "[seconds] s");
    settings
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The help a user reads first, for the binary and every command. With every feature built
/// (the README's test command): the database, s3 and cluster options are part of the help.
#[cfg(all(
    feature = "postgres",
    feature = "mysql",
    feature = "s3",
    feature = "ballista"
))]
#[test]
fn every_command_explains_itself() {
    let commands: [&[&str]; 19] = [
        &[],
        &["run"],
        &["check"],
        &["init"],
        &["keys"],
        &["history"],
        &["diff"],
        &["query"],
        &["show"],
        &["patterns"],
        &["profile"],
        &["explain"],
        &["compare"],
        &["noise"],
        &["schema"],
        &["report"],
        &["cluster"],
        &["cluster", "scheduler"],
        &["cluster", "executor"],
    ];
    for command in commands {
        let args: Vec<&str> = command.iter().copied().chain(["--help"]).collect();
        // Help is wrapped to the terminal's width: pipes get clap's default, pinned here.
        let output = pathway_with_env(&args, &[("COLUMNS", "100")]);
        assert_exit(&output, 0);
        let name = if command.is_empty() {
            "help".to_owned()
        } else {
            format!("help_{}", command.join("_"))
        };
        settings(None).bind(|| insta::assert_snapshot!(name, stdout(&output)));
    }
}

/// Two nights of the example audit: the bundled fixtures, then the same input with one first
/// name in district 102 sent with a trailing space. Each night's terminal output, CSV files
/// and summary.json, then the report's outline.
#[test]
fn two_example_nights_read_as_they_did() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let settings = settings(Some(tmp.path()));

    let first = run_example(&runs, "2026-11-20");
    assert_exit(&first, 0);
    let input = tmp.path().join("night2");
    copy_tree(&root().join("fixtures/districts"), &input);
    regress_district_102(&input);
    let second = run_audit("audits/example", &input, &runs, "2026-11-21");
    assert_exit(&second, 0);

    settings.bind(|| {
        insta::assert_snapshot!("night1_terminal", stdout(&first));
        insta::assert_snapshot!("night2_terminal", stdout(&second));
        let night2 = night(&runs, "example", "2026-11-21");
        for file in ["summary.csv", "column_diff.csv", "categories.csv"] {
            let text = fs::read_to_string(night2.join(file)).unwrap();
            insta::assert_snapshot!(format!("night2_{}", file.replace('.', "_")), text);
        }
        let history = fs::read_to_string(runs.join("example/history.csv")).unwrap();
        insta::assert_snapshot!("history_csv", history);
        let json = fs::read_to_string(night2.join("summary.json")).unwrap();
        insta::assert_snapshot!("night2_summary_json", json);
    });

    let html = tmp.path().join("report.html");
    let report = pathway(&[
        "report",
        "--out",
        runs.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_exit(&report, 0);
    let page = fs::read_to_string(&html).unwrap();
    settings.bind(|| insta::assert_snapshot!("report_outline", outline(&page)));
}

/// The structure of the report, one line per heading, table header row and status cell, in
/// page order: what a reader scans, without styles and scripts.
fn outline(page: &str) -> String {
    let mut lines = Vec::new();
    let mut rest = page;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let tag_end = rest.find('>').map_or(rest.len(), |i| i + 1);
        let tag = &rest[..tag_end];
        for (open, close, prefix) in [
            ("<h1", "</h1>", "# "),
            ("<h2", "</h2>", "## "),
            ("<h3", "</h3>", "### "),
            ("<thead", "</thead>", "| "),
        ] {
            if tag.starts_with(open) {
                let end = rest.find(close).map_or(rest.len(), |i| i + close.len());
                lines.push(format!("{prefix}{}", text_of(&rest[tag_end..end])));
            }
        }
        if tag.starts_with("<td class=\"status") {
            let end = rest.find("</td>").map_or(rest.len(), |i| i + 5);
            lines.push(format!("  cell {}", text_of(&rest[tag_end..end])));
        }
        rest = &rest[tag_end..];
    }
    lines.join("\n")
}

/// The text of an HTML fragment: tags become single spaces, entities stay as written.
fn text_of(fragment: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

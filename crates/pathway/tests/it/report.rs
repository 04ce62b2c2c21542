//! `pathway report`: the HTML dashboard, checked as text and in a real headless Chromium.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{
    assert_exit, copy_tree, pathway, regress_district_102, root, run_audit, run_example,
};

/// Night 1: the example. Night 2: district 102 regresses (a first name with a trailing space).
fn two_nights(tmp: &Path) -> PathBuf {
    let runs = tmp.join("runs");
    assert_exit(&run_example(&runs, "2026-11-20"), 0);
    let input = tmp.join("night2");
    copy_tree(&root().join("fixtures/districts"), &input);
    regress_district_102(&input);
    assert_exit(&run_audit("audits/example", &input, &runs, "2026-11-21"), 0);
    let html = tmp.join("report.html");
    assert_exit(
        &pathway(&[
            "report",
            "--out",
            runs.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]),
        0,
    );
    html
}

#[test]
fn the_page_holds_the_trend_grid_patterns_and_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let page = fs::read_to_string(two_nights(tmp.path())).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "nothing is fetched"
    );
    // Trend: FULL MATCH students 2 then 1 of 5; enrollments 4 and 4.
    for point in [
        "data-table=\"students\" data-date=\"2026-11-20\" data-full-match=\"2\" data-districts=\"5\"",
        "data-table=\"students\" data-date=\"2026-11-21\" data-full-match=\"1\" data-districts=\"5\"",
        "data-table=\"enrollments\" data-date=\"2026-11-21\" data-full-match=\"4\" data-districts=\"5\"",
    ] {
        assert!(page.contains(point), "{point}");
    }
    // The four districts that need attention in the grid, the lowest match score first:
    // 104 (students LEGACY ONLY, 0), 103 (52.38), 101 (93.33), 102 (96.66); 255901, FULL
    // MATCH in both tables, as one tile.
    assert_eq!(
        page.matches("<td class=\"status ").count(),
        8,
        "4 districts x 2 tables"
    );
    let order: Vec<usize> = ["104", "103", "101", "102"]
        .iter()
        .map(|d| page.find(&format!("<tr data-district=\"{d}\"")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(page.contains(
        "<tr data-district=\"104\" data-score=\"0\"><td>104</td><td class=\"match\">0.00%</td>"
    ));
    assert!(page.contains(
        "<span class=\"tile full-match\" data-status=\"FULL MATCH\" data-district=\"255901\" data-verdicts=\"2\" \
         data-full-match=\"2\" title=\"255901: FULL MATCH in every table\">255901</span>"
    ));
    // Details only where something differs: none for a FULL MATCH, and its cell links nowhere.
    assert!(!page.contains("id=\"d-enrollments-101\""));
    assert!(page.contains("data-district=\"101\" title=\"match 100.00%\">FULL MATCH</td>"));
    // The mean match score per table and night: students 69.14 then 68.47 (102 regressed).
    for point in [
        "data-table=\"students\" data-date=\"2026-11-20\" data-score=\"69.14\"",
        "data-table=\"students\" data-date=\"2026-11-21\" data-score=\"68.47\"",
        "data-table=\"enrollments\" data-date=\"2026-11-21\" data-score=\"96.00\"",
    ] {
        assert!(page.contains(point), "{point}");
    }
    // 5 pairs of 6 compared columns, one first_name differs: 29 of 30 cells, 96.66…%.
    assert!(page.contains(
        "<td class=\"status mismatch\" data-status=\"MISMATCH\" data-table=\"students\" data-district=\"102\" title=\"match 96.66%\"><a href=\"#d-students-102\">MISMATCH</a></td>"
    ));
    assert!(page.contains("<section id=\"d-students-102\" class=\"detail\">"));
    assert!(page.contains(
        "<td>students</td><td>102</td><td>FULL MATCH</td><td>MISMATCH</td><td>regressed</td>"
    ));
    assert!(page.contains(
        "<td>students</td><td>first_name</td><td>whitespace</td><td></td><td>2</td><td>3</td>"
    ));
    for secret in ["Amelia", "John", "Walker", "Smith"] {
        assert!(!page.contains(secret), "{secret} leaked");
    }
}

/// Debian's Chromium, if installed (scripts/install-test-deps.sh installs it; CI runs that).
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn headless(profile: &Path) -> Command {
    let mut command = Command::new(chromium().unwrap());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=2000",
        "--window-size=1200,1600",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// Whether Chromium is here to open the page; without it a test is skipped, except under CI.
fn chromium_is_here() -> bool {
    if chromium().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium: scripts/install-test-deps.sh installs it"
        );
        eprintln!("skipped: no Chromium here (scripts/install-test-deps.sh installs it)");
        return false;
    }
    true
}

/// The page at `url` as Chromium rendered it, and its `<body>` line (where the page's script
/// writes what it counted).
fn rendered(url: &str, work: &Path) -> (String, String) {
    let output = headless(&work.join("profile-dom"))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    let body = dom
        .lines()
        .find(|l| l.contains("<body"))
        .unwrap_or_else(|| panic!("no body in:\n{dom}"))
        .to_owned();
    (dom, body)
}

/// A screenshot of the page at `url`, written to `png`; Chromium's stderr on failure.
fn screenshot(url: &str, png: &Path, work: &Path) {
    let output = headless(&work.join("profile-shot"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_page_renders_in_headless_chromium_without_errors() {
    if !chromium_is_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let html = two_nights(tmp.path());
    let url = format!("file://{}", html.display());
    let (dom, body) = rendered(&url, tmp.path());
    // The page's own script counts what it rendered and records any error.
    assert!(body.contains("data-ready=\"1\""), "{body}");
    assert!(body.contains("data-errors=\"0\""), "{body}");
    assert!(body.contains("data-cells=\"10\""), "{body}");
    // FULL MATCH cells on night 2: enrollments 101, 102, 104, 255901 and students 255901.
    assert!(body.contains("data-full-match=\"5\""), "{body}");
    assert!(dom.contains("<svg id=\"trend\""));

    let shot = tmp.path().join("report.png");
    screenshot(&url, &shot, tmp.path());
    let png = fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot ({} bytes)",
        png.len()
    );
    // Keep it where a person can look at it after the test run.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    fs::copy(&shot, &keep).unwrap();
    eprintln!("screenshot: {}", keep.display());
}

/// A report of an earlier night plots no later night, though history.csv holds it.
#[test]
fn a_report_of_an_earlier_night_plots_no_later_one() {
    let tmp = tempfile::tempdir().unwrap();
    two_nights(tmp.path());
    let html = tmp.path().join("night1.html");
    let night1 = tmp.path().join("runs/example/2026-11-20");
    assert_exit(
        &pathway(&[
            "report",
            "--out",
            tmp.path().join("runs").to_str().unwrap(),
            "--run",
            night1.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]),
        0,
    );
    let page = fs::read_to_string(html).unwrap();
    assert!(page.contains("data-date=\"2026-11-20\""));
    assert!(!page.contains("data-date=\"2026-11-21\""), "{page}");
}

#[test]
fn since_the_previous_night_says_what_compare_says() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    assert_exit(&run_example(&runs, "2026-11-20"), 0);
    // Night 2: a sixth district, 106, sending what 255901 sends (FULL MATCH in both tables),
    // and 102 regressing.
    let input = tmp.path().join("night2");
    copy_tree(&root().join("fixtures/districts"), &input);
    copy_tree(&input.join("255901"), &input.join("106"));
    regress_district_102(&input);
    assert_exit(&run_audit("audits/example", &input, &runs, "2026-11-21"), 0);
    let html = tmp.path().join("report.html");
    assert_exit(
        &pathway(&[
            "report",
            "--out",
            runs.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]),
        0,
    );
    let page = fs::read_to_string(&html).unwrap();
    let since = &page[page.find("<h2>Since 2026-11-20</h2>").unwrap()..];
    let since = &since[..since.find("<h2>District details</h2>").unwrap()];
    // (absent) → FULL MATCH is a new district, not a fixed one; 102 regressed.
    assert_eq!(since.matches("<tr><td>").count(), 3, "{since}");
    for row in [
        "<td>enrollments</td><td>106</td><td>(absent)</td><td>FULL MATCH</td><td>new</td>",
        "<td>students</td><td>102</td><td>FULL MATCH</td><td>MISMATCH</td><td>regressed</td>",
        "<td>students</td><td>106</td><td>(absent)</td><td>FULL MATCH</td><td>new</td>",
    ] {
        assert!(since.contains(row), "{row}\n{since}");
    }
    let output = pathway(&[
        "compare",
        runs.join("example/2026-11-20").to_str().unwrap(),
        runs.join("example/2026-11-21").to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_exit(&output, 0);
    let districts: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("district,"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        districts,
        [
            "district,enrollments,106,,,new,,FULL MATCH,0",
            "district,students,102,,,regressed,FULL MATCH,MISMATCH,1",
            "district,students,106,,,new,,FULL MATCH,0",
        ]
    );
}

/// The verdict of district `i` (1 to 500) in `table`: mostly FULL MATCH, every other status
/// somewhere, and a score that falls with the district's number.
fn state_size_status(table: &str, i: u32) -> pathway_report::Status {
    use pathway_report::Status;
    match table {
        "students" if i.is_multiple_of(97) => Status::Error,
        "students" if i % 50 == 1 => Status::LegacyOnly,
        "students" if i.is_multiple_of(10) => Status::Mismatch,
        "students" if i % 120 == 7 => Status::Accepted,
        "enrollments" if i % 100 == 55 => Status::NoInput,
        "enrollments" if i % 25 == 3 => Status::BetaOnly,
        _ => Status::FullMatch,
    }
}

/// A night of 500 districts and its three-night history, rendered as `pathway report` does.
fn state_size_page() -> (String, usize, usize) {
    use pathway_report::{HistoryCount, HtmlReport, MatchScore, Status, SummaryRow, render_html};
    let mut summary = Vec::new();
    for table in ["enrollments", "students"] {
        for i in 1..=500_u32 {
            let status = state_size_status(table, i);
            let match_pct = match status {
                Status::FullMatch | Status::Accepted => Some(MatchScore::FULL),
                Status::Mismatch => Some(MatchScore::of(u64::from(1000 - i), 1000)),
                Status::LegacyOnly | Status::BetaOnly => Some(MatchScore::of(0, 1)),
                Status::Error | Status::NoInput => None,
            };
            summary.push(SummaryRow {
                audit_date: "2026-11-22".into(),
                table: table.into(),
                district_id: format!("{:06}", 100_000 + i),
                status,
                legacy_rows: 100,
                beta_rows: 100,
                match_pct,
                audit: "state".into(),
                ..SummaryRow::default()
            });
        }
    }
    let attention = (1..=500)
        .filter(|&i| {
            ["enrollments", "students"].iter().any(|t| {
                !matches!(
                    state_size_status(t, i),
                    Status::FullMatch | Status::Accepted
                )
            })
        })
        .count();
    let full = summary
        .iter()
        .filter(|r| r.status == Status::FullMatch)
        .count();
    let mut history = Vec::new();
    for (n, date) in ["2026-11-20", "2026-11-21", "2026-11-22"]
        .iter()
        .enumerate()
    {
        for table in ["enrollments", "students"] {
            history.push(HistoryCount {
                audit_date: (*date).into(),
                audit: "state".into(),
                table: table.into(),
                districts: 500,
                full_match: 300 + 50 * n as u64,
                match_pct: Some(MatchScore::of(90 + 4 * n as u64, 100)),
                ..HistoryCount::default()
            });
        }
    }
    let page = render_html(&HtmlReport {
        audit: "state".into(),
        audit_date: "2026-11-22".into(),
        summary,
        history,
        ..HtmlReport::default()
    });
    (page, attention, full)
}

/// At state size the grid holds the districts that need attention and one tile for each of
/// the others: 500 districts fit in a few screen heights, not a column 500 rows tall.
#[test]
fn the_page_reads_at_500_districts_in_headless_chromium() {
    let (page, attention, full) = state_size_page();
    // Students: 5 ERROR (97, 194, …), 10 LEGACY ONLY (1, 51, …), 50 MISMATCH (10, 20, …), 5
    // ACCEPTED (7, 127, …): 430 FULL MATCH. Enrollments: 5 NO INPUT (55, 155, …), 20 BETA ONLY
    // (3, 28, …): 475 FULL MATCH. No district is in both tables' lists: 65 + 25 need attention.
    assert_eq!((attention, full), (90, 905));
    assert_eq!(page.matches("<span class=\"tile ").count(), 500 - attention);
    if !chromium_is_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let html = tmp.path().join("state.html");
    fs::write(&html, &page).unwrap();
    let url = format!("file://{}", html.display());
    let (_, body) = rendered(&url, tmp.path());
    assert!(body.contains("data-errors=\"0\""), "{body}");
    assert!(body.contains("data-cells=\"1000\""), "{body}");
    assert!(
        body.contains(&format!("data-full-match=\"{full}\"")),
        "{body}"
    );
    assert!(
        body.contains(&format!("data-grid-rows=\"{attention}\"")),
        "{body}"
    );
    let tiles: u32 = body
        .split("data-tiles-height=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(tiles > 0 && tiles < 400, "410 tiles {tiles} px high");

    let shot = tmp.path().join("state.png");
    screenshot(&url, &shot, tmp.path());
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-500.png");
    fs::copy(&shot, &keep).unwrap();
    eprintln!("screenshot: {}", keep.display());
}

//! The team's HTML dashboard: one self-contained file (inline CSS, SVG and a little JS, no
//! network fetches) that a lead can open or attach.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::changes::DistrictChangeRow;
use crate::history::HistoryCount;
use crate::json::KeyWarning;
use crate::rows::SummaryRow;
use pathway_diff::{MatchScore, Status};

/// A table of text cells (patterns, example rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextTable {
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

/// Everything the page shows; personal data must already be masked.
#[derive(Debug, Clone, Default)]
pub struct HtmlReport {
    /// Audit name.
    pub audit: String,
    /// The night shown.
    pub audit_date: String,
    /// That night's summary rows.
    pub summary: Vec<SummaryRow>,
    /// FULL MATCH counts per night and table (from history.csv), oldest first.
    pub history: Vec<HistoryCount>,
    /// Top discrepancy patterns.
    pub patterns: TextTable,
    /// The districts whose verdict changed since the previous night of the same audit, as
    /// [`crate::district_changes`] names them (`pathway compare`'s words).
    pub changes: Vec<DistrictChangeRow>,
    /// The previous night of the same audit, when there is one.
    pub previous_date: Option<String>,
    /// A few differing rows per (table, district), masked.
    pub examples: BTreeMap<(String, String), TextTable>,
    /// Per district, the files of its folder no input read.
    pub unread_files: BTreeMap<String, Vec<String>>,
    /// Tables whose key has nulls or duplicates in a district.
    pub key_warnings: Vec<KeyWarning>,
    /// Root-cause hints of every table and district (`pathway explain`).
    pub hints: Vec<pathway_profile::Hint>,
    /// The night's column profiles (`pathway profile`).
    pub profile: Vec<pathway_profile::ProfileRow>,
}

/// Profile lines shown per district: those that moved most.
const PROFILE_LINES: usize = 5;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn status_class(status: &str) -> String {
    status.to_lowercase().replace(' ', "-")
}

fn anchor(table: &str, district: &str) -> String {
    let safe = |s: &str| {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
    };
    format!("d-{}-{}", safe(table), safe(district))
}

fn text_table(out: &mut String, table: &TextTable, class: &str) {
    let _ = write!(out, "<table class=\"{class}\"><thead><tr>");
    for h in &table.header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", esc(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// Both charts' width, in pixels.
const WIDTH: f64 = 640.0;
/// Both charts' height.
const HEIGHT: f64 = 220.0;
/// The padding around both charts' plots.
const PAD: f64 = 36.0;

/// The nights along both charts' x axis, oldest first.
struct Nights<'a> {
    dates: Vec<&'a str>,
}

impl<'a> Nights<'a> {
    fn of(history: &'a [HistoryCount]) -> Nights<'a> {
        let mut dates: Vec<&str> = history.iter().map(|h| h.audit_date.as_str()).collect();
        dates.sort_unstable();
        dates.dedup();
        Nights { dates }
    }

    /// The x of the `i`-th night; a single night in the middle.
    fn x(&self, i: usize) -> f64 {
        if self.dates.len() <= 1 {
            PAD + (WIDTH - 2.0 * PAD) / 2.0
        } else {
            PAD + (WIDTH - 2.0 * PAD) * i as f64 / (self.dates.len() - 1) as f64
        }
    }

    /// The nights' dates under the axis.
    fn labels(&self) -> String {
        let mut out = String::new();
        for (i, date) in self.dates.iter().enumerate() {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"middle\">{}</text>",
                self.x(i),
                HEIGHT - 10.0,
                esc(date)
            );
        }
        out
    }
}

/// The FULL MATCH trend: one line per table, plus the number of districts, as inline SVG.
fn trend_svg(history: &[HistoryCount]) -> String {
    let nights = Nights::of(history);
    let (dates, x) = (&nights.dates, |i| nights.x(i));
    let mut tables: BTreeMap<&str, BTreeMap<&str, (u64, u64)>> = BTreeMap::new();
    for h in history {
        tables
            .entry(&h.table)
            .or_default()
            .insert(&h.audit_date, (h.full_match, h.districts));
    }
    let max = history
        .iter()
        .map(|h| h.districts)
        .max()
        .unwrap_or(1)
        .max(1);
    let (width, height, pad) = (WIDTH, HEIGHT, PAD);
    #[allow(clippy::cast_precision_loss)]
    let y = |v: u64| height - pad - (height - 2.0 * pad) * v as f64 / max as f64;
    let colors = SERIES_COLORS;
    let mut svg = format!(
        "<svg id=\"trend\" role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         aria-label=\"FULL MATCH districts per night\">"
    );
    let _ = write!(
        svg,
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>",
        height - pad,
        width - pad,
        height - pad
    );
    let _ = write!(
        svg,
        "<text x=\"4\" y=\"{}\" class=\"label\">{max}</text>",
        y(max) + 4.0
    );
    let _ = write!(
        svg,
        "<text x=\"4\" y=\"{}\" class=\"label\">0</text>",
        y(0) + 4.0
    );
    svg.push_str(&nights.labels());
    // The number of districts, dashed: the line FULL MATCH should reach.
    let totals: Vec<String> = dates
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            history
                .iter()
                .filter(|h| h.audit_date == *d)
                .map(|h| h.districts)
                .max()
                .map(|t| format!("{:.1},{:.1}", x(i), y(t)))
        })
        .collect();
    let _ = write!(
        svg,
        "<polyline class=\"districts\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 3\" points=\"{}\"/>",
        totals.join(" ")
    );
    for (n, (table, points)) in tables.iter().enumerate() {
        let color = colors[n % colors.len()];
        let coords: Vec<String> = dates
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                points
                    .get(d)
                    .map(|(full, _)| format!("{:.1},{:.1}", x(i), y(*full)))
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline class=\"series\" data-table=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            esc(table),
            coords.join(" ")
        );
        for (i, d) in dates.iter().enumerate() {
            if let Some((full, total)) = points.get(d) {
                let _ = write!(
                    svg,
                    "<circle class=\"point\" data-table=\"{t}\" data-date=\"{d}\" data-full-match=\"{full}\" data-districts=\"{total}\" \
                     cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{color}\"><title>{t} {d}: {full} of {total} FULL MATCH</title></circle>",
                    x(i),
                    y(*full),
                    t = esc(table),
                    d = esc(d),
                );
                svg.push_str(&point_label(
                    x(i),
                    y(*full),
                    i + 1 == dates.len(),
                    color,
                    &full.to_string(),
                ));
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A point's value label: right of the point, or left of it at the last night, so that it
/// stays inside the chart.
fn point_label(x: f64, y: f64, last: bool, color: &str, text: &str) -> String {
    let (x, anchor) = if last {
        (x - 6.0, "end")
    } else {
        (x + 6.0, "start")
    };
    format!(
        "<text x=\"{x:.1}\" y=\"{:.1}\" class=\"label\" fill=\"{color}\" text-anchor=\"{anchor}\">{text}</text>",
        y - 6.0
    )
}

/// One colour per table, in table order, shared by both charts and their legend.
const SERIES_COLORS: [&str; 6] = [
    "#2f7d32", "#1565c0", "#8e24aa", "#ef6c00", "#00838f", "#6d4c41",
];

/// The tables' colours, as a line under the charts (never drawn over a series).
fn chart_legend(history: &[HistoryCount]) -> String {
    let mut tables: Vec<&str> = history.iter().map(|h| h.table.as_str()).collect();
    tables.sort_unstable();
    tables.dedup();
    let mut out = String::from("<p class=\"chart-legend\">");
    for (n, table) in tables.iter().enumerate() {
        let _ = write!(
            out,
            "<span class=\"swatch\" style=\"background:{}\"></span>{} ",
            SERIES_COLORS[n % SERIES_COLORS.len()],
            esc(table)
        );
    }
    out.push_str("<span class=\"swatch dashed\"></span>districts audited</p>");
    out
}

/// The mean match score per table and night (0 to 100 %), as inline SVG: convergence shows
/// here long before districts flip to FULL MATCH.
fn score_svg(history: &[HistoryCount]) -> String {
    let nights = Nights::of(history);
    let (dates, x) = (&nights.dates, |i| nights.x(i));
    let mut tables: BTreeMap<&str, BTreeMap<&str, MatchScore>> = BTreeMap::new();
    for h in history {
        let series = tables.entry(&h.table).or_default();
        if let Some(score) = h.match_pct {
            series.insert(&h.audit_date, score);
        }
    }
    let (width, height, pad) = (WIDTH, HEIGHT, PAD);
    // From the lowest score's ten (90 % for scores of 94 to 99 %) to 100 %: the nights' steps
    // stay visible where scores converge.
    let floor = tables
        .values()
        .flat_map(|points| points.values())
        .map(|s| (s.percent() / 10.0).floor() * 10.0)
        .fold(100.0_f64, f64::min)
        .min(90.0);
    let y = |score: MatchScore| {
        height - pad - (height - 2.0 * pad) * (score.percent() - floor) / (100.0 - floor)
    };
    let bottom = MatchScore::from_percent(floor).unwrap_or_default();
    let mut svg = format!(
        "<svg id=\"scores\" role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         aria-label=\"Mean match score per table and night\">"
    );
    for score in [MatchScore::FULL, bottom] {
        let _ = write!(
            svg,
            "<text x=\"2\" y=\"{:.1}\" class=\"label\">{}%</text>",
            y(score) + 4.0,
            score.hundredths() / 100
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{pad}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" class=\"axis\"/>",
        y(bottom),
        width - pad
    );
    svg.push_str(&nights.labels());
    for (n, (table, points)) in tables.iter().enumerate() {
        let color = SERIES_COLORS[n % SERIES_COLORS.len()];
        let coords: Vec<String> = dates
            .iter()
            .enumerate()
            .filter_map(|(i, d)| points.get(d).map(|s| format!("{:.1},{:.1}", x(i), y(*s))))
            .collect();
        let _ = write!(
            svg,
            "<polyline class=\"series\" data-table=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            esc(table),
            coords.join(" ")
        );
        for (i, d) in dates.iter().enumerate() {
            if let Some(score) = points.get(d) {
                let _ = write!(
                    svg,
                    "<circle class=\"score\" data-table=\"{t}\" data-date=\"{d}\" data-score=\"{score}\" \
                     cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{color}\"><title>{t} {d}: mean match {score}%</title></circle>",
                    x(i),
                    y(*score),
                    t = esc(table),
                    d = esc(d),
                );
                svg.push_str(&point_label(
                    x(i),
                    y(*score),
                    i + 1 == dates.len(),
                    color,
                    &format!("{score}%"),
                ));
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}\
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}\
.grid td.status a{color:inherit;text-decoration:none;display:block}th.sort{cursor:pointer;text-decoration:underline dotted}\
.full-match{background:#a5d6a7}.accepted{background:#90caf9}.mismatch{background:#ef9a9a}.legacy-only{background:#ffcc80}\
.beta-only{background:#fff59d}.error{background:#b0bec5}.no-input{background:#ce93d8}.hidden{display:none}\
.tiles{display:flex;flex-wrap:wrap;gap:2px}.tile{font-size:10px;line-height:14px;padding:0 3px;border:1px solid #8a8}\
.chart-legend{font-size:12px}.swatch{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:middle}\
.swatch.dashed{border-top:2px dashed #999;height:0}\
.axis{stroke:#999}.label,.legend{font-size:11px}.counts td:first-child{font-weight:600}.legend-button{cursor:pointer;margin-right:6px;border:1px solid #999;padding:2px 6px}";

const SCRIPT: &str = "window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message));document.body.dataset.errors=window.__errors.length;});\
(function(){var orig=console.error;console.error=function(){window.__errors.push(Array.prototype.join.call(arguments,' '));document.body.dataset.errors=window.__errors.length;orig.apply(console,arguments);};})();\
document.addEventListener('DOMContentLoaded',function(){\
document.querySelectorAll('.legend-button').forEach(function(b){b.addEventListener('click',function(){\
var s=b.dataset.status;var active=b.classList.toggle('off');document.querySelectorAll('.grid td.status,.tile').forEach(function(td){\
if(td.dataset.status===s){td.style.opacity=active?'0.25':'1';}});});});\
document.querySelectorAll('th.sort').forEach(function(th){th.addEventListener('click',function(){\
var body=document.querySelector('#grid tbody');var rows=Array.prototype.slice.call(body.rows);var key=th.dataset.sort;\
var dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir===1?'asc':'desc';\
rows.sort(function(a,b){var x=key==='score'?Number(a.dataset.score):a.dataset.district;var y=key==='score'?Number(b.dataset.score):b.dataset.district;\
return (x<y?-1:x>y?1:0)*dir;});rows.forEach(function(r){body.appendChild(r);});document.body.dataset.sorted=key;});});\
var cells=document.querySelectorAll('.grid td.status');var verdicts=cells.length;var full=0;\
cells.forEach(function(td){if(td.dataset.status==='FULL MATCH'){full++;}});\
document.querySelectorAll('.tile').forEach(function(t){verdicts+=Number(t.dataset.verdicts);full+=Number(t.dataset.fullMatch);});\
document.body.dataset.cells=verdicts;document.body.dataset.fullMatch=full;\
var tiles=document.getElementById('tiles');document.body.dataset.tilesHeight=tiles?tiles.offsetHeight:0;\
document.body.dataset.gridRows=document.querySelectorAll('#grid tbody tr').length;document.body.dataset.errors=window.__errors.length;document.body.dataset.ready='1';});";

/// Files that arrived and that no input read, per district: a file nobody reads is a table
/// nobody audits.
fn unread_section(out: &mut String, unread: &BTreeMap<String, Vec<String>>) {
    out.push_str("<h2>Files no input read</h2>");
    if unread.is_empty() {
        out.push_str("<p id=\"unread\">Every file of every district was read.</p>");
        return;
    }
    let table = TextTable {
        header: vec!["district".to_owned(), "files".to_owned()],
        rows: unread
            .iter()
            .map(|(district, files)| vec![district.clone(), files.join(", ")])
            .collect(),
    };
    out.push_str("<div id=\"unread\">");
    text_table(out, &table, "unread");
    out.push_str("</div>");
}

/// "1 legacy row with a null key part, 2 duplicated beta keys": what is wrong with a key.
fn key_problems(w: &KeyWarning) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (w.legacy_null_key_rows, "legacy row(s) with a null key part"),
        (w.beta_null_key_rows, "beta row(s) with a null key part"),
        (w.legacy_dup_keys, "duplicated legacy key(s)"),
        (w.beta_dup_keys, "duplicated beta key(s)"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

/// The tables whose key has nulls or duplicates, per district: read before the counts, since
/// such a key turns rows into differences (`pathway keys` finds a better one).
fn key_warning_section(out: &mut String, warnings: &[KeyWarning]) {
    if warnings.is_empty() {
        return;
    }
    out.push_str("<h2>Keys with nulls or duplicates</h2>");
    let table = TextTable {
        header: [
            "table",
            "key",
            "district",
            "null-key rows L/B",
            "duplicated keys L/B",
        ]
        .map(String::from)
        .to_vec(),
        rows: warnings
            .iter()
            .map(|w| {
                vec![
                    w.table.clone(),
                    w.key.clone(),
                    w.district_id.clone(),
                    format!("{}/{}", w.legacy_null_key_rows, w.beta_null_key_rows),
                    format!("{}/{}", w.legacy_dup_keys, w.beta_dup_keys),
                ]
            })
            .collect(),
    };
    text_table(out, &table, "key-warnings");
    out.push_str("<p>Every row under such a key is a difference; <code>pathway keys</code> lists the keys the data has.</p>");
}

/// The districts whose row diff was capped, per table: their counts are exact, their rows
/// a sample.
fn capped_section(out: &mut String, summary: &[SummaryRow]) {
    let capped: Vec<&SummaryRow> = summary.iter().filter(|r| r.row_diff_capped).collect();
    if capped.is_empty() {
        return;
    }
    out.push_str("<h2>Row diffs capped</h2>");
    let table = TextTable {
        header: ["table", "district", "status", "differing rows"]
            .map(String::from)
            .to_vec(),
        rows: capped
            .iter()
            .map(|r| {
                vec![
                    r.table.clone(),
                    r.district_id.clone(),
                    r.status.as_str().to_owned(),
                    (r.changed_rows + r.missing_in_beta + r.extra_in_beta).to_string(),
                ]
            })
            .collect(),
    };
    text_table(out, &table, "capped");
    out.push_str("<p>Their row diffs keep the rows of the first keys only (<code>max_row_diff</code>); every count is exact.</p>");
}

/// The districts with rows paired without a key, per table: how many, and what the pairs
/// turned into.
fn paired_section(out: &mut String, summary: &[SummaryRow]) {
    let paired: Vec<&SummaryRow> = summary.iter().filter(|r| r.paired_rows > 0).collect();
    if paired.is_empty() {
        return;
    }
    out.push_str("<h2>Rows paired without a key</h2>");
    let table = TextTable {
        header: [
            "table",
            "district",
            "status",
            "paired rows",
            "changed",
            "missing",
            "extra",
        ]
        .map(String::from)
        .to_vec(),
        rows: paired
            .iter()
            .map(|r| {
                vec![
                    r.table.clone(),
                    r.district_id.clone(),
                    r.status.as_str().to_owned(),
                    r.paired_rows.to_string(),
                    r.changed_rows.to_string(),
                    r.missing_in_beta.to_string(),
                    r.extra_in_beta.to_string(),
                ]
            })
            .collect(),
    };
    text_table(out, &table, "paired");
    out.push_str("<p>Rows left on one side by the keyed diff, paired with the row differing in the fewest columns (<code>pair_unmatched</code>): each pair counts as matched or changed instead of missing and extra.</p>");
}

/// Render the page.
#[must_use]
pub fn render_html(report: &HtmlReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Beta Pathway · {} · {}</title>\
         <style>{STYLE}</style><script>{SCRIPT}</script></head><body>",
        esc(&report.audit),
        esc(&report.audit_date)
    );
    let _ = write!(
        out,
        "<h1>Beta Pathway · audit {} · night {}</h1>",
        esc(&report.audit),
        esc(&report.audit_date)
    );

    // Districts per status and table.
    let mut per_table: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut districts: Vec<&str> = Vec::new();
    for row in &report.summary {
        *per_table
            .entry(&row.table)
            .or_default()
            .entry(row.status.as_str())
            .or_default() += 1;
        if !districts.contains(&row.district_id.as_str()) {
            districts.push(&row.district_id);
        }
    }
    districts.sort_unstable();
    counts_section(&mut out, &per_table, &report.summary);

    // The nights up to the one shown: a report of an earlier night plots no later one.
    let history: Vec<HistoryCount> = report
        .history
        .iter()
        .filter(|h| h.audit_date <= report.audit_date)
        .cloned()
        .collect();
    out.push_str("<h2>FULL MATCH over time</h2>");
    out.push_str(&trend_svg(&history));
    out.push_str("<h2>Match score over time</h2>");
    out.push_str(&score_svg(&history));
    out.push_str(&chart_legend(&history));

    grid_section(&mut out, report, &per_table, &districts);

    unread_section(&mut out, &report.unread_files);
    key_warning_section(&mut out, &report.key_warnings);
    capped_section(&mut out, &report.summary);
    paired_section(&mut out, &report.summary);

    out.push_str("<h2>Top discrepancy patterns</h2>");
    if report.patterns.rows.is_empty() {
        out.push_str("<p>No changed cells.</p>");
    } else {
        text_table(&mut out, &report.patterns, "patterns");
    }

    since_section(&mut out, report);

    // Details where something differs; a FULL MATCH has nothing more to say.
    out.push_str("<h2>District details</h2>");
    let mut shown = 0;
    for row in report.summary.iter().filter(|r| has_details(r)) {
        district_detail(&mut out, report, row);
        shown += 1;
    }
    if shown == 0 {
        out.push_str("<p>Every district is a FULL MATCH in every table.</p>");
    }
    out.push_str("</body></html>\n");
    out
}

/// Every status, in the order of the page's columns and legend.
const STATUSES: [&str; 7] = [
    "FULL MATCH",
    "ACCEPTED",
    "MISMATCH",
    "LEGACY ONLY",
    "BETA ONLY",
    "ERROR",
    "NO INPUT",
];

/// Districts per table and status, and the mean match score of the table's districts.
fn counts_section(
    out: &mut String,
    per_table: &BTreeMap<&str, BTreeMap<&str, u64>>,
    summary: &[SummaryRow],
) {
    out.push_str(
        "<table class=\"counts\" id=\"counts\"><thead><tr><th>table</th><th>districts</th>",
    );
    for s in STATUSES {
        let _ = write!(out, "<th>{s}</th>");
    }
    out.push_str("<th>match</th></tr></thead><tbody>");
    for (table, counts) in per_table {
        let _ = write!(
            out,
            "<tr data-table=\"{}\"><td>{}</td><td>{}</td>",
            esc(table),
            esc(table),
            counts.values().sum::<u64>()
        );
        for s in STATUSES {
            let _ = write!(
                out,
                "<td data-status=\"{s}\">{}</td>",
                counts.get(s).copied().unwrap_or(0)
            );
        }
        let mean = MatchScore::mean(
            summary
                .iter()
                .filter(|r| r.table == *table)
                .filter_map(|r| r.match_pct),
        );
        let _ = write!(
            out,
            "<td class=\"match\">{}</td></tr>",
            mean.map(|m| format!("{m}%")).unwrap_or_default()
        );
    }
    out.push_str("</tbody></table>");
}

/// Whether a (table, district) has a details section: anything but a FULL MATCH.
fn has_details(row: &SummaryRow) -> bool {
    row.status != Status::FullMatch
}

/// A district in the grid: whether some table needs attention there (anything but FULL MATCH
/// and ACCEPTED), and its lowest match score (none when a table has none: ERROR, NO INPUT).
struct DistrictLine<'a> {
    district: &'a str,
    attention: bool,
    lowest: Option<MatchScore>,
}

/// The districts, those that need attention first, the lowest score first, then by id.
fn district_lines<'a>(summary: &'a [SummaryRow], districts: &[&'a str]) -> Vec<DistrictLine<'a>> {
    let mut lines: Vec<DistrictLine> = districts
        .iter()
        .map(|d| {
            let rows: Vec<&SummaryRow> = summary.iter().filter(|r| r.district_id == *d).collect();
            DistrictLine {
                district: d,
                attention: rows
                    .iter()
                    .any(|r| !matches!(r.status, Status::FullMatch | Status::Accepted)),
                lowest: rows.iter().map(|r| r.match_pct).min().flatten(),
            }
        })
        .collect();
    lines.sort_by(|a, b| {
        b.attention
            .cmp(&a.attention)
            .then(a.lowest.cmp(&b.lowest))
            .then(a.district.cmp(b.district))
    });
    lines
}

/// The districts that need attention as a grid of statuses (sortable by district and by
/// lowest match score), then every other district as one small tile: compact at 500.
fn grid_section(
    out: &mut String,
    report: &HtmlReport,
    per_table: &BTreeMap<&str, BTreeMap<&str, u64>>,
    districts: &[&str],
) {
    out.push_str("<h2>Districts</h2><p>");
    for s in STATUSES {
        let _ = write!(
            out,
            "<span class=\"legend-button {}\" data-status=\"{s}\">{s}</span>",
            status_class(s)
        );
    }
    let lines = district_lines(&report.summary, districts);
    let (attention, fine): (Vec<&DistrictLine>, Vec<&DistrictLine>) =
        lines.iter().partition(|l| l.attention);
    out.push_str(
        "</p><table class=\"grid\" id=\"grid\"><thead><tr><th class=\"sort\" data-sort=\"district\">district</th>\
         <th class=\"sort\" data-sort=\"score\">lowest match</th>",
    );
    for table in per_table.keys() {
        let _ = write!(out, "<th>{}</th>", esc(table));
    }
    out.push_str("</tr></thead><tbody>");
    for line in &attention {
        let district = line.district;
        let _ = write!(
            out,
            "<tr data-district=\"{d}\" data-score=\"{score}\"><td>{d}</td><td class=\"match\">{shown}</td>",
            d = esc(district),
            score = line.lowest.map_or(-1, |s| i32::from(s.hundredths())),
            shown = line.lowest.map(|s| format!("{s}%")).unwrap_or_default(),
        );
        for table in per_table.keys() {
            match report
                .summary
                .iter()
                .find(|r| r.table == *table && r.district_id == district)
            {
                Some(row) => {
                    let label = esc(row.status.as_str());
                    let inner = if has_details(row) {
                        format!("<a href=\"#{}\">{label}</a>", anchor(table, district))
                    } else {
                        label.clone()
                    };
                    let _ = write!(
                        out,
                        "<td class=\"status {cls}\" data-status=\"{label}\" data-table=\"{t}\" data-district=\"{d}\"{score}>{inner}</td>",
                        score = row
                            .match_pct
                            .map(|m| format!(" title=\"match {m}%\""))
                            .unwrap_or_default(),
                        cls = status_class(row.status.as_str()),
                        t = esc(table),
                        d = esc(district),
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    if attention.is_empty() {
        out.push_str("<p>No district needs attention.</p>");
    }
    let _ = write!(
        out,
        "<p>FULL MATCH or ACCEPTED in every table: {} district(s).</p><div class=\"tiles\" id=\"tiles\">",
        fine.len()
    );
    for line in fine {
        let rows: Vec<&SummaryRow> = report
            .summary
            .iter()
            .filter(|r| r.district_id == line.district)
            .collect();
        let full = rows
            .iter()
            .filter(|r| r.status == Status::FullMatch)
            .count();
        let (class, status) = if full == rows.len() {
            ("full-match", "FULL MATCH")
        } else {
            ("accepted", "ACCEPTED")
        };
        let _ = write!(
            out,
            "<span class=\"tile {class}\" data-status=\"{status}\" data-district=\"{d}\" data-verdicts=\"{}\" \
             data-full-match=\"{full}\" title=\"{d}: {status} in every table\">{d}</span>",
            rows.len(),
            d = esc(line.district),
        );
    }
    out.push_str("</div>");
}

/// What changed since the audit's previous night.
fn since_section(out: &mut String, report: &HtmlReport) {
    match &report.previous_date {
        Some(previous) => {
            let _ = write!(out, "<h2>Since {}</h2>", esc(previous));
            if report.changes.is_empty() {
                out.push_str("<p id=\"changes\">No district changed its verdict.</p>");
            } else {
                let table = TextTable {
                    header: ["table", "district", "before", "now", "change"]
                        .map(String::from)
                        .to_vec(),
                    rows: report
                        .changes
                        .iter()
                        .map(|c| {
                            vec![
                                c.table.clone(),
                                c.district_id.clone(),
                                c.before_status().to_owned(),
                                c.after_status().to_owned(),
                                c.change.label().to_owned(),
                            ]
                        })
                        .collect(),
                };
                text_table(out, &table, "changes");
            }
        }
        None => out.push_str(
            "<h2>Since the previous night</h2><p id=\"changes\">This is the first night.</p>",
        ),
    }
}

/// One (table, district)'s counts, notes, error and example rows.
fn district_detail(out: &mut String, report: &HtmlReport, row: &SummaryRow) {
    let _ = write!(
        out,
        "<section id=\"{}\" class=\"detail\"><h3>{} · district {} · <span class=\"{}\">{}</span></h3>",
        anchor(&row.table, &row.district_id),
        esc(&row.table),
        esc(&row.district_id),
        status_class(row.status.as_str()),
        esc(row.status.as_str())
    );
    let counts = TextTable {
        header: [
            "legacy",
            "beta",
            "matched",
            "changed",
            "missing in beta",
            "extra in beta",
            "dup keys L/B",
            "match",
            "changed columns",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![vec![
            row.legacy_rows.to_string(),
            row.beta_rows.to_string(),
            row.matched_rows.to_string(),
            row.changed_rows.to_string(),
            row.missing_in_beta.to_string(),
            row.extra_in_beta.to_string(),
            format!("{}/{}", row.legacy_dup_keys, row.beta_dup_keys),
            row.match_pct.map(|m| format!("{m}%")).unwrap_or_default(),
            row.changed_columns.replace(';', ", "),
        ]],
    };
    text_table(out, &counts, "detail-counts");
    if row.paired_rows > 0 {
        let _ = write!(
            out,
            "<p class=\"paired\">{} row(s) paired without a key: counted as matched or \
             changed instead of missing and extra.</p>",
            row.paired_rows
        );
    }
    if row.row_diff_capped {
        out.push_str(
            "<p class=\"capped\">The row diff keeps only the rows of the first keys (the \
             table's max_row_diff): the counts are exact, the examples and categories are \
             those of the rows kept.</p>",
        );
    }
    for w in report
        .key_warnings
        .iter()
        .filter(|w| w.table == row.table && w.district_id == row.district_id)
    {
        let _ = write!(
            out,
            "<p class=\"key-warning\">The key {} has {}: every row under such a key is a \
             difference.</p>",
            esc(&w.key),
            esc(&key_problems(w))
        );
    }
    if !row.error.is_empty() {
        let _ = write!(
            out,
            "<pre class=\"error-message\">{}</pre>",
            esc(&row.error)
        );
    }
    hints_and_profile(out, report, row);
    if let Some(examples) = report
        .examples
        .get(&(row.table.clone(), row.district_id.clone()))
    {
        text_table(out, examples, "examples");
    }
    out.push_str("</section>");
}

/// Beside a district's counts: where its differences concentrate (`pathway explain`) and the
/// profile measures that moved most (`pathway profile`), when any did.
fn hints_and_profile(out: &mut String, report: &HtmlReport, row: &SummaryRow) {
    let hints: Vec<Vec<String>> = report
        .hints
        .iter()
        .filter(|h| h.table == row.table && h.district_id == row.district_id)
        .map(|h| {
            vec![
                h.finding.clone(),
                h.column.clone(),
                h.affected_rows.to_string(),
                format!("{} = {}", h.hint_column, h.hint_value),
                format!("{:.1}%", h.share_of_affected * 100.0),
                format!("{:.1}%", h.share_of_district * 100.0),
                format!("{:.2}×", h.lift),
            ]
        })
        .collect();
    if !hints.is_empty() {
        let table = TextTable {
            header: [
                "finding",
                "column",
                "affected rows",
                "concentrated on",
                "of affected",
                "of district",
                "lift",
            ]
            .map(String::from)
            .to_vec(),
            rows: hints,
        };
        text_table(out, &table, "hints");
    }
    let moved: Vec<pathway_profile::ProfileRow> = pathway_profile::ranked(
        report
            .profile
            .iter()
            .filter(|p| p.table == row.table && p.district_id == row.district_id)
            .cloned()
            .collect(),
    )
    .into_iter()
    .filter(|p| pathway_profile::relative_delta(p) > 0.0)
    .take(PROFILE_LINES)
    .collect();
    if !moved.is_empty() {
        let table = TextTable {
            header: ["column", "measure", "legacy", "beta", "delta"]
                .map(String::from)
                .to_vec(),
            rows: moved
                .into_iter()
                .map(|p| {
                    vec![
                        p.column,
                        p.measure,
                        p.legacy.unwrap_or_default(),
                        p.beta.unwrap_or_default(),
                        p.delta.unwrap_or_default(),
                    ]
                })
                .collect(),
        };
        text_table(out, &table, "profile-deltas");
    }
}

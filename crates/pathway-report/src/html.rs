//! The team's HTML dashboard: one self-contained file (inline CSS, SVG and a little JS, no
//! network fetches) that a lead can open or attach.
//!
//! The page is written with maud's `html!` templates, which escape every value by default:
//! table names, district ids, error messages and example cells come from users' files, and
//! only the page's own constant CSS and JS go in unescaped. The two charts are hand-drawn
//! SVG (a few lines and points each): a charting crate would add more than it draws here.

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, PreEscaped, html};

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

/// A score as the page writes it: `93.33%`.
fn percent(score: MatchScore) -> String {
    format!("{score}%")
}

/// A coordinate to one decimal.
fn coord(value: f64) -> String {
    format!("{value:.1}")
}

fn text_table(table: &TextTable, class: &str) -> Markup {
    html! {
        table class=(class) {
            thead { tr { @for h in &table.header { th { (h) } } } }
            tbody {
                @for row in &table.rows {
                    tr { @for cell in row { td { (cell) } } }
                }
            }
        }
    }
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

    /// Whether the `i`-th night is the last one (its labels go left of the point).
    fn is_last(&self, i: usize) -> bool {
        i + 1 == self.dates.len()
    }

    /// The nights' dates under the axis.
    fn labels(&self) -> Markup {
        html! {
            @for (i, date) in self.dates.iter().enumerate() {
                text x=(self.x(i)) y=(HEIGHT - 10.0) class="label" text-anchor="middle" { (date) }
            }
        }
    }
}

/// An `<svg>` chart's opening attributes are the same for both charts but its id and label.
fn chart(id: &str, label: &str, content: &Markup) -> Markup {
    html! {
        svg id=(id) role="img" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) width=(WIDTH) height=(HEIGHT)
            aria-label=(label) { (content) }
    }
}

/// One table's line through its points.
fn series(table: &str, color: &str, coords: &[String]) -> Markup {
    html! {
        polyline class="series" data-table=(table) fill="none" stroke=(color) stroke-width="2"
            points=(coords.join(" ")) {}
    }
}

/// The FULL MATCH trend: one line per table, plus the number of districts, as inline SVG.
fn trend_svg(history: &[HistoryCount]) -> Markup {
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
    #[allow(clippy::cast_precision_loss)]
    let y = |v: u64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * v as f64 / max as f64;
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
    let content = html! {
        line x1=(PAD) y1=(HEIGHT - PAD) x2=(WIDTH - PAD) y2=(HEIGHT - PAD) class="axis" {}
        text x="4" y=(y(max) + 4.0) class="label" { (max) }
        text x="4" y=(y(0) + 4.0) class="label" { "0" }
        (nights.labels())
        polyline class="districts" fill="none" stroke="#999" stroke-dasharray="4 3"
            points=(totals.join(" ")) {}
        @for (n, (table, points)) in tables.iter().enumerate() {
            @let color = SERIES_COLORS[n % SERIES_COLORS.len()];
            @let coords: Vec<String> = dates
                .iter()
                .enumerate()
                .filter_map(|(i, d)| points.get(d).map(|(full, _)| format!("{:.1},{:.1}", x(i), y(*full))))
                .collect();
            (series(table, color, &coords))
            @for (i, d) in dates.iter().enumerate() {
                @if let Some((full, total)) = points.get(d) {
                    circle class="point" data-table=(table) data-date=(d) data-full-match=(full)
                        data-districts=(total) cx=(coord(x(i))) cy=(coord(y(*full))) r="4" fill=(color) {
                        title { (table) " " (d) ": " (full) " of " (total) " FULL MATCH" }
                    }
                    (point_label(x(i), y(*full), nights.is_last(i), color, &full.to_string()))
                }
            }
        }
    };
    chart("trend", "FULL MATCH districts per night", &content)
}

/// A point's value label: right of the point, or left of it at the last night, so that it
/// stays inside the chart.
fn point_label(x: f64, y: f64, last: bool, color: &str, text: &str) -> Markup {
    let (x, anchor) = if last {
        (x - 6.0, "end")
    } else {
        (x + 6.0, "start")
    };
    html! {
        text x=(coord(x)) y=(coord(y - 6.0)) class="label" fill=(color) text-anchor=(anchor) { (text) }
    }
}

/// One colour per table, in table order, shared by both charts and their legend.
const SERIES_COLORS: [&str; 6] = [
    "#2f7d32", "#1565c0", "#8e24aa", "#ef6c00", "#00838f", "#6d4c41",
];

/// The tables' colours, as a line under the charts (never drawn over a series).
fn chart_legend(history: &[HistoryCount]) -> Markup {
    let mut tables: Vec<&str> = history.iter().map(|h| h.table.as_str()).collect();
    tables.sort_unstable();
    tables.dedup();
    html! {
        p class="chart-legend" {
            @for (n, table) in tables.iter().enumerate() {
                span class="swatch" style=(format!("background:{}", SERIES_COLORS[n % SERIES_COLORS.len()])) {}
                (table) " "
            }
            span class="swatch dashed" {}
            "districts audited"
        }
    }
}

/// The mean match score per table and night (0 to 100 %), as inline SVG: convergence shows
/// here long before districts flip to FULL MATCH.
fn score_svg(history: &[HistoryCount]) -> Markup {
    let nights = Nights::of(history);
    let (dates, x) = (&nights.dates, |i| nights.x(i));
    let mut tables: BTreeMap<&str, BTreeMap<&str, MatchScore>> = BTreeMap::new();
    for h in history {
        let series = tables.entry(&h.table).or_default();
        if let Some(score) = h.match_pct {
            series.insert(&h.audit_date, score);
        }
    }
    // From the lowest score's ten (90 % for scores of 94 to 99 %) to 100 %: the nights' steps
    // stay visible where scores converge.
    let floor = tables
        .values()
        .flat_map(|points| points.values())
        .map(|s| (s.percent() / 10.0).floor() * 10.0)
        .fold(100.0_f64, f64::min)
        .min(90.0);
    let y = |score: MatchScore| {
        HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * (score.percent() - floor) / (100.0 - floor)
    };
    let bottom = MatchScore::from_percent(floor).unwrap_or_default();
    let content = html! {
        @for score in [MatchScore::FULL, bottom] {
            text x="2" y=(coord(y(score) + 4.0)) class="label" { (score.hundredths() / 100) "%" }
        }
        line x1=(PAD) y1=(coord(y(bottom))) x2=(WIDTH - PAD) y2=(coord(y(bottom))) class="axis" {}
        (nights.labels())
        @for (n, (table, points)) in tables.iter().enumerate() {
            @let color = SERIES_COLORS[n % SERIES_COLORS.len()];
            @let coords: Vec<String> = dates
                .iter()
                .enumerate()
                .filter_map(|(i, d)| points.get(d).map(|s| format!("{:.1},{:.1}", x(i), y(*s))))
                .collect();
            (series(table, color, &coords))
            @for (i, d) in dates.iter().enumerate() {
                @if let Some(score) = points.get(d) {
                    circle class="score" data-table=(table) data-date=(d) data-score=(score.to_string())
                        cx=(coord(x(i))) cy=(coord(y(*score))) r="4" fill=(color) {
                        title { (table) " " (d) ": mean match " (percent(*score)) }
                    }
                    (point_label(x(i), y(*score), nights.is_last(i), color, &percent(*score)))
                }
            }
        }
    };
    chart("scores", "Mean match score per table and night", &content)
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
fn unread_section(unread: &BTreeMap<String, Vec<String>>) -> Markup {
    let table = TextTable {
        header: vec!["district".to_owned(), "files".to_owned()],
        rows: unread
            .iter()
            .map(|(district, files)| vec![district.clone(), files.join(", ")])
            .collect(),
    };
    html! {
        h2 { "Files no input read" }
        @if unread.is_empty() {
            p id="unread" { "Every file of every district was read." }
        } @else {
            div id="unread" { (text_table(&table, "unread")) }
        }
    }
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
fn key_warning_section(warnings: &[KeyWarning]) -> Markup {
    if warnings.is_empty() {
        return html! {};
    }
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
    html! {
        h2 { "Keys with nulls or duplicates" }
        (text_table(&table, "key-warnings"))
        p { "Every row under such a key is a difference; " code { "pathway keys" } " lists the keys the data has." }
    }
}

/// The districts whose row diff was capped, per table: their counts are exact, their rows
/// a sample.
fn capped_section(summary: &[SummaryRow]) -> Markup {
    let capped: Vec<&SummaryRow> = summary.iter().filter(|r| r.row_diff_capped).collect();
    if capped.is_empty() {
        return html! {};
    }
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
    html! {
        h2 { "Row diffs capped" }
        (text_table(&table, "capped"))
        p { "Their row diffs keep the rows of the first keys only (" code { "max_row_diff" } "); every count is exact." }
    }
}

/// The districts with rows paired without a key, per table: how many, and what the pairs
/// turned into.
fn paired_section(summary: &[SummaryRow]) -> Markup {
    let paired: Vec<&SummaryRow> = summary.iter().filter(|r| r.paired_rows > 0).collect();
    if paired.is_empty() {
        return html! {};
    }
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
    html! {
        h2 { "Rows paired without a key" }
        (text_table(&table, "paired"))
        p {
            "Rows left on one side by the keyed diff, paired with the row differing in the fewest columns ("
            code { "pair_unmatched" }
            "): each pair counts as matched or changed instead of missing and extra."
        }
    }
}

/// Render the page.
#[must_use]
pub fn render_html(report: &HtmlReport) -> String {
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

    // The nights up to the one shown: a report of an earlier night plots no later one.
    let history: Vec<HistoryCount> = report
        .history
        .iter()
        .filter(|h| h.audit_date <= report.audit_date)
        .cloned()
        .collect();
    // Details where something differs; a FULL MATCH has nothing more to say.
    let detailed: Vec<&SummaryRow> = report.summary.iter().filter(|r| has_details(r)).collect();

    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Beta Pathway · " (report.audit) " · " (report.audit_date) }
                // The page's own constants: the only text not escaped.
                style { (PreEscaped(STYLE)) }
                script { (PreEscaped(SCRIPT)) }
            }
            body {
                h1 { "Beta Pathway · audit " (report.audit) " · night " (report.audit_date) }
                (counts_section(&per_table, &report.summary))
                h2 { "FULL MATCH over time" }
                (trend_svg(&history))
                h2 { "Match score over time" }
                (score_svg(&history))
                (chart_legend(&history))
                (grid_section(report, &per_table, &districts))
                (unread_section(&report.unread_files))
                (key_warning_section(&report.key_warnings))
                (capped_section(&report.summary))
                (paired_section(&report.summary))
                h2 { "Top discrepancy patterns" }
                @if report.patterns.rows.is_empty() {
                    p { "No changed cells." }
                } @else {
                    (text_table(&report.patterns, "patterns"))
                }
                (since_section(report))
                h2 { "District details" }
                @for row in &detailed {
                    (district_detail(report, row))
                }
                @if detailed.is_empty() {
                    p { "Every district is a FULL MATCH in every table." }
                }
            }
        }
    };
    let mut out = page.into_string();
    out.push('\n');
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
    per_table: &BTreeMap<&str, BTreeMap<&str, u64>>,
    summary: &[SummaryRow],
) -> Markup {
    let mean = |table: &str| {
        MatchScore::mean(
            summary
                .iter()
                .filter(|r| r.table == table)
                .filter_map(|r| r.match_pct),
        )
    };
    html! {
        table class="counts" id="counts" {
            thead {
                tr {
                    th { "table" }
                    th { "districts" }
                    @for s in STATUSES { th { (s) } }
                    th { "match" }
                }
            }
            tbody {
                @for (table, counts) in per_table {
                    tr data-table=(table) {
                        td { (table) }
                        td { (counts.values().sum::<u64>()) }
                        @for s in STATUSES {
                            td data-status=(s) { (counts.get(s).copied().unwrap_or(0)) }
                        }
                        td class="match" { (mean(table).map(percent).unwrap_or_default()) }
                    }
                }
            }
        }
    }
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
    report: &HtmlReport,
    per_table: &BTreeMap<&str, BTreeMap<&str, u64>>,
    districts: &[&str],
) -> Markup {
    let lines = district_lines(&report.summary, districts);
    let (attention, fine): (Vec<&DistrictLine>, Vec<&DistrictLine>) =
        lines.iter().partition(|l| l.attention);
    html! {
        h2 { "Districts" }
        p {
            @for s in STATUSES {
                span class=(format!("legend-button {}", status_class(s))) data-status=(s) { (s) }
            }
        }
        table class="grid" id="grid" {
            thead {
                tr {
                    th class="sort" data-sort="district" { "district" }
                    th class="sort" data-sort="score" { "lowest match" }
                    @for table in per_table.keys() { th { (table) } }
                }
            }
            tbody {
                @for line in &attention {
                    tr data-district=(line.district)
                        data-score=(line.lowest.map_or(-1, |s| i32::from(s.hundredths()))) {
                        td { (line.district) }
                        td class="match" { (line.lowest.map(percent).unwrap_or_default()) }
                        @for table in per_table.keys() {
                            (grid_cell(report, table, line.district))
                        }
                    }
                }
            }
        }
        @if attention.is_empty() {
            p { "No district needs attention." }
        }
        p { "FULL MATCH or ACCEPTED in every table: " (fine.len()) " district(s)." }
        div class="tiles" id="tiles" {
            @for line in fine { (tile(report, line.district)) }
        }
    }
}

/// A (table, district)'s status in the grid, linked to its details.
fn grid_cell(report: &HtmlReport, table: &str, district: &str) -> Markup {
    let Some(row) = report
        .summary
        .iter()
        .find(|r| r.table == table && r.district_id == district)
    else {
        return html! { td {} };
    };
    let label = row.status.as_str();
    html! {
        td class=(format!("status {}", status_class(label))) data-status=(label) data-table=(table)
            data-district=(district) title=[row.match_pct.map(|m| format!("match {m}%"))] {
            @if has_details(row) {
                a href=(format!("#{}", anchor(table, district))) { (label) }
            } @else {
                (label)
            }
        }
    }
}

/// A district that is FULL MATCH or ACCEPTED in every table, as one small tile.
fn tile(report: &HtmlReport, district: &str) -> Markup {
    let rows: Vec<&SummaryRow> = report
        .summary
        .iter()
        .filter(|r| r.district_id == district)
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
    html! {
        span class=(format!("tile {class}")) data-status=(status) data-district=(district)
            data-verdicts=(rows.len()) data-full-match=(full)
            title=(format!("{district}: {status} in every table")) { (district) }
    }
}

/// What changed since the audit's previous night.
fn since_section(report: &HtmlReport) -> Markup {
    let Some(previous) = &report.previous_date else {
        return html! {
            h2 { "Since the previous night" }
            p id="changes" { "This is the first night." }
        };
    };
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
    html! {
        h2 { "Since " (previous) }
        @if report.changes.is_empty() {
            p id="changes" { "No district changed its verdict." }
        } @else {
            (text_table(&table, "changes"))
        }
    }
}

/// One (table, district)'s counts, notes, error and example rows.
fn district_detail(report: &HtmlReport, row: &SummaryRow) -> Markup {
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
            row.match_pct.map(percent).unwrap_or_default(),
            row.changed_columns.replace(';', ", "),
        ]],
    };
    let status = row.status.as_str();
    let key_warnings = report
        .key_warnings
        .iter()
        .filter(|w| w.table == row.table && w.district_id == row.district_id);
    html! {
        section id=(anchor(&row.table, &row.district_id)) class="detail" {
            h3 {
                (row.table) " · district " (row.district_id) " · "
                span class=(status_class(status)) { (status) }
            }
            (text_table(&counts, "detail-counts"))
            @if row.paired_rows > 0 {
                p class="paired" {
                    (row.paired_rows) " row(s) paired without a key: counted as matched or \
                     changed instead of missing and extra."
                }
            }
            @if row.row_diff_capped {
                p class="capped" {
                    "The row diff keeps only the rows of the first keys (the table's \
                     max_row_diff): the counts are exact, the examples and categories are \
                     those of the rows kept."
                }
            }
            @for w in key_warnings {
                p class="key-warning" {
                    "The key " (w.key) " has " (key_problems(w))
                    ": every row under such a key is a difference."
                }
            }
            @if !row.error.is_empty() {
                pre class="error-message" { (row.error) }
            }
            (hints_and_profile(report, row))
            @if let Some(examples) = report.examples.get(&(row.table.clone(), row.district_id.clone())) {
                (text_table(examples, "examples"))
            }
        }
    }
}

/// Beside a district's counts: where its differences concentrate (`pathway explain`) and the
/// profile measures that moved most (`pathway profile`), when any did.
fn hints_and_profile(report: &HtmlReport, row: &SummaryRow) -> Markup {
    let hints = TextTable {
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
        rows: report
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
            .collect(),
    };
    let moved = TextTable {
        header: ["column", "measure", "legacy", "beta", "delta"]
            .map(String::from)
            .to_vec(),
        rows: pathway_profile::ranked(
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
    html! {
        @if !hints.rows.is_empty() { (text_table(&hints, "hints")) }
        @if !moved.rows.is_empty() { (text_table(&moved, "profile-deltas")) }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::changes::DistrictChange;
    use pathway_profile::{Hint, ProfileRow};

    /// What a district's files may hold, in every place the page shows users' text.
    pub(crate) const HOSTILE: &str = "<b onload=\"x\">Tom & Jerry's</b>";

    /// A night with every section of the page filled, and `HOSTILE` in every text a user's
    /// files or audit can put there.
    pub(crate) fn report_with_every_section() -> HtmlReport {
        let row =
            |table: &str, district: &str, status: Status, score: Option<MatchScore>| SummaryRow {
                audit_date: "2026-11-22".into(),
                table: table.into(),
                district_id: district.into(),
                status,
                legacy_rows: 10,
                beta_rows: 9,
                matched_rows: 6,
                changed_rows: 3,
                missing_in_beta: 1,
                match_pct: score,
                changed_columns: format!("last_name;{HOSTILE}"),
                ..SummaryRow::default()
            };
        let mut summary = vec![
            row(
                "students",
                "101",
                Status::Mismatch,
                Some(MatchScore::of(56, 60)),
            ),
            row("students", "102", Status::FullMatch, Some(MatchScore::FULL)),
            row("students", HOSTILE, Status::Error, None),
            row(
                HOSTILE,
                "101",
                Status::LegacyOnly,
                Some(MatchScore::of(0, 1)),
            ),
            row(HOSTILE, "102", Status::Accepted, Some(MatchScore::FULL)),
        ];
        summary[0].paired_rows = 2;
        summary[0].row_diff_capped = true;
        summary[2].error = format!("cannot read {HOSTILE}");
        let history = ["2026-11-21", "2026-11-22", "2026-11-23"]
            .iter()
            .enumerate()
            .flat_map(|(n, date)| {
                ["students", HOSTILE].map(|table| HistoryCount {
                    audit_date: (*date).into(),
                    table: table.into(),
                    districts: 3,
                    full_match: 1 + n as u64 % 2,
                    match_pct: Some(MatchScore::of(80 + 5 * n as u64, 100)),
                    ..HistoryCount::default()
                })
            })
            .collect();
        let cells = |n: usize| TextTable {
            header: vec!["column".into(), HOSTILE.into()],
            rows: vec![vec![HOSTILE.into(); 2]; n],
        };
        HtmlReport {
            audit: HOSTILE.into(),
            audit_date: "2026-11-22".into(),
            summary: summary.clone(),
            history,
            patterns: cells(2),
            changes: vec![DistrictChangeRow {
                table: "students".into(),
                district_id: HOSTILE.into(),
                change: DistrictChange::Regressed,
                before: Some(summary[1].clone()),
                after: Some(summary[2].clone()),
            }],
            previous_date: Some("2026-11-21".into()),
            examples: BTreeMap::from([(("students".into(), "101".into()), cells(1))]),
            unread_files: BTreeMap::from([(HOSTILE.into(), vec![HOSTILE.into()])]),
            key_warnings: vec![KeyWarning {
                table: "students".into(),
                key: HOSTILE.into(),
                district_id: "101".into(),
                legacy_dup_keys: 2,
                ..KeyWarning::default()
            }],
            hints: vec![Hint {
                table: "students".into(),
                district_id: "101".into(),
                finding: "changed".into(),
                column: "last_name".into(),
                affected_rows: 12,
                hint_column: "school".into(),
                hint_value: HOSTILE.into(),
                share_of_affected: 1.0,
                share_of_district: 0.5,
                lift: 2.0,
            }],
            profile: vec![ProfileRow {
                table: "students".into(),
                district_id: "101".into(),
                column: "school".into(),
                measure: "top".into(),
                legacy: Some(HOSTILE.into()),
                beta: Some("A=2".into()),
                delta: None,
            }],
        }
    }

    /// Every text from users' files is escaped: the hostile string never reaches the page as
    /// markup, and shows escaped in each of the places it was put.
    #[test]
    fn every_users_text_is_escaped() {
        let page = render_html(&report_with_every_section());
        assert!(!page.contains("<b "), "raw markup in the page");
        assert!(!page.contains("Jerry's</b>"));
        let escaped = "&lt;b onload=&quot;x&quot;&gt;Tom &amp; Jerry's&lt;/b&gt;";
        // Counted by hand: the title and heading (2); the counts row (2); each chart's series,
        // its two nights' points and their titles (5 + 5: the third night is after the one
        // shown); the legend (1); the grid's header, row, id cell and two status cells (5);
        // the unread district and file (2); the key warning (1); patterns (1 header + 4
        // cells); the change (1); district 101's details: changed columns, key warning, hint,
        // profile, examples' header and 2 cells (7); the ERROR district's heading, changed
        // columns and error (3); both details of the hostile table, heading and changed
        // columns (2 + 2).
        assert_eq!(page.matches(escaped).count(), 43, "{page}");
        for class in ["point", "score"] {
            assert_eq!(
                page.matches(&format!(
                    "<circle class=\"{class}\" data-table=\"{escaped}\""
                ))
                .count(),
                2
            );
        }
        assert!(page.contains(&format!(
            "<pre class=\"error-message\">cannot read {escaped}</pre>"
        )));
        assert!(page.contains(&format!("<td>school = {escaped}</td>")));
        // The page's own script is not escaped.
        assert!(page.contains("if(td.dataset.status===s){td.style.opacity=active?'0.25':'1';}"));
    }
}

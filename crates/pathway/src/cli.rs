//! Command-line arguments (clap derive). No I/O here: commands take these and do the work.

use pathway_night::NightDate;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Beta Pathway: run a legacy and a new ETL transform side by side on real district input,
/// diff their output per district, and track which districts are a FULL MATCH.
#[derive(Debug, Parser)]
#[command(name = "pathway", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log lines on stderr as text, or as JSON lines for log shippers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How logs are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Plain lines (a progress bar on a terminal).
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an audit on a night's district files: transform both sides, diff, report.
    Run(RunArgs),
    /// Check an audit without running it: plan every transform against one district's inputs
    /// and look up every column name it mentions.
    Check(CheckArgs),
    /// Create a commented audit folder to start from (it passes `pathway check`).
    Init(InitArgs),
    /// Check a key on two tables (nulls, duplicates per group) and find the candidate keys.
    Keys(Box<KeysArgs>),
    /// Show FULL MATCH counts per night and table from each audit's <out>/<audit>/history.csv.
    History(HistoryArgs),
    /// Diff any two tables (Parquet file, folder of Parquet, CSV, or a database table or query)
    /// without an audit.
    Diff(Box<DiffArgs>),
    /// Run SQL over a run's results (interactive when no SQL is given).
    Query(QueryArgs),
    /// Show one district's differing rows, legacy above beta, differing cells marked.
    Show(ShowArgs),
    /// Rank discrepancy patterns by how many districts they touch.
    Patterns(PatternsArgs),
    /// Show each column's profile on both sides (nulls, distinct values, min, max, sums, top
    /// values) and the delta, largest relative deltas first.
    Profile(ProfileArgs),
    /// Say where each district's differences concentrate: the values of other columns
    /// over-represented among the rows changed in a column, missing or extra.
    Explain(ExplainArgs),
    /// Compare two runs: districts fixed and regressed, patterns new and resolved.
    Compare(CompareArgs),
    /// Run the legacy side twice on the same input and list the columns that differ (noise).
    Noise(NoiseArgs),
    /// Show each table's columns on both sides, their types and how they are compared.
    Schema(SchemaArgs),
    /// Write the team's HTML dashboard for a run: trend, district grid, patterns, changes.
    Report(ReportArgs),
    /// Start a Ballista scheduler or executor that knows pathway's functions (see
    /// docs/scaling.md).
    #[command(subcommand)]
    Cluster(ClusterCommand),
}

/// `pathway cluster ...`.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Serve a scheduler: `pathway run/diff --cluster df://HOST:PORT` send their queries here.
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "0.0.0.0")]
        bind: String,
        /// Port to listen on (gRPC, and /readyz over HTTP).
        #[arg(long, default_value_t = 50050)]
        port: u16,
        /// Name executors reach this scheduler by (default: localhost).
        #[arg(long)]
        external_host: Option<String>,
    },
    /// Serve an executor that takes tasks from a scheduler.
    Executor {
        /// The scheduler, HOST:PORT.
        #[arg(long, default_value = "localhost:50050")]
        scheduler: String,
        /// Address to listen on.
        #[arg(long, default_value = "0.0.0.0")]
        bind: String,
        /// Arrow Flight port: results and shuffle data.
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// gRPC port: tasks from the scheduler.
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Folder for shuffle files.
        #[arg(long, default_value = "/tmp/pathway-executor")]
        work_dir: PathBuf,
        /// Tasks run at once (0: one per core).
        #[arg(long, default_value_t = 0)]
        vcores: usize,
    },
}

/// Arguments of `pathway report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output folder holding the runs and history.csv.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// Run folder (default: the latest run in --out).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// The audit whose night to read, when the output folder holds several audits' nights
    /// (<out>/<audit>/<date>/).
    #[arg(long)]
    pub audit: Option<String>,
    /// Where to write the self-contained HTML page.
    #[arg(long)]
    pub html: PathBuf,
}

/// Arguments of `pathway check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Audit folder (holding audit.toml, legacy/ and beta/).
    pub audit: PathBuf,
    /// Input folder (one sub-folder per district): the transforms are planned against the
    /// first district that has a file for every input. Without it only audit.toml and the SQL
    /// files are read.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
}

/// Arguments of `pathway keys`.
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    /// The legacy table: a Parquet file, a folder of Parquet, a CSV/TXT or JSON-lines file, or a
    /// database URL with --left-table or --left-query.
    pub left: PathBuf,
    /// The beta table, in the same forms.
    pub right: PathBuf,
    /// With a database LEFT: the table or view to read, `schema.table`.
    #[arg(long, conflicts_with = "left_query", help_heading = "Database sides")]
    pub left_table: Option<String>,
    /// With a database LEFT: a SELECT in the database's own SQL.
    #[arg(long, help_heading = "Database sides")]
    pub left_query: Option<String>,
    /// With a database RIGHT: the table or view to read, `schema.table`.
    #[arg(long, conflicts_with = "right_query", help_heading = "Database sides")]
    pub right_table: Option<String>,
    /// With a database RIGHT: a SELECT in the database's own SQL.
    #[arg(long, help_heading = "Database sides")]
    pub right_query: Option<String>,
    /// The key to check, comma-separated. Without it, only the candidate keys are listed.
    #[arg(long, short, value_delimiter = ',')]
    pub key: Vec<String>,
    /// Group column (default: `district_id` when both sides have it, else one group `*`).
    #[arg(long)]
    pub by: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `pathway init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Folder to create (its last part names the audit), e.g. `audits/attendance`.
    pub folder: PathBuf,
}

/// Arguments of `pathway schema`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Run folder (default: the latest run in --out).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Output folder holding the runs, used to find the latest.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// The audit whose night to read, when the output folder holds several audits' nights
    /// (<out>/<audit>/<date>/).
    #[arg(long)]
    pub audit: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `pathway noise`.
#[derive(Debug, clap::Args)]
pub struct NoiseArgs {
    /// Audit folder.
    pub audit: PathBuf,
    /// Input folder: one sub-folder of files per district.
    #[arg(long, short)]
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `pathway compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The earlier run folder (e.g. runs/example/2026-11-20).
    pub before: PathBuf,
    /// The later run folder of the same audit (e.g. runs/example/2026-11-21).
    pub after: PathBuf,
    /// Output format: tables, or one CSV / JSON document.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit 1 when a district regressed (was FULL MATCH, is not any more).
    #[arg(long)]
    pub fail_on_regression: bool,
}

/// Arguments of `pathway patterns`.
#[derive(Debug, clap::Args)]
pub struct PatternsArgs {
    /// Run folder (default: the latest run in --out).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Output folder holding the runs, used to find the latest.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// The audit whose night to read, when the output folder holds several audits' nights
    /// (<out>/<audit>/<date>/).
    #[arg(long)]
    pub audit: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// At most this many patterns.
    #[arg(long, short, default_value_t = 50)]
    pub limit: usize,
}

/// Arguments of `pathway diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The legacy (reference) table: a Parquet file, a folder of Parquet, a CSV/TXT file, or a
    /// database URL (<postgres://user@host:5432/db>, mysql://...) with --left-table or --left-query.
    pub left: PathBuf,
    /// The beta table, in the same forms (with --right-table or --right-query for a database).
    pub right: PathBuf,
    /// With a database LEFT: the table or view to read, `schema.table`.
    #[arg(long, conflicts_with = "left_query", help_heading = "Database sides")]
    pub left_table: Option<String>,
    /// With a database LEFT: a SELECT in the database's own SQL.
    #[arg(long, help_heading = "Database sides")]
    pub left_query: Option<String>,
    /// With a database RIGHT: the table or view to read, `schema.table`.
    #[arg(long, conflicts_with = "right_query", help_heading = "Database sides")]
    pub right_table: Option<String>,
    /// With a database RIGHT: a SELECT in the database's own SQL.
    #[arg(long, help_heading = "Database sides")]
    pub right_query: Option<String>,
    /// Key columns, comma-separated. Without a key the tables are compared as multisets of rows.
    #[arg(long, short, value_delimiter = ',')]
    pub key: Vec<String>,
    /// Group column (default: `district_id` when both sides have it, else one group `*`).
    #[arg(long)]
    pub by: Option<String>,
    /// Columns to leave out of the comparison, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Compare a column under different names: `LEGACY_NAME=BETA_NAME` (repeatable).
    #[arg(long, value_parser = parse_rename)]
    pub rename: Vec<(String, String)>,
    /// Columns holding personal data, masked in the output, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub pii: Vec<String>,
    /// Text: ignore leading and trailing white space.
    #[arg(long, help_heading = "Comparison rules")]
    pub trim: bool,
    /// Text: ignore case.
    #[arg(long, help_heading = "Comparison rules")]
    pub ignore_case: bool,
    /// Text: null and the empty string are equal.
    #[arg(long, help_heading = "Comparison rules")]
    pub null_equals_empty: bool,
    /// Numbers at most this far apart are equal.
    #[arg(long, value_parser = parse_tolerance, help_heading = "Comparison rules")]
    pub abs_tolerance: Option<f64>,
    /// Numbers at most this fraction of the larger magnitude apart are equal.
    #[arg(long, value_parser = parse_tolerance, help_heading = "Comparison rules")]
    pub rel_tolerance: Option<f64>,
    /// Dates or timestamps at most this many days apart are equal.
    #[arg(long, value_parser = parse_tolerance, help_heading = "Comparison rules")]
    pub date_tolerance_days: Option<f64>,
    /// Cast a column on both sides before comparing: COLUMN=TYPE with TYPE one of text,
    /// integer, decimal, date, timestamp (repeatable).
    #[arg(long, value_parser = parse_cast, help_heading = "Comparison rules")]
    pub cast: Vec<(String, String)>,
    /// Declared recodings of a column: COLUMN=FILE, FILE a CSV with the header `legacy,beta` and
    /// one pair of values per line; a cell holding such a pair is equal and counted as
    /// expected (repeatable).
    #[arg(long, value_parser = parse_expected, value_name = "COLUMN=FILE", help_heading = "Comparison rules")]
    pub expected: Vec<(String, Vec<(String, String)>)>,
    /// Keep at most N rows of the row diff per group: those of the first keys; every count
    /// stays exact, and the summary says which groups were capped.
    #[arg(long, value_name = "N")]
    pub max_row_diff: Option<u64>,
    /// Pair the rows the keyed (or, without --key, multiset) diff leaves on one side with those
    /// left on the other that differ in the fewest compared columns (for surrogate keys the
    /// rewrite numbers differently).
    #[arg(long, conflicts_with = "max_row_diff")]
    pub pair_unmatched: bool,
    /// With --pair-unmatched: pairs differ in at most N compared columns (default: half).
    #[arg(long, value_name = "N", requires = "pair_unmatched")]
    pub max_pair_columns: Option<usize>,
    /// Table name used in the reports (default: the left file or folder name).
    #[arg(long)]
    pub table: Option<String>,
    /// Write summary.csv, `column_diff.csv`, summary.json, profile.parquet and `row_diff`/ into
    /// this folder.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// With --out: do not profile the columns (profile.parquet stays empty).
    #[arg(long, requires = "out")]
    pub no_profile: bool,
    /// Differing rows printed under the counts, legacy above beta (personal columns masked);
    /// 0 prints none. Only with `--format table` and a key.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub sample: usize,
    /// What to print on stdout: the summary table, or summary.csv / summary.json content
    /// (the table then goes to stderr).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Memory, spilling, triage and cluster settings of the diff.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// How the diff engine may use the machine (`pathway run` and `pathway diff`).
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// Memory that joins, sorts and aggregations may hold before spilling to disk
    /// (e.g. 512MiB, 2GiB). `pathway run` also reads and transforms no more districts at once
    /// than it holds, estimated from their files' sizes.
    #[arg(long, value_parser = pathway_diff::parse_size, default_value = "1GiB", help_heading = "Engine")]
    pub memory_limit: usize,
    /// Folder for spill files (default: the system's temporary folder).
    #[arg(long, help_heading = "Engine")]
    pub spill_dir: Option<PathBuf>,
    /// Triage districts in chunks of about this many rows (both sides together); smaller
    /// chunks use less memory.
    #[arg(long, default_value_t = pathway_diff::DEFAULT_CHUNK_ROWS, help_heading = "Engine")]
    pub chunk_rows: u64,
    /// Join every row instead of comparing footprints, fingerprints and row hashes first.
    /// Slower; the results are the same.
    #[arg(long, help_heading = "Engine")]
    pub no_triage: bool,
    /// Run the diff queries on the Ballista cluster whose scheduler is at df://HOST:PORT
    /// (started with `pathway cluster scheduler`); the same results as embedded. Overrides the
    /// audit's `cluster`.
    #[arg(
        long,
        value_name = "df://HOST:PORT",
        env = "PATHWAY_CLUSTER",
        help_heading = "Engine"
    )]
    pub cluster: Option<String>,
}

impl EngineArgs {
    /// The engine settings these flags ask for.
    #[must_use]
    pub fn settings(&self) -> pathway_diff::EngineSettings {
        pathway_diff::EngineSettings {
            memory_limit: self.memory_limit,
            spill_dir: self.spill_dir.clone(),
            chunk_rows: self.chunk_rows,
            triage: !self.no_triage,
            cluster: self.cluster.clone(),
        }
    }
}

/// Arguments of `pathway query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// SQL to run (several statements separated by `;`). Without it, an interactive prompt.
    pub sql: Option<String>,
    /// Run folder (default: the latest run in --out).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Output folder holding the runs, used to find the latest.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// The audit whose night to read, when the output folder holds several audits' nights
    /// (<out>/<audit>/<date>/).
    #[arg(long)]
    pub audit: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `pathway show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Run folder (default: the latest run in --out).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Output folder holding the runs, used to find the latest.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// The audit whose night to read, when the output folder holds several audits' nights
    /// (<out>/<audit>/<date>/).
    #[arg(long)]
    pub audit: Option<String>,
    /// Table to show.
    #[arg(long, short)]
    pub table: String,
    /// District to show.
    #[arg(long, short)]
    pub district: String,
    /// Only rows changed in this column, and only this column.
    #[arg(long, short)]
    pub column: Option<String>,
    /// At most this many differing rows.
    #[arg(long, short, default_value_t = 20)]
    pub limit: usize,
    /// Only the rows of this kind of difference.
    #[arg(long, value_enum)]
    pub kind: Option<RowKind>,
    /// `table`: two lines per row, legacy above beta, differing cells marked; `csv` and `json`:
    /// one record per row of the row diff, as `pathway query` writes them (the title line then
    /// goes to stderr).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `pathway profile`.
#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// Run folder, or a `pathway diff --out` folder (default: the latest run in --out).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Output folder holding the runs, used to find the latest.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// The audit whose night to read, when the output folder holds several audits' nights
    /// (<out>/<audit>/<date>/).
    #[arg(long)]
    pub audit: Option<String>,
    /// Only this table.
    #[arg(long, short)]
    pub table: Option<String>,
    /// Only this district.
    #[arg(long, short)]
    pub district: Option<String>,
    /// `table`: one line per measure, the columns with the largest relative delta first;
    /// `csv`: the same lines with the header `table,district_id,column,measure,legacy,beta,delta`;
    /// `json`: an array of those records.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `pathway explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Run folder (default: the latest run in --out).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Output folder holding the runs, used to find the latest.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// The audit whose night to read, when the output folder holds several audits' nights
    /// (<out>/<audit>/<date>/).
    #[arg(long)]
    pub audit: Option<String>,
    /// Only this table.
    #[arg(long, short)]
    pub table: Option<String>,
    /// Only this district.
    #[arg(long, short)]
    pub district: Option<String>,
    /// `table`: one line per hint; `csv`: the header
    /// `table,district_id,finding,column,affected_rows,hint_column,hint_value,share_of_affected,share_of_district,lift`;
    /// `json`: an array of those records.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// A kind of differing row, as the row diff's `diff` column names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RowKind {
    /// A row on both sides whose values differ (`changed`).
    Changed,
    /// A legacy row beta does not have (`missing_in_beta`).
    Missing,
    /// A beta row legacy does not have (`extra_in_beta`).
    Extra,
    /// A row under a key duplicated on either side (`duplicate_key`).
    Duplicate,
    /// A pair equal only under a comparison rule (`equal_by_rule`): not a difference, so
    /// listed only when asked for by this kind.
    EqualByRule,
}

impl RowKind {
    /// The row diff's `diff` value.
    #[must_use]
    pub fn diff(self) -> &'static str {
        match self {
            RowKind::Changed => "changed",
            RowKind::Missing => "missing_in_beta",
            RowKind::Extra => "extra_in_beta",
            RowKind::Duplicate => "duplicate_key",
            RowKind::EqualByRule => "equal_by_rule",
        }
    }
}

/// Arguments of `pathway run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Audit folder (holding audit.toml, legacy/ and beta/).
    pub audit: PathBuf,
    /// Input folder: one sub-folder of files per district. Not needed when every side of the
    /// audit is read from a database: the districts are then the ones the databases hold.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Output folder, shared by every audit: runs go to <out>/<audit>/<date>/, history to
    /// <out>/<audit>/history.csv.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// Night being audited, YYYY-MM-DD (default: today).
    #[arg(long, value_parser = NightDate::parse)]
    pub date: Option<NightDate>,
    /// Also write the night's summary, column diff and the history of district counts to
    /// PostgreSQL tables (`pathway_summary`, `pathway_column_diff`, `pathway_history`; created when
    /// missing, upserted in one transaction). `?schema=NAME` picks the schema (default public).
    /// Passwords: `${VAR}` in the URL, PGPASSWORD or ~/.pgpass.
    #[arg(long, value_name = "POSTGRES_URL")]
    pub publish: Option<String>,
    /// Exit 1 when the run shows any of these (comma-separated): `mismatch` (a district is not
    /// FULL MATCH or ACCEPTED), `regression` (a district that was FULL MATCH in the audit's
    /// previous night in <out> is not any more, and not for want of input), `error` (a district is ERROR),
    /// `no-input` (a district is NO INPUT: an input it needs sent no file or no row).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub fail_on: Vec<FailOn>,
    /// `mismatched`: run only the districts that were not FULL MATCH (or ACCEPTED) in every
    /// table of the previous run, and carry the others over, changed or not.
    #[arg(long, value_enum)]
    pub only: Option<OnlyDistricts>,
    /// Run every district. By default a district whose input files and audit folder are
    /// byte-identical to the previous run's reuses that run's results (marked `reused`).
    #[arg(long, conflicts_with = "only")]
    pub no_reuse: bool,
    /// Districts read and transformed at the same time, at most (default: the number of CPU
    /// cores); fewer when the largest would not fit in --memory-limit together.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Do not profile the tables' columns (profile.parquet stays empty): saves one read of
    /// each output.
    #[arg(long)]
    pub no_profile: bool,
    /// Memory, spilling, triage and cluster settings of the diff.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Which districts `pathway run --only` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnlyDistricts {
    /// Those that were not FULL MATCH (or ACCEPTED) in the previous run.
    Mismatched,
}

/// Conditions that make `pathway run` exit 1 for a scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Some district is not FULL MATCH (or ACCEPTED).
    Mismatch,
    /// Some district was FULL MATCH in the previous run and is not any more.
    Regression,
    /// Some district is ERROR.
    Error,
    /// Some district is NO INPUT.
    NoInput,
}

/// Arguments of `pathway history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Output folder holding the audits' folders, each with its history.csv.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// Only this audit (default: every audit of the output folder).
    #[arg(long)]
    pub audit: Option<String>,
    /// Show each night's run metrics (from <out>/metrics.csv) instead of FULL MATCH counts.
    #[arg(long)]
    pub metrics: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Output format of data-printing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// CSV with a header line.
    Csv,
    /// JSON.
    Json,
}

/// A tolerance: a finite number, at least 0 (`1e400` reads as infinity and is refused).
fn parse_tolerance(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        Ok(_) => Err(format!("`{text}` is not a finite number of at least 0")),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

fn parse_rename(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((legacy, beta)) if !legacy.is_empty() && !beta.is_empty() => {
            Ok((legacy.to_owned(), beta.to_owned()))
        }
        _ => Err(format!("`{text}` is not LEGACY_NAME=BETA_NAME")),
    }
}

fn parse_cast(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((column, cast)) if !column.is_empty() && pathway_audit::CASTS.contains(&cast) => {
            Ok((column.to_owned(), cast.to_owned()))
        }
        _ => Err(format!(
            "`{text}` is not COLUMN=TYPE with TYPE one of {}",
            pathway_audit::CASTS.join(", ")
        )),
    }
}

fn parse_expected(text: &str) -> Result<(String, Vec<(String, String)>), String> {
    match text.split_once('=') {
        Some((column, file)) if !column.is_empty() && !file.is_empty() => {
            let pairs = pathway_audit::read_expected_pairs(std::path::Path::new(file))?;
            Ok((column.to_owned(), pairs))
        }
        _ => Err(format!("`{text}` is not COLUMN=FILE")),
    }
}

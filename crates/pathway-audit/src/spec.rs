//! The typed audit definition and its loader.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::code_map::CodeMap;
use crate::error::{Error, Result};

/// A whole audit: inputs, output tables and the SQL of both sides, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditSpec {
    /// Audit name (from `name` in audit.toml, else the folder name).
    pub name: String,
    /// Free text shown in reports.
    pub description: String,
    /// The audit folder.
    pub dir: PathBuf,
    /// Raw input tables, sorted by name.
    pub inputs: Vec<InputSpec>,
    /// Output tables, sorted by name.
    pub tables: Vec<TableSpec>,
    /// Accepted differences.
    pub accepted: Vec<Accepted>,
    /// Reference-data code mapping (`code_map = "<file>.csv"`), for `map_code` in transforms.
    pub code_map: Option<CodeMap>,
    /// `df://host:port` of a Ballista scheduler to run the diff on (`--cluster` overrides it).
    pub cluster: Option<String>,
}

/// Which pipeline produced a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The existing pipeline whose output is the reference.
    Legacy,
    /// The new pipeline that must reproduce the legacy output.
    Beta,
}

impl Side {
    /// Both sides, legacy first.
    pub const BOTH: [Side; 2] = [Side::Legacy, Side::Beta];

    /// `legacy` or `beta`: folder names and column prefixes use it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Legacy => "legacy",
            Side::Beta => "beta",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// File format of a raw input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// Delimited text (CSV, TXT, TSV, pipe-separated).
    Csv,
    /// Apache Parquet.
    Parquet,
    /// JSON lines: one JSON object per line (`.jsonl`, `.ndjson`).
    #[serde(alias = "ndjson", alias = "json")]
    Jsonl,
}

/// Character encoding of a text input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8, else Windows-1252 (what Excel on Windows writes).
    #[serde(rename = "auto")]
    Auto,
    /// UTF-8, with or without a byte-order mark.
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// Windows-1252 (a superset of Latin-1 for printable characters).
    #[serde(
        rename = "windows-1252",
        alias = "cp1252",
        alias = "latin-1",
        alias = "latin1"
    )]
    Windows1252,
}

/// One raw input table, filled from the files of a district folder that match `glob`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// Table name the SQL transforms use.
    pub name: String,
    /// Glob relative to the district folder, e.g. `students*.{csv,txt}`.
    pub glob: String,
    /// File format.
    pub format: InputFormat,
    /// Field delimiter; `None` means detect from the header line (`,`, tab, `|`, `;`).
    pub delimiter: Option<u8>,
    /// Whether the first line names the columns; without it columns are `column_1`, `column_2`, ...
    pub header: bool,
    /// Text encoding.
    pub encoding: Encoding,
    /// Raw columns holding personal data (masked in rejected-line samples).
    pub pii: Vec<String>,
    /// Columns some districts' files lack (an older version of an export format): read as null
    /// when absent, so one transform serves both layouts.
    pub optional_columns: Vec<String>,
}

/// One output table compared between the two sides.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    /// Table name (the SQL file stem).
    pub name: String,
    /// Columns that identify a row within a district; empty: compare the table as a multiset of
    /// rows (each row counted with its multiplicity).
    pub key: Vec<String>,
    /// Columns left out of the comparison (load timestamps, generated ids).
    pub ignore: Vec<String>,
    /// Columns holding personal data: masked in every report.
    pub pii: Vec<String>,
    /// Columns compared under different names: (legacy name, beta name).
    pub rename: Vec<(String, String)>,
    /// Comparison rules for every column of the table.
    pub compare: Rules,
    /// Comparison rules of single columns (by legacy name), over the table's.
    pub columns: Vec<(String, Rules)>,
    /// Keep at most this many row-diff rows per district (those of the first keys); every
    /// count stays exact. `None` keeps them all.
    pub max_row_diff: Option<u64>,
    /// Pair the rows the keyed (or multiset) diff leaves on one side with those left on the other that
    /// differ in the fewest compared columns (surrogate keys the rewrite numbers differently).
    pub pair_unmatched: bool,
    /// Pairs differ in at most this many compared columns; `None`: half of them.
    pub max_pair_columns: Option<usize>,
    /// The legacy transform: SQL, or a command run per district.
    pub legacy: Transform,
    /// The beta transform.
    pub beta: Transform,
}

/// How one side of a table is produced for a district.
#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    /// An SQL query over the district's raw tables (`<side>/<table>.sql`).
    Sql(SqlFile),
    /// An external program (`[tables.<table>.<side>]` with `command = [...]`): a legacy job run
    /// as it is, once per district.
    Command(CommandSpec),
    /// Rows that already live in a database (`[tables.<table>.<side>]` with `database = "..."`):
    /// a table or a SELECT, snapshotted per district into the run's Parquet.
    Database(DatabaseSpec),
}

/// One side of a table read from PostgreSQL or MySQL.
///
/// Each district's rows are those whose `district_column` equals the district id; the filter and
/// the column list are sent to the database, and the rows are copied into the run's Parquet (the
/// snapshot) before the diff, so the diff can be repeated after the database has moved on.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseSpec {
    /// `postgres://user@host:port/db` or `mysql://user@host:port/db`, as written (`${VAR}`
    /// references are expanded, and passwords looked up, only when connecting).
    pub url: String,
    /// What to read.
    pub relation: Relation,
    /// The column holding the district id (default `district_id`); it becomes the partition.
    pub district_column: String,
    /// audit.toml, where the side is declared (for error messages).
    pub defined_in: PathBuf,
}

/// A database table (or view), or a query in the database's own SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// `schema.table`, or `table` (PostgreSQL: the `public` schema; MySQL: the URL's database).
    Table(String),
    /// A `SELECT` run by the database; pathway wraps it as a derived table to filter it.
    Query(String),
}

impl std::fmt::Display for Relation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Relation::Table(table) => write!(f, "table {table}"),
            Relation::Query(query) => write!(f, "query {}", query.trim()),
        }
    }
}

impl Transform {
    /// The file users look at to see this transform: the SQL file, or the audit.toml entry.
    #[must_use]
    pub fn source_path(&self) -> &Path {
        match self {
            Transform::Sql(sql) => &sql.path,
            Transform::Command(command) => &command.defined_in,
            Transform::Database(database) => &database.defined_in,
        }
    }
}

/// An external program producing one side of one table.
///
/// It runs in the audit folder with the district's input folder and an empty output folder as
/// its last two arguments (also in `PATHWAY_INPUT_DIR` and `PATHWAY_OUTPUT_DIR`, with
/// `PATHWAY_DISTRICT_ID`, `PATHWAY_TABLE` and `PATHWAY_SIDE`), and must write `output` into the
/// output folder and exit 0 within `timeout`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSpec {
    /// Program and its first arguments, e.g. `["python3", "legacy/students.py"]`.
    pub argv: Vec<String>,
    /// The file the program writes in its output folder, e.g. `students.csv`.
    pub output: String,
    /// Format of that file.
    pub format: InputFormat,
    /// Longest a run may take before it is killed.
    pub timeout: std::time::Duration,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// SQL types of output columns (`entry_date = "DATE"`): text output is cast after reading,
    /// an empty field becoming null, so it compares with a typed SQL side. Others stay as read.
    pub types: BTreeMap<String, String>,
    /// audit.toml, where the command is declared (for error messages).
    pub defined_in: PathBuf,
}

/// A transform's SQL and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlFile {
    /// The `.sql` file.
    pub path: PathBuf,
    /// Its text.
    pub sql: String,
}

impl TableSpec {
    /// The transform of one side.
    #[must_use]
    pub fn transform(&self, side: Side) -> &Transform {
        match side {
            Side::Legacy => &self.legacy,
            Side::Beta => &self.beta,
        }
    }
}

// ---- the TOML schema, as written by users ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    inputs: BTreeMap<String, RawInput>,
    #[serde(default)]
    tables: BTreeMap<String, RawTable>,
    #[serde(default)]
    accepted: Vec<Accepted>,
    code_map: Option<String>,
    cluster: Option<String>,
}

/// A known difference the team accepted (`[[accepted]]` in audit.toml): the old system was wrong
/// and the new one is meant to differ. Matching changed cells are counted apart, and a district
/// whose only differences are accepted is `ACCEPTED` instead of `MISMATCH`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// Output table.
    pub table: String,
    /// Column (legacy name).
    pub column: String,
    /// Only cells of this category (`whitespace`, `type_format`, `value_remap`, ...).
    pub category: Option<String>,
    /// Only remapped cells with this legacy value.
    pub legacy_value: Option<String>,
    /// Only remapped cells with this beta value.
    pub beta_value: Option<String>,
    /// Only these districts (all when empty).
    #[serde(default)]
    pub districts: Vec<String>,
    /// Why the difference is accepted.
    pub reason: String,
    /// Last night (`YYYY-MM-DD`) the entry applies; after it, it is flagged as expired.
    pub expires: Option<String>,
}

/// Category names an `[[accepted]]` entry may name: the kinds of changed cell the diff
/// engine classifies (`pathway_diff::classify` uses this list).
pub const CATEGORIES: [&str; 9] = [
    "null_vs_empty",
    "null_vs_value",
    "whitespace",
    "case",
    "type_format",
    "numeric_rounding",
    "date_shift",
    "value_remap",
    "other",
];

/// A calendar date written `YYYY-MM-DD` (`2026-02-30` is not one): what a night's date is, so
/// that an entry's expiry compares with the night as a date.
fn is_iso_date(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    glob: String,
    format: Option<InputFormat>,
    delimiter: Option<String>,
    #[serde(default = "yes")]
    header: bool,
    #[serde(default = "auto_encoding")]
    encoding: Encoding,
    #[serde(default)]
    pii: Vec<String>,
    #[serde(default)]
    optional_columns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    key: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    pii: Vec<String>,
    #[serde(default)]
    rename: BTreeMap<String, String>,
    #[serde(default)]
    compare: Rules,
    #[serde(default)]
    columns: BTreeMap<String, Rules>,
    #[serde(default)]
    max_row_diff: Option<u64>,
    #[serde(default)]
    pair_unmatched: bool,
    #[serde(default)]
    max_pair_columns: Option<usize>,
    legacy: Option<RawSide>,
    beta: Option<RawSide>,
}

/// `[tables.<table>.<side>]`: that side is produced by a program, or read from a database,
/// instead of by SQL over the raw tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSide {
    // A program.
    command: Option<Vec<String>>,
    output: Option<String>,
    format: Option<InputFormat>,
    timeout_seconds: Option<f64>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    types: BTreeMap<String, String>,
    // A database.
    database: Option<String>,
    table: Option<String>,
    query: Option<String>,
    district_column: Option<String>,
}

/// A side from its `[tables.<table>.<side>]` entry: a command or a database.
fn side_spec(raw: RawSide, toml_path: &Path) -> std::result::Result<Transform, String> {
    match (&raw.command, &raw.database) {
        (Some(_), Some(_)) => Err("give either `command` or `database`, not both".into()),
        (None, None) => Err(
            "say how this side is produced: `command = [...]` (a program) or `database = \"postgres://...\"`"
                .into(),
        ),
        (Some(_), None) => {
            if raw.table.is_some() || raw.query.is_some() || raw.district_column.is_some() {
                return Err("`table`, `query` and `district_column` go with `database`, not `command`".into());
            }
            command_spec(raw, toml_path).map(Transform::Command)
        }
        (None, Some(_)) => database_spec(raw, toml_path).map(Transform::Database),
    }
}

fn database_spec(raw: RawSide, toml_path: &Path) -> std::result::Result<DatabaseSpec, String> {
    if raw.output.is_some()
        || raw.format.is_some()
        || raw.timeout_seconds.is_some()
        || !raw.env.is_empty()
        || !raw.types.is_empty()
    {
        return Err(
            "`output`, `format`, `timeout_seconds`, `env` and `types` go with `command`, not `database`"
                .into(),
        );
    }
    let url = raw.database.unwrap_or_default();
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if !matches!(
        scheme.as_deref(),
        Some("postgres" | "postgresql" | "mysql" | "mariadb")
    ) {
        return Err(format!(
            "`database` must be a postgres:// or mysql:// URL, not `{}`",
            url.split('@').next_back().unwrap_or_default()
        ));
    }
    let relation = match (raw.table, raw.query) {
        (Some(_), Some(_)) => return Err("give either `table` or `query`, not both".into()),
        (None, None) => {
            return Err(
                "name what to read: `table = \"schema.table\"` or `query = \"SELECT ...\"`".into(),
            );
        }
        (Some(table), None) => {
            let parts: Vec<&str> = table.split('.').collect();
            if parts.len() > 2 || parts.iter().any(|p| p.trim().is_empty()) {
                return Err(format!(
                    "`table = \"{table}\"` is not `schema.table` or `table`"
                ));
            }
            Relation::Table(table)
        }
        (None, Some(query)) => {
            let head = query.trim_start().to_ascii_lowercase();
            if !(head.starts_with("select") || head.starts_with("with")) {
                return Err("`query` must be one SELECT (or WITH ... SELECT) statement".into());
            }
            if query.trim().trim_end_matches(';').contains(';') {
                return Err("`query` must be one statement: remove the `;` inside it".into());
            }
            Relation::Query(query.trim().trim_end_matches(';').to_owned())
        }
    };
    let district_column = raw
        .district_column
        .unwrap_or_else(|| "district_id".to_owned());
    if district_column.trim().is_empty() {
        return Err("`district_column` is empty".into());
    }
    Ok(DatabaseSpec {
        url,
        relation,
        district_column,
        defined_in: toml_path.to_path_buf(),
    })
}

fn default_timeout() -> f64 {
    600.0
}

/// The format of a file, from its extension: `.parquet`, `.jsonl`/`.ndjson`, else delimited text.
/// A compression suffix (`.gz`, `.zst`, `.bz2`, `.xz`, any case) is looked through: text files are
/// read decompressed (see `pathway-input`), so `students.jsonl.gz` is JSON lines.
#[must_use]
#[allow(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "the name is lower-cased first"
)]
pub fn format_from_name(name: &str) -> InputFormat {
    let lower = name.to_ascii_lowercase();
    let name = [".gz", ".zst", ".bz2", ".xz"]
        .iter()
        .find_map(|suffix| lower.strip_suffix(suffix))
        .unwrap_or(&lower);
    if name.ends_with(".parquet") {
        InputFormat::Parquet
    } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        InputFormat::Jsonl
    } else {
        InputFormat::Csv
    }
}

/// Comparison rules for a table (`[tables.X.compare]`) or one column (`[tables.X.columns.C]`).
/// Unset fields fall back to the table's rules, then to exact comparison.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Ignore leading and trailing white space (text).
    pub trim: Option<bool>,
    /// Ignore case (text).
    pub ignore_case: Option<bool>,
    /// Null and the empty string are equal (text).
    pub null_equals_empty: Option<bool>,
    /// Numbers at most this far apart are equal.
    pub abs_tolerance: Option<f64>,
    /// Numbers at most this fraction of the larger magnitude apart are equal.
    pub rel_tolerance: Option<f64>,
    /// Dates or timestamps at most this many days apart are equal.
    pub date_tolerance_days: Option<f64>,
    /// Cast both sides before comparing: `text`, `integer`, `decimal`, `date` or `timestamp`.
    pub cast: Option<String>,
    /// Declared recodings of one column: `[["Y", "true"], ["K", "0"]]`, a legacy value and the
    /// beta value it is meant to become, each as text as written. Such a cell is equal for the
    /// verdict and counted as expected; any other pair still differs. After loading, this also
    /// holds the pairs of `expected_file`.
    pub expected: Option<Vec<[String; 2]>>,
    /// A CSV file of such pairs, relative to the audit folder: header `legacy,beta`, then one
    /// pair per line.
    pub expected_file: Option<PathBuf>,
}

impl Rules {
    /// These rules, with unset fields taken from `base`.
    #[must_use]
    pub fn over(&self, base: &Rules) -> Rules {
        Rules {
            trim: self.trim.or(base.trim),
            ignore_case: self.ignore_case.or(base.ignore_case),
            null_equals_empty: self.null_equals_empty.or(base.null_equals_empty),
            abs_tolerance: self.abs_tolerance.or(base.abs_tolerance),
            rel_tolerance: self.rel_tolerance.or(base.rel_tolerance),
            date_tolerance_days: self.date_tolerance_days.or(base.date_tolerance_days),
            cast: self.cast.clone().or_else(|| base.cast.clone()),
            expected: self.expected.clone().or_else(|| base.expected.clone()),
            expected_file: self
                .expected_file
                .clone()
                .or_else(|| base.expected_file.clone()),
        }
    }

    /// The declared pairs, as (legacy, beta).
    #[must_use]
    pub fn expected_pairs(&self) -> Vec<(String, String)> {
        self.expected
            .iter()
            .flatten()
            .map(|[l, b]| (l.clone(), b.clone()))
            .collect()
    }
}

/// Read a CSV file of expected pairs: the header `legacy,beta`, then one pair per line (fields
/// quoted as CSV quotes them). An empty value is the empty string, not null.
///
/// # Errors
/// A message naming the line, for a missing file, another header, or a line without exactly two
/// fields.
pub fn read_expected_pairs(path: &Path) -> std::result::Result<Vec<(String, String)>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut pairs = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 1;
        let record = record.map_err(|e| format!("`{}` line {line}: {e}", path.display()))?;
        if i == 0 {
            let header: Vec<&str> = record.iter().map(str::trim).collect();
            if header != ["legacy", "beta"] {
                return Err(format!(
                    "`{}` line 1 must be the header `legacy,beta`, not `{}`",
                    path.display(),
                    header.join(",")
                ));
            }
            continue;
        }
        if record.len() != 2 {
            return Err(format!(
                "`{}` line {line} has {} fields, not 2 (legacy value, beta value)",
                path.display(),
                record.len()
            ));
        }
        pairs.push((record[0].to_owned(), record[1].to_owned()));
    }
    Ok(pairs)
}

/// The casts a `cast` rule may name.
pub const CASTS: [&str; 5] = ["text", "integer", "decimal", "date", "timestamp"];

fn yes() -> bool {
    true
}

fn auto_encoding() -> Encoding {
    Encoding::Auto
}

/// Names used as SQL table names must be plain lower-case identifiers, so transforms can use them
/// unquoted (DataFusion folds unquoted identifiers to lower case).
fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn parse_delimiter(text: &str) -> std::result::Result<Option<u8>, String> {
    match text {
        "auto" => Ok(None),
        "tab" | "\t" | "\\t" => Ok(Some(b'\t')),
        "pipe" | "|" => Ok(Some(b'|')),
        "comma" | "," => Ok(Some(b',')),
        "semicolon" | ";" => Ok(Some(b';')),
        other => Err(format!(
            "delimiter `{other}` is not supported: use \",\", \"tab\", \"|\", \";\" or \"auto\""
        )),
    }
}

fn command_spec(raw: RawSide, toml_path: &Path) -> std::result::Result<CommandSpec, String> {
    let argv = raw.command.unwrap_or_default();
    if argv.is_empty() || argv[0].trim().is_empty() {
        return Err("`command` names no program: write e.g. [\"python3\", \"legacy/x.py\"]".into());
    }
    let Some(raw_output) = raw.output else {
        return Err(
            "`output` is missing: the file the program writes, e.g. \"students.csv\"".into(),
        );
    };
    let timeout_seconds = raw.timeout_seconds.unwrap_or_else(default_timeout);
    let output = raw_output.trim();
    if output.is_empty() || output.contains('/') || output.contains('\\') || output.starts_with('.')
    {
        return Err(format!(
            "`output` must be a plain file name in the output folder, not `{raw_output}`"
        ));
    }
    if !(timeout_seconds.is_finite() && timeout_seconds > 0.0) {
        return Err(format!(
            "`timeout_seconds` must be a positive number of seconds, not {timeout_seconds}"
        ));
    }
    // Types go into an SQL CAST; allow what type names are made of and nothing else.
    if let Some((column, sql_type)) = raw.types.iter().find(|(_, t)| {
        t.trim().is_empty()
            || !t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " (),_".contains(c))
    }) {
        return Err(format!(
            "types: `{sql_type}` for column `{column}` is not an SQL type name (e.g. DATE, BIGINT, DECIMAL(10,2))"
        ));
    }
    Ok(CommandSpec {
        argv,
        output: output.to_owned(),
        format: raw.format.unwrap_or_else(|| format_from_name(output)),
        timeout: std::time::Duration::from_secs_f64(timeout_seconds),
        env: raw.env,
        types: raw.types,
        defined_in: toml_path.to_path_buf(),
    })
}

impl AuditSpec {
    /// Load and validate the audit in `dir` (the folder holding `audit.toml`).
    ///
    /// # Errors
    /// A missing or malformed `audit.toml`, a table without both SQL files, an SQL file without a
    /// table entry, an empty key or an invalid name.
    pub fn load(dir: &Path) -> Result<AuditSpec> {
        let folder_name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let toml_path = dir.join("audit.toml");
        let text = fs::read_to_string(&toml_path).map_err(|source| Error::Read {
            audit: folder_name.clone(),
            path: toml_path.clone(),
            source,
        })?;
        let raw: RawAudit = toml::from_str(&text).map_err(|e| Error::Toml {
            audit: folder_name.clone(),
            path: toml_path.clone(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let name = raw.name.unwrap_or(folder_name);
        let invalid = Invalid {
            audit: name.clone(),
            toml: toml_path.clone(),
        };

        let inputs = input_specs(raw.inputs, &invalid)?;
        let tables = raw
            .tables
            .into_iter()
            .map(|(table_name, table)| table_spec(dir, table_name, table, &invalid))
            .collect::<Result<Vec<TableSpec>>>()?;
        if tables.is_empty() {
            return Err(invalid.in_toml("no [tables.<name>] section: nothing to compare".into()));
        }
        // Input files are only needed when some side is made from them.
        let from_databases_only = tables.iter().all(|t| {
            Side::BOTH
                .iter()
                .all(|side| matches!(t.transform(*side), Transform::Database(_)))
        });
        if inputs.is_empty() && !from_databases_only {
            return Err(invalid.in_toml("no [inputs.<name>] section: nothing to read".into()));
        }
        check_sql_files(dir, &tables, &invalid)?;
        check_accepted(&raw.accepted, &tables, &invalid)?;
        let code_map = code_map(dir, raw.code_map.as_deref(), &inputs, &invalid)?;
        if let Some(cluster) = &raw.cluster
            && !cluster.starts_with("df://")
        {
            return Err(invalid.in_toml(format!(
                "cluster `{cluster}` is not a Ballista address: write df://HOST:PORT"
            )));
        }

        Ok(AuditSpec {
            name,
            description: raw.description,
            dir: dir.to_path_buf(),
            inputs,
            tables,
            accepted: raw.accepted,
            code_map,
            cluster: raw.cluster,
        })
    }

    /// Whether every side of every table is read from a database: such an audit needs no input
    /// folder, and its districts are the ones the databases hold.
    #[must_use]
    pub fn reads_databases_only(&self) -> bool {
        self.tables.iter().all(|t| {
            Side::BOTH
                .iter()
                .all(|side| matches!(t.transform(*side), Transform::Database(_)))
        })
    }

    /// Whether some side of some table is read from a database.
    #[must_use]
    pub fn reads_databases(&self) -> bool {
        self.tables.iter().any(|t| {
            Side::BOTH
                .iter()
                .any(|side| matches!(t.transform(*side), Transform::Database(_)))
        })
    }

    /// The output table called `name`.
    #[must_use]
    pub fn table(&self, name: &str) -> Option<&TableSpec> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// Builds the errors of one audit's definition: which audit, which file, what is wrong.
struct Invalid {
    audit: String,
    toml: PathBuf,
}

impl Invalid {
    /// `message` about the file at `path`.
    fn at(&self, path: &Path, message: String) -> Error {
        Error::Invalid {
            audit: self.audit.clone(),
            path: path.to_path_buf(),
            message,
        }
    }

    /// `message` about audit.toml.
    fn in_toml(&self, message: String) -> Error {
        self.at(&self.toml, message)
    }
}

/// The `[inputs.<name>]` sections, checked: plain names, known delimiters, valid globs.
fn input_specs(raw: BTreeMap<String, RawInput>, invalid: &Invalid) -> Result<Vec<InputSpec>> {
    let mut inputs = Vec::new();
    for (input_name, input) in raw {
        if !is_plain_identifier(&input_name) {
            return Err(invalid.in_toml(format!(
                "input `{input_name}`: names must be lower-case letters, digits and `_`"
            )));
        }
        let format = input
            .format
            .unwrap_or_else(|| format_from_name(&input.glob));
        let delimiter = match input.delimiter.as_deref() {
            None => None,
            Some(d) => parse_delimiter(d)
                .map_err(|m| invalid.in_toml(format!("input `{input_name}`: {m}")))?,
        };
        globset::Glob::new(&input.glob).map_err(|e| {
            invalid.in_toml(format!(
                "input `{input_name}`: bad glob `{}`: {e}",
                input.glob
            ))
        })?;
        inputs.push(InputSpec {
            name: input_name,
            glob: input.glob,
            format,
            delimiter,
            header: input.header,
            encoding: input.encoding,
            pii: input.pii,
            optional_columns: input.optional_columns,
        });
    }
    Ok(inputs)
}

/// One `[tables.<name>]` section with its two sides (SQL files in `legacy/` and `beta/`, or a
/// program or database entry), checked.
fn table_spec(
    dir: &Path,
    table_name: String,
    mut table: RawTable,
    invalid: &Invalid,
) -> Result<TableSpec> {
    if !is_plain_identifier(&table_name) {
        return Err(invalid.in_toml(format!(
            "table `{table_name}`: names must be lower-case letters, digits and `_`"
        )));
    }
    if let Some(both) = table.key.iter().find(|k| table.ignore.contains(k)) {
        return Err(invalid.in_toml(format!(
            "table `{table_name}`: key column `{both}` cannot also be ignored"
        )));
    }
    let mut transforms = Vec::new();
    for (side, command) in [
        (Side::Legacy, table.legacy.take()),
        (Side::Beta, table.beta.take()),
    ] {
        let path = dir.join(side.as_str()).join(format!("{table_name}.sql"));
        let transform = if let Some(command) = command {
            if path.exists() {
                return Err(invalid.at(
                    &path,
                    format!(
                        "table `{table_name}`: the {side} side is both this SQL file \
                         and a [tables.{table_name}.{side}] entry in audit.toml; keep one"
                    ),
                ));
            }
            let at = format!("[tables.{table_name}.{side}]");
            side_spec(command, &invalid.toml).map_err(|m| invalid.in_toml(format!("{at}: {m}")))?
        } else {
            let text = fs::read_to_string(&path).map_err(|e| {
                invalid.at(
                    &path,
                    format!(
                        "table `{table_name}` needs its {side} transform here \
                         (or a [tables.{table_name}.{side}] command): {e}"
                    ),
                )
            })?;
            if text.trim().is_empty() {
                return Err(invalid.at(&path, format!("the {side} SQL of `{table_name}` is empty")));
            }
            Transform::Sql(SqlFile { path, sql: text })
        };
        transforms.push(transform);
    }
    check_rules(&table_name, &table, invalid)?;
    for (column, rules) in &mut table.columns {
        let Some(file) = &rules.expected_file else {
            continue;
        };
        let path = dir.join(file);
        let pairs = read_expected_pairs(&path).map_err(|m| {
            invalid.in_toml(format!(
                "table `{table_name}`, column `{column}`: expected_file: {m}"
            ))
        })?;
        rules
            .expected
            .get_or_insert_with(Vec::new)
            .extend(pairs.into_iter().map(|(l, b)| [l, b]));
        rules.expected_file = Some(path);
    }
    if table.pair_unmatched && table.max_row_diff.is_some() {
        return Err(invalid.in_toml(format!(
            "table `{table_name}`: `pair_unmatched` and `max_row_diff` cannot be \
                 combined yet (pairing needs every leftover row)"
        )));
    }
    if table.max_pair_columns.is_some() && !table.pair_unmatched {
        return Err(invalid.in_toml(format!(
            "table `{table_name}`: `max_pair_columns` goes with `pair_unmatched = true`"
        )));
    }
    let beta = transforms.pop().expect("two sides");
    let legacy = transforms.pop().expect("two sides");
    Ok(TableSpec {
        name: table_name,
        key: table.key,
        ignore: table.ignore,
        pii: table.pii,
        rename: table.rename.into_iter().collect(),
        compare: table.compare,
        columns: table.columns.into_iter().collect(),
        max_row_diff: table.max_row_diff,
        pair_unmatched: table.pair_unmatched,
        max_pair_columns: table.max_pair_columns,
        legacy,
        beta,
    })
}

/// The comparison rules of a table and of each of its columns: tolerances finite and at least
/// 0, expected pairs only on a column, casts the engine knows.
fn check_rules(table_name: &str, table: &RawTable, invalid: &Invalid) -> Result<()> {
    for (scope, rules) in std::iter::once(("compare", &table.compare))
        .chain(table.columns.iter().map(|(c, r)| (c.as_str(), r)))
    {
        for (name, value) in [
            ("abs_tolerance", rules.abs_tolerance),
            ("rel_tolerance", rules.rel_tolerance),
            ("date_tolerance_days", rules.date_tolerance_days),
        ] {
            if let Some(value) = value
                && !(value.is_finite() && value >= 0.0)
            {
                return Err(invalid.in_toml(format!(
                    "table `{table_name}`, {scope}: {name} = {value} is not a finite \
                         number of at least 0"
                )));
            }
        }
        if scope == "compare" && (rules.expected.is_some() || rules.expected_file.is_some()) {
            return Err(invalid.in_toml(format!(
                "table `{table_name}`: expected pairs belong to one column: move \
                     them to [tables.{table_name}.columns.<column>]"
            )));
        }
        if let Some(cast) = &rules.cast
            && !CASTS.contains(&cast.as_str())
        {
            return Err(invalid.in_toml(format!(
                "table `{table_name}`, {scope}: cast `{cast}` is not one of {}",
                CASTS.join(", ")
            )));
        }
    }
    Ok(())
}

/// An SQL file nobody declared is almost always a typo in a table name: say so.
fn check_sql_files(dir: &Path, tables: &[TableSpec], invalid: &Invalid) -> Result<()> {
    for side in Side::BOTH {
        let side_dir = dir.join(side.as_str());
        let entries = match fs::read_dir(&side_dir) {
            Ok(entries) => entries,
            // A side without SQL transforms needs no SQL folder.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && tables
                        .iter()
                        .all(|t| !matches!(t.transform(side), Transform::Sql(_))) =>
            {
                continue;
            }
            Err(source) => {
                return Err(Error::Read {
                    audit: invalid.audit.clone(),
                    path: side_dir.clone(),
                    source,
                });
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "sql") {
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                if !tables.iter().any(|t| t.name == stem) {
                    return Err(invalid.at(
                        &path,
                        format!("no [tables.{stem}] entry in audit.toml for this SQL file"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The `[[accepted]]` differences: a known table and category, a date, a reason.
fn check_accepted(accepted: &[Accepted], tables: &[TableSpec], invalid: &Invalid) -> Result<()> {
    for (i, entry) in accepted.iter().enumerate() {
        let at = format!("[[accepted]] #{} ({}.{})", i + 1, entry.table, entry.column);
        if !tables.iter().any(|t| t.name == entry.table) {
            return Err(invalid.in_toml(format!("{at}: no table `{}`", entry.table)));
        }
        if let Some(category) = &entry.category
            && !CATEGORIES.contains(&category.as_str())
        {
            return Err(invalid.in_toml(format!(
                "{at}: category `{category}` is not one of {}",
                CATEGORIES.join(", ")
            )));
        }
        if let Some(expires) = &entry.expires
            && !is_iso_date(expires)
        {
            return Err(invalid.in_toml(format!("{at}: expires `{expires}` is not YYYY-MM-DD")));
        }
        if entry.reason.trim().is_empty() {
            return Err(invalid.in_toml(format!("{at}: say why in `reason`")));
        }
    }
    Ok(())
}

/// The code map named by `code_map`, loaded (its table takes the name `code_map`).
fn code_map(
    dir: &Path,
    code_map: Option<&str>,
    inputs: &[InputSpec],
    invalid: &Invalid,
) -> Result<Option<CodeMap>> {
    Ok(match code_map {
        None => None,
        Some(_) if inputs.iter().any(|i| i.name == "code_map") => {
            return Err(invalid.in_toml(
                "input `code_map`: the name is taken by the code map's table; rename the input"
                    .into(),
            ));
        }
        Some(file) => {
            let path = dir.join(file);
            Some(CodeMap::load(&path).map_err(|m| invalid.in_toml(format!("code_map: {m}")))?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn minimal(dir: &Path) {
        write(
            dir,
            "audit.toml",
            "[inputs.students_raw]\nglob = \"students*.csv\"\ndelimiter = \"|\"\n\n\
             [tables.students]\nkey = [\"student_id\"]\npii = [\"last_name\"]\n",
        );
        write(dir, "legacy/students.sql", "SELECT * FROM students_raw");
        write(dir, "beta/students.sql", "SELECT * FROM students_raw");
    }

    #[test]
    fn loads_a_minimal_audit() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        minimal(&dir);
        let audit = AuditSpec::load(&dir).unwrap();
        assert_eq!(audit.name, "demo");
        assert_eq!(audit.inputs.len(), 1);
        assert_eq!(audit.inputs[0].delimiter, Some(b'|'));
        assert_eq!(audit.inputs[0].format, InputFormat::Csv);
        assert_eq!(audit.inputs[0].encoding, Encoding::Auto);
        assert!(audit.inputs[0].header);
        assert_eq!(audit.tables[0].key, vec!["student_id"]);
        assert_eq!(audit.tables[0].pii, vec!["last_name"]);
        assert!(matches!(
            audit.tables[0].transform(Side::Beta),
            Transform::Sql(sql) if sql.sql == "SELECT * FROM students_raw"
        ));
    }

    #[test]
    fn an_accepted_entry_expires_on_a_calendar_date() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        minimal(&dir);
        let toml = fs::read_to_string(dir.join("audit.toml")).unwrap();
        let with_expiry = |expires: &str| {
            format!(
                "{toml}\n[[accepted]]\ntable = \"students\"\ncolumn = \"last_name\"\n\
                 reason = \"beta trims\"\nexpires = \"{expires}\"\n"
            )
        };
        write(&dir, "audit.toml", &with_expiry("2026-12-31"));
        let audit = AuditSpec::load(&dir).unwrap();
        assert_eq!(audit.accepted[0].expires.as_deref(), Some("2026-12-31"));
        for bad in ["2026-02-30", "2026-13-01", "2026-1-5", "31/12/2026"] {
            write(&dir, "audit.toml", &with_expiry(bad));
            let err = AuditSpec::load(&dir).unwrap_err().to_string();
            assert!(
                err.contains(&format!("expires `{bad}` is not YYYY-MM-DD")),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn toml_errors_name_file_line_and_column() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        minimal(&dir);
        write(
            &dir,
            "audit.toml",
            "[inputs.students_raw]\nglob = \"a.csv\"\nkeyy = 3\n",
        );
        let err = AuditSpec::load(&dir).unwrap_err().to_string();
        assert!(err.starts_with("audit `demo`: "), "{err}");
        assert!(err.contains("audit.toml"), "{err}");
        assert!(err.contains("line 3, column 1"), "{err}");
        assert!(err.contains("unknown field `keyy`"), "{err}");
    }

    #[test]
    fn a_cluster_must_be_a_ballista_address() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        minimal(&dir);
        let toml = fs::read_to_string(dir.join("audit.toml")).unwrap();
        write(
            &dir,
            "audit.toml",
            &format!("cluster = \"df://sched:50050\"\n{toml}"),
        );
        assert_eq!(
            AuditSpec::load(&dir).unwrap().cluster.as_deref(),
            Some("df://sched:50050")
        );
        write(
            &dir,
            "audit.toml",
            &format!("cluster = \"http://sched:50050\"\n{toml}"),
        );
        let err = AuditSpec::load(&dir).unwrap_err().to_string();
        assert!(
            err.contains(
                "cluster `http://sched:50050` is not a Ballista address: write df://HOST:PORT"
            ),
            "{err}"
        );
        assert!(err.contains("audit.toml"), "{err}");
    }

    #[test]
    fn missing_sql_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        minimal(&dir);
        fs::remove_file(dir.join("beta/students.sql")).unwrap();
        let err = AuditSpec::load(&dir).unwrap_err().to_string();
        assert!(err.contains("beta/students.sql"), "{err}");
        assert!(err.contains("needs its beta transform"), "{err}");
    }

    #[test]
    fn undeclared_sql_file_is_rejected() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        minimal(&dir);
        write(&dir, "legacy/studnets.sql", "SELECT 1");
        let err = AuditSpec::load(&dir).unwrap_err().to_string();
        assert!(err.contains("no [tables.studnets] entry"), "{err}");
    }

    #[test]
    fn database_sides_load_and_need_no_inputs() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        write(
            &dir,
            "audit.toml",
            "[tables.students]\nkey = [\"student_id\"]\n\
             [tables.students.legacy]\ndatabase = \"postgres://pathway@db:5432/sis\"\ntable = \"legacy.students\"\n\
             [tables.students.beta]\ndatabase = \"mysql://root@127.0.0.1/test\"\n\
             query = \"SELECT id AS student_id, dist AS district_id FROM students;\"\ndistrict_column = \"dist\"\n",
        );
        let audit = AuditSpec::load(&dir).unwrap();
        assert!(audit.inputs.is_empty());
        assert!(audit.reads_databases_only());
        let Transform::Database(legacy) = audit.tables[0].transform(Side::Legacy) else {
            panic!("legacy is a database side");
        };
        assert_eq!(legacy.relation, Relation::Table("legacy.students".into()));
        assert_eq!(legacy.district_column, "district_id");
        let Transform::Database(beta) = audit.tables[0].transform(Side::Beta) else {
            panic!("beta is a database side");
        };
        assert_eq!(
            beta.relation,
            Relation::Query("SELECT id AS student_id, dist AS district_id FROM students".into())
        );
        assert_eq!(beta.district_column, "dist");
    }

    #[test]
    fn database_side_mistakes_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        let check = |side: &str, expected: &str| {
            write(
                &dir,
                "audit.toml",
                &format!(
                    "[inputs.s]\nglob = \"a.csv\"\n[tables.students]\nkey = [\"id\"]\n[tables.students.legacy]\n{side}"
                ),
            );
            write(&dir, "beta/students.sql", "SELECT 1");
            let err = AuditSpec::load(&dir).unwrap_err().to_string();
            assert!(err.contains("[tables.students.legacy]"), "{err}");
            assert!(err.contains(expected), "{err}");
        };
        check(
            "database = \"oracle://x\"\ntable = \"t\"",
            "postgres:// or mysql:// URL",
        );
        check("database = \"postgres://h/db\"", "name what to read");
        check(
            "database = \"postgres://h/db\"\ntable = \"t\"\nquery = \"SELECT 1\"",
            "either `table` or `query`",
        );
        check(
            "database = \"postgres://h/db\"\nquery = \"DELETE FROM t\"",
            "one SELECT",
        );
        check(
            "database = \"postgres://h/db\"\nquery = \"SELECT 1; DROP TABLE t\"",
            "one statement",
        );
        check(
            "database = \"postgres://h/db\"\ntable = \"a.b.c\"",
            "not `schema.table`",
        );
        check(
            "command = [\"x\"]\noutput = \"o.csv\"\ndatabase = \"postgres://h/db\"",
            "not both",
        );
        check("output = \"o.csv\"", "say how this side is produced");
        // A password in the URL is never echoed in an error.
        check(
            "database = \"ftp://u:secret@h/db\"\ntable = \"t\"",
            "not `h/db`",
        );
    }

    #[test]
    fn bad_delimiter_and_empty_key_are_rejected() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        minimal(&dir);
        write(
            &dir,
            "audit.toml",
            "[inputs.s]\nglob = \"a.csv\"\ndelimiter = \"#\"\n[tables.students]\nkey = [\"id\"]\n",
        );
        let err = AuditSpec::load(&dir).unwrap_err().to_string();
        assert!(err.contains("delimiter `#` is not supported"), "{err}");
        write(
            &dir,
            "audit.toml",
            "[inputs.s]\nglob = \"a.csv\"\n[tables.students]\nignore = []\n",
        );
        let err = AuditSpec::load(&dir).unwrap_err().to_string();
        assert!(err.contains("missing field `key`"), "{err}");
        // An empty key is allowed: the table is compared as a multiset of rows.
        write(
            &dir,
            "audit.toml",
            "[inputs.s]\nglob = \"a.csv\"\n[tables.students]\nkey = []\n",
        );
        assert!(AuditSpec::load(&dir).unwrap().tables[0].key.is_empty());
    }

    #[test]
    fn a_format_is_seen_through_a_compression_suffix() {
        for (name, format) in [
            ("students.csv", InputFormat::Csv),
            ("students.jsonl.gz", InputFormat::Jsonl),
            ("students*.NDJSON.ZST", InputFormat::Jsonl),
            ("scores.parquet", InputFormat::Parquet),
            ("scores.parquet.xz", InputFormat::Parquet),
            ("students.txt.bz2", InputFormat::Csv),
            ("students*.{csv,txt}", InputFormat::Csv),
        ] {
            assert_eq!(format_from_name(name), format, "{name}");
        }
    }
}

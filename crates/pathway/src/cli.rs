//! Command-line arguments (clap derive). No I/O here: commands take these and do the work.

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
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an audit on a night's district files: transform both sides, diff, report.
    Run(RunArgs),
    /// Show FULL MATCH counts per night and table from <out>/history.csv.
    History(HistoryArgs),
}

/// Arguments of `pathway run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Audit folder (holding audit.toml, legacy/ and beta/).
    pub audit: PathBuf,
    /// Input folder: one sub-folder of files per district.
    #[arg(long, short)]
    pub input: PathBuf,
    /// Output folder: runs go to <out>/<date>/, history to <out>/history.csv.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// Night being audited, YYYY-MM-DD (default: today).
    #[arg(long, value_parser = parse_date)]
    pub date: Option<String>,
}

/// Arguments of `pathway history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Output folder holding history.csv.
    #[arg(long, short, default_value = "runs")]
    pub out: PathBuf,
    /// Only this audit.
    #[arg(long)]
    pub audit: Option<String>,
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

fn parse_date(text: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| format!("`{text}` is not a date in the form YYYY-MM-DD"))
}

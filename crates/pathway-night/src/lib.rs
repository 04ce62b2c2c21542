//! A night of an audit: the nightly pipeline that makes one, and the run folder that holds it.
//!
//! Everything that writes or reads `<out>/<audit>/<date>/` lives here, so every command finds
//! and opens a night the same way:
//!
//! | module | owns |
//! |---|---|
//! | [`NightDate`] | a night's date, compared as a date and written one way |
//! | [`layout`] | where nights live in an output folder, which night a command means, the previous night |
//! | [`pipeline`] | `pathway run`: read and transform every district, diff, report, publish |
//! | [`check`] | the audit checked against one district's inputs before a night runs |
//! | [`catalog`] | a published night as DataFusion tables (`pathway query`, `show`, `schema`) |
//! | [`storage`] | `s3://` audits, inputs and outputs, mirrored into local folders |
//! | [`session`] | the DataFusion session a night's diff runs in (embedded or a Ballista cluster) |
//! | [`progress`] | progress through a night's districts |
//! | [`warehouse`] | a night published to PostgreSQL for BI tools (`--publish`) |
//!
//! ```no_run
//! # async fn night() -> anyhow::Result<()> {
//! use std::path::Path;
//! // The latest night of the only audit in `runs/`, as tables `summary`, `row_diff`, ...
//! let run = pathway_night::layout::select_run(Path::new("runs"), None, None)?.run_dir;
//! let ctx = datafusion::prelude::SessionContext::new();
//! pathway_night::catalog::register_run(&ctx, &run, &pathway_mask::Masker::without_key()).await?;
//! # Ok(()) }
//! ```

pub mod catalog;
pub mod check;
mod date;
pub mod layout;
pub mod pipeline;
pub mod progress;
pub mod session;
pub mod storage;
pub mod warehouse;

pub use date::NightDate;

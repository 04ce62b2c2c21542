//! A night of an audit: the nightly pipeline that makes one, and the run folder that holds it.
//!
//! Everything that writes or reads `<out>/<audit>/<date>/` lives here, so every command finds
//! and opens a night the same way:
//!
//! | module | owns |
//! |---|---|
//! | [`NightDate`] | a night's date, compared as a date and written one way |
//! | [`layout`] | where nights live in an output folder, which night a command means, the previous night |
//! | [`RunFolder`] | the night a reading command opens, once, the same way for every command |
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
//! let scratch = pathway_night::storage::Scratch::new()?;
//! let night = pathway_night::RunFolder::open(None, Path::new("runs"), None, 1, &scratch).await?;
//! let ctx = datafusion::prelude::SessionContext::new();
//! night.register(&ctx, &pathway_mask::Masker::without_key()).await?;
//! # Ok(()) }
//! ```

pub mod catalog;
pub mod check;
mod date;
pub mod layout;
pub mod pipeline;
pub mod progress;
mod run_folder;
pub mod session;
pub mod storage;
pub mod warehouse;

pub use date::NightDate;
pub use run_folder::RunFolder;

//! The DataFusion session the diff runs in: a bounded memory pool that spills to disk, and
//! Parquet reads that filter rows while decoding.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::model::DEFAULT_CHUNK_ROWS;

/// Default memory pool: 1 GiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 1 << 30;

/// How the engine may use the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    /// Bytes that joins, sorts and aggregations may hold before they spill to disk (or, for a
    /// join that cannot spill, fail with a message naming the limit).
    pub memory_limit: usize,
    /// Folder for spill files; `None` for the system's temporary folder.
    pub spill_dir: Option<PathBuf>,
    /// See [`crate::DiffSpec::chunk_rows`].
    pub chunk_rows: u64,
    /// See [`crate::DiffSpec::triage`].
    pub triage: bool,
    /// `df://host:port` of a Ballista scheduler to run the queries on, or `None` for this
    /// process (the session is then made by the `pathway-cluster` crate, not here).
    pub cluster: Option<String>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            memory_limit: DEFAULT_MEMORY_LIMIT,
            spill_dir: None,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            triage: true,
            cluster: None,
        }
    }
}

impl crate::DiffSpec {
    /// Take triage and chunk size from `settings`.
    #[must_use]
    pub fn with_engine(self, settings: &EngineSettings) -> crate::DiffSpec {
        let distributed = settings.cluster.is_some();
        let mut spec = self
            .with_triage(settings.triage && !distributed)
            .with_chunk_rows(settings.chunk_rows);
        spec.local_engine = distributed.then(|| settings.clone());
        spec
    }
}

/// A session configured by `settings`.
///
/// # Errors
/// The spill folder cannot be used, or a `DATAFUSION_*` variable holds a bad value.
pub fn session_context(settings: &EngineSettings) -> datafusion::error::Result<SessionContext> {
    let mut runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(settings.memory_limit)));
    if let Some(dir) = &settings.spill_dir {
        std::fs::create_dir_all(dir)?;
        runtime = runtime.with_temp_file_path(dir);
    }
    // Any DataFusion option can be set from the environment (DATAFUSION_EXECUTION_TARGET_PARTITIONS
    // and so on). Filters evaluated inside the Parquet reader decode the other columns only for
    // the rows that pass: the residual rows of the triage are a small share of each file.
    let config = without_file_statistics(SessionConfig::from_env()?)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.reorder_filters", true);
    Ok(SessionContext::new_with_config_rt(
        config,
        runtime.build_arc()?,
    ))
}

/// Parse a size such as `512MiB`, `2GiB`, `1.5G`, `800MB` or `1048576` (bytes).
///
/// # Errors
/// Text that is not a number followed by an optional unit (B, K/KB/KiB, M/MB/MiB, G/GB/GiB).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 512MiB or 2GiB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{other}` in `{text}` is not a unit (B, KiB, MiB, GiB)"
            ));
        }
    };
    let bytes = number * scale;
    if !(1.0..=1e15).contains(&bytes) {
        return Err(format!("`{text}` is not a usable size"));
    }
    Ok(bytes as usize)
}

/// `config` without per-file statistics. DataFusion 55 takes a Parquet column whose statistics
/// say min = max (and no nulls) for a constant and reads that value instead of the column; but
/// Parquet leaves NaN out of a float column's min and max, so a column holding `1.0` and `NaN`
/// reads as `1.0, 1.0`. Every session that reads Parquet goes through this (tested by
/// `floats_have_one_zero_and_one_nan_on_every_path`).
#[must_use]
pub fn without_file_statistics(config: SessionConfig) -> SessionConfig {
    config.set_bool("datafusion.execution.collect_statistics", false)
}

/// A plain session for reading what pathway wrote (reports, `pathway query`, `show`): DataFusion's
/// defaults, without per-file statistics (see [`without_file_statistics`]).
#[must_use]
pub fn reading_session() -> SessionContext {
    SessionContext::new_with_config(without_file_statistics(SessionConfig::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("3TB").is_err());
    }
}

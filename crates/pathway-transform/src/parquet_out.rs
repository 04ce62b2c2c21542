//! Streaming record batches into a Parquet file that only its owner can read.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;
use pathway_audit::{Side, TableSpec};
use pathway_hash::FootprintBuilder;

use crate::error::{Error, Result};

/// Where one side of one table of one district is written below a run folder.
#[must_use]
pub fn output_file(run_dir: &Path, side: Side, table: &str, district: &str) -> PathBuf {
    run_dir
        .join(side.as_str())
        .join(table)
        .join(format!("district_id={district}"))
        .join("part-0.parquet")
}

/// What the footprint written into an output file's footer is of (see
/// [`pathway_hash::Footprint`]): the table's key, and the renames the diff applies to the
/// side's columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FootprintOf {
    /// Key columns, without `district_id` (the Hive partition).
    pub key: Vec<String>,
    /// (legacy name, beta name) pairs: for the beta side, the audit's renames.
    pub rename: Vec<(String, String)>,
}

impl FootprintOf {
    /// The footprint of `side`'s output of `table`.
    #[must_use]
    pub fn output(table: &TableSpec, side: Side) -> FootprintOf {
        FootprintOf {
            key: table
                .key
                .iter()
                .filter(|k| *k != "district_id")
                .cloned()
                .collect(),
            rename: match side {
                Side::Beta => table.rename.clone(),
                Side::Legacy => Vec::new(),
            },
        }
    }
}

/// Create `path` (and its folders) readable and writable by the owner only: the output holds
/// student data.
///
/// # Errors
/// When the file or its folders cannot be created.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Write every batch of `stream` to `path` as Parquet (zstd) and return the number of rows.
/// An empty stream still writes a file with the schema, so an empty output is visible as such.
/// With `footprint`, the rows are hashed as they pass and the file's footer holds their
/// footprint, which the diff of a run's outputs reads instead of the rows.
/// When writing fails, the file is removed (and its folder, if that leaves it empty): a partial
/// file would make the table's whole output unreadable to the diff, not just this district's.
///
/// # Errors
/// When the file cannot be created or written, or the stream fails (the caller maps that).
pub async fn write_stream(
    stream: SendableRecordBatchStream,
    path: &Path,
    footprint: Option<&FootprintOf>,
) -> Result<u64, StreamError> {
    let written = write_all(stream, path, footprint).await;
    if written.is_err() {
        let _ = fs::remove_file(path);
        if let Some(folder) = path.parent() {
            // Only succeeds when empty, as meant.
            let _ = fs::remove_dir(folder);
        }
    }
    written
}

async fn write_all(
    mut stream: SendableRecordBatchStream,
    path: &Path,
    footprint: Option<&FootprintOf>,
) -> Result<u64, StreamError> {
    let write = |message: String| {
        StreamError::Write(Error::Write {
            path: path.to_path_buf(),
            message,
        })
    };
    let file = create_private(path).map_err(|e| write(e.to_string()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer = ArrowWriter::try_new(file, stream.schema(), Some(props))
        .map_err(|e| write(e.to_string()))?;
    let mut hashing =
        footprint.and_then(|of| FootprintBuilder::new(&stream.schema(), &of.key, &of.rename));
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(StreamError::Execution)?;
        rows += batch.num_rows() as u64;
        if let Some(builder) = &mut hashing
            && builder.add(&batch).is_err()
        {
            // A type the hash cannot encode: the file goes without a footprint, and the diff
            // reads it as it reads any other file.
            hashing = None;
        }
        writer.write(&batch).map_err(|e| write(e.to_string()))?;
    }
    if let Some(builder) = hashing {
        for entry in builder.finish().to_key_values() {
            writer.append_key_value_metadata(entry);
        }
    }
    writer.close().map_err(|e| write(e.to_string()))?;
    Ok(rows)
}

/// A failure while streaming a result to disk: the query or the disk.
#[derive(Debug)]
pub enum StreamError {
    /// The query failed while producing batches.
    Execution(datafusion::error::DataFusionError),
    /// The file could not be written.
    Write(Error),
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::*;

    #[tokio::test]
    async fn a_stream_that_fails_on_the_data_leaves_no_file_behind() {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, false)]));
        // One good batch first, so that the writer has started the file when the cast fails.
        let batch = |values: Vec<&str>| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(values))]).unwrap()
        };
        let table = MemTable::try_new(
            schema.clone(),
            vec![vec![batch(vec!["1", "2"]), batch(vec!["x"])]],
        )
        .unwrap();
        let ctx = SessionContext::new();
        ctx.register_table("t", Arc::new(table)).unwrap();
        let stream = ctx
            .sql("SELECT CAST(v AS INT) AS v FROM t")
            .await
            .unwrap()
            .execute_stream()
            .await
            .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let path = output_file(tmp.path(), Side::Beta, "t", "106");
        let result = write_stream(stream, &path, None).await;
        assert!(matches!(result, Err(StreamError::Execution(_))));
        assert!(!path.exists());
        assert!(!path.parent().unwrap().exists());
        assert!(path.parent().unwrap().parent().unwrap().is_dir());
    }
}

//! Registering what `pathway diff` compares: a Parquet file, a folder of (Hive-partitioned)
//! Parquet, a CSV/TXT or JSON-lines file (compressed or not), or a database table or query
//! (copied to Parquet first).

use std::path::Path;

use anyhow::{Context, bail};
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use pathway_night::layout::{contains_parquet, hive_partitions};

/// Register `path` as table `name`. A CSV/TXT or JSON-lines file is copied to Parquet under
/// `staging` first (see [`register_text`]). Returns a note for the user when rows were
/// rejected.
///
/// # Errors
/// When the path does not exist, is of an unknown kind, or cannot be read.
pub async fn register_source(
    ctx: &SessionContext,
    name: &str,
    path: &Path,
    staging: &Path,
) -> anyhow::Result<Option<String>> {
    let text = path.to_string_lossy();
    if pathway_storage::is_remote(&text) {
        return register_remote(ctx, name, &text, staging).await;
    }
    if !path.exists() {
        bail!("cannot read `{}`: no such file or folder", path.display());
    }
    let shown = path.display().to_string();
    // A cluster's executors do not share this process's working folder.
    let path = &std::path::absolute(path)?;
    if path.is_dir() {
        let partitions = hive_partitions(path);
        if !contains_parquet(path) {
            bail!("`{}` holds no .parquet file", path.display());
        }
        let columns = partitions
            .into_iter()
            .map(|p| (p, DataType::Utf8))
            .collect();
        let options = ParquetReadOptions::default().table_partition_cols(columns);
        ctx.register_parquet(name, &format!("{}/", path.display()), options)
            .await
            .with_context(|| format!("cannot read the Parquet folder `{}`", path.display()))?;
        return Ok(None);
    }
    match file_kind(path) {
        FileKind::CompressedParquet(compression) => bail!(
            "`{shown}` is {}-compressed, and compressed Parquet is not supported: decompress it \
             first (Parquet compresses its own pages)",
            compression.name()
        ),
        FileKind::Parquet => {
            ctx.register_parquet(
                name,
                &path.display().to_string(),
                ParquetReadOptions::default(),
            )
            .await
            .with_context(|| format!("cannot read the Parquet file `{}`", path.display()))?;
            Ok(None)
        }
        FileKind::Text => register_text(ctx, name, path, &shown, staging).await,
        FileKind::Other => bail!(
            "`{shown}` is not a Parquet file, a folder of Parquet, a CSV/TXT file or a JSON-lines \
             file (.jsonl, .ndjson), each but Parquet optionally compressed (.gz, .zst, .bz2, .xz)"
        ),
    }
}

/// What a side's file name says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Parquet,
    CompressedParquet(pathway_input::Compression),
    /// CSV/TXT/TSV or JSON lines, compressed or not.
    Text,
    Other,
}

/// The kind of `path` from its extension, looking through a compression suffix.
fn file_kind(path: &Path) -> FileKind {
    let (plain, compression) = match pathway_input::strip_compression_suffix(path) {
        Some((plain, compression)) => (plain, Some(compression)),
        None => (path.to_path_buf(), None),
    };
    let extension = plain
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match (extension.as_str(), compression) {
        ("parquet", None) => FileKind::Parquet,
        ("parquet", Some(compression)) => FileKind::CompressedParquet(compression),
        ("csv" | "txt" | "tsv" | "jsonl" | "ndjson", _) => FileKind::Text,
        _ => FileKind::Other,
    }
}

/// An `s3://` Parquet file or folder, read by DataFusion from the store; a folder's first level
/// of `name=value` sub-folders becomes a partition column, as for a local folder. A CSV/TXT file
/// is downloaded and read like a local one.
async fn register_remote(
    ctx: &SessionContext,
    name: &str,
    text: &str,
    staging: &Path,
) -> anyhow::Result<Option<String>> {
    let location = pathway_storage::Location::parse(text)?;
    pathway_storage::register_store(ctx, &location)?;
    let lower = text.to_ascii_lowercase();
    if file_kind(Path::new(&lower)) == FileKind::Text {
        let scratch = tempfile::tempdir()?;
        // The object's own name, so that its extensions still say what it holds.
        let file_name = text.rsplit('/').next().unwrap_or("table.csv");
        let local = scratch.path().join(file_name);
        if !pathway_storage::download_file(&location, &local).await? {
            bail!("cannot read `{location}`: no such object");
        }
        return register_text(ctx, name, &local, text, staging).await;
    }
    if lower.ends_with(".parquet") {
        ctx.register_parquet(name, text, ParquetReadOptions::default())
            .await
            .with_context(|| format!("cannot read the Parquet file `{location}`"))?;
        return Ok(None);
    }
    let folders = pathway_storage::list_folders(&location).await?;
    let partitions: Vec<(String, DataType)> = folders
        .iter()
        .find_map(|f| f.split_once('=').map(|(column, _)| column.to_owned()))
        .map(|column| vec![(column, DataType::Utf8)])
        .unwrap_or_default();
    let options = ParquetReadOptions::default().table_partition_cols(partitions);
    ctx.register_parquet(name, &format!("{location}/"), options)
        .await
        .with_context(|| format!("cannot read the Parquet folder `{location}`"))?;
    Ok(None)
}

/// One side of `pathway diff` or `pathway keys` as given on the command line.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// `legacy` or `beta`: the name it is registered under.
    pub name: &'a str,
    /// A file, a folder, or a database URL.
    pub path: &'a Path,
    /// With a database URL: the table to read (`--left-table`).
    pub table: Option<&'a str>,
    /// With a database URL: the query to run (`--left-query`).
    pub query: Option<&'a str>,
}

/// Register both sides (a database side copied to Parquet under `snapshot_dir` first, since the
/// diff reads each side more than once and a live table must not change between those reads; a
/// text file copied to Parquet under `staging`, which must outlive the session's queries).
/// Returns how each is shown in reports.
///
/// # Errors
/// An unreadable side, or database options without a database URL (or the reverse).
pub async fn register_sides(
    ctx: &SessionContext,
    sides: [Side<'_>; 2],
    snapshot_dir: &Path,
    staging: &Path,
) -> anyhow::Result<Vec<String>> {
    let [legacy, beta] = sides;
    // Two plain text files are copied to Parquet at once, one per core, when their bytes
    // together fit in `STAGE_AT_ONCE_BYTES` (each file is read whole); else one after the other.
    let at_once =
        staged_bytes(legacy.path).saturating_add(staged_bytes(beta.path)) <= STAGE_AT_ONCE_BYTES;
    let (legacy, beta) = if at_once {
        // Both run to the end, so that a problem on both sides is reported for legacy first,
        // as when they run one after the other.
        let (legacy, beta) = futures::future::join(
            register_side(ctx, legacy, snapshot_dir, staging),
            register_side(ctx, beta, snapshot_dir, staging),
        )
        .await;
        (legacy?, beta?)
    } else {
        (
            register_side(ctx, legacy, snapshot_dir, staging).await?,
            register_side(ctx, beta, snapshot_dir, staging).await?,
        )
    };
    Ok(vec![legacy, beta])
}

/// Text files whose sizes add up to at most this are copied to Parquet at the same time.
const STAGE_AT_ONCE_BYTES: u64 = 768 << 20;

/// The bytes a side's copy to Parquet reads into memory: a plain local text file's size, 0 for
/// what is not copied (Parquet, databases), and "too many" for a compressed text file, whose
/// decompressed size is unknown until it is read.
fn staged_bytes(path: &Path) -> u64 {
    let text = path.to_string_lossy();
    if is_database_url(&text) || pathway_storage::is_remote(&text) || path.is_dir() {
        return 0;
    }
    if file_kind(path) != FileKind::Text {
        return 0;
    }
    if pathway_input::strip_compression_suffix(path).is_some() {
        return u64::MAX;
    }
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Register one side; returns how it is shown in reports.
async fn register_side(
    ctx: &SessionContext,
    side: Side<'_>,
    snapshot_dir: &Path,
    staging: &Path,
) -> anyhow::Result<String> {
    let name = side.name;
    let flag = if name == "legacy" { "left" } else { "right" };
    let text = side.path.to_string_lossy();
    if is_database_url(&text) {
        let relation = match (side.table, side.query) {
            (Some(t), None) => pathway_audit::Relation::Table(t.to_owned()),
            (None, Some(q)) => pathway_audit::Relation::Query(q.to_owned()),
            _ => bail!(
                "the {name} side is a database: say what to read with --{flag}-table \
                 schema.table or --{flag}-query \"SELECT ...\""
            ),
        };
        let rows = register_database(
            ctx,
            name,
            &text,
            &relation,
            &snapshot_dir.join(format!("{name}.parquet")),
        )
        .await?;
        tracing::info!(
            "{name}: {rows} rows copied from {}",
            pathway_mask::redact_url(&text)
        );
        return Ok(format!("{} ({relation})", pathway_mask::redact_url(&text)));
    }
    if side.table.is_some() || side.query.is_some() {
        bail!("--{flag}-table and --{flag}-query go with a database URL, not `{text}`");
    }
    if let Some(note) = register_source(ctx, name, side.path, staging).await? {
        eprintln!("warning: {note}");
    }
    Ok(side.path.display().to_string())
}

/// The group column: `by` when given, else `district_id` when both registered sides have it,
/// else none (one group `*`).
///
/// # Errors
/// A side that is not registered.
pub async fn default_group(
    ctx: &SessionContext,
    by: Option<&str>,
) -> anyhow::Result<Option<String>> {
    if let Some(by) = by {
        return Ok(Some(by.to_owned()));
    }
    let mut both = true;
    for side in ["legacy", "beta"] {
        let frame = ctx.table(side).await?;
        both &= frame
            .schema()
            .has_column_with_unqualified_name("district_id");
    }
    Ok(both.then(|| "district_id".to_owned()))
}

/// Whether `text` names a database rather than a file.
pub fn is_database_url(text: &str) -> bool {
    ["postgres://", "postgresql://", "mysql://", "mariadb://"]
        .iter()
        .any(|scheme| text.to_ascii_lowercase().starts_with(scheme))
}

/// Copy `relation` of the database at `url` into the Parquet file `snapshot` and register that
/// file as `name`. Returns the rows copied.
///
/// # Errors
/// A bad URL, an unreachable database, an unknown table or a failing query.
pub async fn register_database(
    ctx: &SessionContext,
    name: &str,
    url: &str,
    relation: &pathway_audit::Relation,
    snapshot: &Path,
) -> anyhow::Result<u64> {
    let url = pathway_db::DatabaseUrl::parse(url)?;
    let database = pathway_db::connect(&url).await?;
    let provider = database.provider(relation).await?;
    let own = SessionContext::new();
    let stream = own
        .read_table(provider)?
        .execute_stream()
        .await
        .with_context(|| format!("{}: cannot read {relation}", url.redacted()))?;
    let rows = pathway_transform::write_stream(stream, snapshot, None)
        .await
        .map_err(|e| match e {
            pathway_transform::StreamError::Execution(source) => anyhow::anyhow!(
                "{}: reading {relation} failed: {}",
                url.redacted(),
                pathway_mask::redact_quoted(&source.strip_backtrace())
            ),
            pathway_transform::StreamError::Write(e) => e.into(),
        })?;
    ctx.register_parquet(
        name,
        &snapshot.display().to_string(),
        ParquetReadOptions::default(),
    )
    .await
    .with_context(|| format!("cannot read the snapshot `{}`", snapshot.display()))?;
    Ok(rows)
}

/// Text files are read as text columns, like audit inputs: `07` stays `07`. `shown` names the
/// file in messages, as the user gave it.
///
/// The file is copied once to `<staging>/<name>.parquet`, parsed a batch at a time, and the diff
/// reads the copy: the rows are never all in memory as strings, and each of the diff's passes
/// reads them a batch at a time (held in memory as one table, the 3M-row CSV pair took 31 s
/// and 4.3 GB).
async fn register_text(
    ctx: &SessionContext,
    name: &str,
    path: &Path,
    shown: &str,
    staging: &Path,
) -> anyhow::Result<Option<String>> {
    std::fs::create_dir_all(staging)
        .with_context(|| format!("cannot create the folder `{}`", staging.display()))?;
    let copy = std::path::absolute(staging.join(format!("{name}.parquet")))?;
    let (file, shown_owned, copy_path) = (path.to_path_buf(), shown.to_owned(), copy.clone());
    let table = tokio::task::spawn_blocking(move || {
        pathway_input::stage_table_file(&file, &shown_owned, &copy_path)
    })
    .await??;
    if let Some(compression) = table.compression {
        tracing::info!("`{shown}`: read through {}", compression.name());
    }
    // The copy's schema is the file's: text columns, an empty field an empty string.
    let options = ParquetReadOptions::default().schema(&table.schema);
    ctx.register_parquet(name, &copy.display().to_string(), options)
        .await
        .with_context(|| {
            format!(
                "cannot read `{}`, the Parquet copy of `{shown}`",
                copy.display()
            )
        })?;
    Ok(table.rejected.first().map(|(line, reason)| {
        format!(
            "`{shown}`: {} row(s) not read (first: line {line}, {reason})",
            table.rejected.len()
        )
    }))
}

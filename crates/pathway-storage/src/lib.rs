//! Where audits, inputs and runs live: a local folder, or a prefix in S3 (or any S3-compatible
//! store) named by an `s3://bucket/prefix` URL.
//!
//! DataFusion reads Parquet straight from object storage once the bucket's store is registered
//! on its session ([`register_store`]); everything else (an audit folder, a night of district
//! files, a run folder) is mirrored between the store and a local working folder with
//! [`download`] and [`upload`], through the same `object_store` crate DataFusion uses.
//!
//! Credentials and the endpoint come from the usual AWS variables: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`), and
//! `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT`) for an S3-compatible server; an `http://` endpoint is
//! allowed without TLS. S3 support is the cargo feature `s3`.
//!
//! ```
//! use pathway_storage::Location;
//! // A night of district files in a bucket, and one district's folder in it.
//! let night = Location::parse("s3://district-files/2026-11-21").unwrap();
//! assert!(night.is_remote());
//! assert_eq!(night.join("101").to_string(), "s3://district-files/2026-11-21/101");
//! // Anything else is a local folder.
//! assert!(!Location::parse("runs/example").unwrap().is_remote());
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with a location.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not a usable location.
    #[error("`{location}`: {message}")]
    Location {
        /// The location as written.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// This build cannot reach object storage.
    #[error(
        "`{location}`: S3 support is not built into this pathway: build it with `--features s3` \
         (or `--all-features`)"
    )]
    NotBuilt {
        /// The location as written.
        location: String,
    },
    /// Reading from or writing to the store failed.
    #[error("{action} `{location}`: {message}")]
    Store {
        /// What was being done (`cannot read`, `cannot upload to` ...).
        action: &'static str,
        /// The object or prefix.
        location: String,
        /// The store's message.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("{action} `{path}`: {source}")]
    Local {
        /// What was being done.
        action: &'static str,
        /// The local path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A folder (or file), local or in object storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local path.
    Local(PathBuf),
    /// `s3://bucket/prefix` (prefix without leading or trailing `/`; empty for the bucket).
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix.
        prefix: String,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{}", path.display()),
            Location::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

impl Location {
    /// `s3://bucket/prefix` or a local path.
    ///
    /// # Errors
    /// An `s3://` URL without a bucket, or another URL scheme (`gs://`, `http://`).
    pub fn parse(text: &str) -> Result<Location> {
        let bad = |message: &str| Error::Location {
            location: text.to_owned(),
            message: message.to_owned(),
        };
        match text.split_once("://") {
            None => Ok(Location::Local(PathBuf::from(text))),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("s3") => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(bad("no bucket: write s3://<bucket>/<prefix>"));
                }
                Ok(Location::S3 {
                    bucket: bucket.to_owned(),
                    prefix: prefix.trim_matches('/').to_owned(),
                })
            }
            Some((scheme, _)) => Err(bad(&format!(
                "`{scheme}://` is not a storage this tool reads: use a local path or s3://"
            ))),
        }
    }

    /// [`Location::parse`] of a path argument.
    ///
    /// # Errors
    /// As [`Location::parse`].
    pub fn of(path: &Path) -> Result<Location> {
        Location::parse(&path.to_string_lossy())
    }

    /// Whether this is in object storage.
    #[must_use]
    pub fn is_remote(&self) -> bool {
        matches!(self, Location::S3 { .. })
    }

    /// The location of `name` inside this folder.
    #[must_use]
    pub fn join(&self, name: &str) -> Location {
        match self {
            Location::Local(path) => Location::Local(path.join(name)),
            Location::S3 { bucket, prefix } => Location::S3 {
                bucket: bucket.clone(),
                prefix: if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{prefix}/{name}")
                },
            },
        }
    }

    /// The URL of the bucket (`s3://bucket`), for registering its store.
    fn bucket_url(&self) -> Option<url::Url> {
        match self {
            Location::Local(_) => None,
            Location::S3 { bucket, .. } => url::Url::parse(&format!("s3://{bucket}")).ok(),
        }
    }
}

/// Whether `text` names object storage rather than a local path.
#[must_use]
pub fn is_remote(text: &str) -> bool {
    text.get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("s3://"))
}

/// The store of an `s3://` location's bucket, configured from the AWS environment variables.
///
/// # Errors
/// S3 support is not built in, or the configuration is invalid.
pub fn store(location: &Location) -> Result<Arc<dyn ObjectStore>> {
    match location {
        Location::Local(_) => Ok(Arc::new(object_store::local::LocalFileSystem::new())),
        Location::S3 { bucket, .. } => s3_store(bucket, location),
    }
}

#[cfg(feature = "s3")]
fn s3_store(bucket: &str, location: &Location) -> Result<Arc<dyn ObjectStore>> {
    use object_store::aws::AmazonS3Builder;
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    // An explicit http:// endpoint (a local MinIO, a test server) is a choice, not a mistake.
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .or_else(|_| std::env::var("AWS_ENDPOINT"))
        .unwrap_or_default();
    if endpoint.starts_with("http://") && std::env::var_os("AWS_ALLOW_HTTP").is_none() {
        builder = builder.with_allow_http(true);
    }
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        builder = builder.with_region("us-east-1");
    }
    let store = builder.build().map_err(|e| Error::Location {
        location: location.to_string(),
        message: format!("cannot configure S3 from the AWS_* variables: {e}"),
    })?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "s3"))]
fn s3_store(_bucket: &str, location: &Location) -> Result<Arc<dyn ObjectStore>> {
    Err(Error::NotBuilt {
        location: location.to_string(),
    })
}

/// Register the store of `location`'s bucket on `ctx`, so DataFusion reads and writes
/// `s3://bucket/...` paths itself. Local locations need nothing.
///
/// # Errors
/// As [`store`].
pub fn register_store(
    ctx: &datafusion::prelude::SessionContext,
    location: &Location,
) -> Result<()> {
    if let Some(url) = location.bucket_url() {
        ctx.register_object_store(&url, store(location)?);
    }
    Ok(())
}

fn prefix_path(location: &Location) -> ObjectPath {
    match location {
        Location::S3 { prefix, .. } => ObjectPath::from(prefix.as_str()),
        Location::Local(_) => ObjectPath::default(),
    }
}

fn store_error(action: &'static str, location: &Location) -> impl Fn(object_store::Error) -> Error {
    let location = location.to_string();
    move |e| Error::Store {
        action,
        location: location.clone(),
        message: e.to_string(),
    }
}

/// Copy every object under the remote folder `from` into the local folder `to` (created),
/// keeping the layout. Returns the number of files.
///
/// # Errors
/// The store cannot be listed or read, or a local file cannot be written.
pub async fn download(from: &Location, to: &Path) -> Result<u64> {
    let store = store(from)?;
    let prefix = prefix_path(from);
    let mut listing = store.list(Some(&prefix));
    let mut files = 0;
    std::fs::create_dir_all(to).map_err(|source| Error::Local {
        action: "cannot create",
        path: to.to_path_buf(),
        source,
    })?;
    while let Some(meta) = listing.next().await {
        let meta = meta.map_err(store_error("cannot list", from))?;
        let relative: Vec<String> = match meta.location.prefix_match(&prefix) {
            Some(parts) => parts.map(|p| p.as_ref().to_owned()).collect(),
            None => continue,
        };
        if relative.is_empty() || relative.iter().any(|p| p == ".." || p.is_empty()) {
            continue;
        }
        let target = relative
            .iter()
            .fold(to.to_path_buf(), |p, part| p.join(part));
        fetch(&store, &meta.location, &target, from).await?;
        files += 1;
    }
    Ok(files)
}

/// Copy the single object `from` to the local file `to`. Returns `false` when it does not exist.
///
/// # Errors
/// The store cannot be read, or the file cannot be written.
pub async fn download_file(from: &Location, to: &Path) -> Result<bool> {
    let store = store(from)?;
    let path = prefix_path(from);
    match store.head(&path).await {
        Ok(_) => {
            fetch(&store, &path, to, from).await?;
            Ok(true)
        }
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(store_error("cannot read", from)(e)),
    }
}

async fn fetch(
    store: &Arc<dyn ObjectStore>,
    path: &ObjectPath,
    target: &Path,
    location: &Location,
) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let local = |action: &'static str| {
        let target = target.to_path_buf();
        move |source| Error::Local {
            action,
            path: target.clone(),
            source,
        }
    };
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(local("cannot create"))?;
    }
    let result = store
        .get(path)
        .await
        .map_err(store_error("cannot read", location))?;
    let mut stream = result.into_stream();
    let mut file = tokio::fs::File::create(target)
        .await
        .map_err(local("cannot write"))?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(store_error("cannot read", location))?;
        file.write_all(&chunk)
            .await
            .map_err(local("cannot write"))?;
    }
    file.flush().await.map_err(local("cannot write"))?;
    Ok(())
}

/// Copy every file below the local folder `from` under the remote folder `to`, then delete the
/// objects under `to` that the folder no longer has (a re-run's leftovers). Large files go up
/// in parts. Returns the number of files uploaded.
///
/// # Errors
/// A local file cannot be read, or the store refuses a write.
pub async fn upload(from: &Path, to: &Location) -> Result<u64> {
    let store = store(to)?;
    let prefix = prefix_path(to);
    let mut uploaded = std::collections::BTreeSet::new();
    for file in files_below(from)? {
        let relative = file.strip_prefix(from).unwrap_or(&file);
        let key = relative.components().fold(prefix.clone(), |p, c| {
            p.join(c.as_os_str().to_string_lossy().as_ref())
        });
        put(&store, &file, &key, to).await?;
        uploaded.insert(key);
    }
    let mut stale = Vec::new();
    let mut listing = store.list(Some(&prefix));
    while let Some(meta) = listing.next().await {
        let meta = meta.map_err(store_error("cannot list", to))?;
        if !uploaded.contains(&meta.location) {
            stale.push(meta.location);
        }
    }
    for path in stale {
        store
            .delete(&path)
            .await
            .map_err(store_error("cannot delete a stale object in", to))?;
    }
    Ok(uploaded.len() as u64)
}

/// Copy the local file `from` to the object `to` (one PUT: readers see the old or the new
/// object, never half).
///
/// # Errors
/// The file cannot be read, or the store refuses the write.
pub async fn upload_file(from: &Path, to: &Location) -> Result<()> {
    let store = store(to)?;
    put(&store, from, &prefix_path(to), to).await
}

async fn put(
    store: &Arc<dyn ObjectStore>,
    file: &Path,
    key: &ObjectPath,
    location: &Location,
) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let local = |source| Error::Local {
        action: "cannot read",
        path: file.to_path_buf(),
        source,
    };
    let size = tokio::fs::metadata(file).await.map_err(local)?.len();
    // Up to 64 MiB in one request; beyond, a multipart upload of 10 MiB parts, so memory stays
    // bounded whatever the file.
    if size <= 64 << 20 {
        let bytes = tokio::fs::read(file).await.map_err(local)?;
        store
            .put(key, PutPayload::from(bytes))
            .await
            .map_err(store_error("cannot upload to", location))?;
        return Ok(());
    }
    let mut reader = tokio::fs::File::open(file).await.map_err(local)?;
    let mut writer = object_store::buffered::BufWriter::new(store.clone(), key.clone());
    tokio::io::copy(&mut reader, &mut writer)
        .await
        .map_err(|e| Error::Store {
            action: "cannot upload to",
            location: location.to_string(),
            message: e.to_string(),
        })?;
    writer.shutdown().await.map_err(|e| Error::Store {
        action: "cannot upload to",
        location: location.to_string(),
        message: e.to_string(),
    })?;
    Ok(())
}

/// The immediate sub-folder names of a remote folder (`2026-11-21`, `history.csv` is not one).
///
/// # Errors
/// The store cannot be listed.
pub async fn list_folders(location: &Location) -> Result<Vec<String>> {
    let store = store(location)?;
    let prefix = prefix_path(location);
    let listing = store
        .list_with_delimiter(Some(&prefix))
        .await
        .map_err(store_error("cannot list", location))?;
    let mut names: Vec<String> = listing
        .common_prefixes
        .iter()
        .filter_map(|p| p.filename().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

fn files_below(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Local {
        action: "cannot read",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(files_below(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_join() {
        assert_eq!(
            Location::parse("s3://night/2026-11-21/").unwrap(),
            Location::S3 {
                bucket: "night".into(),
                prefix: "2026-11-21".into()
            }
        );
        let runs = Location::parse("s3://runs").unwrap();
        assert_eq!(
            runs.join("history.csv").to_string(),
            "s3://runs/history.csv"
        );
        assert_eq!(
            runs.join("2026-11-21").join("summary.csv").to_string(),
            "s3://runs/2026-11-21/summary.csv"
        );
        assert_eq!(
            Location::parse("runs/a").unwrap(),
            Location::Local(PathBuf::from("runs/a"))
        );
        assert!(Location::parse("s3:///x").is_err());
        assert!(
            Location::parse("gs://b/x")
                .unwrap_err()
                .to_string()
                .contains("`gs://` is not a storage")
        );
        assert!(is_remote("S3://b") && !is_remote("runs"));
    }
}

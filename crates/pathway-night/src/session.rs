//! The DataFusion session a diff runs in: this process's, or a Ballista cluster's.

use datafusion::prelude::SessionContext;

/// How long a command waits for a cluster to have an executor before it gives up, unless
/// `PATHWAY_CLUSTER_WAIT_SECONDS` says otherwise.
pub const CLUSTER_WAIT: std::time::Duration = std::time::Duration::from_mins(1);

/// A session for `settings`: on the cluster when `settings.cluster` names one, else embedded.
///
/// # Errors
/// The memory pool or spill folder cannot be set up, or the cluster is unreachable (or not
/// built in).
pub async fn session(settings: &pathway_diff::EngineSettings) -> anyhow::Result<SessionContext> {
    match &settings.cluster {
        None => pathway_diff::session_context(settings).map_err(|e| {
            anyhow::anyhow!("cannot set up the diff engine (memory pool, spill folder): {e}")
        }),
        Some(url) => cluster_session(url).await,
    }
}

#[cfg(feature = "ballista")]
async fn cluster_session(url: &str) -> anyhow::Result<SessionContext> {
    let wait = std::env::var("PATHWAY_CLUSTER_WAIT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(CLUSTER_WAIT, std::time::Duration::from_secs);
    Ok(pathway_cluster::connect(url, wait).await?)
}

#[cfg(not(feature = "ballista"))]
async fn cluster_session(url: &str) -> anyhow::Result<SessionContext> {
    anyhow::bail!(
        "--cluster {url}: Ballista support is not built into this pathway: build it with \
         `--features ballista` (or `--all-features`)"
    )
}

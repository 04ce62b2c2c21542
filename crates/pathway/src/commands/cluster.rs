//! `pathway cluster scheduler` / `pathway cluster executor`: a Ballista cluster whose scheduler
//! and executors know pathway's SQL functions (row hash, fingerprint, classification).
//!
//! ```text
//! pathway cluster scheduler --bind 0.0.0.0 --port 50050
//! pathway cluster executor --scheduler sched.internal:50050 --work-dir /var/lib/pathway
//! pathway run audits/example --input night/ --out /shared/runs --cluster df://sched.internal:50050
//! ```

use crate::ExitStatus;
use crate::cli::ClusterCommand;

/// Serve until interrupted.
///
/// # Errors
/// This build has no Ballista support, an address cannot be bound, or the server fails.
#[cfg(feature = "ballista")]
pub async fn cluster(command: ClusterCommand) -> anyhow::Result<ExitStatus> {
    match command {
        ClusterCommand::Scheduler {
            bind,
            port,
            external_host,
        } => pathway_cluster::run_scheduler(&bind, port, external_host).await?,
        ClusterCommand::Executor {
            scheduler,
            bind,
            port,
            grpc_port,
            work_dir,
            vcores,
        } => {
            pathway_cluster::run_executor(&pathway_cluster::ExecutorSettings {
                scheduler,
                bind,
                port,
                grpc_port,
                work_dir,
                vcores,
            })
            .await?;
        }
    }
    Ok(ExitStatus::Completed)
}

/// Without Ballista support: say how to get it.
///
/// # Errors
/// Always.
#[cfg(not(feature = "ballista"))]
pub async fn cluster(_command: ClusterCommand) -> anyhow::Result<ExitStatus> {
    anyhow::bail!(
        "Ballista support is not built into this pathway: build it with `--features ballista` \
         (or `--all-features`)"
    )
}

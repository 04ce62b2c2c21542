//! Past one machine: the diff's queries on an Apache Ballista cluster.
//!
//! Ballista plans a query on its scheduler and runs its stages on executors; each of them must
//! know the SQL functions the diff calls (`pathway_row_hash`, `pathway_fingerprint`,
//! `pathway_classify`, `pathway_date_shift`). So a pathway cluster is started with the `pathway`
//! binary itself ([`run_scheduler`], [`run_executor`]: `pathway cluster scheduler` and
//! `pathway cluster executor`), and [`connect`] gives a DataFusion session whose queries run
//! there. Tables the queries read (the run's Parquet, the row diff it writes) must be at paths
//! every executor can reach: the same machine, a shared file system, or object storage.
//!
//! ```
//! assert_eq!(
//!     pathway_cluster::parse_address("df://scheduler.internal:50050").unwrap(),
//!     ("scheduler.internal".to_owned(), 50050)
//! );
//! assert!(pathway_cluster::parse_address("http://scheduler:50050").is_err());
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::extension::{
    ballista_aggregate_functions, ballista_scalar_functions, ballista_window_functions,
};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with the cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The address is not `df://host:port`.
    #[error("`{0}` is not a cluster address: write df://HOST:PORT (the scheduler's)")]
    Address(String),
    /// The scheduler did not answer, or no executor joined it in time.
    #[error("cluster {url}: {message}")]
    NotReady {
        /// The address.
        url: String,
        /// What was seen.
        message: String,
    },
    /// Ballista or DataFusion refused.
    #[error("cluster: {0}")]
    Engine(String),
}

/// Host and port of `df://host:port`.
///
/// # Errors
/// Another scheme, or no port.
pub fn parse_address(url: &str) -> Result<(String, u16)> {
    let rest = url
        .strip_prefix("df://")
        .ok_or_else(|| Error::Address(url.to_owned()))?;
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .ok_or_else(|| Error::Address(url.to_owned()))?;
    let port = port.parse().map_err(|_| Error::Address(url.to_owned()))?;
    if host.is_empty() {
        return Err(Error::Address(url.to_owned()));
    }
    Ok((host.to_owned(), port))
}

/// A session whose queries run on the cluster at `url` (`df://host:port`), with pathway's
/// functions. Waits up to `wait` for the scheduler to have an executor.
///
/// # Errors
/// A bad address, or no ready cluster within `wait`.
pub async fn connect(url: &str, wait: Duration) -> Result<SessionContext> {
    let (host, port) = parse_address(url)?;
    wait_until_ready(url, &host, port, wait).await?;
    let config = pathway_diff::without_file_statistics(SessionConfig::new_with_ballista())
        .set_bool("ballista.planner.adaptive.enabled", false);
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .build();
    let ctx = SessionContext::remote_with_state(url, state)
        .await
        .map_err(|e| Error::Engine(e.strip_backtrace()))?;
    // Turning a state into a Ballista one replaces its function lists; add ours back.
    for udf in pathway_diff::scalar_functions() {
        ctx.register_udf(udf);
    }
    for udaf in pathway_diff::aggregate_functions() {
        ctx.register_udaf(udaf);
    }
    Ok(ctx)
}

/// The scheduler's `/readyz` answers 200 once an executor has registered. A job submitted
/// before that would wait forever, so wait here, with a deadline.
async fn wait_until_ready(url: &str, host: &str, port: u16, wait: Duration) -> Result<()> {
    let deadline = Instant::now() + wait;
    loop {
        let last = match readyz(host, port).await {
            Ok(200) => return Ok(()),
            Ok(code) => format!("the scheduler answers /readyz with {code} (no executor yet)"),
            Err(e) => format!("cannot reach the scheduler: {e}"),
        };
        if Instant::now() >= deadline {
            return Err(Error::NotReady {
                url: url.to_owned(),
                message: format!("not ready after {} s: {last}", wait.as_secs()),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn readyz(host: &str, port: u16) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    let request =
        format!("GET /readyz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut response))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer"))??;
    let status = String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok(status)
}

/// Ballista's session defaults plus pathway's functions: what the scheduler plans with and what
/// executors run with.
///
/// # Errors
/// The runtime cannot be built.
pub fn session_state(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let mut scalars = ballista_scalar_functions();
    scalars.extend(pathway_diff::scalar_functions().into_iter().map(Arc::new));
    let mut aggregates = ballista_aggregate_functions();
    aggregates.extend(
        pathway_diff::aggregate_functions()
            .into_iter()
            .map(Arc::new),
    );
    Ok(SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(Arc::new(RuntimeEnvBuilder::new().build()?))
        .with_optimizer_rules(ballista_core::optimizer::ballista_default_optimizer_rules())
        .with_scalar_functions(scalars)
        .with_aggregate_functions(aggregates)
        .with_window_functions(ballista_window_functions())
        .build())
}

async fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Error::Engine(format!("cannot resolve {host}:{port}: {e}")))?
        .next()
        .ok_or_else(|| Error::Engine(format!("cannot resolve {host}:{port}")))
}

/// Serve a Ballista scheduler on `bind:port` until interrupted. `external_host` is the name
/// executors use to call back (default: `localhost`).
///
/// # Errors
/// The address cannot be bound or the scheduler fails.
pub async fn run_scheduler(bind: &str, port: u16, external_host: Option<String>) -> Result<()> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    use ballista_scheduler::scheduler_process::start_server;
    let address = resolve(bind, port).await?;
    let builder: ballista_scheduler::SessionBuilder = Arc::new(session_state);
    let config = SchedulerConfig {
        bind_host: bind.to_owned(),
        bind_port: port,
        external_host: external_host.unwrap_or_else(|| "localhost".to_owned()),
        ..Default::default()
    }
    .with_override_session_builder(builder);
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| Error::Engine(e.to_string()))?;
    tracing::info!("pathway scheduler listening on {address}");
    tokio::select! {
        served = start_server(cluster, address, Arc::new(config)) => {
            served.map_err(|e| Error::Engine(e.to_string()))
        }
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Where an executor listens and whom it works for.
#[derive(Debug, Clone)]
pub struct ExecutorSettings {
    /// `host:port` of the scheduler.
    pub scheduler: String,
    /// Address to bind (a host name is resolved to its IP).
    pub bind: String,
    /// Arrow Flight port (results and shuffle data).
    pub port: u16,
    /// gRPC port (tasks from the scheduler).
    pub grpc_port: u16,
    /// Folder for shuffle files.
    pub work_dir: std::path::PathBuf,
    /// Tasks run at once (0: one per core).
    pub vcores: usize,
}

/// Serve a Ballista executor for the scheduler until interrupted.
///
/// # Errors
/// A bad scheduler address, an unusable work folder, or the executor fails.
pub async fn run_executor(settings: &ExecutorSettings) -> Result<()> {
    use ballista_core::registry::BallistaFunctionRegistry;
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    let (scheduler_host, scheduler_port) = settings
        .scheduler
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| {
            Error::Address(format!(
                "--scheduler {}: write HOST:PORT",
                settings.scheduler
            ))
        })?;
    let bind_ip = resolve(&settings.bind, settings.port)
        .await?
        .ip()
        .to_string();
    std::fs::create_dir_all(&settings.work_dir).map_err(|e| {
        Error::Engine(format!(
            "cannot create the work folder `{}`: {e}",
            settings.work_dir.display()
        ))
    })?;
    let state = session_state(pathway_diff::without_file_statistics(
        SessionConfig::new_with_ballista(),
    ))
    .map_err(|e| Error::Engine(e.strip_backtrace()))?;
    let config = ExecutorProcessConfig {
        bind_host: bind_ip,
        external_host: None,
        port: settings.port,
        grpc_port: settings.grpc_port,
        scheduler_host,
        scheduler_port,
        scheduler_connect_timeout_seconds: 30,
        vcores: settings.vcores,
        work_dir: Some(settings.work_dir.display().to_string()),
        override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&state))),
        ..Default::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| Error::Engine(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_df_host_port() {
        assert_eq!(
            parse_address("df://127.0.0.1:50050").unwrap(),
            ("127.0.0.1".to_owned(), 50050)
        );
        assert_eq!(
            parse_address("df://scheduler.internal:50050/").unwrap(),
            ("scheduler.internal".to_owned(), 50050)
        );
        for bad in ["http://h:1", "df://h", "df://:1", "df://h:port"] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }
}

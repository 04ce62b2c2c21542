//! Database tables and queries as DataFusion tables.
//!
//! A table (or view) becomes the provider of `datafusion-table-providers`: DataFusion sends the
//! columns it needs, the filters it can express in the database's SQL (the district filter among
//! them) and any limit to the database, and rows stream back 4,000 at a time. A query becomes a
//! query table: the same, with the query as a derived table
//! (`SELECT cols FROM (<query>) AS pathway_source WHERE ...`).

use std::sync::Arc;

use datafusion::datasource::TableProvider;
use pathway_audit::Relation;

use crate::error::{Error, Result};
use crate::url::{DatabaseUrl, Engine};

/// An open connection pool to one database.
pub struct Database {
    url: DatabaseUrl,
    pool: Pool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({})", self.url.redacted())
    }
}

enum Pool {
    #[cfg(feature = "postgres")]
    Postgres(
        Arc<datafusion_table_providers::sql::db_connection_pool::postgrespool::PostgresConnectionPool>,
    ),
    #[cfg(feature = "mysql")]
    Mysql(Arc<datafusion_table_providers::sql::db_connection_pool::mysqlpool::MySQLConnectionPool>),
}

/// Connect to the database of `url` (a pool; the first connection is opened to check it).
///
/// # Errors
/// Support for the engine is not built in, or the database cannot be reached or refuses the login.
pub async fn connect(url: &DatabaseUrl) -> Result<Database> {
    let pool = match url.engine {
        Engine::Postgres => connect_postgres(url).await?,
        Engine::Mysql => connect_mysql(url).await?,
    };
    Ok(Database {
        url: url.clone(),
        pool,
    })
}

#[cfg(not(all(feature = "postgres", feature = "mysql")))]
fn not_built(engine: Engine) -> Error {
    Error::NotBuilt {
        engine: engine.name(),
        feature: engine.feature(),
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn connect_error(url: &DatabaseUrl, message: &str) -> Error {
    Error::Connect {
        url: url.redacted().to_owned(),
        message: scrub(message, url),
    }
}

#[cfg(feature = "postgres")]
async fn connect_postgres(url: &DatabaseUrl) -> Result<Pool> {
    use datafusion_table_providers::sql::db_connection_pool::postgrespool::PostgresConnectionPool;
    let pool = PostgresConnectionPool::new(postgres_params(url))
        .await
        .map_err(|e| connect_error(url, &e.to_string()))?;
    Ok(Pool::Postgres(Arc::new(pool)))
}

#[cfg(not(feature = "postgres"))]
async fn connect_postgres(_url: &DatabaseUrl) -> Result<Pool> {
    Err(not_built(Engine::Postgres))
}

#[cfg(feature = "mysql")]
async fn connect_mysql(url: &DatabaseUrl) -> Result<Pool> {
    use datafusion_table_providers::sql::db_connection_pool::mysqlpool::MySQLConnectionPool;
    let pool = MySQLConnectionPool::new(mysql_params(url))
        .await
        .map_err(|e| connect_error(url, &e.to_string()))?;
    Ok(Pool::Mysql(Arc::new(pool)))
}

#[cfg(not(feature = "mysql"))]
async fn connect_mysql(_url: &DatabaseUrl) -> Result<Pool> {
    Err(not_built(Engine::Mysql))
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
type Secrets = std::collections::HashMap<String, secrecy::SecretString>;

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn secrets(pairs: Vec<(&str, String)>) -> Secrets {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), secrecy::SecretString::from(v)))
        .collect()
}

#[cfg(feature = "postgres")]
fn postgres_params(url: &DatabaseUrl) -> Secrets {
    let mut pairs = vec![
        ("host", url.host.clone()),
        ("port", url.port.to_string()),
        ("user", url.user.clone()),
        ("db", url.database.clone()),
        // libpq's default: TLS when the server offers it.
        (
            "sslmode",
            url.param("sslmode").unwrap_or("prefer").to_lowercase(),
        ),
        ("application_name", "pathway".to_owned()),
    ];
    if let Some(root) = url.param("sslrootcert") {
        pairs.push(("sslrootcert", root.to_owned()));
    }
    if let Some(password) = url.password() {
        pairs.push(("pass", password.to_owned()));
    }
    secrets(pairs)
}

#[cfg(feature = "mysql")]
fn mysql_params(url: &DatabaseUrl) -> Secrets {
    let loopback = matches!(url.host.as_str(), "127.0.0.1" | "localhost" | "::1");
    let default_ssl = if loopback { "disabled" } else { "required" };
    let mut pairs = vec![
        ("host", url.host.clone()),
        ("tcp_port", url.port.to_string()),
        ("user", url.user.clone()),
        ("db", url.database.clone()),
        (
            "sslmode",
            url.param("sslmode")
                .or_else(|| url.param("ssl-mode"))
                .unwrap_or(default_ssl)
                .to_lowercase(),
        ),
    ];
    if let Some(root) = url.param("sslrootcert") {
        pairs.push(("sslrootcert", root.to_owned()));
    }
    if let Some(password) = url.password() {
        pairs.push(("pass", password.to_owned()));
    }
    secrets(pairs)
}

/// A driver's message with the password taken out, should it ever quote it.
#[must_use]
pub fn scrub(message: &str, url: &DatabaseUrl) -> String {
    match url.password() {
        Some(password) if password.len() >= 3 => message.replace(password, "***"),
        _ => message.to_owned(),
    }
}

impl Database {
    /// The URL this pool connects to.
    #[must_use]
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A DataFusion table reading `relation`.
    ///
    /// # Errors
    /// The table does not exist, has a column of a type with no Arrow mapping, or the query
    /// fails or returns no rows to learn its columns from.
    pub async fn provider(&self, relation: &Relation) -> Result<Arc<dyn TableProvider>> {
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        {
            self.open(relation)
                .await
                .map_err(|message| Error::Relation {
                    url: self.url.redacted().to_owned(),
                    relation: relation.to_string(),
                    message: scrub(&message, &self.url),
                })
        }
        #[cfg(not(any(feature = "postgres", feature = "mysql")))]
        {
            // No pool can exist without a built-in engine.
            let _ = relation;
            match self.pool {}
        }
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    async fn open(
        &self,
        relation: &Relation,
    ) -> std::result::Result<Arc<dyn TableProvider>, String> {
        match (&self.pool, relation) {
            #[cfg(feature = "postgres")]
            (Pool::Postgres(pool), Relation::Table(table)) => {
                datafusion_table_providers::postgres::PostgresTableFactory::new(pool.clone())
                    .table_provider(table_reference(table))
                    .await
                    .map_err(|e| e.to_string())
            }
            #[cfg(feature = "postgres")]
            (Pool::Postgres(pool), Relation::Query(query)) => {
                let pool: Arc<datafusion_table_providers::postgres::DynPostgresConnectionPool> =
                    pool.clone();
                crate::query_table::QueryTable::new(pool, query, Engine::Postgres)
                    .await
                    .map(|t| Arc::new(t) as Arc<dyn TableProvider>)
            }
            #[cfg(feature = "mysql")]
            (Pool::Mysql(pool), Relation::Table(table)) => {
                datafusion_table_providers::mysql::MySQLTableFactory::new(pool.clone())
                    .table_provider(table_reference(table))
                    .await
                    .map_err(|e| e.to_string())
            }
            #[cfg(feature = "mysql")]
            (Pool::Mysql(pool), Relation::Query(query)) => {
                let pool: Arc<datafusion_table_providers::mysql::DynMySQLConnectionPool> =
                    pool.clone();
                crate::query_table::QueryTable::new(pool, query, Engine::Mysql)
                    .await
                    .map(|t| Arc::new(t) as Arc<dyn TableProvider>)
            }
        }
    }
}

/// `schema.table` or `table`, as written (names are not folded to lower case).
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn table_reference(table: &str) -> datafusion::common::TableReference {
    match table.split_once('.') {
        Some((schema, name)) => {
            datafusion::common::TableReference::partial(schema.trim(), name.trim())
        }
        None => datafusion::common::TableReference::bare(table.trim()),
    }
}

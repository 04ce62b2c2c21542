//! Scratch schemas on the real test servers (written once here, not in each test crate).
//!
//! The servers are PostgreSQL at `PATHWAY_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and MySQL/MariaDB at `PATHWAY_TEST_MYSQL_URL`
//! (default `mysql://root@127.0.0.1:3306/test`). Setup runs through the `psql` and `mariadb` (or
//! `mysql`) command-line clients. An unreachable server skips the test with a message, unless
//! `CI` is set: then the test fails.

use std::process::Command;

use percent_encoding::percent_decode_str;

/// The PostgreSQL URL the tests use.
#[must_use]
pub fn postgres_url() -> String {
    std::env::var("PATHWAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The MySQL URL the tests use.
#[must_use]
pub fn mysql_url() -> String {
    std::env::var("PATHWAY_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn unique(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("pathway_{label}_{}_{nanos}", std::process::id())
}

fn skip_unreachable(server: &str, why: &str) -> Option<std::convert::Infallible> {
    assert!(
        std::env::var_os("CI").is_none(),
        "{server} is needed by this test and CI is set: {why}"
    );
    eprintln!("skipping: {server} is not reachable ({why})");
    None
}

/// A PostgreSQL schema that exists for the life of the value.
#[derive(Debug)]
pub struct PgSchema {
    /// The server's URL (as configured).
    pub url: String,
    /// Schema name, unique per test run.
    pub schema: String,
}

impl PgSchema {
    /// Create a fresh schema; `None` (with a message) when the server cannot be reached and `CI`
    /// is not set.
    ///
    /// # Panics
    /// When the server cannot be reached and `CI` is set, or creating the schema fails.
    #[must_use]
    pub fn create(label: &str) -> Option<PgSchema> {
        let url = postgres_url();
        if let Err(why) = psql(&url, "SELECT 1") {
            skip_unreachable("PostgreSQL", &why)?;
        }
        let schema = unique(label);
        psql(&url, &format!("CREATE SCHEMA {schema}")).expect("create the test schema");
        Some(PgSchema { url, schema })
    }

    /// Run SQL (any number of statements); returns psql's unaligned output.
    ///
    /// # Panics
    /// When a statement fails.
    #[must_use]
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.url, sql).unwrap_or_else(|e| panic!("psql: {e}\n{sql}"))
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = psql(
            &self.url,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
        );
    }
}

fn psql(url: &str, sql: &str) -> Result<String, String> {
    let output = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// A MySQL/MariaDB database that exists for the life of the value.
#[derive(Debug)]
pub struct MyDatabase {
    /// A URL to the new database.
    pub url: String,
    /// Database name, unique per test run.
    pub name: String,
    server: String,
}

impl MyDatabase {
    /// Create a fresh database; `None` (with a message) when the server cannot be reached and
    /// `CI` is not set.
    ///
    /// # Panics
    /// When the server cannot be reached and `CI` is set, or creating the database fails.
    #[must_use]
    pub fn create(label: &str) -> Option<MyDatabase> {
        let server = mysql_url();
        if let Err(why) = mysql(&server, None, "SELECT 1") {
            skip_unreachable("MySQL/MariaDB", &why)?;
        }
        let name = unique(label);
        mysql(&server, None, &format!("CREATE DATABASE {name}")).expect("create the test database");
        let (base, query) = server
            .split_once('?')
            .map_or((server.as_str(), ""), |(b, q)| (b, q));
        let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
        let url = if query.is_empty() {
            format!("{base}/{name}")
        } else {
            format!("{base}/{name}?{query}")
        };
        Some(MyDatabase { url, name, server })
    }

    /// Run SQL (any number of statements) in the database; returns the client's tab-separated
    /// output.
    ///
    /// # Panics
    /// When a statement fails.
    #[must_use]
    pub fn sql(&self, sql: &str) -> String {
        mysql(&self.server, Some(&self.name), sql).unwrap_or_else(|e| panic!("mysql: {e}\n{sql}"))
    }
}

impl Drop for MyDatabase {
    fn drop(&mut self) {
        let _ = mysql(
            &self.server,
            None,
            &format!("DROP DATABASE IF EXISTS {}", self.name),
        );
    }
}

fn mysql(url: &str, database: Option<&str>, sql: &str) -> Result<String, String> {
    let url = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let decoded = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
    let (host, port) = (
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(3306),
    );
    let (user, server_database) = (
        decoded(url.username()),
        decoded(url.path().trim_start_matches('/')),
    );
    let client = if Command::new("mariadb").arg("--version").output().is_ok() {
        "mariadb"
    } else {
        "mysql"
    };
    let mut command = Command::new(client);
    command
        .arg("--batch")
        .arg("--skip-column-names")
        .arg(format!("--host={host}"))
        .arg(format!("--port={port}"))
        .arg(format!("--user={user}"))
        .arg(format!(
            "--database={}",
            database.unwrap_or(&server_database)
        ))
        .arg(format!("--execute={sql}"));
    if let Some(password) = url.password() {
        command.env("MYSQL_PWD", decoded(password));
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run {client}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

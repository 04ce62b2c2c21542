//! Databases as sources and as a destination.
//!
//! In the original beta pathway the new code wrote its output into a second set of tables in the
//! production database, and the morning diff ran over both sets. This crate makes such tables
//! usable as either side of an audit or of `pathway diff`:
//!
//! - [`DatabaseUrl`] parses `postgres://` and `mysql://` URLs, expands `${VAR}`, finds passwords
//!   where the database tools do (`PGPASSWORD`, `~/.pgpass`, `MYSQL_PWD`, `~/.my.cnf`) and shows
//!   only the redacted form;
//! - [`connect`] opens a pool, and [`Database::provider`] turns a table or a query into a
//!   DataFusion table (through `datafusion-table-providers`), with projections and filters run
//!   by the database and rows streamed;
//! - [`scrub`] takes a password out of a driver's message, for every error that quotes one.
//!
//! Publishing a night into PostgreSQL is the night's business (`pathway-night`'s `warehouse`),
//! built on these URLs.
//!
//! PostgreSQL and MySQL support are the cargo features `postgres` and `mysql`; without them every
//! URL parses and [`connect`] says which feature to build.
//!
//! ```
//! use pathway_db::{DatabaseUrl, Engine};
//! let url = DatabaseUrl::parse("postgres://etl:s3cret@sis-db:5432/nightly?schema=beta").unwrap();
//! assert_eq!(url.engine, Engine::Postgres);
//! assert_eq!(url.param("schema"), Some("beta"));
//! // What logs, errors and reports show: never the password.
//! assert!(!url.redacted().contains("s3cret"));
//! ```

mod error;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod query_table;
mod source;
mod url;

pub use error::{Error, Result};
pub use source::{Database, connect, scrub};
pub use url::{DatabaseUrl, Engine, Lookup, redact};

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
//! - [`publish`] writes a run's summary, column diff and history into PostgreSQL tables, upserted
//!   in one transaction, for the BI tools a team already has.
//!
//! PostgreSQL and MySQL support are the cargo features `postgres` and `mysql`; without them every
//! URL parses and [`connect`] says which feature to build.

mod error;
mod publish;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod query_table;
mod source;
#[doc(hidden)]
pub mod testing;
mod url;

pub use error::{Error, Result};
pub use publish::{PublishCounts, PublishRows, publish};
pub use source::{Database, connect};
pub use url::{DatabaseUrl, Engine, Lookup, redact};

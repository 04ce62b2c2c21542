//! What pathway's tests share, so each rule is written once and no production crate carries
//! test code: scratch schemas on the real PostgreSQL and MariaDB servers ([`databases`]), and
//! the repository's fixtures and output files read back ([`files`]). A dev-dependency only.
//!
//! ```no_run
//! use pathway_testkit::databases::PgSchema;
//! // A fresh schema, dropped with the value; `None` (skipped) when the server is down and
//! // `CI` is not set, a failing test when it is.
//! let Some(schema) = PgSchema::create("example") else { return };
//! schema.sql(&format!("CREATE TABLE {}.students (student_id text)", schema.schema));
//! let rows = pathway_testkit::files::read_csv(&pathway_testkit::files::repo_root().join("x.csv"));
//! # let _ = rows;
//! ```

pub mod databases;
pub mod files;

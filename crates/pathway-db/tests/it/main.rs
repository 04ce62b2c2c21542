//! Database sources against the real servers (PostgreSQL and MariaDB, see
//! `pathway_testkit::databases` for which, and when a test is skipped), one binary.

mod mysql;
mod postgres;

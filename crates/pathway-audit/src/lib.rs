//! Audit definitions: what to read, which transforms to run, how to compare.
//!
//! An audit lives in a folder:
//!
//! ```text
//! audits/example/
//!   audit.toml          inputs (raw tables) and output tables (keys, ignored and personal columns)
//!   legacy/<table>.sql  one DataFusion SELECT per output table, the legacy transform
//!   beta/<table>.sql    the same tables, the new (beta) transform
//! ```
//!
//! [`AuditSpec::load`] parses and validates the whole folder into plain data. Every error names the
//! audit and the file (and, for TOML syntax errors, the line and column), so a user can fix it
//! without reading this crate.
//!
//! ```no_run
//! let audit = pathway_audit::AuditSpec::load(std::path::Path::new("audits/example")).unwrap();
//! for table in &audit.tables {
//!     println!("{}: key {:?}", table.name, table.key);
//! }
//! ```

mod code_map;
mod error;
pub mod names;
mod spec;

pub use code_map::{CodeMap, CodeMapEntry, Lookup, parse_school_year};
pub use error::{Error, Result};
pub use spec::{
    Accepted, AuditSpec, CASTS, CATEGORIES, CommandSpec, DatabaseSpec, Encoding, InputFormat,
    InputSpec, Relation, Rules, Side, SqlFile, TableSpec, Transform, format_from_name,
    read_expected_pairs,
};

//! A deliberately naive reference diff, and random table pairs to hold the engine against it.
//!
//! The engine (`pathway-diff`) answers with fingerprints, chunks, hash ranges and SQL joins; each
//! of those paths can be wrong one step beside the shapes its own tests use. This crate answers
//! the same question the slow, obvious way — rows in memory, grouped, paired by key, compared
//! cell by cell — following `docs/cli.md`'s exact semantics and sharing no code with the engine.
//! The differential tests generate pairs ([`generate`]), run both, read back what the engine
//! wrote ([`output`]) and require every field to agree ([`output::differences`]).
//!
//! - [`value`]: column types, cells, and the rule by which two cells compare;
//! - [`table`]: a table in memory and the Parquet, CSV and JSON-lines files holding it;
//! - [`diff`]: the reference diff;
//! - [`generate`]: random pairs from a seed;
//! - [`output`]: the engine's files read back, and the differences between two outcomes.
//!
//! ```
//! use pathway_reference::{Shapes, diff, generate};
//! // The same seed gives the same pair, so a failing case is reproduced from its seed alone.
//! let case = generate(7, Shapes::default());
//! assert_eq!(generate(7, Shapes::default()).describe(), case.describe());
//! if let Ok(outcome) = diff(&case.legacy, &case.beta, &case.options) {
//!     // One summary row per group, as the engine's summary.csv has.
//!     assert!(outcome.summary.windows(2).all(|w| w[0].group < w[1].group));
//! }
//! ```
// The reference spells out docs/cli.md's semantics case by case, to be obviously right rather
// than well factored: long functions walking every case, `l`/`b` for the two sides. Its options
// and values mirror `pathway diff`'s, whose documentation is docs/cli.md.
#![allow(
    missing_docs,
    clippy::too_many_lines,
    clippy::many_single_char_names,
    clippy::match_same_arms,
    clippy::items_after_statements,
    clippy::type_complexity,
    clippy::comparison_chain,
    clippy::needless_pass_by_value
)]

pub mod diff;
pub mod generate;
pub mod output;
pub mod table;
pub mod value;

pub use diff::{ColumnRow, DiffRow, Options, Outcome, Refusal, Rules, SummaryRow, diff};
pub use generate::{Case, Rng, Shapes, generate};
pub use table::Table;

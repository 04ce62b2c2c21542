//! Row hashes, and the footprints pathway writes into the footers of its own Parquet files.
//!
//! One hash function serves two rooms. The diff's triage (`pathway-diff`) hashes rows to find,
//! without a join, the groups and keys whose rows differ; the transform's writer
//! (`pathway-transform`) hashes the rows it writes and keeps a [`Footprint`] (rows,
//! fingerprint, duplicated and null keys) in the file's footer, so that the diff of a run's own
//! outputs can decide a district whose two footprints agree without reading it.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Int64Array, RecordBatch};
//! use arrow::datatypes::{DataType, Field, Schema};
//!
//! let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
//! let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 1, 2]))])
//!     .unwrap();
//! let mut builder = pathway_hash::FootprintBuilder::new(&schema, &["id".into()], &[]).unwrap();
//! builder.add(&batch).unwrap();
//! let footprint = builder.finish();
//! assert_eq!((footprint.rows, footprint.dup_keys), (3, 1));
//! ```

mod footprint;
mod rows;

pub use footprint::{
    FOOTPRINT_VERSION, Footprint, FootprintBuilder, footprint_columns, type_class,
};
pub use rows::{MASK, canonical_floats, combine, hash_rows};

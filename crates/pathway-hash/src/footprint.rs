//! Footprints: what pathway learnt of a Parquet file while writing it, kept in the file's footer
//! so that the diff need not read the file again to learn it.
//!
//! A [`Footprint`] holds the file's row count, the fingerprint of its rows (the sum of their
//! [`hash_rows`] hashes, so order does not matter but multiplicity does), and for the audit's key
//! the number of duplicated keys and of rows with a null key part. It is computed over the
//! batches as they are written ([`FootprintBuilder`]), and stored as key-value metadata under
//! `pathway.footprint.*` with a version and the columns (names and type classes) it covers. A
//! reader uses it only when the version is its own and the columns are those it would hash
//! itself; anything else (another version, a file rewritten by another tool, a missing field)
//! reads as no footprint, and the caller computes.

use std::fs::File;
use std::path::Path;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Schema};
use arrow::error::ArrowError;
use parquet::file::metadata::{KeyValue, ParquetMetaDataReader};

use crate::rows::{combine, hash_rows};

/// Bumped whenever [`hash_rows`] or the meaning of a field changes: footprints of another
/// version are not used.
pub const FOOTPRINT_VERSION: &str = "1";

const VERSION: &str = "pathway.footprint.version";
const COLUMNS: &str = "pathway.footprint.columns";
const KEY: &str = "pathway.footprint.key";
const ROWS: &str = "pathway.footprint.rows";
const FINGERPRINT: &str = "pathway.footprint.fingerprint";
const DUP_KEYS: &str = "pathway.footprint.dup_keys";
const NULL_KEY_ROWS: &str = "pathway.footprint.null_key_rows";
const DUP_ROWS: &str = "pathway.footprint.dup_rows";

/// A footprint lists the positions of the rows under duplicated keys up to this many.
pub const MAX_DUP_ROWS: usize = 4096;

/// What pathway knows of one file it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    /// The columns hashed, as the diff names them (a beta column under its legacy name when the
    /// audit renames it), each with its [`type_class`], sorted by name.
    pub columns: Vec<(String, String)>,
    /// The key the two key counts are of, without the group column.
    pub key: Vec<String>,
    /// Rows in the file.
    pub rows: u64,
    /// Sum of the rows' hashes over `columns` in that order, modulo 2^126.
    pub fingerprint: i128,
    /// Keys held by more than one row.
    pub dup_keys: u64,
    /// Rows with a null in some key column.
    pub null_key_rows: u64,
    /// The positions in the file (from 0, in order) of the rows under duplicated keys, when
    /// there are some, at most [`MAX_DUP_ROWS`]: the only rows the diff must read of a file
    /// whose footprint matches the other side's.
    pub dup_rows: Option<Vec<u64>>,
}

/// The class of a type as hashed: text and binary hash by their bytes whatever their Arrow
/// layout (a `Utf8` column written is read back as `Utf8View`), other types by their own name.
#[must_use]
pub fn type_class(t: &DataType) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".to_owned(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".to_owned(),
        other => other.to_string(),
    }
}

/// The columns of `schema` as a footprint lists them: each name after `rename` ((legacy name,
/// beta name) pairs: a column named as beta is listed under its legacy name), with its type
/// class, sorted by name; with each column's position in `schema`. `None` when two columns
/// would share a name.
fn listed_columns(
    schema: &Schema,
    rename: &[(String, String)],
) -> Option<Vec<(String, String, usize)>> {
    let mut columns: Vec<(String, String, usize)> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = rename
                .iter()
                .find(|(_, beta)| beta == f.name())
                .map_or_else(|| f.name().clone(), |(legacy, _)| legacy.clone());
            (name, type_class(f.data_type()), i)
        })
        .collect();
    columns.sort();
    if columns.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    Some(columns)
}

/// The columns a footprint of a file of `schema` would list (see [`Footprint::columns`]), for
/// checking a stored footprint against the table a reader sees. `None` when two columns would
/// share a name.
#[must_use]
pub fn footprint_columns(
    schema: &Schema,
    rename: &[(String, String)],
) -> Option<Vec<(String, String)>> {
    listed_columns(schema, rename).map(|c| c.into_iter().map(|(n, t, _)| (n, t)).collect())
}

/// Computes a [`Footprint`] from the batches of one file as they are written.
#[derive(Debug)]
pub struct FootprintBuilder {
    hashing: Hashing,
    sums: Sums,
}

/// Which columns of a batch are hashed, for the rows and for the key.
#[derive(Debug, Clone)]
struct Hashing {
    columns: Vec<(String, String)>,
    /// Positions in the batches of the hashed columns, in the order of `columns`.
    order: Vec<usize>,
    key: Vec<String>,
    /// Positions of the key columns, in the key's order.
    key_positions: Vec<usize>,
}

/// What a footprint adds up, over the rows seen so far.
#[derive(Debug, Clone, Default)]
struct Sums {
    rows: u64,
    fingerprint: i128,
    key_hashes: Vec<i128>,
    null_key_rows: u64,
}

/// The hashes of one batch's rows: of the whole row, of its key, and whether a key part is null.
struct Hashed {
    rows: Vec<i128>,
    keys: Option<Vec<i128>>,
    null_key: Option<Vec<bool>>,
}

impl Hashing {
    fn new(schema: &Schema, key: &[String], rename: &[(String, String)]) -> Option<Self> {
        let listed = listed_columns(schema, rename)?;
        let mut key_positions = Vec::new();
        for k in key {
            let (_, _, position) = listed.iter().find(|(name, _, _)| name == k)?;
            key_positions.push(*position);
        }
        Some(Hashing {
            order: listed.iter().map(|(_, _, i)| *i).collect(),
            columns: listed.into_iter().map(|(n, t, _)| (n, t)).collect(),
            key: key.to_vec(),
            key_positions,
        })
    }

    fn hash(&self, batch: &RecordBatch) -> Result<Hashed, ArrowError> {
        let pick = |positions: &[usize]| -> Vec<ArrayRef> {
            positions.iter().map(|&i| batch.column(i).clone()).collect()
        };
        let mut rows = hash_rows(&pick(&self.order))?;
        // Rows of no column at all are all alike: their count, compared on its own, tells.
        rows.resize(batch.num_rows(), 0);
        if self.key_positions.is_empty() {
            return Ok(Hashed {
                rows,
                keys: None,
                null_key: None,
            });
        }
        let key = pick(&self.key_positions);
        let nulls: Vec<_> = key
            .iter()
            .filter_map(arrow::array::Array::logical_nulls)
            .collect();
        let null_key = (!nulls.is_empty()).then(|| {
            (0..batch.num_rows())
                .map(|row| nulls.iter().any(|n| n.is_null(row)))
                .collect()
        });
        Ok(Hashed {
            rows,
            keys: Some(hash_rows(&key)?),
            null_key,
        })
    }

    fn footprint(&self, sums: &Sums) -> Footprint {
        let mut sorted = sums.key_hashes.clone();
        sorted.sort_unstable();
        let mut duplicated = Vec::new();
        let mut i = 0;
        while i < sorted.len() {
            let mut j = i + 1;
            while j < sorted.len() && sorted[j] == sorted[i] {
                j += 1;
            }
            if j - i > 1 {
                duplicated.push(sorted[i]);
            }
            i = j;
        }
        let dup_keys = duplicated.len() as u64;
        let dup_rows = (!duplicated.is_empty())
            .then(|| {
                sums.key_hashes
                    .iter()
                    .enumerate()
                    .filter(|(_, hash)| duplicated.binary_search(hash).is_ok())
                    .map(|(position, _)| position as u64)
                    .take(MAX_DUP_ROWS + 1)
                    .collect::<Vec<u64>>()
            })
            .filter(|rows| rows.len() <= MAX_DUP_ROWS);
        Footprint {
            columns: self.columns.clone(),
            key: self.key.clone(),
            rows: sums.rows,
            fingerprint: sums.fingerprint,
            dup_keys,
            null_key_rows: sums.null_key_rows,
            dup_rows,
        }
    }
}

impl Sums {
    /// Add row `row` of `hashed`.
    fn add(&mut self, hashed: &Hashed, row: usize) {
        self.rows += 1;
        self.fingerprint = combine(self.fingerprint, hashed.rows[row]);
        if let Some(keys) = &hashed.keys {
            self.key_hashes.push(keys[row]);
        }
        if hashed.null_key.as_ref().is_some_and(|n| n[row]) {
            self.null_key_rows += 1;
        }
    }
}

impl FootprintBuilder {
    /// A builder for batches of `schema`, whose key is `key` (legacy names) and whose columns
    /// the audit renames by `rename` ((legacy name, beta name) pairs; empty for the legacy
    /// side). `None` when a key column is missing or two columns would share a name: the file
    /// then gets no footprint, and the diff says what is wrong.
    #[must_use]
    pub fn new(schema: &Schema, key: &[String], rename: &[(String, String)]) -> Option<Self> {
        Some(FootprintBuilder {
            hashing: Hashing::new(schema, key, rename)?,
            sums: Sums::default(),
        })
    }

    /// Add one batch (of the schema the builder was made for).
    ///
    /// # Errors
    /// A column type Arrow's row format cannot encode.
    pub fn add(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let hashed = self.hashing.hash(batch)?;
        for row in 0..batch.num_rows() {
            self.sums.add(&hashed, row);
        }
        Ok(())
    }

    /// The footprint of every batch added.
    #[must_use]
    pub fn finish(self) -> Footprint {
        self.hashing.footprint(&self.sums)
    }
}

/// A list as one metadata value: each item's length, a colon, the item; so any name survives.
fn join_list(items: impl IntoIterator<Item = String>) -> String {
    use std::fmt::Write;
    items.into_iter().fold(String::new(), |mut joined, s| {
        let _ = write!(joined, "{}:{s}", s.len());
        joined
    })
}

fn split_list(mut text: &str) -> Option<Vec<String>> {
    let mut items = Vec::new();
    while !text.is_empty() {
        let (len, rest) = text.split_once(':')?;
        let len: usize = len.parse().ok()?;
        items.push(rest.get(..len)?.to_owned());
        text = rest.get(len..)?;
    }
    Some(items)
}

impl Footprint {
    /// The footprint as Parquet key-value metadata.
    #[must_use]
    pub fn to_key_values(&self) -> Vec<KeyValue> {
        let columns = join_list(
            self.columns
                .iter()
                .flat_map(|(name, class)| [name.clone(), class.clone()]),
        );
        vec![
            KeyValue::new(VERSION.to_owned(), FOOTPRINT_VERSION.to_owned()),
            KeyValue::new(COLUMNS.to_owned(), columns),
            KeyValue::new(KEY.to_owned(), join_list(self.key.iter().cloned())),
            KeyValue::new(ROWS.to_owned(), self.rows.to_string()),
            KeyValue::new(FINGERPRINT.to_owned(), self.fingerprint.to_string()),
            KeyValue::new(DUP_KEYS.to_owned(), self.dup_keys.to_string()),
            KeyValue::new(NULL_KEY_ROWS.to_owned(), self.null_key_rows.to_string()),
        ]
        .into_iter()
        .chain(self.dup_rows.as_ref().map(|rows| {
            let list: Vec<String> = rows.iter().map(u64::to_string).collect();
            KeyValue::new(DUP_ROWS.to_owned(), list.join(","))
        }))
        .collect()
    }

    /// The footprint in `metadata`, if it holds one of this version. `file_rows` is the row
    /// count the file's own metadata gives: a footprint that disagrees is not used.
    #[must_use]
    pub fn from_key_values(metadata: &[KeyValue], file_rows: u64) -> Option<Footprint> {
        let get = |key: &str| {
            metadata
                .iter()
                .find(|kv| kv.key == key)
                .and_then(|kv| kv.value.as_deref())
        };
        if get(VERSION)? != FOOTPRINT_VERSION {
            return None;
        }
        let flat = split_list(get(COLUMNS)?)?;
        if flat.len() % 2 != 0 {
            return None;
        }
        let columns = flat
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
        let footprint = Footprint {
            columns,
            key: split_list(get(KEY)?)?,
            rows: get(ROWS)?.parse().ok()?,
            fingerprint: get(FINGERPRINT)?.parse().ok()?,
            dup_keys: get(DUP_KEYS)?.parse().ok()?,
            null_key_rows: get(NULL_KEY_ROWS)?.parse().ok()?,
            dup_rows: match get(DUP_ROWS) {
                None => None,
                Some(list) => Some(
                    list.split(',')
                        .map(|n| n.parse::<u64>().ok().filter(|&n| n < file_rows))
                        .collect::<Option<Vec<u64>>>()?,
                ),
            },
        };
        (footprint.rows == file_rows).then_some(footprint)
    }

    /// The footprint in the footer of the Parquet file at `path`; `None` when the file cannot
    /// be read or holds none of this version. Reads only the footer.
    #[must_use]
    pub fn read(path: &Path) -> Option<Footprint> {
        let file = File::open(path).ok()?;
        let metadata = ParquetMetaDataReader::new().parse_and_finish(&file).ok()?;
        let file_metadata = metadata.file_metadata();
        let rows = u64::try_from(file_metadata.num_rows()).ok()?;
        Footprint::from_key_values(file_metadata.key_value_metadata()?, rows)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::Field;
    use parquet::arrow::ArrowWriter;

    use super::*;

    fn schema(names: &[(&str, DataType)]) -> Arc<Schema> {
        Arc::new(Schema::new(
            names
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        ))
    }

    fn footprint(batches: &[RecordBatch], key: &[&str], rename: &[(&str, &str)]) -> Footprint {
        let key: Vec<String> = key.iter().map(|k| (*k).to_owned()).collect();
        let rename: Vec<(String, String)> = rename
            .iter()
            .map(|(l, b)| ((*l).to_owned(), (*b).to_owned()))
            .collect();
        let mut builder = FootprintBuilder::new(&batches[0].schema(), &key, &rename).unwrap();
        for batch in batches {
            builder.add(batch).unwrap();
        }
        builder.finish()
    }

    #[test]
    fn counts_rows_duplicated_and_null_keys_whatever_the_batches() {
        let s = schema(&[("id", DataType::Utf8), ("score", DataType::Float64)]);
        let batch = |ids: Vec<Option<&str>>, scores: Vec<f64>| {
            RecordBatch::try_new(
                s.clone(),
                vec![
                    Arc::new(StringArray::from(ids)),
                    Arc::new(Float64Array::from(scores)),
                ],
            )
            .unwrap()
        };
        // "a" three times, "b" twice, "c" once, null twice (the nulls are one key too, as the
        // diff hashes them).
        let one = footprint(
            &[
                batch(vec![Some("a"), Some("b"), None], vec![1.0, 2.0, 3.0]),
                batch(
                    vec![Some("a"), Some("c"), Some("b"), Some("a"), None],
                    vec![4.0, -0.0, 5.0, 6.0, 7.0],
                ),
            ],
            &["id"],
            &[],
        );
        assert_eq!((one.rows, one.dup_keys, one.null_key_rows), (8, 3, 2));
        // Every row but "c"'s (position 4) is under a duplicated key.
        assert_eq!(one.dup_rows, Some(vec![0, 1, 2, 3, 5, 6, 7]));
        // The same rows in another order and other batches: the same footprint (-0.0 is 0.0),
        // but for where the duplicated rows are.
        let other = footprint(
            &[batch(
                vec![
                    None,
                    Some("a"),
                    Some("c"),
                    Some("b"),
                    Some("a"),
                    Some("a"),
                    None,
                    Some("b"),
                ],
                vec![7.0, 6.0, 0.0, 5.0, 4.0, 1.0, 3.0, 2.0],
            )],
            &["id"],
            &[],
        );
        assert_eq!(other.dup_rows, Some(vec![0, 1, 3, 4, 5, 6, 7]));
        assert_eq!(
            Footprint {
                dup_rows: None,
                ..one.clone()
            },
            Footprint {
                dup_rows: None,
                ..other
            }
        );
        // One value changed: another fingerprint, the same counts.
        let changed = footprint(
            &[batch(
                vec![
                    None,
                    Some("a"),
                    Some("c"),
                    Some("b"),
                    Some("a"),
                    Some("a"),
                    None,
                    Some("b"),
                ],
                vec![7.0, 6.0, 0.0, 5.0, 4.0, 1.0, 3.0, 2.5],
            )],
            &["id"],
            &[],
        );
        assert_ne!(one.fingerprint, changed.fingerprint);
        assert_eq!((changed.rows, changed.dup_keys), (8, 3));
    }

    #[test]
    fn a_renamed_beta_file_has_the_footprint_of_the_legacy_file_with_the_same_rows() {
        let legacy = schema(&[("id", DataType::Int64), ("last", DataType::Utf8)]);
        // Other names, other column order, another string layout.
        let beta = schema(&[
            ("surname", DataType::Utf8View),
            ("student", DataType::Int64),
        ]);
        let l = RecordBatch::try_new(
            legacy,
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec!["x", "y"])),
            ],
        )
        .unwrap();
        let b = RecordBatch::try_new(
            beta,
            vec![
                Arc::new(arrow::array::StringViewArray::from(vec!["y", "x"])),
                Arc::new(Int64Array::from(vec![2, 1])),
            ],
        )
        .unwrap();
        let l = footprint(&[l], &["id"], &[]);
        let b = footprint(&[b], &["id"], &[("id", "student"), ("last", "surname")]);
        assert_eq!(l, b);
        assert_eq!(
            l.columns,
            vec![
                ("id".to_owned(), "Int64".to_owned()),
                ("last".to_owned(), "text".to_owned())
            ]
        );
    }

    #[test]
    fn a_missing_key_or_a_clash_after_renaming_gives_no_footprint() {
        let s = schema(&[("id", DataType::Int64), ("name", DataType::Utf8)]);
        assert!(FootprintBuilder::new(&s, &["student_id".to_owned()], &[]).is_none());
        let clash = [("name".to_owned(), "id".to_owned())];
        assert!(FootprintBuilder::new(&s, &[], &clash).is_none());
    }

    #[test]
    fn survives_a_parquet_footer_and_is_refused_when_it_disagrees() {
        let s = schema(&[("id:x", DataType::Int64)]);
        let batch =
            RecordBatch::try_new(s.clone(), vec![Arc::new(Int64Array::from(vec![1, 1, 2]))])
                .unwrap();
        let print = footprint(std::slice::from_ref(&batch), &["id:x"], &[]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part-0.parquet");
        let mut writer = ArrowWriter::try_new(File::create(&path).unwrap(), s, None).unwrap();
        writer.write(&batch).unwrap();
        for kv in print.to_key_values() {
            writer.append_key_value_metadata(kv);
        }
        writer.close().unwrap();
        assert_eq!(Footprint::read(&path), Some(print.clone()));
        assert_eq!(print.dup_keys, 1);
        // Another row count than the file's, another version, or no footprint: none.
        assert_eq!(Footprint::from_key_values(&print.to_key_values(), 4), None);
        let mut other = print.to_key_values();
        other[0].value = Some("0".to_owned());
        assert_eq!(Footprint::from_key_values(&other, 3), None);
        assert_eq!(Footprint::from_key_values(&[], 3), None);
        assert_eq!(Footprint::read(&dir.path().join("absent.parquet")), None);
    }

    #[test]
    fn lists_keep_any_name() {
        let names = vec!["a:b".to_owned(), String::new(), "12:".to_owned()];
        assert_eq!(split_list(&join_list(names.clone())), Some(names));
        assert_eq!(split_list("3:ab"), None);
    }
}

//! `map_code(code_set, school_year, source_code)`: the audit's code map as an SQL function, and
//! `code_map` as a table, in every district's session.
//!
//! Each call is counted by what it found, so a run can list per district which codes were not
//! mapped and which school years fell back to an earlier year's entries, instead of passing
//! unknown codes through silently.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, StringArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::exec_err;
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use pathway_audit::{CodeMap, Lookup, parse_school_year};

/// Name of the SQL function.
pub const MAP_CODE: &str = "map_code";
/// Name of the table holding the mapping file's entries.
pub const CODE_MAP_TABLE: &str = "code_map";

/// What `map_code` found for a group of values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CodeMapUse {
    /// Code set asked for.
    pub code_set: String,
    /// School year asked for (ending year); `None` when the value was null or not a year.
    pub school_year: Option<i32>,
    /// `mapped`, `fallback` (mapped with an earlier year's entries) or `unmapped`.
    pub outcome: &'static str,
    /// The year whose entries were used, if any.
    pub used_year: Option<i32>,
    /// For `unmapped`: the code that had no entry. Empty otherwise (mapped codes are not listed).
    pub source_code: String,
}

/// Counts of [`CodeMapUse`]s, shared with the function while a transform runs.
#[derive(Debug, Clone, Default)]
pub struct CodeMapStats(Arc<Mutex<BTreeMap<CodeMapUse, u64>>>);

impl CodeMapStats {
    /// The counts so far, sorted.
    #[must_use]
    pub fn take(&self) -> Vec<(CodeMapUse, u64)> {
        let mut counts = self.0.lock().expect("stats lock");
        std::mem::take(&mut *counts).into_iter().collect()
    }
}

#[derive(Debug)]
struct MapCode {
    map: Arc<CodeMap>,
    stats: CodeMapStats,
    signature: Signature,
}

impl PartialEq for MapCode {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.map, &other.map) && Arc::ptr_eq(&self.stats.0, &other.stats.0)
    }
}
impl Eq for MapCode {}
impl std::hash::Hash for MapCode {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        MAP_CODE.hash(state);
    }
}

impl ScalarUDFImpl for MapCode {
    fn name(&self) -> &str {
        MAP_CODE
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let texts: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| cast(&a.to_array(rows)?, &DataType::Utf8).map_err(Into::into))
            .collect::<Result<_>>()?;
        let (sets, years, codes) = (
            texts[0].as_string::<i32>(),
            texts[1].as_string::<i32>(),
            texts[2].as_string::<i32>(),
        );
        let mut out = StringBuilder::with_capacity(rows, rows * 4);
        let mut local: BTreeMap<CodeMapUse, u64> = BTreeMap::new();
        for i in 0..rows {
            // A null code is nothing to map; a null code set is a transform bug caught below.
            if codes.is_null(i) {
                out.append_null();
                continue;
            }
            let code_set = if sets.is_null(i) { "" } else { sets.value(i) };
            let code = codes.value(i);
            let year = (!years.is_null(i))
                .then(|| parse_school_year(years.value(i)))
                .flatten();
            let (standard, outcome, used_year) = match year {
                None => {
                    if !self.map.code_sets().any(|s| s == code_set) {
                        return unknown_set(&self.map, code_set);
                    }
                    (None, "unmapped", None)
                }
                Some(year) => match self.map.lookup(code_set, year, code) {
                    Lookup::Mapped(standard) => (Some(standard), "mapped", Some(year)),
                    Lookup::FellBack {
                        standard,
                        used_year,
                    } => (Some(standard), "fallback", Some(used_year)),
                    Lookup::Unmapped { used_year } => (None, "unmapped", used_year),
                    Lookup::UnknownCodeSet => return unknown_set(&self.map, code_set),
                },
            };
            out.append_option(standard);
            let use_ = CodeMapUse {
                code_set: code_set.to_owned(),
                school_year: year,
                outcome,
                used_year,
                source_code: if outcome == "unmapped" {
                    code.to_owned()
                } else {
                    String::new()
                },
            };
            *local.entry(use_).or_default() += 1;
        }
        let mut stats = self.stats.0.lock().expect("stats lock");
        for (use_, n) in local {
            *stats.entry(use_).or_default() += n;
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

fn unknown_set(map: &CodeMap, code_set: &str) -> Result<ColumnarValue> {
    exec_err!(
        "map_code: the code map `{}` has no code set `{code_set}` (it has: {})",
        map.path.display(),
        map.code_sets().collect::<Vec<_>>().join(", ")
    )
}

/// Register `map_code` (counting into `stats`) and the `code_map` table in `ctx`.
///
/// # Errors
/// When the table cannot be built (an internal problem).
pub fn register_code_map(
    ctx: &SessionContext,
    map: &Arc<CodeMap>,
    stats: &CodeMapStats,
) -> Result<()> {
    ctx.register_udf(ScalarUDF::new_from_impl(MapCode {
        map: map.clone(),
        stats: stats.clone(),
        signature: Signature::any(3, Volatility::Immutable),
    }));
    if ctx.table_exist(CODE_MAP_TABLE)? {
        return Ok(());
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("school_year", DataType::Int32, false),
        Field::new("code_set", DataType::Utf8, false),
        Field::new("source_code", DataType::Utf8, false),
        Field::new("standard_code", DataType::Utf8, false),
    ]));
    let entries = &map.entries;
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from_iter_values(
                entries.iter().map(|e| e.school_year),
            )),
            Arc::new(StringArray::from_iter_values(
                entries.iter().map(|e| &e.code_set),
            )),
            Arc::new(StringArray::from_iter_values(
                entries.iter().map(|e| &e.source_code),
            )),
            Arc::new(StringArray::from_iter_values(
                entries.iter().map(|e| &e.standard_code),
            )),
        ],
    )?;
    ctx.register_table(
        CODE_MAP_TABLE,
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    Ok(())
}

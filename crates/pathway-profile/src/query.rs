//! The profile queries: per side, one aggregate query over every column, one exact distinct
//! count for the columns with few enough values, and one count per value of the
//! low-cardinality columns; then the two sides side by side.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;

use crate::measure::{Measure, delta, number_text};
use crate::{
    EXACT_DISTINCT_UP_TO, Error, LOW_CARDINALITY, ProfileRow, ProfileSpec, Result, TOP_VALUES,
};

/// What can be measured of a column, from its Arrow type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    Float,
    Decimal,
    Temporal,
    Boolean,
    /// Lists, structs, binary: nulls only.
    Other,
}

fn kind(data_type: &DataType) -> Kind {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
        t if t.is_integer() => Kind::Integer,
        t if t.is_floating() => Kind::Float,
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Kind::Decimal,
        t if t.is_temporal() => Kind::Temporal,
        DataType::Boolean => Kind::Boolean,
        DataType::Dictionary(_, value) => kind(value),
        _ => Kind::Other,
    }
}

/// One profiled column of one side.
#[derive(Debug, Clone)]
struct Column {
    /// Its name in the side's table.
    name_in_table: String,
    /// Its name in the profile (the legacy name of a renamed column).
    name: String,
    kind: Kind,
    personal: bool,
}

/// A side's measures: (group, column, measure) → value as text. The `rows` measure has the
/// empty column.
type Values = BTreeMap<(String, String, Measure), String>;

/// What one output column of the aggregate query holds.
enum Output {
    Rows,
    Measure(usize, Measure),
    /// `approx_distinct` of a column, which decides whether its distinct count is exact.
    Estimate(usize),
}

pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The profile of `tables` (legacy, beta), registered in `ctx`: one row per district, column
/// and measure, the two sides side by side. A side without a district's rows has 0 rows there
/// and no other measure.
///
/// # Errors
/// A query fails (a table that is not registered, a column type an aggregate refuses).
pub async fn profile_table(
    ctx: &SessionContext,
    tables: [&str; 2],
    spec: &ProfileSpec,
) -> Result<Vec<ProfileRow>> {
    let sides = ["legacy", "beta"];
    let mut columns: [Vec<Column>; 2] = [Vec::new(), Vec::new()];
    for i in 0..2 {
        columns[i] = columns_of(ctx, tables[i], sides[i], spec, i == 1).await?;
    }
    let mut values: [Values; 2] = [Values::new(), Values::new()];
    let mut estimates: [BTreeMap<(String, usize), u64>; 2] = [BTreeMap::new(), BTreeMap::new()];
    for i in 0..2 {
        (values[i], estimates[i]) = aggregates(ctx, tables[i], sides[i], &columns[i], spec).await?;
    }
    // Exact distinct counts for the columns with few enough values on both sides.
    let few = |side: usize, name: &str| {
        estimates[side]
            .iter()
            .filter(|((_, c), _)| columns[side][*c].name == name)
            .all(|(_, &n)| n <= EXACT_DISTINCT_UP_TO)
    };
    for i in 0..2 {
        let exact: Vec<usize> = (0..columns[i].len())
            .filter(|&c| columns[i][c].kind != Kind::Other)
            .filter(|&c| few(0, &columns[i][c].name) && few(1, &columns[i][c].name))
            .collect();
        let counted = exact_distinct(ctx, tables[i], sides[i], &columns[i], &exact, spec).await?;
        for ((group, c), n) in &estimates[i] {
            let name = columns[i][*c].name.clone();
            let text = match counted.get(&(group.clone(), *c)) {
                Some(exact) => exact.to_string(),
                None => format!("~{n}"),
            };
            values[i].insert((group.clone(), name, Measure::Distinct), text);
        }
    }
    // Top values of the low-cardinality columns, in the districts where a side has few values.
    let low: BTreeSet<(String, String)> = values
        .iter()
        .flat_map(|v| v.iter())
        .filter(|((_, _, m), text)| {
            *m == Measure::Distinct && text.parse::<u64>().is_ok_and(|n| n <= LOW_CARDINALITY)
        })
        .map(|((g, c, _), _)| (g.clone(), c.clone()))
        .collect();
    for i in 0..2 {
        let listed: Vec<usize> = (0..columns[i].len())
            .filter(|&c| !columns[i][c].personal && columns[i][c].kind != Kind::Other)
            .filter(|&c| low.iter().any(|(_, name)| *name == columns[i][c].name))
            .collect();
        for ((group, c), top) in
            top_values(ctx, tables[i], sides[i], &columns[i], &listed, spec).await?
        {
            let name = columns[i][c].name.clone();
            if low.contains(&(group.clone(), name.clone())) {
                values[i].insert((group, name, Measure::Top), top);
            }
        }
    }
    Ok(side_by_side(spec, &columns, &values))
}

/// The profiled columns of one side: every column but the group column and the ignored ones,
/// beta's renamed columns under their legacy names.
async fn columns_of(
    ctx: &SessionContext,
    table: &str,
    side: &'static str,
    spec: &ProfileSpec,
    is_beta: bool,
) -> Result<Vec<Column>> {
    let frame = ctx.table(table).await.map_err(|source| Error::Query {
        table: spec.table.clone(),
        side,
        source,
    })?;
    Ok(frame
        .schema()
        .fields()
        .iter()
        .filter(|f| spec.group_by.as_deref() != Some(f.name().as_str()))
        .map(|f| {
            let name = if is_beta {
                spec.rename
                    .iter()
                    .find(|(_, beta)| beta == f.name())
                    .map_or_else(|| f.name().clone(), |(legacy, _)| legacy.clone())
            } else {
                f.name().clone()
            };
            Column {
                name_in_table: f.name().clone(),
                personal: spec.pii.contains(&name),
                name,
                kind: kind(f.data_type()),
            }
        })
        .filter(|c| !spec.ignore.contains(&c.name))
        .collect())
}

/// The group expression and the filter leaving out `spec.skip_groups`.
fn group_and_filter(spec: &ProfileSpec) -> (String, String) {
    let group = match &spec.group_by {
        Some(g) => format!("COALESCE(CAST({} AS VARCHAR), '')", quote(g)),
        None => "'*'".to_owned(),
    };
    let filter = if spec.skip_groups.is_empty() || spec.group_by.is_none() {
        String::new()
    } else {
        let skipped: Vec<String> = spec.skip_groups.iter().map(|g| literal(g)).collect();
        format!("WHERE {group} NOT IN ({})", skipped.join(", "))
    };
    (group, filter)
}

/// The rows of `batch`, every value as text.
fn texts(batch: &RecordBatch) -> Result<Vec<Vec<Option<String>>>> {
    let columns = batch
        .columns()
        .iter()
        .map(|array| {
            arrow::compute::cast(array, &DataType::Utf8)
                .map_err(|e| Error::File(format!("reading a profile back: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let columns: Vec<&StringArray> = columns
        .iter()
        .map(|c| {
            c.as_any()
                .downcast_ref::<StringArray>()
                .expect("cast to Utf8")
        })
        .collect();
    Ok((0..batch.num_rows())
        .map(|i| {
            columns
                .iter()
                .map(|c| (!c.is_null(i)).then(|| c.value(i).to_owned()))
                .collect()
        })
        .collect())
}

pub(crate) async fn run(
    ctx: &SessionContext,
    sql: &str,
    spec: &ProfileSpec,
    side: &'static str,
) -> Result<Vec<Vec<Option<String>>>> {
    let error = |source| Error::Query {
        table: spec.table.clone(),
        side,
        source,
    };
    let clock = std::time::Instant::now();
    let batches = ctx
        .sql(sql)
        .await
        .map_err(error)?
        .collect()
        .await
        .map_err(error)?;
    // Which of a profile's queries costs what (the SQL names columns, never values).
    tracing::debug!(
        seconds = clock.elapsed().as_secs_f64(),
        table = spec.table,
        side,
        "profile query {}",
        sql.chars().take(120).collect::<String>()
    );
    let mut rows = Vec::new();
    for batch in &batches {
        rows.extend(texts(batch)?);
    }
    Ok(rows)
}

/// One query: rows per group and, per column, the measures its kind has (values only for
/// columns that are not personal) and an estimate of its distinct values.
async fn aggregates(
    ctx: &SessionContext,
    table: &str,
    side: &'static str,
    columns: &[Column],
    spec: &ProfileSpec,
) -> Result<(Values, BTreeMap<(String, usize), u64>)> {
    let (group, filter) = group_and_filter(spec);
    let mut select = vec![format!("{group} AS g"), "COUNT(*)".to_owned()];
    let mut outputs = vec![Output::Rows];
    for (i, c) in columns.iter().enumerate() {
        let q = quote(&c.name_in_table);
        select.push(format!("COUNT(*) - COUNT({q})"));
        outputs.push(Output::Measure(i, Measure::Nulls));
        if c.kind == Kind::Other {
            continue;
        }
        // approx_distinct takes text and integers; other values are counted by their text.
        let estimated = if matches!(c.kind, Kind::Text | Kind::Integer) {
            q.clone()
        } else {
            format!("CAST({q} AS VARCHAR)")
        };
        select.push(format!("approx_distinct({estimated})"));
        outputs.push(Output::Estimate(i));
        if c.personal {
            continue;
        }
        let mut add = |sql: String, measure| {
            select.push(sql);
            outputs.push(Output::Measure(i, measure));
        };
        if c.kind == Kind::Text {
            add(
                format!("SUM(CASE WHEN {q} = '' THEN 1 ELSE 0 END)"),
                Measure::Empty,
            );
        }
        if matches!(
            c.kind,
            Kind::Text | Kind::Integer | Kind::Float | Kind::Decimal | Kind::Temporal
        ) {
            add(format!("MIN({q})"), Measure::Min);
            add(format!("MAX({q})"), Measure::Max);
        }
        match c.kind {
            Kind::Integer => add(format!("SUM(CAST({q} AS DECIMAL(38, 0)))"), Measure::Sum),
            Kind::Float => add(format!("SUM(CAST({q} AS DOUBLE))"), Measure::Sum),
            Kind::Decimal => add(format!("SUM({q})"), Measure::Sum),
            _ => {}
        }
        if matches!(c.kind, Kind::Integer | Kind::Float | Kind::Decimal) {
            add(format!("AVG(CAST({q} AS DOUBLE))"), Measure::Mean);
        }
    }
    let sql = format!(
        "SELECT {} FROM {} {filter} GROUP BY {group}",
        select.join(", "),
        quote(table)
    );
    let mut values = Values::new();
    let mut estimates = BTreeMap::new();
    for row in run(ctx, &sql, spec, side).await? {
        let g = row[0].clone().unwrap_or_default();
        for (output, value) in outputs.iter().zip(&row[1..]) {
            let Some(text) = value.clone() else {
                continue;
            };
            match output {
                Output::Rows => {
                    values.insert((g.clone(), String::new(), Measure::Rows), text);
                }
                Output::Estimate(c) => {
                    estimates.insert((g.clone(), *c), text.parse().unwrap_or(u64::MAX));
                }
                Output::Measure(c, measure) => {
                    let numeric = matches!(measure, Measure::Mean)
                        || (columns[*c].kind == Kind::Float
                            && matches!(measure, Measure::Sum | Measure::Min | Measure::Max));
                    let text = match text.parse::<f64>() {
                        Ok(x) if numeric && x.is_finite() => number_text(x),
                        _ => text,
                    };
                    values.insert((g.clone(), columns[*c].name.clone(), *measure), text);
                }
            }
        }
    }
    Ok((values, estimates))
}

/// Exact distinct values of the columns `which`, per group.
async fn exact_distinct(
    ctx: &SessionContext,
    table: &str,
    side: &'static str,
    columns: &[Column],
    which: &[usize],
    spec: &ProfileSpec,
) -> Result<BTreeMap<(String, usize), u64>> {
    let mut counts = BTreeMap::new();
    if which.is_empty() {
        return Ok(counts);
    }
    let (group, filter) = group_and_filter(spec);
    let select: Vec<String> = which
        .iter()
        .map(|&c| format!("COUNT(DISTINCT {})", quote(&columns[c].name_in_table)))
        .collect();
    let sql = format!(
        "SELECT {group} AS g, {} FROM {} {filter} GROUP BY {group}",
        select.join(", "),
        quote(table)
    );
    for row in run(ctx, &sql, spec, side).await? {
        let g = row[0].clone().unwrap_or_default();
        for (&c, n) in which.iter().zip(&row[1..]) {
            let n = n.as_deref().and_then(|t| t.parse().ok());
            counts.insert((g.clone(), c), n.unwrap_or(0));
        }
    }
    Ok(counts)
}

/// The most frequent values (null included, as `(null)`, and the empty string as `(empty)`) of
/// the columns `which`, per group:
/// `value=count` joined by `;`, most frequent first, then by value.
async fn top_values(
    ctx: &SessionContext,
    table: &str,
    side: &'static str,
    columns: &[Column],
    which: &[usize],
    spec: &ProfileSpec,
) -> Result<BTreeMap<(String, usize), String>> {
    let mut top = BTreeMap::new();
    if which.is_empty() {
        return Ok(top);
    }
    let (group, filter) = group_and_filter(spec);
    let branches: Vec<String> = which
        .iter()
        .map(|&c| {
            let value = format!("CAST({} AS VARCHAR)", quote(&columns[c].name_in_table));
            format!(
                "SELECT {group} AS g, CAST({c} AS BIGINT) AS c, {value} AS v, COUNT(*) AS n \
                 FROM {} {filter} GROUP BY {group}, {value}",
                quote(table)
            )
        })
        .collect();
    let mut counts: BTreeMap<(String, usize), Vec<(u64, String)>> = BTreeMap::new();
    for row in run(ctx, &branches.join(" UNION ALL "), spec, side).await? {
        let g = row[0].clone().unwrap_or_default();
        let c: usize = row[1].as_deref().and_then(|t| t.parse().ok()).unwrap_or(0);
        let value = match row[2].clone() {
            None => "(null)".to_owned(),
            Some(v) if v.is_empty() => "(empty)".to_owned(),
            Some(v) => v,
        };
        let n: u64 = row[3].as_deref().and_then(|t| t.parse().ok()).unwrap_or(0);
        counts.entry((g, c)).or_default().push((n, value));
    }
    for (key, mut values) in counts {
        values.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let text: Vec<String> = values
            .iter()
            .take(TOP_VALUES)
            .map(|(n, v)| format!("{v}={n}"))
            .collect();
        top.insert(key, text.join(";"));
    }
    Ok(top)
}

/// The two sides' measures as rows: per group (sorted), the `rows` line, then each column in
/// the legacy side's order (beta's own columns after), its measures in order.
fn side_by_side(
    spec: &ProfileSpec,
    columns: &[Vec<Column>; 2],
    values: &[Values; 2],
) -> Vec<ProfileRow> {
    let mut names: Vec<&str> = columns[0].iter().map(|c| c.name.as_str()).collect();
    for c in &columns[1] {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    let groups: BTreeSet<&String> = values
        .iter()
        .flat_map(|v| v.keys().map(|(g, _, _)| g))
        .collect();
    let mut rows = Vec::new();
    for group in groups {
        let value = |side: usize, column: &str, measure: Measure| {
            let found = values[side]
                .get(&(group.clone(), column.to_owned(), measure))
                .cloned();
            // A side without the district's rows has none.
            if measure == Measure::Rows {
                return found.or_else(|| Some("0".to_owned()));
            }
            found
        };
        let mut line = |column: &str, measure: Measure| {
            let (legacy, beta) = (value(0, column, measure), value(1, column, measure));
            if legacy.is_none() && beta.is_none() {
                return;
            }
            rows.push(ProfileRow {
                table: spec.table.clone(),
                district_id: group.clone(),
                column: column.to_owned(),
                measure: measure.as_str().to_owned(),
                delta: delta(legacy.as_deref(), beta.as_deref()),
                legacy,
                beta,
            });
        };
        line("", Measure::Rows);
        for name in &names {
            for measure in &Measure::ALL[1..] {
                line(name, *measure);
            }
        }
    }
    rows
}

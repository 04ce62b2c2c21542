//! An audit's database sides: connected once before the night, listed in summary.json, and (for
//! an audit read from databases only) the source of the night's district list.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{SessionContext, ident};
use pathway_audit::{AuditSpec, DatabaseSpec, Side, Transform};
use pathway_report::DatabaseSource;
use pathway_transform::DatabaseTables;

/// Every database side of `audit`, connected (one pool per URL). A side that cannot be reached
/// is kept with its reason: its districts become ERROR, the other tables go on.
pub async fn connect_sides(audit: &AuditSpec) -> DatabaseTables {
    let mut tables = DatabaseTables::new();
    let mut pools: BTreeMap<String, Result<pathway_db::Database, String>> = BTreeMap::new();
    for (table, side, spec) in database_sides(audit) {
        if !pools.contains_key(&spec.url) {
            let pool = match pathway_db::DatabaseUrl::parse(&spec.url) {
                Ok(url) => pathway_db::connect(&url).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(message) = &pool {
                tracing::warn!("warning: audit `{}`: {message}", audit.name);
            }
            pools.insert(spec.url.clone(), pool);
        }
        let provider = match &pools[&spec.url] {
            Ok(database) => database
                .provider(&spec.relation)
                .await
                .map_err(|e| e.to_string()),
            Err(message) => Err(message.clone()),
        };
        if let Err(message) = &provider {
            tracing::warn!(
                "warning: audit `{}`, table `{table}` ({side}): {message}",
                audit.name
            );
        }
        tables.insert((table, side), provider);
    }
    tables
}

/// (table, side, spec) of every database side, in table order.
pub fn database_sides(audit: &AuditSpec) -> Vec<(String, Side, &DatabaseSpec)> {
    let mut sides = Vec::new();
    for table in &audit.tables {
        for side in Side::BOTH {
            if let Transform::Database(spec) = table.transform(side) {
                sides.push((table.name.clone(), side, spec));
            }
        }
    }
    sides
}

/// The districts the database sides hold: the distinct values of each side's district column,
/// merged. Values that cannot name a district folder (nulls, `../x`) are left out and reported.
///
/// # Errors
/// When no side could be read at all.
pub async fn districts_in(
    audit: &AuditSpec,
    tables: &DatabaseTables,
) -> anyhow::Result<(Vec<String>, Vec<(String, String)>)> {
    let mut districts = BTreeSet::new();
    let mut skipped = Vec::new();
    let mut read_any = false;
    for (table, side, spec) in database_sides(audit) {
        let Some(Ok(provider)) = tables.get(&(table.clone(), side)) else {
            continue;
        };
        let ctx = SessionContext::new();
        let values = async {
            let frame = ctx
                .read_table(provider.clone())?
                .select(vec![ident(&spec.district_column)])?
                .distinct()?;
            frame.collect().await
        }
        .await;
        let batches = match values {
            Ok(batches) => batches,
            Err(e) => {
                tracing::warn!(
                    "warning: audit `{}`, table `{table}` ({side}): cannot list its districts: {}",
                    audit.name,
                    pathway_mask::redact_quoted(&e.strip_backtrace())
                );
                continue;
            }
        };
        read_any = true;
        for batch in batches {
            let text = cast(batch.column(0), &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            for i in 0..text.len() {
                if text.is_null(i) {
                    skipped.push((
                        format!("{table} ({side}): {} is null", spec.district_column),
                        "rows without a district are not audited".to_owned(),
                    ));
                    continue;
                }
                let value = text.value(i);
                if pathway_input::valid_district_id(value) {
                    districts.insert(value.to_owned());
                } else {
                    skipped.push((
                        format!("{table} ({side}): district value of {} chars", value.len()),
                        "not usable as a district id (letters, digits, `_`, `-`, `.`)".to_owned(),
                    ));
                }
            }
        }
    }
    if !read_any {
        anyhow::bail!(
            "audit `{}`: no database side could be read, so there are no districts to audit \
             (see the warnings above)",
            audit.name
        );
    }
    Ok((districts.into_iter().collect(), skipped))
}

/// What summary.json says about each database side: where it came from and how many rows the
/// night's snapshot copied.
pub fn sources_report(
    audit: &AuditSpec,
    tables: &DatabaseTables,
    rows: &BTreeMap<(String, Side), (u64, u64)>,
) -> Vec<DatabaseSource> {
    database_sides(audit)
        .into_iter()
        .map(|(table, side, spec)| {
            let key = (table.clone(), side);
            let (districts, copied) = rows.get(&key).copied().unwrap_or_default();
            let (relation, text) = match &spec.relation {
                pathway_audit::Relation::Table(t) => ("table", t.clone()),
                pathway_audit::Relation::Query(q) => ("query", q.clone()),
            };
            DatabaseSource {
                table,
                side: side.to_string(),
                database: pathway_mask::redact_url(&spec.url),
                relation: relation.to_owned(),
                source: text,
                district_filter: format!("{} = <district id>", spec.district_column),
                districts,
                rows: copied,
                error: match tables.get(&key) {
                    Some(Err(message)) => Some(message.clone()),
                    _ => None,
                },
            }
        })
        .collect()
}

//! Stage 4, diffing: each table's two outputs diffed per district (the districts carried over
//! left out, their results taken from the previous night), and the table's summary, column
//! diff, categories, key warnings and accepted differences worked out.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use pathway_audit::{Side, TableSpec};
use pathway_diff::{DiffSpec, Status, TableDiff, diff_tables};
use pathway_report::{
    CategoryRow, ColumnDiffRow, KeyWarning, RuleHiddenRow, SummaryRow, TableInfo, category_rows,
    rows_for_table, rule_hidden_rows,
};

use super::carry::Carried;
use super::ledger::Ledger;
use super::open::OpenNight;
use super::{RunSettings, accepted, reuse};

/// What the night says about one table.
pub(super) struct TableResults {
    pub summary: Vec<SummaryRow>,
    pub column_diff: Vec<ColumnDiffRow>,
    pub categories: Vec<CategoryRow>,
    pub rule_hidden: Vec<RuleHiddenRow>,
    pub key_warnings: Vec<KeyWarning>,
    /// Accepted differences that no longer apply or have expired.
    pub warnings: Vec<String>,
    pub schema: pathway_diff::SchemaDiff,
    pub info: TableInfo,
    pub profile: Vec<pathway_profile::ProfileRow>,
}

/// Diff `table` in the districts that ran tonight (`diffed`) and summarise it with the carried
/// districts' results. A table-wide diff failure makes its districts ERROR (recorded in
/// `ledger`); only an unusable staging folder stops the night.
pub(super) async fn diff_and_summarize(
    night: &OpenNight,
    settings: &RunSettings,
    carried: &Carried,
    ledger: &mut Ledger,
    table: &TableSpec,
    diffed: &[String],
) -> anyhow::Result<TableResults> {
    let audit = &night.audit;
    let mut table_failed = ledger.not_diffed.of(&table.name);
    let compared_tonight = diffed
        .iter()
        .filter(|d| !table_failed.contains_key(*d))
        .count();
    // A reused district's two outputs are linked in before the diff, which leaves the
    // district out but reads the table's schema from every file: its compared columns and
    // schema differences are then those of a full run, even when every district is reused.
    // Not when the audit changed since (`--only mismatched` after a fix): the carried files
    // were written by the old transforms, and tonight's districts are compared under the
    // new ones' schema alone, unless no district runs tonight.
    let same_transforms = night
        .previous
        .as_ref()
        .is_some_and(|(_, record)| record.audit_fingerprint == night.audit_fingerprint);
    let link_first = same_transforms || compared_tonight == 0;
    if link_first {
        link_carried(night, carried, table, reuse::OUTPUTS)?;
    }
    // The districts a full run would compare: those run tonight that did not fail, and
    // the reused ones that were compared (a reused district is never ERROR).
    let compared_reused = carried
        .reused
        .values()
        .filter(|r| {
            r.summary
                .iter()
                .any(|row| row.table == table.name && row.status != Status::NoInput)
        })
        .count();
    let compared = compared_tonight + if link_first { compared_reused } else { 0 };
    // `--no-triage` reads every row: no footprint stands in for them.
    let footprints = if night.engine.triage {
        read_footprints(&night.staging, &table.name)
    } else {
        pathway_diff::GroupFootprints::default()
    };
    let diff = if compared == 0 {
        None
    } else {
        let skip: Vec<String> = table_failed
            .keys()
            .cloned()
            .chain(carried.reused_names())
            .collect();
        diff_or_fail(night, table, &skip, &footprints)
            .await
            .map_err(|error| {
                // A table-wide failure (e.g. districts disagreeing on a column type): every
                // district not already failed becomes ERROR with the reason.
                for district in diffed {
                    table_failed
                        .entry(district.clone())
                        .or_insert_with(|| (Status::Error, error.message.clone()));
                }
                ledger.errors.push(error);
            })
            .ok()
    };
    let diff = diff.unwrap_or_else(|| TableDiff {
        table: table.name.clone(),
        key: table.key.clone(),
        compared_columns: Vec::new(),
        schema: pathway_diff::SchemaDiff::default(),
        groups: Vec::new(),
        categories: Vec::new(),
        decided_by_footprints: 0,
        same_rows: Vec::new(),
    });
    let (mut rows, mut columns) = rows_for_table(
        &audit.name,
        settings.date.as_str(),
        &diff,
        diffed,
        &table_failed,
        &table.pii,
        &settings.masker,
    );
    let mut key_warnings = Vec::new();
    if !table.key.is_empty() && diff.groups.iter().any(|g| g.legacy_rows + g.beta_rows > 0) {
        key_warnings = find_key_warnings(&night.ctx, &audit.name, table, &diff, &footprints).await;
    }
    for row in rows.iter_mut().filter(|r| r.status == Status::Error) {
        if let Some([legacy, beta]) = ledger
            .written_rows
            .get(&(table.name.clone(), row.district_id.clone()))
        {
            row.legacy_rows = legacy.unwrap_or(0);
            row.beta_rows = beta.unwrap_or(0);
        }
    }
    let info = table_info(table, &diff);
    // The profile of the districts compared tonight: those that failed have no full outputs,
    // and the carried ones keep the previous night's profile.
    let mut profile = Vec::new();
    let mut warnings = Vec::new();
    let profiled_tonight = diffed.iter().any(|d| !table_failed.contains_key(d));
    if settings.profile && profiled_tonight {
        let skip: Vec<String> = table_failed
            .keys()
            .cloned()
            .chain(carried.reused_names())
            .collect();
        match profile_table(night, table, skip, diff.same_rows.clone()).await {
            Ok(rows) => profile = rows,
            Err(e) => warnings.push(format!(
                "table `{}`: no column profile tonight: {e}",
                table.name
            )),
        }
    }
    let mut categories = category_rows(settings.date.as_str(), &diff, &table.pii, &settings.masker);
    warnings.extend(accepted::apply(
        &audit.accepted,
        &settings.date,
        &diff,
        &mut rows,
        &mut categories,
    ));
    let mut rule_hidden = rule_hidden_rows(settings.date.as_str(), &diff);
    if night.previous.is_some() {
        let of = |t: &String| *t == table.name;
        for record in carried.reused.values() {
            rows.extend(record.summary.iter().filter(|r| of(&r.table)).cloned());
            columns.extend(record.column_diff.iter().filter(|r| of(&r.table)).cloned());
            categories.extend(record.categories.iter().filter(|r| of(&r.table)).cloned());
            rule_hidden.extend(record.rule_hidden.iter().filter(|r| of(&r.table)).cloned());
            key_warnings.extend(record.key_warnings.iter().filter(|r| of(&r.table)).cloned());
            profile.extend(record.profile.iter().filter(|r| of(&r.table)).cloned());
        }
        // The row diff after the diff, which empties its folder first.
        let parts = if link_first {
            reuse::RESULTS
        } else {
            reuse::ALL
        };
        link_carried(night, carried, table, parts)?;
    }
    rows.sort_by(|a, b| a.district_id.cmp(&b.district_id));
    columns.sort_by(|a, b| (&a.district_id, &a.column).cmp(&(&b.district_id, &b.column)));
    categories.sort_by(|a, b| a.district_id.cmp(&b.district_id));
    rule_hidden.sort_by(|a, b| a.district_id.cmp(&b.district_id));
    profile.sort_by(|a, b| a.district_id.cmp(&b.district_id));
    Ok(TableResults {
        summary: rows,
        column_diff: columns,
        categories,
        rule_hidden,
        key_warnings,
        warnings,
        schema: diff.schema,
        info,
        profile,
    })
}

/// The column profile of `table` in every district but `skip`, read from the outputs
/// [`diff_table`] registered; the districts in `same_rows` (both sides hold the same rows) are
/// read on the legacy side only.
async fn profile_table(
    night: &OpenNight,
    table: &TableSpec,
    skip: Vec<String>,
    same_rows: Vec<String>,
) -> pathway_profile::Result<Vec<pathway_profile::ProfileRow>> {
    let spec = pathway_profile::ProfileSpec {
        table: table.name.clone(),
        group_by: Some("district_id".into()),
        pii: table.pii.clone(),
        ignore: table.ignore.clone(),
        rename: table.rename.clone(),
        skip_groups: skip,
        same_rows,
    };
    let names = Side::BOTH.map(|side| format!("{side}_{}", table.name));
    pathway_profile::profile_table(&night.ctx, [&names[0], &names[1]], &spec).await
}

/// Diff `table` in every district but `skip`, or say why the whole table could not be.
async fn diff_or_fail(
    night: &OpenNight,
    table: &TableSpec,
    skip: &[String],
    footprints: &pathway_diff::GroupFootprints,
) -> Result<TableDiff, pathway_report::DistrictError> {
    let clock = std::time::Instant::now();
    let diffing = diff_table(
        &night.ctx,
        &night.staging,
        table,
        skip,
        &night.engine,
        footprints,
    );
    match diffing.await {
        Ok(diff) => {
            tracing::debug!(
                "audit `{}`, table `{}`: diffed in {:.2} s; {} of {} district(s) \
                 decided by their outputs' footprints",
                night.audit.name,
                table.name,
                clock.elapsed().as_secs_f64(),
                diff.decided_by_footprints,
                diff.groups.len()
            );
            Ok(diff)
        }
        Err(e) => Err(pathway_report::DistrictError {
            table: table.name.clone(),
            district_id: "*".into(),
            stage: "diff".into(),
            message: format!("diff: {e:#}"),
        }),
    }
}

/// Link `parts` of `table`'s files of every carried district from the previous night into the
/// staging folder.
fn link_carried(
    night: &OpenNight,
    carried: &Carried,
    table: &TableSpec,
    parts: &[&str],
) -> anyhow::Result<()> {
    let Some((previous_run, _)) = &night.previous else {
        return Ok(());
    };
    for district in carried.reused.keys() {
        reuse::link_district(previous_run, &night.staging, &table.name, district, parts)
            .with_context(|| {
                format!(
                    "audit `{}`, district {district}: cannot reuse the previous run",
                    night.audit.name
                )
            })?;
    }
    Ok(())
}

/// What summary.json says of `table`: its key, ignored and personal columns, the columns
/// compared and the rules each is compared under.
fn table_info(table: &TableSpec, diff: &TableDiff) -> TableInfo {
    TableInfo {
        name: table.name.clone(),
        key: table.key.clone(),
        ignore: table.ignore.clone(),
        pii: table.pii.clone(),
        compared_columns: diff.compared_columns.clone(),
        rules: diff
            .compared_columns
            .iter()
            .map(|c| {
                (
                    c.clone(),
                    column_rules(
                        &table
                            .columns
                            .iter()
                            .find(|(n, _)| n == c)
                            .map_or(table.compare.clone(), |(_, r)| r.over(&table.compare)),
                    )
                    .names(),
                )
            })
            .filter(|(_, names)| !names.is_empty())
            .collect(),
    }
}

/// The districts where `table`'s key has nulls or duplicates, said once on stderr per table.
/// Duplicates come from the diff; null key rows from the footprints in the outputs' footers
/// when every diffed district has them, else from one query per side over the key columns of
/// the night's Parquet (registered by [`diff_table`]). A failing count query only loses the
/// null counts: it is a warning's detail, not a verdict.
async fn find_key_warnings(
    ctx: &SessionContext,
    audit: &str,
    table: &pathway_audit::TableSpec,
    diff: &TableDiff,
    footprints: &pathway_diff::GroupFootprints,
) -> Vec<pathway_report::KeyWarning> {
    let key: Vec<&String> = table.key.iter().filter(|k| *k != "district_id").collect();
    let mut nulls: [BTreeMap<String, u64>; 2] = Default::default();
    let footprinted = diff.groups.iter().all(|group| {
        [
            (&footprints.legacy, group.legacy_rows),
            (&footprints.beta, group.beta_rows),
        ]
        .into_iter()
        .all(|(side, rows)| {
            rows == 0
                || side
                    .get(&group.group)
                    .is_some_and(|f| f.rows == rows && f.key.iter().eq(key.iter().copied()))
        })
    });
    if footprinted {
        for (i, side) in [&footprints.legacy, &footprints.beta]
            .into_iter()
            .enumerate()
        {
            for group in &diff.groups {
                if let Some(footprint) = side.get(&group.group) {
                    nulls[i].insert(group.group.clone(), footprint.null_key_rows);
                }
            }
        }
    } else if !key.is_empty() {
        let any_null: Vec<String> = key
            .iter()
            .map(|k| format!("{} IS NULL", pathway_diff::plan::ident(k)))
            .collect();
        for (i, side) in Side::BOTH.into_iter().enumerate() {
            let sql = format!(
                "SELECT CAST(district_id AS VARCHAR), count(*) FROM {} WHERE {} GROUP BY 1",
                pathway_diff::plan::ident(&format!("{side}_{}", table.name)),
                any_null.join(" OR ")
            );
            let counted = async { ctx.sql(&sql).await?.collect().await };
            match counted.await {
                Ok(batches) => {
                    for batch in &batches {
                        // (VARCHAR is Utf8View in DataFusion 55: cast, never downcast blindly.)
                        let Ok(districts) =
                            datafusion::arrow::compute::cast(batch.column(0), &DataType::Utf8)
                        else {
                            continue;
                        };
                        let districts =
                            datafusion::arrow::array::AsArray::as_string::<i32>(&districts);
                        let counts = datafusion::arrow::array::AsArray::as_primitive::<
                            datafusion::arrow::datatypes::Int64Type,
                        >(batch.column(1));
                        for row in 0..batch.num_rows() {
                            nulls[i].insert(
                                districts.value(row).to_owned(),
                                u64::try_from(counts.value(row)).unwrap_or(0),
                            );
                        }
                    }
                }
                Err(e) => tracing::warn!(
                    "warning: audit `{audit}`, table `{}`: cannot count null keys: {}",
                    table.name,
                    pathway_mask::redact_quoted(&e.strip_backtrace())
                ),
            }
        }
    }
    let mut warnings = Vec::new();
    for group in &diff.groups {
        let null = |i: usize| nulls[i].get(&group.group).copied().unwrap_or(0);
        let warning = pathway_report::KeyWarning {
            table: table.name.clone(),
            key: table.key.join("+"),
            district_id: group.group.clone(),
            legacy_null_key_rows: null(0),
            beta_null_key_rows: null(1),
            legacy_dup_keys: group.legacy_dup_keys,
            beta_dup_keys: group.beta_dup_keys,
        };
        let troubled = warning.legacy_null_key_rows
            + warning.beta_null_key_rows
            + warning.legacy_dup_keys
            + warning.beta_dup_keys
            > 0;
        if troubled {
            warnings.push(warning);
        }
    }
    if !warnings.is_empty() {
        let districts: Vec<String> = warnings
            .iter()
            .map(|w| {
                format!(
                    "{} (null key rows {}/{}, duplicated keys {}/{})",
                    w.district_id,
                    w.legacy_null_key_rows,
                    w.beta_null_key_rows,
                    w.legacy_dup_keys,
                    w.beta_dup_keys
                )
            })
            .collect();
        tracing::warn!(
            "warning: audit `{audit}`, table `{}`: key `{}` has nulls or duplicates (legacy/beta) in {} district(s): {}; `pathway keys` lists the keys the data has",
            table.name,
            table.key.join("+"),
            warnings.len(),
            districts.join(", ")
        );
    }
    warnings
}

/// Register one table's two sides from the staging folder and diff them per district.
async fn diff_table(
    ctx: &SessionContext,
    staging: &Path,
    table: &pathway_audit::TableSpec,
    skip: &[String],
    engine: &pathway_diff::EngineSettings,
    footprints: &pathway_diff::GroupFootprints,
) -> anyhow::Result<TableDiff> {
    // A cluster's executors run in other processes: give them absolute paths.
    let staging = &std::path::absolute(staging)?;
    let mut names = Vec::new();
    for side in Side::BOTH {
        let name = format!("{side}_{}", table.name);
        let dir = format!(
            "{}/",
            staging.join(side.as_str()).join(&table.name).display()
        );
        let options = ParquetReadOptions::default()
            .table_partition_cols(vec![("district_id".to_owned(), DataType::Utf8)]);
        ctx.register_parquet(&name, &dir, options)
            .await
            .with_context(|| format!("cannot read the {side} output of `{}`", table.name))?;
        names.push(name);
    }
    let spec = DiffSpec::new(table.name.clone(), table.key.clone())
        .with_group_by(Some("district_id".into()))
        .with_ignore(table.ignore.clone())
        .with_exclude_groups(skip.to_vec())
        .with_engine(engine)
        .with_rename(table.rename.clone())
        .with_rules(
            column_rules(&table.compare),
            table
                .columns
                .iter()
                .map(|(column, rules)| (column.clone(), column_rules(&rules.over(&table.compare))))
                .collect(),
        )
        .with_max_row_diff(table.max_row_diff)
        .with_pair_unmatched(table.pair_unmatched, table.max_pair_columns)
        .with_footprints(footprints.clone());
    let diff = diff_tables(
        ctx,
        &names[0],
        &names[1],
        &spec,
        &staging.join("row_diff").join(&table.name),
    )
    .await?;
    Ok(diff)
}

/// The footprints the transforms wrote into the footers of `table`'s outputs (see
/// [`pathway_hash::Footprint`]), per side and district, so that the diff decides a district
/// whose two outputs agree without reading them. Only for a district folder holding the one
/// file the transform wrote, and whose name the partition column gives back unchanged (letters,
/// digits, `-`, `_`, `.`): any other district is read as usual.
fn read_footprints(run_dir: &Path, table: &str) -> pathway_diff::GroupFootprints {
    let mut footprints = pathway_diff::GroupFootprints::default();
    for (at, side) in Side::BOTH.into_iter().enumerate() {
        let (found, paths) = match side {
            Side::Legacy => (&mut footprints.legacy, &mut footprints.files[0]),
            Side::Beta => (&mut footprints.beta, &mut footprints.files[1]),
        };
        let Ok(folders) = std::fs::read_dir(run_dir.join(side.as_str()).join(table)) else {
            continue;
        };
        // Whether every entry of the table's folder is a district whose one file has a
        // footprint: the footprints then hold the table's rows per district.
        let mut complete = true;
        for folder in folders {
            let Ok(folder) = folder else {
                complete = false;
                continue;
            };
            let name = folder.file_name();
            let Some(district) = name.to_str().and_then(|n| n.strip_prefix("district_id=")) else {
                complete = false;
                continue;
            };
            let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
            if district.is_empty() || !district.chars().all(plain) {
                complete = false;
                continue;
            }
            let Ok(files) = std::fs::read_dir(folder.path()) else {
                complete = false;
                continue;
            };
            let files: Vec<_> = files.flatten().collect();
            if let [file] = files.as_slice()
                && file.file_name() == "part-0.parquet"
                && let Some(footprint) = pathway_diff::Footprint::read(&file.path())
            {
                found.insert(district.to_owned(), footprint);
                paths.insert(district.to_owned(), file.path());
            } else {
                complete = false;
            }
        }
        footprints.complete[at] = complete;
    }
    footprints
}

/// The audit's rules (unset = exact) as the diff engine takes them.
pub(super) fn column_rules(rules: &pathway_audit::Rules) -> pathway_diff::ColumnRules {
    pathway_diff::ColumnRules {
        trim: rules.trim.unwrap_or(false),
        ignore_case: rules.ignore_case.unwrap_or(false),
        null_equals_empty: rules.null_equals_empty.unwrap_or(false),
        abs_tolerance: rules.abs_tolerance,
        rel_tolerance: rules.rel_tolerance,
        date_tolerance_days: rules.date_tolerance_days,
        cast: rules.cast.clone(),
        expected: rules.expected_pairs(),
    }
}

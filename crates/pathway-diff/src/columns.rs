//! Which columns a diff compares, and how: each side's columns read from its table, the key,
//! group, ignored and renamed columns checked against them, the columns on one side only, the
//! type changes, and the rules each compared column is compared under. Every problem a user
//! can fix in their options is refused here, naming the column and the side, before any row is
//! read.

use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;

use crate::engine::query_error;
use crate::error::{Error, Result};
use crate::model::{ColumnRules, DiffSpec, SchemaDiff, TypeChange};
use crate::plan::PlanColumn;

/// A side's columns: name and type, in the table's order.
pub(crate) type Fields = Vec<(String, DataType)>;

/// The columns a diff pairs rows on and compares, and how the two sides' columns differ.
pub(crate) struct Columns {
    /// The key, without the group column (constant within a group, it adds nothing).
    pub key: Vec<PlanColumn>,
    /// On both sides, neither key, group nor ignored, in the legacy side's order.
    pub compared: Vec<PlanColumn>,
    pub schema: SchemaDiff,
}

/// The columns of the registered `table`.
pub(crate) async fn fields_of(
    ctx: &SessionContext,
    table: &str,
    spec: &DiffSpec,
    step: &'static str,
) -> Result<Fields> {
    let schema = ctx
        .table(table)
        .await
        .map_err(query_error(&spec.table, step))?
        .schema()
        .clone();
    Ok(schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect())
}

/// The key and compared columns of `spec` over these sides' columns (beta's already renamed),
/// or the first option that names a column a side does not have.
pub(crate) fn plan_columns(
    spec: &DiffSpec,
    legacy_fields: &[(String, DataType)],
    beta_fields: &[(String, DataType)],
) -> Result<Columns> {
    let type_of = |fields: &[(String, DataType)], name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    };

    if let Some(group) = &spec.group_by {
        for (side, fields) in [("legacy", legacy_fields), ("beta", beta_fields)] {
            if type_of(fields, group).is_none() {
                return Err(Error::MissingGroup {
                    table: spec.table.clone(),
                    column: group.clone(),
                    side: side.into(),
                });
            }
        }
    }
    let mut key = Vec::new();
    for column in &spec.key {
        if spec.group_by.as_ref() == Some(column) {
            // The group column is constant within a group: as part of the key it adds nothing,
            // and the answer is the one without it.
            continue;
        }
        let (l, b) = (type_of(legacy_fields, column), type_of(beta_fields, column));
        if let (Some(l), Some(b)) = (&l, &b) {
            key.push(PlanColumn::new(column, l, b, ColumnRules::default()));
        } else {
            let sides = match (l.is_some(), b.is_some()) {
                (false, false) => "legacy and beta",
                (false, true) => "legacy",
                _ => "beta",
            };
            let fields = if l.is_none() {
                legacy_fields
            } else {
                beta_fields
            };
            let available: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::MissingKey {
                table: spec.table.clone(),
                column: column.clone(),
                sides: sides.into(),
                available: available.join(", "),
            });
        }
    }

    for column in &spec.ignore {
        if type_of(legacy_fields, column).is_none() && type_of(beta_fields, column).is_none() {
            let available: Vec<&str> = legacy_fields.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::UnknownColumn {
                table: spec.table.clone(),
                column: column.clone(),
                option: "the ignored columns",
                side: "legacy or beta",
                available: available.join(", "),
            });
        }
    }
    for (column, _) in &spec.column_rules {
        if type_of(legacy_fields, column).is_none() {
            let available: Vec<&str> = legacy_fields.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::UnknownColumn {
                table: spec.table.clone(),
                column: column.clone(),
                option: "the comparison rules",
                side: "legacy",
                available: available.join(", "),
            });
        }
    }
    let skip = |name: &str| {
        spec.key.iter().any(|k| k == name)
            || spec.ignore.iter().any(|i| i == name)
            || spec.group_by.as_deref() == Some(name)
    };
    let mut schema = SchemaDiff::default();
    let mut compared = Vec::new();
    for (name, legacy_type) in legacy_fields {
        if skip(name) {
            continue;
        }
        match type_of(beta_fields, name) {
            None => schema.legacy_only.push(name.clone()),
            Some(beta_type) => {
                let column =
                    PlanColumn::new(name, legacy_type, &beta_type, spec.rules_for(name).clone());
                if column.as_text {
                    schema.type_changes.push(TypeChange {
                        column: name.clone(),
                        legacy_type: legacy_type.to_string(),
                        beta_type: beta_type.to_string(),
                    });
                }
                compared.push(column);
            }
        }
    }
    for (name, _) in beta_fields {
        if !skip(name) && type_of(legacy_fields, name).is_none() {
            schema.beta_only.push(name.clone());
        }
    }
    check_casts(spec, &compared, legacy_fields, beta_fields)?;
    Ok(Columns {
        key,
        compared,
        schema,
    })
}

/// Refuse roles that cannot go together: a key or group column that is also ignored, a rename
/// of a column legacy does not have, or onto a key column.
pub(crate) fn check_roles(spec: &DiffSpec, legacy_fields: &[(String, DataType)]) -> Result<()> {
    let conflict = |column: &str, conflict| {
        Err(Error::Conflict {
            table: spec.table.clone(),
            column: column.to_owned(),
            conflict,
        })
    };
    for column in &spec.ignore {
        if spec.key.contains(column) {
            return conflict(
                column,
                "is a key column and ignored: a key column is what pairs rows, it cannot be left \
                 out (drop it from --ignore or from --key)",
            );
        }
        if spec.group_by.as_ref() == Some(column) {
            return conflict(
                column,
                "is the group column and ignored (drop it from --ignore, or group by another \
                 column with --by)",
            );
        }
    }
    let rules = std::iter::once(("(every column)", &spec.default_rules))
        .chain(spec.column_rules.iter().map(|(c, r)| (c.as_str(), r)));
    for (column, rules) in rules {
        let tolerances = [
            rules.abs_tolerance,
            rules.rel_tolerance,
            rules.date_tolerance_days,
        ];
        if tolerances
            .into_iter()
            .flatten()
            .any(|t| !(t.is_finite() && t >= 0.0))
        {
            return conflict(
                column,
                "has a tolerance that is not a finite number of at least 0",
            );
        }
    }
    for (legacy_name, beta_name) in &spec.rename {
        if !legacy_fields.iter().any(|(n, _)| n == legacy_name) {
            let available: Vec<&str> = legacy_fields.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::UnknownColumn {
                table: spec.table.clone(),
                column: legacy_name.clone(),
                option: "a rename",
                side: "legacy",
                available: available.join(", "),
            });
        }
        if spec.rename.iter().filter(|(l, _)| l == legacy_name).count() > 1
            || spec.rename.iter().filter(|(_, b)| b == beta_name).count() > 1
        {
            return conflict(legacy_name, "is renamed twice (one --rename per column)");
        }
    }
    Ok(())
}

/// Refuse a `cast` rule a compared column's type cannot take on a side (a date cast to
/// `integer`, say): DataFusion would refuse the query, with a message naming neither.
pub(crate) fn check_casts(
    spec: &DiffSpec,
    compared: &[PlanColumn],
    legacy_fields: &[(String, DataType)],
    beta_fields: &[(String, DataType)],
) -> Result<()> {
    for column in compared {
        let Some(cast) = &column.rules.cast else {
            continue;
        };
        let target = crate::plan::cast_data_type(cast);
        for (side, fields) in [("legacy", legacy_fields), ("beta", beta_fields)] {
            let Some((_, ty)) = fields.iter().find(|(n, _)| *n == column.name) else {
                continue;
            };
            if !datafusion::arrow::compute::can_cast_types(ty, &target) {
                return Err(Error::BadCast {
                    table: spec.table.clone(),
                    column: column.name.clone(),
                    side,
                    from: ty.to_string(),
                    cast: cast.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Register a view of `beta` with the columns of `spec.rename` under their legacy names, so the
/// rest of the engine sees one name per column. Returns the name to diff against.
pub(crate) async fn rename_beta_columns(
    ctx: &SessionContext,
    beta: &str,
    spec: &DiffSpec,
) -> Result<String> {
    if spec.rename.is_empty() {
        return Ok(beta.to_owned());
    }
    let on_error = |source| Error::Query {
        table: spec.table.clone(),
        step: "renaming beta columns",
        source,
    };
    let frame = ctx.table(beta).await.map_err(on_error)?;
    let names: Vec<String> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for (_, beta_name) in &spec.rename {
        if !names.contains(beta_name) {
            return Err(Error::UnknownColumn {
                table: spec.table.clone(),
                column: beta_name.clone(),
                option: "a rename",
                side: "beta",
                available: names.join(", "),
            });
        }
    }
    let mut final_names: Vec<&String> = names
        .iter()
        .map(|name| {
            spec.rename
                .iter()
                .find(|(_, b)| b == name)
                .map_or(name, |(legacy_name, _)| legacy_name)
        })
        .collect();
    final_names.sort();
    if let Some(twice) = final_names.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::Conflict {
            table: spec.table.clone(),
            column: twice[0].clone(),
            conflict: "would name two beta columns after a rename: beta already has a column \
                       of that name (rename that one too, or --ignore it)",
        });
    }
    let exprs: Vec<datafusion::prelude::Expr> = names
        .iter()
        .map(|name| {
            let column = datafusion::prelude::ident(name);
            match spec.rename.iter().find(|(_, b)| b == name) {
                Some((legacy_name, _)) => column.alias(legacy_name),
                None => column,
            }
        })
        .collect();
    let view = frame.select(exprs).map_err(on_error)?.into_view();
    let name = format!("__beta_renamed_{}", spec.table);
    ctx.register_table(name.as_str(), view).map_err(on_error)?;
    Ok(name)
}

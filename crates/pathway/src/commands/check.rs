//! `pathway check AUDIT [--input DIR]`: what `pathway run` checks before a night, alone.
//!
//! ```text
//! pathway check audits/example --input fixtures/districts
//! ```
//!
//! Parses the audit, plans every SQL transform against the first district that has a file for
//! every input, and looks up every column name the audit mentions (keys, `pii`, `ignore`,
//! `rename`, column rules, `[[accepted]]` columns, inputs' `pii`) in what the transforms produce.
//! Prints what it checked; exits 0 when everything is known, 2 otherwise, naming the file, the
//! option and the closest names.

use std::io::Write;

use anyhow::Context;
use comfy_table::Table;
use pathway_audit::AuditSpec;
use pathway_audit::names::SideColumns;

use crate::ExitStatus;
use crate::cli::CheckArgs;
use pathway_night::check::check_audit;

/// Check the audit and print the result.
///
/// # Errors
/// An audit that does not load, or problems found (exit code 2 either way).
pub async fn check(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let audit = AuditSpec::load(&args.audit)?;
    let masker = pathway_mask::Masker::from_env().map_err(anyhow::Error::msg)?;
    let found = check_audit(&audit, args.input.as_deref(), &masker)
        .await
        .with_context(|| format!("audit `{}`", audit.name))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "audit `{}` ({}): {} input(s), {} table(s), {} accepted entr{}",
        audit.name,
        args.audit.display(),
        audit.inputs.len(),
        audit.tables.len(),
        audit.accepted.len(),
        if audit.accepted.len() == 1 {
            "y"
        } else {
            "ies"
        }
    )?;
    match (&found.district, &args.input) {
        (Some(district), Some(input)) => {
            writeln!(
                out,
                "transforms planned against district {district} of {}",
                input.display()
            )?;
            let mut table = Table::new();
            table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header(["table", "legacy", "beta"]);
            for (name, sides) in &found.tables {
                let cell = |side: &pathway_transform::PlannedSide| match (&side.columns, &side.note)
                {
                    (SideColumns::Known(columns), _) => format!("{} column(s)", columns.len()),
                    (SideColumns::Unknown, Some(note)) if side.failed => {
                        format!("does not plan (below)\n{}", first_line(note))
                    }
                    (SideColumns::Unknown, Some(note)) => {
                        format!("not checked: {}", first_line(note))
                    }
                    (SideColumns::Unknown, None) => "not checked".to_owned(),
                };
                table.add_row([name.clone(), cell(&sides[0]), cell(&sides[1])]);
            }
            writeln!(out, "{table}")?;
            writeln!(
                out,
                "{} column name(s) of the audit looked up (keys, pii, ignore, rename, column rules, accepted entries, inputs' pii)",
                found.names
            )?;
        }
        (None, Some(input)) => writeln!(
            out,
            "no district of {} could be read: only audit.toml and the SQL files were checked",
            input.display()
        )?,
        (_, None) => writeln!(
            out,
            "no --input: only audit.toml and the SQL files were checked (give a night's folder to plan the transforms and check every column name)"
        )?,
    }
    for doubt in &found.doubtful {
        writeln!(
            out,
            "note: {doubt} (fine if another version of the export has it)"
        )?;
    }
    let problems: Vec<String> = found
        .plan_failures()
        .map(str::to_owned)
        .chain(found.unknown.iter().map(ToString::to_string))
        .collect();
    if problems.is_empty() {
        writeln!(out, "ok")?;
        return Ok(ExitStatus::Completed);
    }
    anyhow::bail!(
        "audit `{}`: {} problem(s):\n{}",
        audit.name,
        problems.len(),
        problems
            .iter()
            .map(|p| format!("  - {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

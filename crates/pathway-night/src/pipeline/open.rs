//! Stage 1, opening the night: the audit loaded and checked, the diff's session, the database
//! sides connected, the districts listed, and the audit's folder locked with a fresh staging
//! folder in it. Everything that can stop the whole night stops it here, before any district.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use datafusion::prelude::SessionContext;
use pathway_audit::AuditSpec;
use pathway_input::{DistrictList, list_districts};

use super::lock::RunLock;
use super::publish::recover;
use super::{RunSettings, databases, reuse};

/// A night being made: what every later stage reads.
pub(super) struct OpenNight {
    pub audit: AuditSpec,
    /// The engine settings, with the audit's cluster when the command line named none.
    pub engine: pathway_diff::EngineSettings,
    pub ctx: SessionContext,
    pub databases: Arc<pathway_transform::DatabaseTables>,
    pub list: DistrictList,
    /// The audit's folder, `<out>/<audit>`: its nights, history.csv and metrics.csv.
    pub nights: PathBuf,
    /// Where the night is written before it is published.
    pub staging: PathBuf,
    /// A fingerprint of the audit folder and pathway's version: a district is carried over only
    /// from a night made by the same audit and version.
    pub audit_fingerprint: String,
    /// What may be carried over tonight (`Off` for an audit reading databases).
    pub reuse_mode: reuse::ReuseMode,
    /// The audit's last night and its reuse record, when something may be carried over.
    pub previous: Option<(PathBuf, reuse::ReuseRecord)>,
    /// Held until the night is published: no other run of this audit writes meanwhile.
    pub _lock: RunLock,
}

/// Open the night `settings` describes.
pub(super) async fn open(settings: &RunSettings) -> anyhow::Result<OpenNight> {
    let audit = AuditSpec::load(&settings.audit_dir)?;
    // Checked before any work: the name is the audit's folder in the output folder.
    crate::layout::check_audit_name(&audit.name)?;
    // The diff's session first: an unreachable cluster should stop the night before any work.
    let mut engine = settings.engine.clone();
    if engine.cluster.is_none() {
        engine.cluster.clone_from(&audit.cluster);
    }
    let ctx = crate::session::session(&engine).await?;
    // Database sides are connected once, before any district; one that cannot be reached makes
    // its districts ERROR and the rest of the night goes on.
    let databases = Arc::new(if audit.reads_databases() {
        databases::connect_sides(&audit).await
    } else {
        pathway_transform::DatabaseTables::new()
    });
    let list = districts(&audit, settings, &databases).await?;
    for (folder, reason) in &list.skipped {
        tracing::warn!("warning: skipping input folder `{folder}`: {reason}");
    }
    let (nights, staging, lock) = lock_and_stage(&audit, settings)?;

    let audit_fingerprint =
        reuse::fingerprint_folder(&settings.audit_dir, env!("CARGO_PKG_VERSION"))
            .with_context(|| format!("audit `{}`: cannot read the audit folder", audit.name))?;
    // A database's rows can change while the audit's files stay the same: nothing read from
    // one is carried over.
    let reuse_mode = if audit.reads_databases() {
        if settings.reuse != reuse::ReuseMode::Off {
            tracing::info!(
                "audit `{}` reads databases: every district is run (none carried over)",
                audit.name
            );
        }
        reuse::ReuseMode::Off
    } else {
        settings.reuse
    };
    let previous = match reuse_mode {
        reuse::ReuseMode::Off => None,
        _ => reuse::previous(&nights, &audit.name),
    };
    Ok(OpenNight {
        audit,
        engine,
        ctx,
        databases,
        list,
        nights,
        staging,
        audit_fingerprint,
        reuse_mode,
        previous,
        _lock: lock,
    })
}

/// The night's districts: the input's folders, or for an audit reading databases only, the
/// district ids its databases hold.
async fn districts(
    audit: &AuditSpec,
    settings: &RunSettings,
    databases: &pathway_transform::DatabaseTables,
) -> anyhow::Result<DistrictList> {
    match &settings.input {
        Some(input) => {
            let list = list_districts(input).with_context(|| {
                format!(
                    "audit `{}`: cannot list the district folders of the input",
                    audit.name
                )
            })?;
            if list.districts.is_empty() {
                bail!(
                    "audit `{}`: no district folders in `{}` (expected <input>/<district_id>/<files>)",
                    audit.name,
                    input.display()
                );
            }
            Ok(list)
        }
        None if audit.reads_databases_only() => {
            let (districts, skipped) = databases::districts_in(audit, databases).await?;
            if districts.is_empty() {
                bail!(
                    "audit `{}`: the databases hold no rows with a district id",
                    audit.name
                );
            }
            Ok(DistrictList { districts, skipped })
        }
        None => bail!(
            "audit `{}` reads input files: give the input folder with --input <folder>",
            audit.name
        ),
    }
}

/// The audit's folder in the output folder, locked, cleaned of killed runs' leftovers, with an
/// empty staging folder for tonight.
fn lock_and_stage(
    audit: &AuditSpec,
    settings: &RunSettings,
) -> anyhow::Result<(PathBuf, PathBuf, RunLock)> {
    std::fs::create_dir_all(&settings.out).with_context(|| {
        format!(
            "cannot create the output folder `{}`",
            settings.out.display()
        )
    })?;
    // An output folder written by an earlier version (`<out>/<date>/` for every audit) is moved
    // into per-audit folders first, so this audit's earlier nights are found where they belong.
    if crate::layout::has_earlier_layout(&settings.out) {
        crate::layout::migrate(&settings.out).with_context(|| {
            format!(
                "audit `{}`: cannot move the nights of `{}` into per-audit folders",
                audit.name,
                settings.out.display()
            )
        })?;
    }
    // Everything below happens in the audit's own folder: its lock (runs of other audits into
    // the same output folder go on at the same time), its history, its previous night.
    let nights = crate::layout::audit_folder(&settings.out, &audit.name);
    std::fs::create_dir_all(&nights)
        .with_context(|| format!("cannot create the output folder `{}`", nights.display()))?;
    let lock = RunLock::acquire(&nights, &audit.name)?;
    recover(&nights)?;
    let staging = nights.join(format!(".staging-{}-{}", settings.date, std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot clear `{}`", staging.display()))?;
    }
    std::fs::create_dir_all(&staging)
        .with_context(|| format!("cannot create `{}`", staging.display()))?;
    Ok((nights, staging, lock))
}

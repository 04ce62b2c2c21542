//! Stage 3, reading and transforming: each district's files read into Arrow and both sides'
//! transforms run, their outputs written as Parquet into the staging folder. Districts run side
//! by side, as many as `--jobs` and the memory limit allow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use pathway_audit::AuditSpec;
use pathway_input::read_district;
use pathway_transform::run_district;

use super::open::OpenNight;
use super::{RunSettings, budget};

/// A district's input as read (or why it could not be), and its transforms' outcomes.
pub(super) type Worked = (
    Result<pathway_input::DistrictInput, String>,
    Vec<pathway_transform::Outcome>,
);

/// Read and transform `districts`, at most `settings.jobs` at a time and no more than the
/// memory limit holds by their files' sizes ([`budget`]), the heaviest first (each in its own
/// task: reading is CPU-bound and runs on the blocking pool), reporting progress as each one
/// finishes.
pub(super) async fn read_and_transform_all(
    night: &OpenNight,
    settings: &RunSettings,
    reads: &Arc<pathway_transform::TableInputs>,
    districts: &[String],
    differed: &BTreeMap<String, BTreeSet<String>>,
    progress: &mut crate::progress::Progress,
) -> BTreeMap<String, Worked> {
    use futures::StreamExt;
    let shared = Shared {
        audit: Arc::new(night.audit.clone()),
        reads: reads.clone(),
        databases: night.databases.clone(),
        input_root: settings.input.clone(),
        masker: settings.masker.clone(),
        staging: night.staging.clone(),
    };
    let budget = budget::Budget::new(settings.engine.memory_limit as u64);
    let mut weighed: Vec<(u64, String)> = districts
        .iter()
        .map(|district| {
            let weight = settings
                .input
                .as_ref()
                .map_or(0, |input| budget::district_weight(&input.join(district)));
            (weight, district.clone())
        })
        .collect();
    // Heaviest first: the largest districts do not end the night alone, and one that must run
    // alone does so while the others wait rather than at the end. Reports do not depend on it.
    weighed.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let started = std::time::Instant::now();
    let mut running = futures::stream::iter(weighed.into_iter().map(|(weight, district)| {
        let task = read_and_transform(
            shared.clone(),
            district.clone(),
            differed.get(&district).cloned().unwrap_or_default(),
        );
        let budget = budget.clone();
        async move {
            let admitted = budget.admit(weight).await;
            let clock = std::time::Instant::now();
            let worked = tokio::spawn(task)
                .await
                .unwrap_or_else(|e| (Err(format!("the district's task stopped: {e}")), Vec::new()));
            drop(admitted);
            (district, worked, clock.elapsed().as_secs_f64())
        }
    }))
    .buffer_unordered(settings.jobs.max(1));
    let mut done = BTreeMap::new();
    while let Some((district, worked, seconds)) = running.next().await {
        let written = worked
            .1
            .iter()
            .filter_map(|o| o.result.as_ref().ok())
            .map(|w| w.rows)
            .sum();
        progress.district_done(&district, written, seconds);
        done.insert(district, worked);
    }
    tracing::debug!(
        districts = done.len(),
        seconds = started.elapsed().as_secs_f64(),
        most_at_once = budget.most_in_flight(),
        "read and transformed {} district(s) in {:.2} s, at most {} at once (--jobs {}, memory limit {} MiB)",
        done.len(),
        started.elapsed().as_secs_f64(),
        budget.most_in_flight(),
        settings.jobs.max(1),
        settings.engine.memory_limit / (1024 * 1024),
    );
    done
}

/// What every district's task shares.
#[derive(Clone)]
struct Shared {
    audit: Arc<AuditSpec>,
    reads: Arc<pathway_transform::TableInputs>,
    databases: Arc<pathway_transform::DatabaseTables>,
    /// The input folder; `None` for an audit read from databases only.
    input_root: Option<PathBuf>,
    masker: pathway_mask::Masker,
    staging: PathBuf,
}

/// Read `district` and run its transforms (without footprints for the tables in
/// `no_footprints`), letting its input rows go once the outputs are written.
async fn read_and_transform(
    shared: Shared,
    district: String,
    no_footprints: BTreeSet<String>,
) -> Worked {
    let Shared {
        audit,
        reads,
        databases,
        input_root,
        masker,
        staging,
    } = shared;
    let mut read = match input_root {
        // An audit without input files: the district is only a filter on its databases.
        None => Ok(pathway_input::DistrictInput::new(PathBuf::new(), &district)),
        Some(input_root) => {
            let (audit, district) = (audit.clone(), district.clone());
            tokio::task::spawn_blocking(move || {
                read_district(&audit, &input_root, &district, &masker).map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(format!("reading stopped: {e}")))
        }
    };
    let outcomes = match &mut read {
        Ok(input) => {
            let outcomes =
                run_district(&audit, &reads, input, &staging, &databases, &no_footprints).await;
            // The rows are in the outputs now; what is kept until every district is done is
            // the accounting. Holding the rows too made the night's peak the whole input.
            input.tables = Vec::new();
            outcomes
        }
        Err(_) => Vec::new(),
    };
    (read, outcomes)
}

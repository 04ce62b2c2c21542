//! Stage 2, carrying over: which districts keep the previous night's results (their input and
//! the audit unchanged, see [`super::reuse`]) and which run tonight. Decided first, in order;
//! it is cheap.

use std::collections::BTreeMap;

use super::RunSettings;
use super::ledger::Ledger;
use super::open::OpenNight;
use super::reuse::{self, DistrictRecord};
use crate::NightDate;
use crate::progress::Progress;

/// The districts of the night, split.
pub(super) struct Carried {
    /// To read and transform tonight, in the input's order.
    pub to_run: Vec<String>,
    /// Carried over from the previous night, with their records restamped for tonight.
    pub reused: BTreeMap<String, DistrictRecord>,
    /// Per district, the fingerprint of the input its results stand for.
    pub input_fingerprints: BTreeMap<String, String>,
}

impl Carried {
    /// The carried-over districts' names, in order.
    pub fn reused_names(&self) -> Vec<String> {
        self.reused.keys().cloned().collect()
    }
}

/// Split the night's districts; the carried ones' accounts go into `ledger` at once.
pub(super) fn carry_over(
    night: &OpenNight,
    settings: &RunSettings,
    ledger: &mut Ledger,
    progress: &mut Progress,
) -> Carried {
    let mut carried = Carried {
        to_run: Vec::new(),
        reused: BTreeMap::new(),
        input_fingerprints: BTreeMap::new(),
    };
    let expired = accepted_expired_since_previous(night, &settings.date);
    for district in &night.list.districts {
        // An unreadable folder gets no fingerprint and is never reused; reading it fails later.
        let fingerprint = match &settings.input {
            Some(input) => reuse::fingerprint_folder(&input.join(district), "").unwrap_or_default(),
            None => String::new(),
        };
        if let Some(record) = reuse::reusable(
            night.reuse_mode,
            night.previous.as_ref().map(|(_, record)| record),
            &night.audit_fingerprint,
            district,
            &fingerprint,
        )
        .filter(|_| !fingerprint.is_empty())
        .filter(|record| !(expired && record.categories.iter().any(|c| !c.accepted.is_empty())))
        {
            let record = record.for_night(settings.date.as_str());
            // The results stand for the input they were computed from.
            carried
                .input_fingerprints
                .insert(district.clone(), record.input_fingerprint.clone());
            ledger.carry(district, &record);
            carried.reused.insert(district.clone(), record);
            progress.district_reused(district);
            continue;
        }
        carried
            .input_fingerprints
            .insert(district.clone(), fingerprint);
        carried.to_run.push(district.clone());
    }
    carried
}

/// Whether an accepted difference expired since the previous night: it no longer makes a
/// district ACCEPTED, so the districts it covered are run again instead of carried over.
fn accepted_expired_since_previous(night: &OpenNight, date: &NightDate) -> bool {
    let previous_date = night
        .previous
        .as_ref()
        .and_then(|(dir, _)| NightDate::of_folder(&dir.file_name()?.to_string_lossy()));
    night.audit.accepted.iter().any(|entry| {
        // The audit checked that `expires` is a date.
        let expires = entry
            .expires
            .as_deref()
            .and_then(|e| NightDate::parse(e).ok());
        expires.is_some_and(|expires| {
            expires < *date && previous_date.as_ref().is_none_or(|p| expires >= *p)
        })
    })
}

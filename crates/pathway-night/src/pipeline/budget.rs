//! How many districts `pathway run` reads and transforms at once: at most `--jobs`, and no more
//! than the memory budget (`--memory-limit`) holds by their estimated size.
//!
//! A district is read whole (its tables are registered for its SQL, which may join them), so
//! the night's peak follows the districts in flight. Bounding only their number let two of the
//! largest districts of a 30M-row night overlap (1.1 GiB); a district is now admitted only while
//! the districts in flight fit the budget together. One larger than the budget runs alone.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Memory a district of plain text holds while it is read and transformed, per byte of its
/// files: the file's bytes, the Arrow columns parsed from them (text plus offsets) and the
/// transforms' output being written, and the allocator's slack. Measured on the bench night: a
/// 180 MiB CSV district peaks at 559 MiB alone; at 3× two districts of 149 MiB ran together
/// under a 1 GiB limit and the night peaked at 1062 MiB.
const PER_TEXT_BYTE: u64 = 4;

/// Compressed files and Parquet unpack to several times their size on disk; without opening
/// them, this is the expansion assumed (CSV exports compress 5 to 10 times).
const EXPANSION_OF_PACKED: u64 = 6;

/// The memory a district is expected to hold while read and transformed, from the sizes of the
/// files in its folder (sub-folders included). An unreadable folder weighs nothing: reading it
/// fails at once, with its own message.
#[must_use]
pub fn district_weight(folder: &Path) -> u64 {
    let mut files = Vec::new();
    // A folder that cannot be listed whole weighs what was listed of it.
    let _ = super::reuse::collect_files(folder, folder, &mut files);
    files
        .iter()
        .map(|relative| {
            let size = std::fs::metadata(folder.join(relative)).map_or(0, |m| m.len());
            let name = relative.to_string_lossy().to_ascii_lowercase();
            #[allow(
                clippy::case_sensitive_file_extension_comparisons,
                reason = "the name is lower-cased just above"
            )]
            let packed = pathway_input::Compression::of_name(&name).is_some()
                || name.ends_with(".parquet")
                || name.ends_with(".zip");
            let expansion = if packed { EXPANSION_OF_PACKED } else { 1 };
            size.saturating_mul(PER_TEXT_BYTE * expansion)
        })
        .fold(0, u64::saturating_add)
}

/// Admission of districts by weight against a memory budget, counted in KiB.
#[derive(Debug, Clone)]
pub struct Budget {
    free: Arc<Semaphore>,
    capacity_kib: u32,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

/// A district's place in the budget, given back when dropped.
#[derive(Debug)]
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
    in_flight: Arc<AtomicUsize>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Budget {
    /// A budget of `bytes` (at least 1 KiB).
    #[must_use]
    pub fn new(bytes: u64) -> Budget {
        let capacity_kib = u32::try_from(bytes / 1024).unwrap_or(u32::MAX).max(1);
        Budget {
            free: Arc::new(Semaphore::new(capacity_kib as usize)),
            capacity_kib,
            in_flight: Arc::new(AtomicUsize::new(0)),
            most_in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Wait until a district of `weight` bytes fits beside those in flight. Waiting is first
    /// come, first served: a large district is not starved by smaller ones behind it. A
    /// district heavier than the whole budget waits for all of it.
    pub async fn admit(&self, weight: u64) -> Admitted {
        let kib = u32::try_from(weight.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, self.capacity_kib);
        let permit = self
            .free
            .clone()
            .acquire_many_owned(kib)
            .await
            .expect("the budget's semaphore is never closed");
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        Admitted {
            _permit: permit,
            in_flight: self.in_flight.clone(),
        }
    }

    /// The most districts that were in flight at once.
    #[must_use]
    pub fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_district_weighs_its_files_with_packed_ones_expanded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("students.csv"), vec![b'a'; 1000]).unwrap();
        std::fs::create_dir(dir.path().join("extra")).unwrap();
        std::fs::write(dir.path().join("extra/scores.TXT.GZ"), vec![0u8; 100]).unwrap();
        std::fs::write(dir.path().join("extra/courses.parquet"), vec![0u8; 10]).unwrap();
        // 4 × 1000 + 4 × 6 × 100 + 4 × 6 × 10
        assert_eq!(district_weight(dir.path()), 4000 + 2400 + 240);
        assert_eq!(district_weight(&dir.path().join("absent")), 0);
    }

    #[tokio::test]
    async fn districts_wait_until_they_fit_and_an_oversized_one_runs_alone() {
        let budget = Budget::new(10 * 1024);
        let first = budget.admit(6 * 1024).await;
        let small = budget.admit(4 * 1024).await;
        assert_eq!(budget.most_in_flight(), 2);
        // 6 + 4 + 6 KiB do not fit in 10: the third waits until the first is done.
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.admit(6 * 1024).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(first);
        let third = waiting.await.unwrap();
        // Heavier than the budget: admitted once the whole budget is free.
        let oversized = tokio::spawn({
            let budget = budget.clone();
            async move { budget.admit(u64::MAX).await }
        });
        tokio::task::yield_now().await;
        drop(small);
        tokio::task::yield_now().await;
        assert!(!oversized.is_finished());
        drop(third);
        drop(oversized.await.unwrap());
        assert_eq!(budget.most_in_flight(), 2);
    }
}

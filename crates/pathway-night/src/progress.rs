//! Progress through the districts of a night: a bar on a terminal, log lines otherwise. Never a
//! student value: district ids, counts and timings only.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// Progress through the districts of a run.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    rows: u64,
    started: Instant,
}

impl Progress {
    /// A bar when `bar` (a terminal with text logs), log lines otherwise.
    #[must_use]
    pub fn new(total: usize, bar: bool) -> Progress {
        let bar = bar.then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} districts · {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
            rows: 0,
            started: Instant::now(),
        }
    }

    /// One more district done, having written `rows` rows in `seconds`.
    #[allow(clippy::cast_precision_loss)]
    pub fn district_done(&mut self, district: &str, rows: u64, seconds: f64) {
        self.done += 1;
        self.rows += rows;
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            (self.rows as f64 / elapsed).round()
        } else {
            0.0
        };
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{rate} rows/s"));
            bar.inc(1);
        } else {
            tracing::info!(
                district,
                done = self.done,
                total = self.total,
                rows,
                seconds,
                rows_per_second = rate,
                "[{}/{}] district {district}: {rows} rows in {seconds:.2} s ({rate} rows/s so far)",
                self.done,
                self.total
            );
        }
    }

    /// One more district done, carried over from the previous run.
    pub fn district_reused(&mut self, district: &str) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else {
            tracing::info!(
                district,
                done = self.done,
                total = self.total,
                reused = true,
                "[{}/{}] district {district}: unchanged, reused from the previous run",
                self.done,
                self.total
            );
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

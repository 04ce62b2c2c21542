//! Logs and progress on stderr: plain lines for people and cron, JSON lines for log shippers
//! (`--log-format json`), a progress bar on a terminal. Never a student value: callers log ids,
//! counts and redacted messages only.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::LogFormat;

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Install the tracing subscriber for `format`. The level comes from `PATHWAY_LOG`
/// (`info` by default: progress and warnings).
pub fn init(format: LogFormat) {
    let _ = FORMAT.set(format);
    let filter = tracing_subscriber::EnvFilter::try_from_env("PATHWAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    let _ = match format {
        // Messages are written for people already ("warning: ..."): print them as they are.
        // The structured fields repeat what the message says; JSON keeps them.
        LogFormat::Text => builder
            .without_time()
            .with_target(false)
            .with_level(false)
            .with_ansi(false)
            .fmt_fields(tracing_subscriber::fmt::format::debug_fn(
                |writer, field, value| {
                    if field.name() == "message" {
                        write!(writer, "{value:?}")
                    } else {
                        Ok(())
                    }
                },
            ))
            .try_init(),
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
    };
}

/// Progress through the districts of a run.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    rows: u64,
    started: Instant,
}

impl Progress {
    /// A bar on a terminal with text logs; log lines otherwise.
    #[must_use]
    pub fn new(total: usize) -> Progress {
        let text = FORMAT.get().is_none_or(|f| *f == LogFormat::Text);
        let bar = (text && std::io::stderr().is_terminal()).then(|| {
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
        match &self.bar {
            Some(bar) => {
                bar.set_message(format!("{rate} rows/s"));
                bar.inc(1);
            }
            None => tracing::info!(
                district,
                done = self.done,
                total = self.total,
                rows,
                seconds,
                rows_per_second = rate,
                "[{}/{}] district {district}: {rows} rows in {seconds:.2} s ({rate} rows/s so far)",
                self.done,
                self.total
            ),
        }
    }

    /// One more district done, carried over from the previous run.
    pub fn district_reused(&mut self, district: &str) {
        self.done += 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => tracing::info!(
                district,
                done = self.done,
                total = self.total,
                reused = true,
                "[{}/{}] district {district}: unchanged, reused from the previous run",
                self.done,
                self.total
            ),
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

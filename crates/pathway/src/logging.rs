//! Logs and progress on stderr: plain lines for people and cron, JSON lines for log shippers
//! (`--log-format json`), a progress bar on a terminal. Never a student value: callers log ids,
//! counts and redacted messages only.

use std::io::IsTerminal;
use std::sync::OnceLock;

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

/// Whether a progress bar may be drawn: text logs on a terminal (JSON logs and cron get lines).
#[must_use]
pub fn progress_bar_wanted() -> bool {
    let text = FORMAT.get().is_none_or(|f| *f == LogFormat::Text);
    text && std::io::stderr().is_terminal()
}

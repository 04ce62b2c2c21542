//! End-to-end tests of the `pathway` binary on the bundled fixtures.
// A test walks one scenario end to end, its local helpers next to their use.
#![allow(clippy::too_many_lines, clippy::items_after_statements)]

mod accepted;
mod caps;
mod check;
#[cfg(feature = "ballista")]
mod cluster;
mod commands;
mod common;
mod compare;
#[cfg(all(feature = "postgres", feature = "mysql"))]
mod databases;
mod diff;
mod differential;
mod explain;
mod faults;
mod history;
mod inputs;
mod keys;
mod layout;
mod nightly;
mod noise;
#[cfg(feature = "s3")]
mod object_storage;
mod oneroster;
mod pairing;
mod patterns;
mod pii;
mod privacy;
mod profile;
mod query;
mod report;
mod reuse;
mod roles;
mod rules;
mod run;
mod scale;
mod show;
mod snapshots;

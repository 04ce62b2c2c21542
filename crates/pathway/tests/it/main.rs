//! End-to-end tests of the `pathway` binary on the bundled fixtures.

mod common;
mod history;
mod run;

//! The diff engine's tests, one binary: hand-checked tables (`engine`), the shapes users bring
//! that once went wrong (`shapes`), the triage against the full join (`triage`), the
//! fingerprint's properties, and the differential tests against the naive reference.

mod differential;
mod engine;
mod fingerprint_properties;
mod shapes;
mod triage;

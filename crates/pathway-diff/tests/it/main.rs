//! The diff engine's tests, one binary: hand-checked tables (`engine`), the shapes users bring
//! that once went wrong (`shapes`), the triage against the full join (`triage`), the
//! fingerprint's properties, and the differential tests against the naive reference.

mod differential;
mod engine;
mod fingerprint_properties;
mod shapes;
mod triage;

/// A group's figures in one array, as the tests write them by hand: (legacy, beta, matched,
/// changed, missing, extra, legacy dup keys, beta dup keys).
fn counts(g: &pathway_diff::GroupDiff) -> [u64; 8] {
    [
        g.legacy_rows,
        g.beta_rows,
        g.matched_rows,
        g.changed_rows,
        g.missing_in_beta,
        g.extra_in_beta,
        g.legacy_dup_keys,
        g.beta_dup_keys,
    ]
}

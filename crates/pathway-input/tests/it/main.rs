//! The input reader's tests, one binary: every messy fixture file read and accounted for, and
//! properties over random bytes and CSV-like text.

mod messy_fixtures;
mod properties;

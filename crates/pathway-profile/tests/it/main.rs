//! The profile on small hand-made tables, every figure checked by hand, and on random tables
//! against a naive reference.

mod against_sql;
mod by_hand;

//! The profile on small hand-made tables, every figure checked by hand.

mod by_hand;

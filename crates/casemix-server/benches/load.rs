//! Bounded load client (placeholder, replaced below).
fn main() {}

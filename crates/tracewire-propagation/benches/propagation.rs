//! Propagation benches (filled in below).

fn main() {}

//! Bench: log enrichment overhead.

fn main() {}

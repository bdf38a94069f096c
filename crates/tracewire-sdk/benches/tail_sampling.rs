//! Tail sampling benches (placeholder until the processor exists).
fn main() {}

//! Test kit for tracewire and its users.
//!
//! - [`bench`]: a small bench harness that runs the cases of a comparison side by side in one
//!   run and prints median ns/op, allocations/op and the ratio to the baseline, with a counting
//!   global allocator.
//! - [`fuzz`]: a mutation fuzzer on the stable toolchain, run briefly by `cargo test` and for a
//!   bounded time by `cargo xtask fuzz`.

pub mod bench;
pub mod fuzz;

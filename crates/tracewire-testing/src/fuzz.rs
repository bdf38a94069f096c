//! A small mutation fuzzer that runs on the stable toolchain, for every parser of untrusted input.
//!
//! A fuzz target is an ordinary test (by convention in a crate's `tests/fuzz.rs`) that builds a
//! [`Fuzz`] from seed inputs and a dictionary of tokens, then runs a closure over mutated inputs.
//! Any panic fails the test, after printing the input (escaped) and the seed that reproduces the
//! run.
//!
//! The budget comes from the environment, so the same targets run briefly in `cargo test` and for
//! longer in `cargo xtask fuzz --seconds N`:
//!
//! - `TRACEWIRE_FUZZ_SECONDS`: run each target for this many seconds;
//! - otherwise `TRACEWIRE_FUZZ_ITERATIONS` iterations (default 3000);
//! - `TRACEWIRE_FUZZ_SEED`: the random seed (default: from the clock, printed).
//!
//! # Example
//!
//! ```
//! use tracewire_testing::fuzz::Fuzz;
//!
//! let runs = Fuzz::new("split_once")
//!     .with_iterations(200)
//!     .seed("key=value")
//!     .dict(&["=", ",", ";"])
//!     .run(|input| {
//!         let text = String::from_utf8_lossy(input);
//!         let _ = text.split_once('=');
//!     });
//! assert_eq!(runs, 200);
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::{Duration, Instant};

/// Bytes that often break parsers of text headers.
const INTERESTING: &[u8] = &[
    0x00, 0x09, 0x0a, 0x0d, b' ', b',', b'=', b';', b'-', b'%', b'@', b'"', b'\\', b'/', b'*',
    0x7f, 0x80, 0xc3, 0xe2, 0xff, b'0', b'f', b'F', b'z',
];

/// A fuzz target: seeds, a dictionary and a budget.
#[derive(Debug, Clone)]
pub struct Fuzz {
    name: String,
    seeds: Vec<Vec<u8>>,
    dict: Vec<Vec<u8>>,
    budget: Budget,
    rng_seed: u64,
    max_len: usize,
}

#[derive(Debug, Clone, Copy)]
enum Budget {
    Iterations(u64),
    Time(Duration),
}

impl Fuzz {
    /// A target named `name`, with its budget and seed from the environment.
    pub fn new(name: &str) -> Self {
        let budget = match std::env::var("TRACEWIRE_FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
        {
            Some(secs) => Budget::Time(Duration::from_secs_f64(secs)),
            None => Budget::Iterations(
                std::env::var("TRACEWIRE_FUZZ_ITERATIONS")
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(3000),
            ),
        };
        let rng_seed = std::env::var("TRACEWIRE_FUZZ_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0x5eed)
            });
        Self {
            name: name.to_owned(),
            seeds: Vec::new(),
            dict: Vec::new(),
            budget,
            rng_seed,
            max_len: 4096,
        }
    }

    /// Runs exactly `n` iterations, whatever the environment says.
    pub fn with_iterations(mut self, n: u64) -> Self {
        self.budget = Budget::Iterations(n);
        self
    }

    /// Caps the length of generated inputs (default 4096 bytes).
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len.max(1);
        self
    }

    /// Adds a seed input (a valid or nearly valid example to mutate).
    pub fn seed(mut self, input: impl AsRef<[u8]>) -> Self {
        self.seeds.push(input.as_ref().to_vec());
        self
    }

    /// Adds tokens that mutations insert (separators, keywords, prefixes).
    pub fn dict(mut self, tokens: &[&str]) -> Self {
        self.dict
            .extend(tokens.iter().map(|t| t.as_bytes().to_vec()));
        self
    }

    /// Runs `target` over the seeds, then over mutated inputs until the budget is spent; returns
    /// the number of inputs run.
    ///
    /// # Panics
    ///
    /// Re-raises a panic of `target`, after printing the input and the seed that reproduces it.
    pub fn run(self, mut target: impl FnMut(&[u8])) -> u64 {
        let mut rng = Rng(self.rng_seed | 1);
        let started = Instant::now();
        let mut runs = 0u64;
        let mut corpus = self.seeds.clone();
        if corpus.is_empty() {
            corpus.push(Vec::new());
        }
        loop {
            let done = match self.budget {
                Budget::Iterations(n) => runs >= n,
                Budget::Time(d) => started.elapsed() >= d,
            };
            if done {
                break;
            }
            let input = if (runs as usize) < self.seeds.len() {
                self.seeds[runs as usize].clone()
            } else {
                self.mutate(&mut rng, &corpus)
            };
            let result = catch_unwind(AssertUnwindSafe(|| target(&input)));
            if let Err(panic) = result {
                eprintln!(
                    "fuzz target `{}` panicked on input {:?} (len {}); reproduce with TRACEWIRE_FUZZ_SEED={}",
                    self.name,
                    input.escape_ascii().to_string(),
                    input.len(),
                    self.rng_seed
                );
                resume_unwind(panic);
            }
            // Keep a few mutated inputs around so mutations compound.
            if runs.is_multiple_of(64) && corpus.len() < 256 {
                corpus.push(input);
            }
            runs += 1;
        }
        if matches!(self.budget, Budget::Time(_)) {
            eprintln!(
                "fuzz target `{}`: {runs} inputs in {:.1?} (seed {})",
                self.name,
                started.elapsed(),
                self.rng_seed
            );
        }
        runs
    }

    fn mutate(&self, rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
        let mut data = corpus[rng.below(corpus.len())].clone();
        let rounds = 1 + rng.below(4);
        for _ in 0..rounds {
            match rng.below(10) {
                0 if !data.is_empty() => {
                    let i = rng.below(data.len());
                    data[i] ^= 1 << rng.below(8);
                }
                1 if !data.is_empty() => {
                    let i = rng.below(data.len());
                    data[i] = INTERESTING[rng.below(INTERESTING.len())];
                }
                2 if !self.dict.is_empty() => {
                    let tok = &self.dict[rng.below(self.dict.len())];
                    let i = rng.below(data.len() + 1);
                    data.splice(i..i, tok.iter().copied());
                }
                3 if !data.is_empty() => {
                    let i = rng.below(data.len());
                    let j = (i + 1 + rng.below(8)).min(data.len());
                    data.drain(i..j);
                }
                4 if !data.is_empty() => {
                    let i = rng.below(data.len());
                    let j = (i + 1 + rng.below(16)).min(data.len());
                    let chunk: Vec<u8> = data[i..j].to_vec();
                    let times = 1 + rng.below(40);
                    let at = rng.below(data.len() + 1);
                    for _ in 0..times {
                        data.splice(at..at, chunk.iter().copied());
                    }
                }
                5 => {
                    let other = &corpus[rng.below(corpus.len())];
                    let cut = rng.below(data.len() + 1);
                    let from = rng.below(other.len() + 1);
                    data.truncate(cut);
                    data.extend_from_slice(&other[from..]);
                }
                6 if !data.is_empty() => {
                    data.truncate(rng.below(data.len()));
                }
                7 => {
                    let n = 1 + rng.below(8);
                    let at = rng.below(data.len() + 1);
                    for k in 0..n {
                        let b = (rng.next() & 0xff) as u8;
                        data.insert(at + k, b);
                    }
                }
                8 => {
                    let n = rng.below(64);
                    data = (0..n).map(|_| (rng.next() & 0xff) as u8).collect();
                }
                _ if !data.is_empty() => {
                    let i = rng.below(data.len());
                    data[i] = data[i].to_ascii_uppercase();
                }
                _ => data.push(INTERESTING[rng.below(INTERESTING.len())]),
            }
        }
        data.truncate(self.max_len);
        data
    }
}

/// xorshift64*: small, fast, and reproducible from its seed.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_run_first_then_mutations() {
        let mut seen = Vec::new();
        let runs = Fuzz::new("t")
            .with_iterations(50)
            .seed("abc")
            .seed("def")
            .run(|i| seen.push(i.to_vec()));
        assert_eq!(runs, 50);
        assert_eq!(seen[0], b"abc");
        assert_eq!(seen[1], b"def");
        assert!(seen[2..].iter().any(|s| s != b"abc" && s != b"def"));
    }

    #[test]
    fn a_panicking_target_fails_the_run() {
        let result = catch_unwind(|| {
            Fuzz::new("boom")
                .with_iterations(10)
                .seed("x")
                .run(|i| assert!(i != b"x", "found it"))
        });
        assert!(result.is_err());
    }
}

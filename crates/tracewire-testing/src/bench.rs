//! A bench harness that compares cases side by side in one run.
//!
//! Machines running benches are shared and noisy, so absolute times mean little; what is
//! reported is each case's median time per operation, its allocations per operation, and its
//! ratio to the group's baseline (the first case: the plain alternative a user would otherwise
//! pick). Samples of the cases of a group are interleaved, so a burst of load from elsewhere
//! hits every case alike.
//!
//! Allocations are counted by [`CountingAlloc`], which the bench binary installs as its global
//! allocator; counts are per thread, so background threads (exporters, runtimes) do not pollute
//! the count of the operation measured.
//!
//! Targets are printed as `met` or `MISSED` next to the result; the harness never fails a run on a
//! timing, since timings on a shared machine are not a test.
//!
//! # Example
//!
//! ```
//! use tracewire_testing::bench::{Bench, Target};
//!
//! let mut bench = Bench::new("example").with_samples(5).with_sample_time_ms(1);
//! bench.group("sum", |g| {
//!     g.case("iterator", || (0..100u64).sum::<u64>());
//!     g.case("loop", || {
//!         let mut s = 0u64;
//!         for i in 0..100u64 {
//!             s += i;
//!         }
//!         s
//!     });
//!     g.target("loop", Target::ratio(10.0));
//! });
//! let report = bench.finish();
//! assert_eq!(report.groups[0].cases.len(), 2);
//! assert_eq!(report.groups[0].cases[0].allocs_per_op, 0.0);
//! ```

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// A global allocator that counts allocations (and bytes) per thread, delegating to the system
/// allocator. Install it in a bench binary:
///
/// ```
/// use tracewire_testing::bench::CountingAlloc;
///
/// #[global_allocator]
/// static ALLOC: CountingAlloc = CountingAlloc;
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAlloc;

#[inline]
fn count(size: usize) {
    // `try_with` so that allocations during thread teardown are served without counting.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
    let _ = BYTES.try_with(|c| c.set(c.get() + size as u64));
}

// SAFETY: every method delegates to `System` with the caller's arguments unchanged; the counters
// are plain thread-local cells with const initialisers and no destructors, so touching them never
// allocates or re-enters the allocator.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations and bytes allocated on this thread so far (zero unless [`CountingAlloc`] is the
/// global allocator).
pub fn thread_allocations() -> (u64, u64) {
    (ALLOCS.with(Cell::get), BYTES.with(Cell::get))
}

/// Counts the allocations `f` makes on this thread.
pub fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let (before, _) = thread_allocations();
    let r = f();
    let (after, _) = thread_allocations();
    (r, after - before)
}

/// A target for one case, checked against the group's baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// Highest acceptable ratio of the case's median to the baseline's.
    pub max_ratio: Option<f64>,
    /// Highest acceptable allocations per operation.
    pub max_allocs: Option<f64>,
    /// `(max, other, base)`: the case's overhead over the case `base` is at most `max` times the
    /// overhead of the case `other` over `base` (for middleware: overhead over the uninstrumented
    /// service, compared with another middleware's).
    pub max_overhead_ratio: Option<(f64, &'static str, &'static str)>,
}

impl Target {
    /// At most `max_ratio` times the baseline's median.
    pub fn ratio(max_ratio: f64) -> Self {
        Self {
            max_ratio: Some(max_ratio),
            max_allocs: None,
            max_overhead_ratio: None,
        }
    }

    /// At most `max_allocs` allocations per operation.
    pub fn allocs(max_allocs: f64) -> Self {
        Self {
            max_ratio: None,
            max_allocs: Some(max_allocs),
            max_overhead_ratio: None,
        }
    }

    /// Also at most `max_allocs` allocations per operation.
    pub fn and_allocs(mut self, max_allocs: f64) -> Self {
        self.max_allocs = Some(max_allocs);
        self
    }

    /// The case's overhead over the case `base` is at most `max` times the overhead of the case
    /// `other` over `base`.
    pub fn overhead(max: f64, other: &'static str, base: &'static str) -> Self {
        Self {
            max_ratio: None,
            max_allocs: None,
            max_overhead_ratio: Some((max, other, base)),
        }
    }
}

/// The measured result of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// Median nanoseconds per operation.
    pub median_ns: f64,
    /// Allocations per operation (on the measuring thread).
    pub allocs_per_op: f64,
    /// Bytes allocated per operation (on the measuring thread).
    pub bytes_per_op: f64,
    /// Ratio of the median to the group baseline's (1.0 for the baseline).
    pub ratio: f64,
    /// The targets set for this case.
    pub targets: Vec<Target>,
    /// Whether every target was met (`None` when there is no target).
    pub met: Option<bool>,
}

/// The results of one group.
#[derive(Debug, Clone)]
pub struct GroupResult {
    /// The group's name.
    pub name: String,
    /// Its cases, baseline first.
    pub cases: Vec<CaseResult>,
}

/// The results of a whole bench run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The bench's name.
    pub name: String,
    /// Its groups in order.
    pub groups: Vec<GroupResult>,
}

impl Report {
    /// Whether every target was met.
    pub fn all_met(&self) -> bool {
        self.groups
            .iter()
            .flat_map(|g| &g.cases)
            .all(|c| c.met != Some(false))
    }
}

type CaseFn<'a> = Box<dyn FnMut(u64) + 'a>;

/// The cases of one comparison.
pub struct Group<'a> {
    cases: Vec<(String, CaseFn<'a>)>,
    targets: Vec<(String, Target)>,
}

impl<'a> Group<'a> {
    /// Adds a case; the first one added is the baseline the others are compared to.
    pub fn case<R>(&mut self, name: &str, mut f: impl FnMut() -> R + 'a) -> &mut Self {
        self.cases.push((
            name.to_owned(),
            Box::new(move |iters| {
                for _ in 0..iters {
                    black_box(f());
                }
            }),
        ));
        self
    }

    /// Adds a case that is given the number of iterations to run (for setup outside the loop).
    pub fn case_iter(&mut self, name: &str, f: impl FnMut(u64) + 'a) -> &mut Self {
        self.cases.push((name.to_owned(), Box::new(f)));
        self
    }

    /// Sets a target for the case named `name`.
    pub fn target(&mut self, name: &str, target: Target) -> &mut Self {
        self.targets.push((name.to_owned(), target));
        self
    }
}

/// A bench run: groups of cases measured side by side.
pub struct Bench {
    name: String,
    samples: usize,
    sample_time: Duration,
    filter: Option<String>,
    groups: Vec<GroupResult>,
}

impl Bench {
    /// A bench named `name`, with 31 samples of about 25 ms per case. A filter given on the
    /// command line (the first argument that does not start with `-`) keeps only the groups whose
    /// name contains it.
    pub fn new(name: &str) -> Self {
        let filter = std::env::args()
            .skip(1)
            .find(|a| !a.starts_with('-'))
            .filter(|a| !a.is_empty());
        Self {
            name: name.to_owned(),
            samples: 31,
            sample_time: Duration::from_millis(25),
            filter,
            groups: Vec::new(),
        }
    }

    /// Sets the number of samples per case (at least 1).
    pub fn with_samples(mut self, samples: usize) -> Self {
        self.samples = samples.max(1);
        self
    }

    /// Sets the target duration of one sample, in milliseconds.
    pub fn with_sample_time_ms(mut self, ms: u64) -> Self {
        self.sample_time = Duration::from_millis(ms.max(1));
        self
    }

    /// Measures a group of cases side by side and prints its table.
    pub fn group<'a>(&mut self, name: &str, build: impl FnOnce(&mut Group<'a>)) {
        if let Some(f) = &self.filter
            && !name.contains(f.as_str())
            && !self.name.contains(f.as_str())
        {
            return;
        }
        let mut group = Group {
            cases: Vec::new(),
            targets: Vec::new(),
        };
        build(&mut group);
        let result = self.measure(name, group);
        print!("{}", render(&self.name, &result));
        self.groups.push(result);
    }

    fn measure(&self, name: &str, mut group: Group<'_>) -> GroupResult {
        // Warm up and size the batches so each sample takes about `sample_time`.
        let mut iters = Vec::with_capacity(group.cases.len());
        for (_, f) in &mut group.cases {
            f(10);
            let mut n = 1u64;
            loop {
                let t = Instant::now();
                f(n);
                let el = t.elapsed();
                if el >= self.sample_time / 4 || n >= 1 << 30 {
                    let per = el.as_nanos().max(1) as f64 / n as f64;
                    iters.push(((self.sample_time.as_nanos() as f64 / per) as u64).max(1));
                    break;
                }
                n *= 2;
            }
        }
        // Interleave samples across cases.
        let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(self.samples); group.cases.len()];
        for _ in 0..self.samples {
            for (i, (_, f)) in group.cases.iter_mut().enumerate() {
                let t = Instant::now();
                f(iters[i]);
                samples[i].push(t.elapsed().as_nanos() as f64 / iters[i] as f64);
            }
        }
        // Allocation counts from a separate pass, on this thread.
        let mut cases = Vec::with_capacity(group.cases.len());
        for (i, (case, f)) in group.cases.iter_mut().enumerate() {
            let n = iters[i].clamp(1, 10_000);
            let (a0, b0) = thread_allocations();
            f(n);
            let (a1, b1) = thread_allocations();
            let s = &mut samples[i];
            s.sort_by(f64::total_cmp);
            cases.push(CaseResult {
                name: case.clone(),
                median_ns: s[s.len() / 2],
                allocs_per_op: (a1 - a0) as f64 / n as f64,
                bytes_per_op: (b1 - b0) as f64 / n as f64,
                ratio: 1.0,
                targets: Vec::new(),
                met: None,
            });
        }
        let base = cases.first().map(|c| c.median_ns).unwrap_or(1.0).max(1e-9);
        for c in &mut cases {
            c.ratio = c.median_ns / base;
        }
        for (case, target) in group.targets {
            let median = |n: &str| cases.iter().find(|c| c.name == n).map(|c| c.median_ns);
            let overhead_ok = target.max_overhead_ratio.map(|(max, other, base)| {
                match (median(&case), median(other), median(base)) {
                    (Some(c), Some(o), Some(b)) => (c - b) / (o - b).max(1e-9) <= max,
                    _ => false,
                }
            });
            if let Some(c) = cases.iter_mut().find(|c| c.name == case) {
                let mut ok = overhead_ok.unwrap_or(true);
                if let Some(max) = target.max_ratio {
                    ok &= c.ratio <= max;
                }
                if let Some(max) = target.max_allocs {
                    ok &= c.allocs_per_op <= max + 1e-9;
                }
                c.targets.push(target);
                c.met = Some(c.met.unwrap_or(true) && ok);
            }
        }
        GroupResult {
            name: name.to_owned(),
            cases,
        }
    }

    /// Prints a summary of the targets and returns the report.
    pub fn finish(self) -> Report {
        let report = Report {
            name: self.name,
            groups: self.groups,
        };
        let (met, total) = report
            .groups
            .iter()
            .flat_map(|g| &g.cases)
            .filter_map(|c| c.met)
            .fold((0, 0), |(m, t), ok| (m + usize::from(ok), t + 1));
        if total > 0 {
            println!("{}: {met} of {total} targets met\n", report.name);
        }
        report
    }
}

fn render(bench: &str, g: &GroupResult) -> String {
    let width = g
        .cases
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::new();
    let _ = writeln!(out, "\n{bench} / {}", g.name);
    let _ = writeln!(
        out,
        "  {:width$}  {:>12}  {:>9}  {:>10}  {:>11}  target",
        "case", "median ns/op", "ratio", "allocs/op", "bytes/op"
    );
    for c in &g.cases {
        let target = match c.met {
            Some(ok) => {
                let described: Vec<String> = c.targets.iter().map(describe).collect();
                format!(
                    "{} {}",
                    described.join(" "),
                    if ok { "met" } else { "MISSED" }
                )
            }
            _ if std::ptr::eq(c, &g.cases[0]) => "(baseline)".to_owned(),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:width$}  {:>12.1}  {:>8.3}x  {:>10.2}  {:>11.1}  {}",
            c.name, c.median_ns, c.ratio, c.allocs_per_op, c.bytes_per_op, target
        );
    }
    out
}

fn describe(t: &Target) -> String {
    let mut parts = Vec::new();
    if let Some(r) = t.max_ratio {
        parts.push(format!("ratio <= {r}"));
    }
    if let Some((r, o, b)) = t.max_overhead_ratio {
        parts.push(format!("overhead over `{b}` <= {r}x `{o}`'s"));
    }
    if let Some(a) = t.max_allocs {
        parts.push(format!("allocs <= {a}"));
    }
    format!("[{}]", parts.join(", "))
}

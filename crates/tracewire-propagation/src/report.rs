//! Reporting of untrusted input that was dropped: one `tracing` warning per kind of problem per
//! process, never per request, and never the header's value (baggage may carry user data).
//! Valid input that opentelemetry's types cannot hold (and that is propagated all the same) is
//! logged once at debug level.

use std::sync::atomic::{AtomicBool, Ordering};

/// The kinds of input problems that are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    TraceparentInvalid,
    TraceparentRepeated,
    TracestateInvalid,
    TracestateUnrepresentable,
    TracestateMemberNotSent,
    BaggageMemberMalformed,
    BaggageOverLimit,
    BaggageNotSent,
    B3Invalid,
    JaegerInvalid,
    JaegerBaggageInvalid,
    HeaderNotSet,
}

const COUNT: usize = 12;

impl Problem {
    fn index(self) -> usize {
        self as usize
    }

    fn message(self) -> &'static str {
        match self {
            Problem::TraceparentInvalid => {
                "invalid traceparent header ignored; the request starts a new trace"
            }
            Problem::TraceparentRepeated => {
                "more than one traceparent header; all ignored, the request starts a new trace"
            }
            Problem::TracestateInvalid => {
                "invalid tracestate header (a malformed or duplicate member, or more than 32 members); the whole tracestate is dropped"
            }
            Problem::TracestateUnrepresentable => {
                "tracestate keys that opentelemetry's TraceState rejects are kept aside and propagated unchanged"
            }
            Problem::TracestateMemberNotSent => {
                "a tracestate member set through the API is not valid W3C and was not sent"
            }
            Problem::BaggageMemberMalformed => {
                "malformed baggage member dropped (the other members are kept)"
            }
            Problem::BaggageOverLimit => {
                "baggage member dropped: over 64 members or 8192 bytes (the other members are kept)"
            }
            Problem::BaggageNotSent => {
                "baggage entry or property not sent: it would not fit in 8192 bytes or is not valid W3C"
            }
            Problem::B3Invalid => "invalid B3 header ignored",
            Problem::JaegerInvalid => "invalid uber-trace-id header ignored",
            Problem::JaegerBaggageInvalid => "invalid uberctx- baggage header ignored",
            Problem::HeaderNotSet => {
                "a propagation header could not be set: its name or value is not valid HTTP"
            }
        }
    }
}

static REPORTED: [AtomicBool; COUNT] = [const { AtomicBool::new(false) }; COUNT];

/// Logs `problem` the first time it happens in this process; later calls cost one relaxed load.
#[inline]
pub(crate) fn report(problem: Problem) {
    let flag = &REPORTED[problem.index()];
    if !flag.load(Ordering::Relaxed) && !flag.swap(true, Ordering::Relaxed) {
        report_cold(problem);
    }
}

#[cold]
#[inline(never)]
fn report_cold(problem: Problem) {
    match problem {
        // Valid input that opentelemetry's types cannot hold: nothing is lost, so no warning.
        Problem::TracestateUnrepresentable => {
            tracing::debug!(target: "tracewire::propagation", "{}", problem.message());
        }
        _ => tracing::warn!(target: "tracewire::propagation", "{}", problem.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_has_a_slot_and_reports_once() {
        let all = [
            Problem::TraceparentInvalid,
            Problem::TraceparentRepeated,
            Problem::TracestateInvalid,
            Problem::TracestateUnrepresentable,
            Problem::TracestateMemberNotSent,
            Problem::BaggageMemberMalformed,
            Problem::BaggageOverLimit,
            Problem::BaggageNotSent,
            Problem::B3Invalid,
            Problem::JaegerInvalid,
            Problem::JaegerBaggageInvalid,
            Problem::HeaderNotSet,
        ];
        assert_eq!(all.len(), COUNT);
        for (i, p) in all.iter().enumerate() {
            assert_eq!(p.index(), i);
            assert!(!p.message().is_empty());
            report(*p);
            assert!(REPORTED[i].load(Ordering::Relaxed));
        }
    }
}

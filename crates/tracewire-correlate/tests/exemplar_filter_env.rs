//! `Metrics` reads `OTEL_METRICS_EXEMPLAR_FILTER` from the process environment. The variable is
//! process state, so each case runs this test binary again as a child with its own environment.

use std::process::Command;

use tracewire_correlate::metrics::{Metrics, OTEL_METRICS_EXEMPLAR_FILTER};

const EXPECT: &str = "TRACEWIRE_EXPECT_EXEMPLAR_FILTER";

/// Run as a child by the test below, with `EXPECT` naming the filter it must find.
#[test]
fn child_reads_the_filter_from_the_environment() {
    let Ok(want) = std::env::var(EXPECT) else {
        return;
    };
    assert_eq!(format!("{:?}", Metrics::new().exemplar_filter()), want);
}

#[test]
fn metrics_honour_otel_metrics_exemplar_filter() {
    let exe = std::env::current_exe().expect("test binary");
    for (value, want) in [
        (Some("always_off"), "AlwaysOff"),
        (Some("ALWAYS_ON"), "AlwaysOn"),
        (Some("trace_based"), "TraceBased"),
        (Some("sometimes"), "TraceBased"),
        (None, "TraceBased"),
    ] {
        let mut child = Command::new(&exe);
        child
            .args(["--exact", "child_reads_the_filter_from_the_environment"])
            .env(EXPECT, want);
        match value {
            Some(v) => child.env(OTEL_METRICS_EXEMPLAR_FILTER, v),
            None => child.env_remove(OTEL_METRICS_EXEMPLAR_FILTER),
        };
        let out = child.output().expect("run child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{value:?}: {stdout}");
        assert!(stdout.contains("1 passed"), "{value:?}: {stdout}");
    }
}

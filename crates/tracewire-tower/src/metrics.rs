//! The `http.{server,client}.request.duration` histograms.

use std::sync::OnceLock;

use opentelemetry::global;
use opentelemetry::metrics::{Histogram, Meter};

/// The bucket boundaries the HTTP conventions recommend for request durations, in seconds.
pub(crate) const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// A duration histogram made on first use, from a given meter or the global one.
#[derive(Debug)]
pub(crate) struct Duration {
    name: &'static str,
    description: &'static str,
    meter: Option<Meter>,
    histogram: OnceLock<Histogram<f64>>,
}

impl Duration {
    pub(crate) fn new(name: &'static str, description: &'static str, meter: Option<Meter>) -> Self {
        Self {
            name,
            description,
            meter,
            histogram: OnceLock::new(),
        }
    }

    /// The histogram (a cheap handle to clone).
    pub(crate) fn histogram(&self) -> &Histogram<f64> {
        self.histogram.get_or_init(|| {
            let make = |meter: &Meter| {
                meter
                    .f64_histogram(self.name)
                    .with_unit("s")
                    .with_description(self.description)
                    .with_boundaries(DURATION_BUCKETS.to_vec())
                    .build()
            };
            match &self.meter {
                Some(m) => make(m),
                None => make(&global::meter_with_scope(crate::otel::scope())),
            }
        })
    }
}

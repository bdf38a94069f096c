//! Each service's telemetry: its own tracer provider (its own `service.name`), the article's head
//! rules in front, the article's tail-sampling policies behind, and the exporters (the
//! in-process view, OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the console for a lone
//! service without OTLP).

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry_sdk::trace::SdkTracer;
use tracewire_core::env::OtelEnv;
use tracewire_core::semconv::resource;
use tracewire_propagation::Propagators;
use tracewire_sdk::config::ExporterKind;
use tracewire_sdk::sampler::{Rule, RuleSampler};
use tracewire_sdk::tail::TailSamplingConfig;
use tracewire_sdk::{Guard, Tracewire};

use crate::view::collect::{DecisionLog, SpanSink};

/// The article's tail-sampling config, with `decision_wait: 2s` (`tail-sampling.yaml`).
pub(crate) const ARTICLE_TAIL_SAMPLING: &str = include_str!("../tail-sampling.yaml");

/// The ratio of the article's head sampler for spans no rule names.
pub(crate) const HEAD_RATIO: f64 = 0.1;

/// The time limit of flushing and shutting down a service's telemetry.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The article's head sampler, `CustomSampler`: always sample `payment.*`, drop `health-check`,
/// a ratio of the rest.
///
/// Two settings make it compose with the tail sampler behind it (see the `sampler` module of
/// tracewire-sdk): the rules apply to every span, as in the article (not only to roots; the
/// ratio is by trace id, so every span of a trace gets the same answer in every service), and the
/// traces the ratio does not pick are still recorded (`record_unsampled`), so the tail sampler
/// sees them and can keep their errors and slow requests.
pub(crate) fn head_sampler() -> RuleSampler {
    RuleSampler::builder()
        .rule(
            Rule::span_name_prefix("payment.")
                .always()
                .with_label("error-prone operations"),
        )
        .rule(
            Rule::span_name("health-check")
                .never()
                .with_label("health checks"),
        )
        .default_ratio(HEAD_RATIO)
        .record_unsampled(true)
        .parent_based(None)
        .build()
}

/// The propagators: `OTEL_PROPAGATORS`, W3C Trace Context and Baggage by default.
pub(crate) fn propagator() -> Propagators {
    tracewire_propagation::propagator_from_env()
}

/// Where a service's spans go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exports {
    /// To the in-process view (the whole system in one process).
    pub(crate) in_process: bool,
    /// To the console, when nothing else would show them (a lone service without OTLP).
    pub(crate) console: bool,
}

/// Whether `OTEL_EXPORTER_OTLP_ENDPOINT` (or its traces variant) asks for OTLP export.
pub(crate) fn otlp_requested() -> bool {
    let env = OtelEnv::process();
    env.string("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || env.string("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
}

/// One service's telemetry.
#[derive(Debug)]
pub(crate) struct Telemetry {
    pub(crate) service: &'static str,
    pub(crate) guard: Guard,
    pub(crate) tracer: SdkTracer,
    /// The spans the tail sampler kept (the in-process view only).
    pub(crate) kept: Option<SpanSink>,
    /// What the tail sampler decided and why.
    pub(crate) decisions: DecisionLog,
}

impl Telemetry {
    /// Sets up `service`'s tracer provider behind `tail` (as [`crate::system::tail_config`] loads
    /// it: validated); nothing is installed globally, so several services can live in one process.
    pub(crate) fn start(
        service: &'static str,
        tail: &TailSamplingConfig,
        exports: Exports,
    ) -> anyhow::Result<Self> {
        let otlp = otlp_requested();
        let env = OtelEnv::process();

        let mut builder = Tracewire::builder()
            .with_service_name(service)
            .with_service_version(env!("CARGO_PKG_VERSION"))
            .with_resource_attribute(KeyValue::new(resource::SERVICE_NAMESPACE, "tracewire-demo"))
            .with_sampler(head_sampler())
            .with_shutdown_timeout(SHUTDOWN_TIMEOUT);

        // Spans: the in-process view and OTLP or the console, behind the tail sampler.
        let mut kinds = Vec::new();
        if otlp {
            kinds.push(ExporterKind::Otlp);
        } else if exports.console {
            kinds.push(ExporterKind::Console);
        }
        builder = builder.with_traces_exporters(kinds);
        let kept = exports.in_process.then(SpanSink::new);
        if let Some(sink) = &kept {
            builder = builder.with_span_exporter(sink.clone());
        }
        // Metrics and logs go out only when asked for by name: an OTLP endpoint that is a
        // Jaeger takes traces only.
        if env.string("OTEL_METRICS_EXPORTER").is_none() {
            builder = builder.with_metrics_exporters([]);
        }
        if env.string("OTEL_LOGS_EXPORTER").is_none() {
            builder = builder.with_logs_exporters([]);
        }

        let decisions = DecisionLog::default();
        let guard = builder
            .with_tail_sampling_observed(tail.clone(), decisions.observer())
            .build()
            .with_context(|| format!("setting up {service}'s telemetry"))?;
        let tracer = guard.tracer("tracewire-demo");
        Ok(Self {
            service,
            guard,
            tracer,
            kept,
            decisions,
        })
    }

    /// The service's meter (the HTTP and messaging metrics; exported only when
    /// `OTEL_METRICS_EXPORTER` asks for it).
    pub(crate) fn meter(&self) -> Meter {
        self.guard.meter_provider().meter("tracewire-demo")
    }

    /// Decides every trace still buffered and exports what is kept.
    pub(crate) fn flush(&self) -> anyhow::Result<()> {
        self.guard
            .force_flush()
            .with_context(|| format!("flushing {}'s telemetry", self.service))
    }

    /// Flushes and shuts the providers down.
    pub(crate) fn shutdown(self) -> anyhow::Result<()> {
        let service = self.service;
        self.guard
            .shutdown()
            .with_context(|| format!("shutting {service}'s telemetry down"))
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanKind, TraceId};
    use opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};

    use super::*;

    #[test]
    fn the_articles_head_rules() {
        let sampler = head_sampler();
        // A trace id the 10% ratio does not pick, and one it picks.
        let unpicked = TraceId::from_bytes([0xff; 16]);
        let picked = TraceId::from_bytes([0; 16]);
        let decide = |id, name: &str| {
            sampler
                .should_sample(None, id, name, &SpanKind::Internal, &[], &[])
                .decision
        };
        assert_eq!(
            decide(unpicked, "payment.charge"),
            SamplingDecision::RecordAndSample
        );
        assert_eq!(decide(picked, "health-check"), SamplingDecision::Drop);
        assert_eq!(
            decide(unpicked, "POST /orders"),
            SamplingDecision::RecordOnly
        );
        assert_eq!(
            decide(picked, "POST /orders"),
            SamplingDecision::RecordAndSample
        );
    }

    #[test]
    fn the_articles_tail_config() -> anyhow::Result<()> {
        let config = TailSamplingConfig::from_yaml_str(ARTICLE_TAIL_SAMPLING)?;
        let mut article = TailSamplingConfig::article_example();
        assert_ne!(config.decision_wait, article.decision_wait);
        article.decision_wait = config.decision_wait;
        assert_eq!(config, article);
        assert_eq!(config.decision_wait, Duration::from_secs(2));
        Ok(())
    }

    #[test]
    fn the_keep_all_config_loads() -> anyhow::Result<()> {
        let config = TailSamplingConfig::from_yaml_str(include_str!("../keep-all.yaml"))?;
        config.validate()?;
        assert_eq!(config.policies.len(), 1);
        assert_eq!(config.policies[0].policy.type_name(), "always_sample");
        Ok(())
    }
}

//! [`ExemplarFilter`] and the exemplar label set, [`ExemplarLabels`].

use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder};
use tracewire_core::TraceIds;
use tracewire_core::env::{EnvSource, OtelEnv};
use tracewire_core::semconv::exemplar;

/// The environment variable that selects the exemplar filter.
pub const OTEL_METRICS_EXEMPLAR_FILTER: &str = "OTEL_METRICS_EXEMPLAR_FILTER";

/// Which measurements may become exemplars, as the OpenTelemetry metrics SDK specification's
/// [exemplar filter](https://opentelemetry.io/docs/specs/otel/metrics/sdk/#exemplarfilter)
/// defines it.
///
/// # Example
///
/// ```
/// use tracewire_core::env::OtelEnv;
/// use tracewire_correlate::metrics::ExemplarFilter;
///
/// let env = OtelEnv::new([("OTEL_METRICS_EXEMPLAR_FILTER", "ALWAYS_OFF")]);
/// assert_eq!(ExemplarFilter::from_otel_env(&env), ExemplarFilter::AlwaysOff);
/// // Unset or unknown: the default, trace based.
/// let env = OtelEnv::new([("OTEL_METRICS_EXEMPLAR_FILTER", "sometimes")]);
/// assert_eq!(ExemplarFilter::from_otel_env(&env), ExemplarFilter::TraceBased);
/// // Outside any span a trace-based filter offers no exemplar.
/// assert!(ExemplarFilter::TraceBased.exemplar().is_none());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ExemplarFilter {
    /// Every measurement is eligible (`always_on`); it carries the span's ids when a span
    /// context is current, sampled or not, and no labels otherwise.
    AlwaysOn,
    /// No measurement is eligible (`always_off`).
    AlwaysOff,
    /// Measurements made while a *sampled* span is current are eligible (`trace_based`, the
    /// default): an exemplar then always points at a trace that was recorded.
    #[default]
    TraceBased,
}

impl ExemplarFilter {
    /// The filter `OTEL_METRICS_EXEMPLAR_FILTER` names in the process environment (values are
    /// case-insensitive; unset means `trace_based`; an unknown value warns once and means
    /// `trace_based`).
    pub fn from_env() -> Self {
        Self::from_otel_env(&OtelEnv::process())
    }

    /// The filter `OTEL_METRICS_EXEMPLAR_FILTER` names in `env`.
    pub fn from_otel_env<S: EnvSource>(env: &OtelEnv<S>) -> Self {
        env.enum_of(
            OTEL_METRICS_EXEMPLAR_FILTER,
            &[
                ("always_on", Self::AlwaysOn),
                ("always_off", Self::AlwaysOff),
                ("trace_based", Self::TraceBased),
            ],
        )
        .unwrap_or_default()
    }

    /// The exemplar labels for a measurement made now, in the current context, or `None` when
    /// the measurement is not eligible.
    #[inline]
    pub fn exemplar(self) -> Option<ExemplarLabels> {
        match self {
            Self::AlwaysOff => None,
            _ => self.exemplar_for(TraceIds::current()),
        }
    }

    /// The exemplar labels for a measurement made while `ids` are current (`None`: outside any
    /// span), or `None` when it is not eligible.
    #[inline]
    pub fn exemplar_for(self, ids: Option<TraceIds>) -> Option<ExemplarLabels> {
        match self {
            Self::AlwaysOff => None,
            Self::AlwaysOn => Some(ExemplarLabels { ids }),
            Self::TraceBased => ids
                .filter(TraceIds::is_sampled)
                .map(|ids| ExemplarLabels { ids: Some(ids) }),
        }
    }
}

/// The label set of an exemplar: `trace_id` and `span_id` in lowercase hex, or no labels.
///
/// Encoded without allocation (the hex forms are fixed-size values). The OpenMetrics limit of
/// 128 characters for an exemplar's labels is kept: these two take 63.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExemplarLabels {
    ids: Option<TraceIds>,
}

impl ExemplarLabels {
    /// The ids the exemplar links to, if any.
    pub fn ids(&self) -> Option<TraceIds> {
        self.ids
    }
}

impl EncodeLabelSet for ExemplarLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Some(ids) = self.ids else {
            return Ok(());
        };
        let trace_id = ids.trace_id_hex();
        let span_id = ids.span_id_hex();
        [
            (exemplar::TRACE_ID, trace_id.as_str()),
            (exemplar::SPAN_ID, span_id.as_str()),
        ]
        .encode(encoder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

    fn ids(flags: TraceFlags) -> TraceIds {
        TraceIds {
            trace_id: TraceId::from_bytes([1; 16]),
            span_id: SpanId::from_bytes([2; 8]),
            trace_flags: flags,
        }
    }

    #[test]
    fn decisions_table() {
        let sampled = Some(ids(TraceFlags::SAMPLED));
        let unsampled = Some(ids(TraceFlags::NOT_SAMPLED));
        use ExemplarFilter::*;
        let cases = [
            (AlwaysOn, None, Some(None)),
            (AlwaysOn, sampled, Some(sampled)),
            (AlwaysOn, unsampled, Some(unsampled)),
            (AlwaysOff, None, None),
            (AlwaysOff, sampled, None),
            (AlwaysOff, unsampled, None),
            (TraceBased, None, None),
            (TraceBased, sampled, Some(sampled)),
            (TraceBased, unsampled, None),
        ];
        for (filter, current, want) in cases {
            assert_eq!(
                filter.exemplar_for(current).map(|e| e.ids()),
                want,
                "{filter:?} {current:?}"
            );
        }
    }

    #[test]
    fn env_values() {
        for (value, want) in [
            ("always_on", ExemplarFilter::AlwaysOn),
            ("Always_On", ExemplarFilter::AlwaysOn),
            ("always_off", ExemplarFilter::AlwaysOff),
            ("trace_based", ExemplarFilter::TraceBased),
            (" trace_based ", ExemplarFilter::TraceBased),
            ("", ExemplarFilter::TraceBased),
            ("on", ExemplarFilter::TraceBased),
        ] {
            let env = OtelEnv::new([(OTEL_METRICS_EXEMPLAR_FILTER, value)]);
            assert_eq!(ExemplarFilter::from_otel_env(&env), want, "{value:?}");
        }
        let unset: [(&str, &str); 0] = [];
        assert_eq!(
            ExemplarFilter::from_otel_env(&OtelEnv::new(unset)),
            ExemplarFilter::TraceBased
        );
    }
}

//! The composite propagator configured by `OTEL_PROPAGATORS`, and installing it as the global
//! propagator.
//!
//! # Example
//!
//! ```
//! use tracewire_core::env::OtelEnv;
//! use tracewire_propagation::{Format, Propagators};
//!
//! // Unset: the specification's default.
//! let env = OtelEnv::new([("OTEL_PROPAGATORS", "")]);
//! assert_eq!(Propagators::from_env(&env).formats(), [Format::TraceContext, Format::Baggage]);
//!
//! // Duplicates removed, unknown names skipped (with a warning), case-insensitive.
//! let env = OtelEnv::new([("OTEL_PROPAGATORS", "b3multi, TraceContext, xray, b3multi")]);
//! assert_eq!(Propagators::from_env(&env).formats(), [Format::B3Multi, Format::TraceContext]);
//!
//! // `none` alone: no propagation at all.
//! let env = OtelEnv::new([("OTEL_PROPAGATORS", "none")]);
//! assert!(Propagators::from_env(&env).is_empty());
//! ```
//!
//! # `OTEL_PROPAGATORS`
//!
//! From the [environment variable specification](https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration):
//! a comma-separated list, items trimmed, empty items skipped, names compared
//! case-insensitively.
//!
//! | name | propagator |
//! |---|---|
//! | `tracecontext` | [`TraceContextPropagator`](crate::TraceContextPropagator) |
//! | `baggage` | [`BaggagePropagator`](crate::BaggagePropagator) |
//! | `b3` | [`B3Propagator`](crate::B3Propagator), single header |
//! | `b3multi` | [`B3Propagator`](crate::B3Propagator), multiple headers |
//! | `jaeger` | [`JaegerPropagator`](crate::JaegerPropagator) |
//! | `none` | none: alone, no propagation |
//!
//! - unset or empty: `tracecontext,baggage`;
//! - duplicates are removed, the first occurrence keeping its place;
//! - an unknown name (including `xray` and `ottrace`, which tracewire does not implement) warns
//!   once and is skipped; when no known name is left (and `none` was not given), the setting is
//!   ignored as a whole and the default is used, as for any invalid value;
//! - `none` together with other names warns once and is ignored.
//!
//! Extraction runs the propagators in order on the same `Context`, so a later one's span context
//! wins when several formats carry one; injection writes every format. `baggage` replaces the
//! `Context`'s baggage with the header's (as opentelemetry's own propagator does), while `jaeger`
//! adds its `uberctx-*` entries to it: list `jaeger` after `baggage` to keep both.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use http::HeaderMap;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::{Context, global};
use tracewire_core::env::{EnvSource, OtelEnv};
use tracewire_core::semconv::header;

use crate::b3::{self, B3Encoding};
use crate::baggage;
use crate::carrier::{Sink, Source};
use crate::jaeger;
use crate::trace_context;

/// The environment variable that lists the propagators.
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";

/// A propagation format tracewire implements.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// W3C Trace Context (`tracecontext`).
    TraceContext,
    /// W3C Baggage (`baggage`).
    Baggage,
    /// B3, single header (`b3`).
    B3,
    /// B3, multiple headers (`b3multi`).
    B3Multi,
    /// Jaeger (`jaeger`).
    Jaeger,
}

impl Format {
    /// Every format, in the order of the table in the [module docs](crate::composite).
    pub const ALL: [Format; 5] = [
        Format::TraceContext,
        Format::Baggage,
        Format::B3,
        Format::B3Multi,
        Format::Jaeger,
    ];

    /// The name used in `OTEL_PROPAGATORS`.
    pub fn name(self) -> &'static str {
        match self {
            Format::TraceContext => "tracecontext",
            Format::Baggage => "baggage",
            Format::B3 => "b3",
            Format::B3Multi => "b3multi",
            Format::Jaeger => "jaeger",
        }
    }

    /// The format named `name` (ASCII case-insensitively), if tracewire implements it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// Several propagators run as one, in order: what `OTEL_PROPAGATORS` configures.
///
/// Implements [`TextMapPropagator`] (install it with [`install`](Propagators::install) or
/// `opentelemetry::global::set_text_map_propagator`), and has direct `HeaderMap` methods for
/// callers that hold one.
#[derive(Clone, Debug)]
pub struct Propagators {
    formats: Vec<Format>,
    /// The formats extraction runs: `formats` without a B3 encoding that another one follows
    /// (`b3` and `b3multi` both extract either encoding, with the same result, so only the later
    /// one, whose result wins, needs to run).
    extracting: Vec<Format>,
    fields: Vec<String>,
}

impl Default for Propagators {
    /// `tracecontext,baggage`, the specification's default.
    fn default() -> Self {
        Self::new([Format::TraceContext, Format::Baggage])
    }
}

impl Propagators {
    /// The given formats in order, duplicates removed.
    pub fn new(formats: impl IntoIterator<Item = Format>) -> Self {
        let mut unique: Vec<Format> = Vec::new();
        for f in formats {
            if !unique.contains(&f) {
                unique.push(f);
            }
        }
        let mut fields: Vec<String> = Vec::new();
        for f in &unique {
            for field in Part::of(*f).fields() {
                if !fields.iter().any(|x| x == field) {
                    fields.push((*field).to_owned());
                }
            }
        }
        let is_b3 = |f: &Format| matches!(f, Format::B3 | Format::B3Multi);
        let extracting = unique
            .iter()
            .enumerate()
            .filter(|(i, f)| !is_b3(f) || !unique.iter().skip(i + 1).any(is_b3))
            .map(|(_, f)| *f)
            .collect();
        Self {
            formats: unique,
            extracting,
            fields,
        }
    }

    /// No propagation at all (`OTEL_PROPAGATORS=none`).
    pub fn none() -> Self {
        Self::new([])
    }

    /// The propagators named in `names`, by the rules in the [module docs](crate::composite).
    pub fn from_names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut formats = Vec::new();
        let mut none = false;
        let mut any = false;
        for name in names {
            let name = name.as_ref().trim();
            if name.is_empty() {
                continue;
            }
            any = true;
            if name.eq_ignore_ascii_case("none") {
                none = true;
            } else if let Some(f) = Format::from_name(name) {
                formats.push(f);
            } else {
                warn_unknown(name);
            }
        }
        if !any {
            return Self::default();
        }
        if none {
            if formats.is_empty() {
                return Self::none();
            }
            warn_unknown("none (together with other propagators)");
        }
        if formats.is_empty() {
            return Self::default();
        }
        Self::new(formats)
    }

    /// The propagators `OTEL_PROPAGATORS` names in `env`.
    pub fn from_env<S: EnvSource>(env: &OtelEnv<S>) -> Self {
        Self::from_names(env.list(OTEL_PROPAGATORS))
    }

    /// The formats, in order.
    pub fn formats(&self) -> &[Format] {
        &self.formats
    }

    /// Whether nothing is propagated.
    pub fn is_empty(&self) -> bool {
        self.formats.is_empty()
    }

    /// Sets these propagators as the global text-map propagator.
    pub fn install(self) {
        global::set_text_map_propagator(self);
    }

    /// Extracts straight from a `HeaderMap`; the same result as
    /// [`extract_with_context`](TextMapPropagator::extract_with_context) with a
    /// [`HeaderExtractor`](crate::HeaderExtractor).
    pub fn extract_from_headers(&self, headers: &HeaderMap, cx: &Context) -> Context {
        extract(&self.extracting, headers, cx)
    }

    /// Injects straight into a `HeaderMap`.
    pub fn inject_into_headers(&self, cx: &Context, headers: &mut HeaderMap) {
        inject(&self.formats, cx, headers);
    }
}

/// The propagators named by the process's `OTEL_PROPAGATORS`.
pub fn propagator_from_env() -> Propagators {
    Propagators::from_env(&OtelEnv::process())
}

/// Installs the propagators named by the process's `OTEL_PROPAGATORS` as the global text-map
/// propagator, and returns what was installed.
///
/// # Example
///
/// ```
/// let installed = tracewire_propagation::install();
/// assert!(!installed.formats().is_empty() || std::env::var("OTEL_PROPAGATORS").is_ok());
/// ```
pub fn install() -> Propagators {
    let propagators = propagator_from_env();
    propagators.clone().install();
    propagators
}

/// One format's propagator.
#[derive(Clone, Copy, Debug)]
enum Part {
    TraceContext,
    Baggage,
    B3(B3Encoding),
    Jaeger,
}

impl Part {
    fn of(f: Format) -> Self {
        match f {
            Format::TraceContext => Part::TraceContext,
            Format::Baggage => Part::Baggage,
            Format::B3 => Part::B3(B3Encoding::SingleHeader),
            Format::B3Multi => Part::B3(B3Encoding::MultipleHeader),
            Format::Jaeger => Part::Jaeger,
        }
    }

    /// The headers this part injects (the same as its propagator's `fields()`, which a test
    /// checks).
    fn fields(self) -> &'static [&'static str] {
        match self {
            Part::TraceContext => &[header::TRACEPARENT, header::TRACESTATE],
            Part::Baggage => &[header::BAGGAGE],
            Part::B3(B3Encoding::SingleHeader) => &[header::B3],
            Part::B3(B3Encoding::MultipleHeader) => &[
                header::X_B3_TRACE_ID,
                header::X_B3_SPAN_ID,
                header::X_B3_SAMPLED,
                header::X_B3_FLAGS,
            ],
            Part::Jaeger => &[header::UBER_TRACE_ID],
        }
    }
}

fn extract<S: Source + ?Sized>(formats: &[Format], src: &S, cx: &Context) -> Context {
    let mut cx = cx.clone();
    for f in formats {
        cx = match Part::of(*f) {
            Part::TraceContext => trace_context::extract(src, &cx),
            Part::Baggage => baggage::extract(src, &cx),
            Part::B3(_) => b3::extract(src, &cx),
            Part::Jaeger => jaeger::extract(src, &cx),
        };
    }
    cx
}

fn inject<K: Sink + ?Sized>(formats: &[Format], cx: &Context, sink: &mut K) {
    for f in formats {
        match Part::of(*f) {
            Part::TraceContext => trace_context::inject(cx, sink),
            Part::Baggage => baggage::inject(cx, sink),
            Part::B3(e) => b3::inject(e, cx, sink),
            Part::Jaeger => jaeger::inject(cx, sink),
        }
    }
}

impl TextMapPropagator for Propagators {
    fn inject_context(&self, cx: &Context, mut injector: &mut dyn Injector) {
        inject(&self.formats, cx, &mut injector);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        extract(&self.extracting, &extractor, cx)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// Warns once per process per unknown name.
fn warn_unknown(name: &str) {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let set = WARNED.get_or_init(|| Mutex::new(HashSet::new()));
    let first = match set.lock() {
        Ok(mut s) => s.insert(name.to_ascii_lowercase()),
        Err(poisoned) => poisoned.into_inner().insert(name.to_ascii_lowercase()),
    };
    if first {
        let shown: String = name.chars().take(64).collect();
        tracing::warn!(
            target: "tracewire::propagation",
            variable = OTEL_PROPAGATORS,
            value = %shown,
            "unsupported propagator in {OTEL_PROPAGATORS} skipped; tracewire implements tracecontext, baggage, b3, b3multi, jaeger and none"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        B3Propagator, BaggagePropagator, HeaderExtractor, HeaderInjector, JaegerPropagator,
        TraceContextPropagator,
    };
    use Format as F;
    use http::HeaderValue;
    use opentelemetry::KeyValue;
    use opentelemetry::baggage::BaggageExt;
    use opentelemetry::trace::TraceContextExt;

    #[test]
    fn names_table() {
        let cases: Vec<(&str, Vec<Format>, &str)> = vec![
            ("", vec![F::TraceContext, F::Baggage], "unset means default"),
            (
                "  ,  ",
                vec![F::TraceContext, F::Baggage],
                "only empty items",
            ),
            ("tracecontext", vec![F::TraceContext], "one"),
            (
                "baggage,tracecontext",
                vec![F::Baggage, F::TraceContext],
                "order kept",
            ),
            (
                "b3,b3multi,jaeger",
                vec![F::B3, F::B3Multi, F::Jaeger],
                "b3 encodings are distinct",
            ),
            (
                "TRACECONTEXT, Baggage",
                vec![F::TraceContext, F::Baggage],
                "case-insensitive",
            ),
            (
                "jaeger,jaeger,b3,jaeger",
                vec![F::Jaeger, F::B3],
                "duplicates removed",
            ),
            (
                "xray,tracecontext,ottrace",
                vec![F::TraceContext],
                "unsupported names skipped",
            ),
            (
                "xray",
                vec![F::TraceContext, F::Baggage],
                "nothing known: default",
            ),
            ("none", vec![], "none alone"),
            (" NONE ", vec![], "none, any case"),
            ("none,b3", vec![F::B3], "none with others is ignored"),
            ("none,xray", vec![], "none with only unknown names"),
        ];
        for (value, want, why) in cases {
            let env = OtelEnv::new([(OTEL_PROPAGATORS, value)]);
            assert_eq!(
                Propagators::from_env(&env).formats(),
                want.as_slice(),
                "{why}"
            );
        }
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
            assert_eq!(Format::from_name(&f.name().to_uppercase()), Some(f));
        }
        assert_eq!(Format::from_name("xray"), None);
    }

    #[test]
    fn part_fields_match_the_propagators() {
        for f in Format::ALL {
            let owned = |p: &dyn TextMapPropagator| -> Vec<String> {
                p.fields().map(str::to_owned).collect()
            };
            let want = match Part::of(f) {
                Part::TraceContext => owned(&TraceContextPropagator::new()),
                Part::Baggage => owned(&BaggagePropagator::new()),
                Part::B3(e) => owned(&B3Propagator::with_encoding(e)),
                Part::Jaeger => owned(&JaegerPropagator::new()),
            };
            assert_eq!(Part::of(f).fields(), want.as_slice(), "{f:?}");
        }
        let p = Propagators::from_names(["tracecontext", "baggage", "b3multi"]);
        assert_eq!(
            p.fields().collect::<Vec<_>>(),
            [
                "traceparent",
                "tracestate",
                "baggage",
                "x-b3-traceid",
                "x-b3-spanid",
                "x-b3-sampled",
                "x-b3-flags"
            ]
        );
        assert_eq!(Propagators::none().fields().count(), 0);
    }

    #[test]
    fn every_format_round_trips_through_the_composite() {
        let all = Propagators::new(Format::ALL);
        let mut incoming = HeaderMap::new();
        incoming.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let cx = all
            .extract_from_headers(&incoming, &Context::new())
            .with_baggage([KeyValue::new("k", "v")]);
        let mut via_trait = HeaderMap::new();
        all.inject_context(&cx, &mut HeaderInjector(&mut via_trait));
        let mut direct = HeaderMap::new();
        all.inject_into_headers(&cx, &mut direct);
        assert_eq!(via_trait, direct);
        for name in [
            "traceparent",
            "baggage",
            "b3",
            "x-b3-traceid",
            "uber-trace-id",
            "uberctx-k",
        ] {
            assert!(direct.contains_key(name), "{name}");
        }
        // Each format alone extracts the same trace from what the composite wrote.
        for f in Format::ALL {
            let one = Propagators::new([f]);
            let back = one.extract_with_context(&Context::new(), &HeaderExtractor(&direct));
            match f {
                F::Baggage => assert_eq!(back.baggage().get("k").map(|v| v.as_str()), Some("v")),
                _ => assert_eq!(
                    back.span().span_context().trace_id(),
                    cx.span().span_context().trace_id(),
                    "{f:?}"
                ),
            }
        }
    }

    #[test]
    fn both_b3_encodings_extract_as_one() {
        let b3 = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d";
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let mut incoming = HeaderMap::new();
        incoming.insert("b3", HeaderValue::from_static(b3));
        incoming.insert("traceparent", HeaderValue::from_static(tp));
        let span_id = |formats: &[Format]| {
            let cx = Propagators::new(formats.iter().copied())
                .extract_from_headers(&incoming, &Context::new());
            let id = cx.span().span_context().span_id().to_string();
            (id, crate::debug::is_requested(&cx))
        };
        let from_b3 = ("e457b5a2e4d86bd1".to_owned(), true);
        let from_tp = ("00f067aa0ba902b7".to_owned(), false);
        assert_eq!(span_id(&[F::B3, F::B3Multi]), from_b3);
        assert_eq!(span_id(&[F::B3Multi, F::B3]), from_b3);
        // The later format still wins over one in between.
        assert_eq!(span_id(&[F::B3, F::TraceContext, F::B3Multi]), from_b3);
        assert_eq!(span_id(&[F::B3, F::B3Multi, F::TraceContext]), from_tp);
        // Only the later encoding runs.
        let p = Propagators::new([F::B3, F::TraceContext, F::B3Multi]);
        assert_eq!(p.extracting, [F::TraceContext, F::B3Multi]);
        assert_eq!(p.formats(), [F::B3, F::TraceContext, F::B3Multi]);
    }

    #[test]
    fn none_propagates_nothing() {
        let none = Propagators::none();
        let mut incoming = HeaderMap::new();
        incoming.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let cx = none.extract_from_headers(&incoming, &Context::new());
        assert!(!cx.has_active_span());
        let mut out = HeaderMap::new();
        none.inject_into_headers(&cx, &mut out);
        assert!(out.is_empty());
    }
}

//! Fuzz targets: values that look like trace fields on slog records never panic the
//! OpenTelemetry bridge and become a trace context only when valid; any line, cut anywhere, keeps
//! its content when the formatter splices the ids in.

use std::fmt;
use std::sync::{Arc, Mutex};

use opentelemetry::Context;
use opentelemetry::logs::AnyValue;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use tracewire_core::hex;
use tracewire_correlate::slog::OtelLogsDrain;
use tracewire_correlate::subscriber::TraceIdsFormat;
use tracewire_testing::fuzz::Fuzz;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

#[test]
fn trace_fields_on_slog_records() {
    let exporter = InMemoryLogExporter::default();
    let provider = SdkLoggerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let log = slog::Logger::root(OtelLogsDrain::new(&provider), slog::o!());
    Fuzz::new("slog trace fields")
        .seed("4bf92f3577b34da6a3ce929d0e0e4736|00f067aa0ba902b7|01")
        .seed("00000000000000000000000000000000|0000000000000000|00")
        .seed("4BF92F3577B34DA6A3CE929D0E0E4736|00f067aa0ba902b7|ff")
        .seed("||")
        .dict(&["|", "0", "f", "a", "00", "01"])
        .run(|input| {
            let text = String::from_utf8_lossy(input);
            let mut parts = text.splitn(3, '|');
            let trace_id = parts.next().unwrap_or_default();
            let span_id = parts.next().unwrap_or_default();
            let flags = parts.next().unwrap_or_default();
            exporter.reset();
            slog::info!(log, "fuzz";
                "trace_id" => trace_id, "span_id" => span_id, "trace_flags" => flags);
            let records = exporter.get_emitted_logs().expect("logs");
            let record = &records[0].record;
            let tid = hex::parse_trace_id(trace_id.as_bytes());
            let sid = hex::parse_span_id(span_id.as_bytes());
            match (tid, sid) {
                (Some(t), Some(s)) => {
                    let tc = record.trace_context().expect("valid ids make a context");
                    assert_eq!((tc.trace_id, tc.span_id), (t, s));
                    let want = hex::decode_lower::<1>(flags.as_bytes()).map_or(0, |[f]| f);
                    assert_eq!(tc.trace_flags.map(|f| f.to_u8()), Some(want));
                }
                _ => {
                    assert!(record.trace_context().is_none());
                    let attr = |k: &str| {
                        record
                            .attributes_iter()
                            .find(|(key, _)| key.as_str() == k)
                            .map(|(_, v)| v.clone())
                    };
                    assert_eq!(
                        attr("trace_id"),
                        Some(AnyValue::String(trace_id.to_owned().into()))
                    );
                    assert_eq!(
                        attr("span_id"),
                        Some(AnyValue::String(span_id.to_owned().into()))
                    );
                }
            }
        });
}

/// A formatter that writes a given line in given chunks.
#[derive(Clone, Default)]
struct Chunks(Arc<Mutex<Vec<String>>>);

impl<S, N> FormatEvent<S, N> for Chunks
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        _event: &tracing::Event<'_>,
    ) -> fmt::Result {
        for chunk in self.0.lock().expect("lock").iter() {
            writer.write_str(chunk)?;
        }
        Ok(())
    }
}

#[derive(Clone, Default)]
struct Out(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Out {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Cuts `line` into chunks at the char boundaries the fuzz bytes pick.
fn chunks(line: &str, cuts: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    for c in cuts {
        if rest.is_empty() {
            break;
        }
        let mut at = usize::from(*c) % (rest.len() + 1);
        while !rest.is_char_boundary(at) {
            at -= 1;
        }
        out.push(rest[..at].to_owned());
        rest = &rest[at..];
    }
    out.push(rest.to_owned());
    out
}

#[test]
fn lines_cut_anywhere_keep_their_content() {
    let sc = SpanContext::new(
        TraceId::from_bytes([0xab; 16]),
        SpanId::from_bytes([0xcd; 8]),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    let ids = "\"trace_id\":\"abababababababababababababababab\",\"span_id\":\"cdcdcdcdcdcdcdcd\",\"trace_flags\":\"01\"";
    let suffix =
        " trace_id=abababababababababababababababab span_id=cdcdcdcdcdcdcdcd trace_flags=01";
    let line = Chunks::default();
    let (json_out, text_out) = (Out::default(), Out::default());
    let (j, t) = (json_out.clone(), text_out.clone());
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(TraceIdsFormat::json(line.clone()))
                .with_writer(move || j.clone()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(TraceIdsFormat::text(line.clone()))
                .with_writer(move || t.clone()),
        );
    let _cx = Context::new().with_remote_span_context(sc).attach();
    tracing::subscriber::with_default(subscriber, || {
        Fuzz::new("formatter splice")
            .seed("{\"a\":1}\n|\u{3}\u{7}")
            .seed("{}\n|\u{1}")
            .seed("{ }|\u{1}\u{1}")
            .seed("{\n  \"a\": [1, {\"b\": 2}]\n}\n|\u{2}")
            .seed(" INFO x: hello k=v\n|\u{9}\u{2}")
            .seed("no newline|")
            .dict(&["{", "}", "\n", "\"", ":", ",", "|", "é"])
            .run(|input| {
                let text = String::from_utf8_lossy(input);
                let (body, cuts) = text.split_once('|').unwrap_or((&text, ""));
                *line.0.lock().expect("lock") = chunks(body, cuts.as_bytes());
                json_out.0.lock().expect("lock").clear();
                text_out.0.lock().expect("lock").clear();
                tracing::info!("x");
                let json =
                    String::from_utf8(json_out.0.lock().expect("lock").clone()).expect("utf-8");
                let text =
                    String::from_utf8(text_out.0.lock().expect("lock").clone()).expect("utf-8");

                // Text: the line, with the ids before its final newline.
                let want = match body.strip_suffix('\n') {
                    Some(head) => format!("{head}{suffix}\n"),
                    None => format!("{body}{suffix}"),
                };
                assert_eq!(text, want);

                // JSON: the ids right after the first `{`, nothing else changed.
                match body.find('{') {
                    None => assert_eq!(json, body),
                    Some(i) => {
                        let rest = &body[i + 1..];
                        let ws = rest.len() - rest.trim_start().len();
                        let (space, rest) = rest.split_at(ws);
                        let comma = if rest.starts_with('}') || rest.is_empty() {
                            ""
                        } else {
                            ","
                        };
                        assert_eq!(json, format!("{}{ids}{space}{comma}{rest}", &body[..=i]));
                        if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(body)
                            .is_ok()
                        {
                            let v: serde_json::Value =
                                serde_json::from_str(&json).expect("still a JSON object");
                            assert_eq!(v["span_id"], "cdcdcdcdcdcdcdcd");
                        }
                    }
                }
            });
    });
}

//! [`TraceIdsFormat`]: a tracing-subscriber event formatter that adds the trace ids.

use std::cell::RefCell;
use std::fmt;

use tracewire_core::TraceIds;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Json, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::FieldNames;

/// How the ids are placed in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// As the first top-level keys of the line's JSON object.
    Json,
    /// As ` name=value` pairs at the end of the line.
    Text,
}

/// An event formatter that wraps another one and adds `trace_id`, `span_id` and `trace_flags`
/// to each line written while a valid span context is current.
///
/// - [`TraceIdsFormat::json`]: the ids are top-level keys of the JSON object (the first ones),
///   as the specification asks for JSON formats; the inner formatter's keys follow unchanged.
/// - [`TraceIdsFormat::text`]: the ids are appended to the line as `trace_id=… span_id=…
///   trace_flags=…`, the `key=value` form the text formatters use for fields.
///
/// Lines written outside any span are the inner formatter's, unchanged. The ids are read from
/// the current OpenTelemetry context when the event is formatted; wrap the fmt layer in
/// [`WithOtelContext`](crate::subscriber::WithOtelContext) so that this is the context of the
/// event's `tracing` span (without it, it is whatever context is current, which
/// tracing-opentelemetry sets on span entry by default). No heap allocation per record: the
/// inner formatter writes into a per-thread line buffer that is reused (lines over 64 KiB are
/// not kept), and the line is copied out once with the ids spliced in.
///
/// In text style the inner formatter writes without ANSI colors when the ids are added:
/// tracing-subscriber does not let a wrapping formatter pass the ANSI setting on
/// (`Writer::with_ansi` is private to it). JSON has no colors.
///
/// # Example
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracewire_correlate::subscriber::TraceIdsFormat;
///
/// let layer = tracing_subscriber::fmt::layer()
///     .json()
///     .event_format(TraceIdsFormat::json(tracing_subscriber::fmt::format().json()))
///     .with_writer(std::io::sink);
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
/// ```
#[derive(Debug, Clone)]
pub struct TraceIdsFormat<F> {
    inner: F,
    keys: Keys,
    style: Style,
}

/// The field names, rendered once for each style so that a record only copies them.
#[derive(Debug, Clone)]
struct Keys {
    /// `"trace_id":"`, `","span_id":"` and `","trace_flags":"`, names escaped for JSON.
    json: [String; 3],
    /// ` trace_id=`, ` span_id=` and ` trace_flags=`.
    text: [String; 3],
}

impl Keys {
    fn new(names: &FieldNames) -> Self {
        let json_key = |prefix: &str, name: &str| {
            let mut out = String::from(prefix);
            // Writing into a `String` cannot fail.
            let _ = write_json_escaped(&mut out, name);
            out.push_str("\":\"");
            out
        };
        Self {
            json: [
                json_key("\"", names.trace_id),
                json_key("\",\"", names.span_id),
                json_key("\",\"", names.trace_flags),
            ],
            text: [
                format!(" {}=", names.trace_id),
                format!(" {}=", names.span_id),
                format!(" {}=", names.trace_flags),
            ],
        }
    }
}

impl<F> TraceIdsFormat<F> {
    /// Wraps a JSON formatter (for instance `tracing_subscriber::fmt::format().json()`): the ids
    /// become the first top-level keys of each line's object.
    pub fn json(inner: F) -> Self {
        Self {
            inner,
            keys: Keys::new(&FieldNames::SPEC),
            style: Style::Json,
        }
    }

    /// Wraps a text formatter (`Full`, `Compact`, `Pretty` or your own): the ids are appended to
    /// each line as `name=value` pairs.
    pub fn text(inner: F) -> Self {
        Self {
            inner,
            keys: Keys::new(&FieldNames::SPEC),
            style: Style::Text,
        }
    }

    /// Uses other field names.
    pub fn with_names(mut self, names: FieldNames) -> Self {
        self.keys = Keys::new(&names);
        self
    }

    /// The inner formatter.
    pub fn get_ref(&self) -> &F {
        &self.inner
    }
}

impl TraceIdsFormat<Format<Json>> {
    /// tracing-subscriber's JSON format (`fmt::format().json()`) with the ids.
    pub fn default_json() -> Self {
        Self::json(tracing_subscriber::fmt::format().json())
    }
}

impl TraceIdsFormat<Format<Full>> {
    /// tracing-subscriber's default text format (`fmt::format()`) with the ids.
    pub fn default_text() -> Self {
        Self::text(tracing_subscriber::fmt::format())
    }
}

impl<S, N, F> FormatEvent<S, N> for TraceIdsFormat<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(ids) = TraceIds::current() else {
            return self.inner.format_event(ctx, writer, event);
        };
        // Usual path: the inner formatter writes into this thread's line buffer (kept between
        // records, so no allocation once warm), then the line goes out in a few writes with
        // the ids spliced in. Writing straight through an adapter works too, but costs a
        // forwarding call per small write of the inner formatter (serde_json makes ~100 per
        // line): it is the fallback when the buffer is taken (a record formatted while
        // formatting another) or gone (thread teardown).
        let buffered = LINE.try_with(|cell| {
            let Ok(mut line) = cell.try_borrow_mut() else {
                return None;
            };
            line.clear();
            let written = self
                .inner
                .format_event(ctx, Writer::new(&mut *line), event)
                .and_then(|()| match self.style {
                    Style::Json => write_json_line(&mut writer, &line, &ids, &self.keys),
                    Style::Text => write_text_line(&mut writer, &line, &ids, &self.keys),
                });
            if line.capacity() > MAX_KEPT_LINE {
                *line = String::new();
            }
            Some(written)
        });
        if let Ok(Some(written)) = buffered {
            return written;
        }
        match self.style {
            Style::Json => {
                let mut splice = JsonSplice {
                    out: &mut writer,
                    ids: &ids,
                    keys: &self.keys,
                    state: JsonState::Seeking,
                };
                self.inner
                    .format_event(ctx, Writer::new(&mut splice), event)
            }
            Style::Text => {
                let mut suffix = TextSuffix {
                    out: &mut writer,
                    pending_newline: false,
                };
                self.inner
                    .format_event(ctx, Writer::new(&mut suffix), event)?;
                suffix.finish(&ids, &self.keys)
            }
        }
    }
}

/// A line buffer that grew past this is dropped after use rather than kept for the thread.
const MAX_KEPT_LINE: usize = 64 * 1024;

thread_local! {
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Writes a whole JSON line with the ids after its first `{` ([`JsonSplice`] fed the line at once).
fn write_json_line(
    out: &mut impl fmt::Write,
    line: &str,
    ids: &TraceIds,
    keys: &Keys,
) -> fmt::Result {
    let mut splice = JsonSplice {
        out,
        ids,
        keys,
        state: JsonState::Seeking,
    };
    fmt::Write::write_str(&mut splice, line)
}

/// Writes a whole text line with the ids before its final newline (the same output as
/// [`TextSuffix`]).
fn write_text_line(
    out: &mut impl fmt::Write,
    line: &str,
    ids: &TraceIds,
    keys: &Keys,
) -> fmt::Result {
    let mut suffix = TextSuffix {
        out,
        pending_newline: false,
    };
    fmt::Write::write_str(&mut suffix, line)?;
    suffix.finish(ids, keys)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonState {
    /// Before the object's opening brace.
    Seeking,
    /// Right after the ids: a comma goes next unless the object closes.
    AfterIds,
    /// Everything else is passed through.
    Through,
}

/// Passes a JSON line through, inserting the ids after its first `{`.
struct JsonSplice<'a, W> {
    out: &'a mut W,
    ids: &'a TraceIds,
    keys: &'a Keys,
    state: JsonState,
}

impl<W: fmt::Write> fmt::Write for JsonSplice<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self.state {
            JsonState::Through => self.out.write_str(s),
            JsonState::Seeking => match s.find('{') {
                Some(i) => {
                    self.out.write_str(&s[..=i])?;
                    write_json_ids(self.out, self.ids, self.keys)?;
                    self.state = JsonState::AfterIds;
                    self.write_str(&s[i + 1..])
                }
                None => self.out.write_str(s),
            },
            JsonState::AfterIds => {
                // White space before the next key (or the closing brace) decides nothing yet.
                let rest = s.trim_start();
                let Some(next) = rest.chars().next() else {
                    return self.out.write_str(s);
                };
                self.out.write_str(&s[..s.len() - rest.len()])?;
                if next != '}' {
                    self.out.write_char(',')?;
                }
                self.state = JsonState::Through;
                self.out.write_str(rest)
            }
        }
    }
}

fn write_json_ids(out: &mut impl fmt::Write, ids: &TraceIds, keys: &Keys) -> fmt::Result {
    out.write_str(&keys.json[0])?;
    out.write_str(ids.trace_id_hex().as_str())?;
    out.write_str(&keys.json[1])?;
    out.write_str(ids.span_id_hex().as_str())?;
    out.write_str(&keys.json[2])?;
    out.write_str(ids.trace_flags_hex().as_str())?;
    out.write_char('"')
}

fn write_json_escaped(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => {
                out.write_str(&s[start..i])?;
                write!(out, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
                continue;
            }
            _ => continue,
        };
        out.write_str(&s[start..i])?;
        out.write_str(escaped)?;
        start = i + c.len_utf8();
    }
    out.write_str(&s[start..])
}

/// Passes a text line through, holding back its final newline so the ids can go before it.
struct TextSuffix<'a, W> {
    out: &'a mut W,
    pending_newline: bool,
}

impl<W: fmt::Write> TextSuffix<'_, W> {
    fn finish(self, ids: &TraceIds, keys: &Keys) -> fmt::Result {
        self.out.write_str(&keys.text[0])?;
        self.out.write_str(ids.trace_id_hex().as_str())?;
        self.out.write_str(&keys.text[1])?;
        self.out.write_str(ids.span_id_hex().as_str())?;
        self.out.write_str(&keys.text[2])?;
        self.out.write_str(ids.trace_flags_hex().as_str())?;
        if self.pending_newline {
            self.out.write_char('\n')?;
        }
        Ok(())
    }
}

impl<W: fmt::Write> fmt::Write for TextSuffix<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.is_empty() {
            return Ok(());
        }
        if self.pending_newline {
            self.out.write_char('\n')?;
            self.pending_newline = false;
        }
        match s.strip_suffix('\n') {
            Some(head) => {
                self.pending_newline = true;
                self.out.write_str(head)
            }
            None => self.out.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

    fn ids() -> TraceIds {
        TraceIds {
            trace_id: TraceId::from_bytes([0xab; 16]),
            span_id: SpanId::from_bytes([0xcd; 8]),
            trace_flags: TraceFlags::SAMPLED,
        }
    }

    fn splice(chunks: &[&str], names: FieldNames) -> String {
        let mut out = String::new();
        let ids = ids();
        let mut w = JsonSplice {
            out: &mut out,
            ids: &ids,
            keys: &Keys::new(&names),
            state: JsonState::Seeking,
        };
        for c in chunks {
            w.write_str(c).expect("write");
        }
        out
    }

    #[test]
    fn json_splice_table() {
        let t = "\"trace_id\":\"abababababababababababababababab\",\"span_id\":\"cdcdcdcdcdcdcdcd\",\"trace_flags\":\"01\"";
        let cases: &[(&[&str], String)] = &[
            (&["{\"a\":1}\n"], format!("{{{t},\"a\":1}}\n")),
            (
                &["{", "\"a\"", ":1", "}", "\n"],
                format!("{{{t},\"a\":1}}\n"),
            ),
            (&["{", "", "}"], format!("{{{t}}}")),
            (&["{}"], format!("{{{t}}}")),
            (&["  {\"a\":1}"], format!("  {{{t},\"a\":1}}")),
            (&["no json"], "no json".to_owned()),
            (&["{ }"], format!("{{{t} }}")),
            (&["{", "\n", " \"a\":1}"], format!("{{{t}\n ,\"a\":1}}")),
        ];
        for (chunks, want) in cases {
            assert_eq!(&splice(chunks, FieldNames::SPEC), want, "{chunks:?}");
            let mut whole = String::new();
            write_json_line(
                &mut whole,
                &chunks.concat(),
                &ids(),
                &Keys::new(&FieldNames::SPEC),
            )
            .expect("write");
            assert_eq!(&whole, want, "buffered {chunks:?}");
        }
        for (chunks, _) in cases.iter().take(4) {
            let line = splice(chunks, FieldNames::SPEC);
            let v: serde_json::Value = serde_json::from_str(line.trim()).expect("valid json");
            assert_eq!(v["trace_id"], "abababababababababababababababab");
        }
    }

    #[test]
    fn json_names_are_escaped() {
        let names = FieldNames::SPEC.with_trace_id("tr\"ace\\\n\u{1}");
        let line = splice(&["{}"], names);
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid json");
        assert_eq!(v["tr\"ace\\\n\u{1}"], "abababababababababababababababab");
    }

    #[test]
    fn text_suffix_goes_before_the_final_newline() {
        let cases: &[(&[&str], &str)] = &[
            (&["INFO x: hello\n"], "INFO x: hello S\n"),
            (&["INFO x: hello", "\n"], "INFO x: hello S\n"),
            (&["a\n", "b\n"], "a\nb S\n"),
            (&["no newline"], "no newline S"),
            (&["", "x\n", ""], "x S\n"),
        ];
        let ids = ids();
        for (chunks, want) in cases {
            let mut out = String::new();
            let mut w = TextSuffix {
                out: &mut out,
                pending_newline: false,
            };
            for c in *chunks {
                w.write_str(c).expect("write");
            }
            w.finish(&ids, &Keys::new(&FieldNames::SPEC))
                .expect("finish");
            let s = " trace_id=abababababababababababababababab span_id=cdcdcdcdcdcdcdcd trace_flags=01";
            assert_eq!(out, want.replace(" S", s), "{chunks:?}");
            let mut whole = String::new();
            write_text_line(
                &mut whole,
                &chunks.concat(),
                &ids,
                &Keys::new(&FieldNames::SPEC),
            )
            .expect("write");
            assert_eq!(whole, want.replace(" S", s), "buffered {chunks:?}");
        }
    }
}

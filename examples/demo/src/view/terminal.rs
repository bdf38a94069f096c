//! The terminal view: sampling per service, the kept traces, and waterfalls.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use tracewire_core::semconv::{EXCEPTION_EVENT_NAME, attribute};

use super::{Report, SpanReport, TraceReport};

/// Width of a waterfall's bar column.
const BAR: usize = 36;
/// Width of the span-name column.
const NAME: usize = 30;

/// ANSI styling, on only when standard output is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    on: bool,
}

impl Style {
    pub(crate) fn detect() -> Self {
        Self {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub(crate) fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    pub(crate) fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    fn service(self, service: &str, text: &str) -> String {
        let code = match service {
            "checkout" => "36",
            "payments" => "35",
            "fulfillment" => "32",
            _ => "0",
        };
        self.paint(code, text)
    }
}

/// Milliseconds, for people.
pub(crate) fn ms(us: u64) -> String {
    let ms = us as f64 / 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Tail sampling per service, as a table.
pub(crate) fn sampling_table(report: &Report, style: Style) -> String {
    let mut policies: Vec<&str> = Vec::new();
    for s in &report.services {
        for p in s.by_policy.keys() {
            if !policies.contains(&p.as_str()) {
                policies.push(p);
            }
        }
    }
    let mut out = String::new();
    let mut header = format!("  {:<13} {:>8} {:>6}", "service", "decided", "kept");
    for p in &policies {
        let _ = write!(header, "  {p:>16}");
    }
    let _ = writeln!(out, "{}", style.dim(&header));
    for s in &report.services {
        let _ = write!(
            out,
            "  {} {:>8} {:>6}",
            style.service(s.name, &format!("{:<13}", s.name)),
            s.decided,
            s.kept
        );
        for p in &policies {
            let n = s.by_policy.get(*p).copied().unwrap_or(0);
            let _ = write!(out, "  {n:>16}");
        }
        let _ = writeln!(out);
    }
    out
}

/// The kept traces, a few lines of them.
pub(crate) fn trace_table(report: &Report, limit: usize, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.dim(&format!(
            "  {:<32}  {:<13} {:>9}  {:<6}  kept by (each service decides on its own part)",
            "trace", "root", "duration", "status"
        ))
    );
    for t in pick_rows(report, limit) {
        let kept: Vec<String> = t
            .decisions
            .iter()
            .map(|d| match (d.outcome, &d.policy) {
                ("kept", Some(p)) => style.service(d.service, &format!("{}: {p}", d.service)),
                ("kept", None) => style.service(d.service, d.service),
                ("no part", _) => style.dim(&format!("{}: no part", d.service)),
                _ => style.dim(&format!("{}: not kept", d.service)),
            })
            .collect();
        let status = if t.error {
            style.red("ERROR ")
        } else {
            "ok    ".to_owned()
        };
        let _ = writeln!(
            out,
            "  {}  {:<13} {:>9}  {}  {}",
            t.trace_id,
            t.root,
            ms(t.duration_us),
            status,
            kept.join(", ")
        );
    }
    if report.traces.len() > limit {
        let _ = writeln!(
            out,
            "  {}",
            style.dim(&format!(
                "... and {} more in the HTML view",
                report.traces.len() - limit
            ))
        );
    }
    out
}

/// A few of each kind, in this order: whole traces, error traces, the others (slow ones, or
/// kept by some services only); then more of any kind up to `limit`.
fn pick_rows(report: &Report, limit: usize) -> Vec<&TraceReport> {
    let kind = |t: &TraceReport| match (t.complete, t.error) {
        (true, _) => 0,
        (false, true) => 1,
        (false, false) => 2,
    };
    let share = [
        limit * 2 / 5,
        limit * 3 / 10,
        limit - limit * 2 / 5 - limit * 3 / 10,
    ];
    let mut picked: Vec<&TraceReport> = Vec::new();
    for (k, n) in share.iter().enumerate() {
        picked.extend(report.traces.iter().filter(|t| kind(t) == k).take(*n));
    }
    for t in &report.traces {
        if picked.len() >= limit {
            break;
        }
        if !picked.iter().any(|p| std::ptr::eq(*p, t)) {
            picked.push(t);
        }
    }
    picked.sort_by_key(|t| (kind(t), t.start_unix_us));
    picked
}

/// A trace as a waterfall: service, span (indented under its parent), kind, a bar placed on the
/// trace's time line, duration and status.
pub(crate) fn waterfall(trace: &TraceReport, style: Style) -> String {
    let mut out = String::new();
    let total = trace.duration_us.max(1);
    let _ = writeln!(
        out,
        "{}",
        style.dim(&format!(
            "  {:<12} {:<NAME$} {:<9} |{:<half$}{:>rest$}|",
            "service",
            "span",
            "kind",
            "0",
            ms(total),
            half = BAR / 2,
            rest = BAR - BAR / 2,
        ))
    );
    for span in &trace.spans {
        let _ = writeln!(out, "{}", row(span, total, style));
        for event in span
            .events
            .iter()
            .filter(|e| e.name == EXCEPTION_EVENT_NAME)
        {
            let attr = |key: &str| {
                event
                    .attributes
                    .iter()
                    .find(|(k, _)| k == key)
                    .map_or("", |(_, v)| v.as_str())
            };
            let kind = attr(attribute::EXCEPTION_TYPE)
                .rsplit("::")
                .next()
                .unwrap_or("");
            let causes: Vec<&str> = attr(attribute::EXCEPTION_STACKTRACE)
                .split_once("Caused by:")
                .map(|(_, rest)| {
                    rest.lines()
                        .filter_map(|l| l.trim().split_once(": ").map(|(_, c)| c))
                        .collect()
                })
                .unwrap_or_default();
            let mut text = format!("exception {kind}: {}", attr(attribute::EXCEPTION_MESSAGE));
            for cause in causes {
                let _ = write!(text, "; caused by: {cause}");
            }
            let _ = writeln!(
                out,
                "  {:<12} {}{}",
                "",
                " ".repeat(span.depth * 2 + 2),
                style.red(&text)
            );
        }
    }
    out
}

fn row(span: &SpanReport, total: u64, style: Style) -> String {
    let indent = " ".repeat(span.depth * 2);
    let mut name = format!("{indent}{}", span.name);
    if name.chars().count() > NAME {
        name = name.chars().take(NAME - 1).collect::<String>() + "…";
    }
    let start = (span.offset_us as f64 / total as f64 * BAR as f64).floor() as usize;
    let start = start.min(BAR - 1);
    let len = ((span.duration_us as f64 / total as f64 * BAR as f64).round() as usize)
        .clamp(1, BAR - start);
    let bar = format!(
        "{}{}{}",
        " ".repeat(start),
        "█".repeat(len),
        " ".repeat(BAR - start - len)
    );
    let bar = if span.status == "error" {
        style.red(&bar)
    } else {
        style.service(span.service, &bar)
    };
    // The HTTP status when there is one; the status description unless an exception line
    // below says more.
    let code = span
        .attributes
        .iter()
        .find(|(k, _)| k == attribute::HTTP_RESPONSE_STATUS_CODE)
        .map(|(_, v)| v.as_str());
    let has_exception = span.events.iter().any(|e| e.name == EXCEPTION_EVENT_NAME);
    let status = match (span.status, code, &span.status_message) {
        ("error", Some(code), _) => style.red(&format!("ERROR {code}")),
        ("error", None, Some(m)) if !has_exception => style.red(&format!("ERROR {m}")),
        ("error", _, _) => style.red("ERROR"),
        ("ok", _, _) => "OK".to_owned(),
        (_, Some(code), _) => code.to_owned(),
        _ => String::new(),
    };
    format!(
        "  {} {:<NAME$} {:<9} |{bar}| {:>8}  {status}",
        style.service(span.service, &format!("{:<12}", span.service)),
        name,
        span.kind,
        ms(span.duration_us),
    )
}

#[cfg(test)]
mod tests {
    use super::super::{ServiceDecision, SpanReport, TraceReport};
    use super::*;

    fn span(name: &str, depth: usize, offset_us: u64, duration_us: u64, error: bool) -> SpanReport {
        SpanReport {
            span_id: String::new(),
            parent_span_id: None,
            service: "payments",
            name: name.to_owned(),
            kind: "internal",
            depth,
            offset_us,
            duration_us,
            status: if error { "error" } else { "unset" },
            status_message: None,
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    fn trace(n: u64, complete: bool, error: bool) -> TraceReport {
        TraceReport {
            trace_id: n.to_string(),
            order_id: None,
            root: String::new(),
            start_unix_us: n,
            duration_us: 1,
            error,
            complete,
            decisions: Vec::new(),
            spans: Vec::new(),
            logs: Vec::new(),
        }
    }

    #[test]
    fn the_table_shows_a_few_of_each_kind() {
        let mut traces = Vec::new();
        for n in 0..6 {
            traces.push(trace(n, false, true));
        }
        for n in 6..12 {
            traces.push(trace(n, true, false));
        }
        traces.push(trace(12, false, false));
        let report = Report {
            seed: 0,
            orders: 13,
            accepted: 0,
            failed: 0,
            fulfilled: 0,
            head_sampled: 0,
            kafka: String::new(),
            sampling: super::super::Sampling {
                head: String::new(),
                tail: Vec::new(),
            },
            services: Vec::new(),
            traces,
        };
        let rows: Vec<(bool, bool, u64)> = pick_rows(&report, 10)
            .iter()
            .map(|t| (t.complete, t.error, t.start_unix_us))
            .collect();
        assert_eq!(rows.len(), 10);
        // Four whole traces, three errors, the one other trace, then two more by start time
        // (errors 3 and 4), each kind in start order.
        assert_eq!(
            rows,
            [
                (true, false, 6),
                (true, false, 7),
                (true, false, 8),
                (true, false, 9),
                (false, true, 0),
                (false, true, 1),
                (false, true, 2),
                (false, true, 3),
                (false, true, 4),
                (false, false, 12),
            ]
        );
    }

    #[test]
    fn bars_are_placed_on_the_time_line() {
        let trace = TraceReport {
            trace_id: "t".into(),
            order_id: None,
            root: "POST /payments".into(),
            start_unix_us: 0,
            duration_us: 36_000,
            error: true,
            complete: false,
            decisions: vec![ServiceDecision {
                service: "payments",
                outcome: "kept",
                policy: Some("error-sampling".into()),
            }],
            spans: vec![
                span("POST /payments", 0, 0, 36_000, false),
                span("process-payment", 1, 18_000, 9_000, true),
            ],
            logs: Vec::new(),
        };
        let text = waterfall(&trace, Style { on: false });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        let bar = |line: &str| {
            line.split('|')
                .nth(1)
                .map(str::to_owned)
                .unwrap_or_default()
        };
        assert_eq!(bar(lines[1]), "█".repeat(36));
        assert_eq!(
            bar(lines[2]),
            format!("{}{}{}", " ".repeat(18), "█".repeat(9), " ".repeat(9))
        );
        assert!(lines[2].contains("  process-payment") && lines[2].ends_with("ERROR"));
    }
}

//! The demo end to end, in-process on the mock Kafka cluster: it exits cleanly; tail sampling
//! keeps every error trace and whole traces HTTP → HTTP → Kafka → consumer; the HTML view holds
//! the trace data; the log lines carry the traces' ids.

mod common;

use anyhow::{Context as _, bail, ensure};
use common::{embedded_data, run_demo, temp_dir};
use serde_json::Value;
use std::time::Duration;

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a str> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|kv| kv[0] == key)
        .and_then(|kv| kv[1].as_str())
}

/// The only span of `trace` named `name` in `service`.
fn span<'a>(trace: &'a Value, service: &str, name: &str) -> anyhow::Result<&'a Value> {
    let found: Vec<&Value> = trace["spans"]
        .as_array()
        .context("spans")?
        .iter()
        .filter(|s| s["service"] == service && s["name"] == name)
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        _ => bail!(
            "{} spans {service}/{name} in trace {}",
            found.len(),
            trace["trace_id"]
        ),
    }
}

fn assert_child(child: &Value, parent: &Value) -> anyhow::Result<()> {
    ensure!(
        child["parent_span_id"] == parent["span_id"],
        "{} is not a child of {}",
        child["name"],
        parent["name"]
    );
    Ok(())
}

#[test]
fn the_demo_keeps_errors_and_whole_traces_and_shows_them() -> anyhow::Result<()> {
    let dir = temp_dir()?;
    let stdout = run_demo(&dir, 60, &[])?;
    for expected in [
        "Kept traces:",
        "An error trace, kept by tail sampling",
        "A whole trace, HTTP → HTTP → Kafka → consumer",
        "Log lines of trace",
        "Done in",
    ] {
        ensure!(stdout.contains(expected), "no `{expected}` in:\n{stdout}");
    }

    let html_path = dir.join("trace-view.html");
    let page = std::fs::read_to_string(&html_path).context("the HTML view")?;
    ensure!(
        !page.contains("<script src") && !page.contains("<link "),
        "the page fetches nothing"
    );
    let data = embedded_data(&page)?;
    let traces = data["traces"].as_array().context("traces")?;
    let orders = data["orders"].as_u64().context("orders")?;
    let failed = data["failed"].as_u64().context("failed")?;
    ensure!(orders == 60, "{orders} orders");
    ensure!(failed > 0, "the seed makes some payments fail");
    ensure!(
        data["fulfilled"] == data["accepted"],
        "every paid order fulfilled"
    );
    ensure!(
        (traces.len() as u64) < orders,
        "tail sampling keeps a part of the traces, not all"
    );

    // Every failed order's trace is kept, by error-sampling, in checkout and payments.
    let errors: Vec<&Value> = traces.iter().filter(|t| t["error"] == true).collect();
    ensure!(
        errors.len() as u64 == failed,
        "{} error traces kept for {failed} failed orders",
        errors.len()
    );
    for t in &errors {
        for d in t["decisions"].as_array().context("decisions")? {
            if d["service"] == "fulfillment" {
                ensure!(
                    d["outcome"] == "no part",
                    "a failed order reached Kafka: {t}"
                );
            } else {
                ensure!(
                    d["outcome"] == "kept" && d["policy"] == "error-sampling",
                    "{d} in {}",
                    t["trace_id"]
                );
            }
        }
        let payment = span(t, "payments", "process-payment")?;
        ensure!(payment["status"] == "error");
        ensure!(
            payment["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["name"] == "exception")),
            "process-payment records the exception"
        );
        ensure!(attr(payment, "payment.order_id") == t["order_id"].as_str());
    }

    // A whole trace: checkout's server and client spans, payments' server, process-payment and
    // producer spans, fulfillment's consumer and process-order spans, each the parent's child.
    let whole = traces
        .iter()
        .find(|t| t["complete"] == true)
        .context("no whole trace kept")?;
    let order_in = span(whole, "checkout", "POST /orders")?;
    ensure!(order_in["kind"] == "server" && order_in["parent_span_id"].is_null());
    let call = span(whole, "checkout", "POST")?;
    ensure!(call["kind"] == "client");
    assert_child(call, order_in)?;
    let pay_in = span(whole, "payments", "POST /payments")?;
    ensure!(pay_in["kind"] == "server");
    assert_child(pay_in, call)?;
    let payment = span(whole, "payments", "process-payment")?;
    assert_child(payment, pay_in)?;
    ensure!(payment["status"] == "ok");
    for key in [
        "payment.order_id",
        "payment.amount",
        "payment.currency",
        "payment.transaction_id",
    ] {
        ensure!(attr(payment, key).is_some(), "process-payment has no {key}");
    }
    let send = span(whole, "payments", "send orders")?;
    ensure!(send["kind"] == "producer");
    assert_child(send, pay_in)?;
    let process = span(whole, "fulfillment", "process orders")?;
    ensure!(process["kind"] == "consumer");
    assert_child(process, send)?;
    let fulfil = span(whole, "fulfillment", "process-order")?;
    assert_child(fulfil, process)?;
    for d in whole["decisions"].as_array().context("decisions")? {
        ensure!(d["outcome"] == "kept", "{d}");
    }

    // Its log lines: slog and tracing, in every service, all with its trace id; fulfillment's
    // carry the user id that came as baggage.
    let trace_id = str_of(whole, "trace_id");
    let lines: Vec<Value> = whole["logs"]
        .as_array()
        .context("logs")?
        .iter()
        .filter_map(|l| l.as_str())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    ensure!(
        lines.iter().all(|l| l["trace_id"] == trace_id),
        "log lines of another trace"
    );
    let slog_fulfillment = lines
        .iter()
        .find(|l| l["logger"] == "slog" && l["service"] == "fulfillment")
        .context("no slog line from fulfillment")?;
    ensure!(slog_fulfillment["span_id"] == fulfil["span_id"]);
    ensure!(
        str_of(slog_fulfillment, "user_id").starts_with("u-"),
        "user.id from baggage: {slog_fulfillment}"
    );
    let tracing_fulfillment = lines
        .iter()
        .find(|l| l["target"] == "fulfillment")
        .context("no tracing line from fulfillment")?;
    ensure!(tracing_fulfillment["span_id"] == fulfil["span_id"]);
    ensure!(
        lines
            .iter()
            .any(|l| l["logger"] == "slog" && l["service"] == "checkout")
            && lines.iter().any(|l| l["target"] == "checkout"),
        "checkout's lines carry the trace id too"
    );
    let all_logs = std::fs::read_to_string(dir.join("logs.jsonl"))?;
    ensure!(all_logs.lines().filter(|l| l.contains(trace_id)).count() >= lines.len());

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Ctrl-C during the load stops sending: the orders in flight finish, and the demo still
/// flushes, shows the orders it sent, writes the HTML view and exits 0.
#[test]
fn ctrl_c_stops_the_load_and_the_demo_still_shows_what_was_sent() -> anyhow::Result<()> {
    use std::io::{BufRead as _, BufReader, Read as _};
    use std::process::{Command, Stdio};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = temp_dir()?;
    // Far more orders than the test waits for: only Ctrl-C ends this run early.
    let requested = 1_000_000u64;
    let mut child = common::demo_command(&dir, requested as u32, &[])?
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the demo")?;
    let pid = child.id();
    // A liveness bound, not a timing assertion: a demo that ignored Ctrl-C would run for hours.
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            for _ in 0..1_800 {
                if done.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = Command::new("sh")
                .arg("-c")
                .arg(format!("kill -KILL {pid}"))
                .status();
        })
    };
    let mut stderr = child.stderr.take().context("stderr")?;
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let mut stdout = String::new();
    loop {
        let line = lines
            .next()
            .with_context(|| format!("the demo ended before its load started:\n{stdout}"))??;
        stdout.push_str(&line);
        stdout.push('\n');
        if line.contains("Ctrl-C stops sending") {
            break;
        }
    }
    // Let some orders through, then interrupt (the shell's own `kill`, by the demo's pid).
    std::thread::sleep(Duration::from_millis(500));
    let sent = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -INT {pid}"))
        .status()?;
    ensure!(sent.success(), "kill -INT failed");
    for line in lines {
        stdout.push_str(&line?);
        stdout.push('\n');
    }
    let status = child.wait()?;
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    let stderr = stderr.join().unwrap_or_default();
    ensure!(
        status.success(),
        "the demo failed ({status}):\n{stdout}\n{stderr}"
    );
    ensure!(
        stderr.contains("interrupted: "),
        "no interruption reported:\n{stderr}"
    );
    ensure!(stdout.contains("Done in"), "no end of run in:\n{stdout}");
    let page = std::fs::read_to_string(dir.join("trace-view.html")).context("the HTML view")?;
    let data = embedded_data(&page)?;
    let orders = data["orders"].as_u64().context("orders")?;
    ensure!(
        orders > 0 && orders < requested,
        "{orders} of {requested} orders in the view"
    );
    ensure!(
        data["fulfilled"] == data["accepted"],
        "every paid order fulfilled"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

//! The demo end to end, in-process on the mock Kafka cluster: it exits cleanly; tail sampling
//! keeps every error trace and whole traces HTTP → HTTP → Kafka → consumer; the HTML view holds
//! the trace data; the log lines carry the traces' ids.

mod common;

use anyhow::{Context as _, bail, ensure};
use common::{embedded_data, run_demo, temp_dir};
use serde_json::Value;

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

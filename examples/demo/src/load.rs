//! The load generator: a bounded number of orders to checkout, a few at a time, with a progress
//! bar. It is not traced itself (it plays the customers); checkout's `traceresponse` header tells
//! it each order's trace id.

use std::future::Future as _;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, Full};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use opentelemetry::trace::TraceId;
use tokio::sync::{oneshot, watch};
use tracewire_core::semconv::header;
use tracewire_propagation::TraceParent;

use crate::checkout::{HttpClient, http_client};
use crate::gateway::{splitmix, unit};
use crate::model::{Order, OrderResponse};

const REGIONS: [&str; 4] = ["eu-west-1", "us-east-1", "us-west-2", "ap-south-1"];
const SOURCES: [&str; 3] = ["web", "ios", "android"];

/// The `n`th order of the run with `seed`.
pub(crate) fn order(seed: u64, n: u32) -> Order {
    let mut state = seed ^ u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = || splitmix(&mut state);
    let user = next() % 500;
    let region = REGIONS[(next() % REGIONS.len() as u64) as usize];
    let source = SOURCES[(next() % SOURCES.len() as u64) as usize];
    let amount_cents = 500 + (unit(next()) * 49_500.0) as u64;
    let currency = if next() % 4 == 0 { "EUR" } else { "USD" };
    let items = 1 + (next() % 5) as u32;
    Order {
        order_id: format!("ord-{:04x}-{n:05}", seed & 0xffff),
        user_id: format!("u-{user:03}"),
        region: region.to_owned(),
        source: source.to_owned(),
        amount_cents,
        currency: currency.to_owned(),
        items,
    }
}

/// What happened to one order.
#[derive(Debug, Clone)]
pub(crate) struct OrderResult {
    pub(crate) order: Order,
    /// The HTTP status, or `None` when the request failed.
    pub(crate) status: Option<u16>,
    /// The trace id from `traceresponse`.
    pub(crate) trace_id: Option<TraceId>,
    /// Whether the head sampler flagged the trace sampled (the `traceresponse` flags).
    pub(crate) head_sampled: bool,
    pub(crate) latency: Duration,
}

impl OrderResult {
    /// Whether checkout accepted the order (it was paid and published).
    pub(crate) fn accepted(&self) -> bool {
        self.status == Some(201)
    }
}

/// Sends `orders` orders to `checkout_url`, `concurrency` at a time.
pub(crate) async fn run(
    checkout_url: &str,
    orders: u32,
    concurrency: u32,
    seed: u64,
) -> anyhow::Result<Vec<OrderResult>> {
    let url: Arc<str> = format!("{}/orders", checkout_url.trim_end_matches('/')).into();
    let client = http_client();
    wait_until_healthy(&client, checkout_url).await?;
    let interrupt = interrupt_on_ctrl_c().await;
    println!("  (Ctrl-C stops sending; the orders sent so far are still shown)");

    let bar = ProgressBar::with_draw_target(Some(u64::from(orders)), ProgressDrawTarget::stderr())
        .with_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed:>3} [{bar:40}] {pos}/{len} orders  {msg}",
            )?
            .progress_chars("=> "),
        );
    bar.enable_steady_tick(Duration::from_millis(100));
    let (mut ok, mut failed) = (0u32, 0u32);
    let mut stopped = interrupt.clone();
    let mut results: Vec<OrderResult> = futures_util::stream::iter(0..orders)
        .take_until(async move {
            // An error means the watcher is gone: no interrupt will come.
            if stopped.wait_for(|&interrupted| interrupted).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .map(|n| {
            let client = client.clone();
            let url = Arc::clone(&url);
            async move { send(&client, &url, order(seed, n)).await }
        })
        .buffer_unordered(concurrency as usize)
        .inspect(|r| {
            if r.accepted() {
                ok += 1;
            } else {
                failed += 1;
            }
            bar.set_message(format!("accepted {ok}  failed {failed}"));
            bar.inc(1);
        })
        .collect()
        .await;
    bar.finish();
    if *interrupt.borrow() {
        eprintln!(
            "interrupted: {} of {orders} orders sent; showing those (Ctrl-C again exits at once)",
            results.len()
        );
    }
    results.sort_by(|a, b| a.order.order_id.cmp(&b.order.order_id));
    Ok(results)
}

/// Watches for Ctrl-C from now on: the first one stops the load (the orders in flight finish,
/// then the demo flushes and shows what it has); the next exits at once with status 130.
/// Returns once the handler is installed. (From then on Ctrl-C no longer ends the process by
/// default, so the watcher stays for the rest of the run.)
async fn interrupt_on_ctrl_c() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    let (ready_tx, ready_rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut first = std::pin::pin!(tokio::signal::ctrl_c());
        // The first poll installs the handler.
        let early = std::future::poll_fn(|cx| Poll::Ready(first.as_mut().poll(cx))).await;
        let _ = ready_tx.send(());
        let result = match early {
            Poll::Ready(result) => result,
            Poll::Pending => first.await,
        };
        if result.is_err() {
            // No signal handler: Ctrl-C keeps its default.
            return;
        }
        let _ = tx.send(true);
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted again: exiting without flushing");
            std::process::exit(130);
        }
    });
    let _ = ready_rx.await;
    rx
}
/// Polls `GET /health` until checkout answers (a few seconds at most).
async fn wait_until_healthy(client: &HttpClient, checkout_url: &str) -> anyhow::Result<()> {
    let url = format!("{}/health", checkout_url.trim_end_matches('/'));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let request = http::Request::get(&url).body(Full::new(Bytes::new()))?;
        match client.request(request).await {
            Ok(r) if r.status().is_success() => return Ok(()),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            Ok(r) => anyhow::bail!("checkout at {url} answers {}", r.status()),
            Err(e) => return Err(e).with_context(|| format!("checkout at {url} is not reachable")),
        }
    }
}

async fn send(client: &HttpClient, url: &str, order: Order) -> OrderResult {
    let started = Instant::now();
    let mut result = OrderResult {
        order,
        status: None,
        trace_id: None,
        head_sampled: false,
        latency: Duration::ZERO,
    };
    let Ok(body) = serde_json::to_vec(&result.order) else {
        return result;
    };
    let Ok(request) = http::Request::post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
    else {
        return result;
    };
    if let Ok(response) = client.request(request).await {
        result.status = Some(response.status().as_u16());
        if let Some(tp) = response
            .headers()
            .get(header::TRACERESPONSE)
            .and_then(|v| TraceParent::parse(v.as_bytes()).ok())
        {
            result.trace_id = Some(tp.trace_id);
            result.head_sampled = tp.flags.is_sampled();
        }
        // Read the answer to the end: the server's span ends with its body.
        if let Ok(body) = response.into_body().collect().await {
            let _ = serde_json::from_slice::<OrderResponse>(&body.to_bytes());
        }
    }
    result.latency = started.elapsed();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_follow_from_the_seed() {
        let a = order(42, 7);
        let b = order(42, 7);
        assert_eq!(
            (a.order_id.as_str(), a.user_id.as_str(), a.amount_cents),
            (b.order_id.as_str(), b.user_id.as_str(), b.amount_cents)
        );
        assert_ne!(order(42, 8).order_id, a.order_id);
        assert!((500..50_000).contains(&a.amount_cents));
        assert!((1..=5).contains(&a.items));
    }
}

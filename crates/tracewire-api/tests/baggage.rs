//! Baggage helpers: entries set for a closure or a future are readable downstream, merge with
//! what is already there, and are gone after the scope.

use opentelemetry::KeyValue;
use tracewire_api::baggage::{baggage_value, map_baggage_value, with_baggage, with_baggage_future};
use tracewire_core::semconv::{BAGGAGE_REQUEST_SOURCE, BAGGAGE_SESSION_REGION, BAGGAGE_USER_ID};

#[test]
fn entries_are_scoped_and_merge() {
    let seen = with_baggage(
        [
            KeyValue::new(BAGGAGE_USER_ID, "u-1"),
            KeyValue::new(BAGGAGE_REQUEST_SOURCE, "web"),
        ],
        || {
            with_baggage(
                [
                    KeyValue::new(BAGGAGE_SESSION_REGION, "eu-west-1"),
                    KeyValue::new(BAGGAGE_REQUEST_SOURCE, "mobile"),
                ],
                || {
                    (
                        baggage_value(BAGGAGE_USER_ID),
                        baggage_value(BAGGAGE_SESSION_REGION),
                        baggage_value(BAGGAGE_REQUEST_SOURCE),
                    )
                },
            )
        },
    );
    assert_eq!(
        seen,
        (
            Some("u-1".to_owned()),
            Some("eu-west-1".to_owned()),
            Some("mobile".to_owned())
        )
    );
    assert_eq!(baggage_value(BAGGAGE_USER_ID), None);
    assert!(map_baggage_value(BAGGAGE_USER_ID, |v| v.is_none()));
}

#[test]
fn map_baggage_value_may_attach_contexts() {
    with_baggage([KeyValue::new(BAGGAGE_USER_ID, "u-2")], || {
        let len = map_baggage_value(BAGGAGE_USER_ID, |v| {
            // Attaching inside the callback must not conflict with the read.
            with_baggage([KeyValue::new("k", "v")], || v.map(str::len))
        });
        assert_eq!(len, Some(3));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_carry_their_baggage_across_awaits_and_threads() {
    let task = with_baggage_future([KeyValue::new(BAGGAGE_USER_ID, "u-3")], async {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        baggage_value(BAGGAGE_USER_ID)
    });
    let seen = tokio::spawn(task).await.expect("task");
    assert_eq!(seen.as_deref(), Some("u-3"));
    assert_eq!(baggage_value(BAGGAGE_USER_ID), None);
}

#[test]
fn entries_set_here_win_over_the_context_at_the_limits() {
    // Upstream baggage (from an untrusted caller, say) that fills the 8192-byte limit with a
    // `user.id` of its own: the entry set here must replace it, never leave the old value in
    // place; upstream entries are the ones dropped.
    use opentelemetry::Context;
    use opentelemetry::baggage::BaggageExt as _;
    let filler = "x".repeat(8192 - BAGGAGE_USER_ID.len() - "admin".len() - 2);
    let upstream = Context::new().with_baggage([
        KeyValue::new(BAGGAGE_USER_ID, "admin"),
        KeyValue::new("f", filler),
    ]);
    assert_eq!(
        upstream.baggage().len(),
        2,
        "the upstream baggage is at the limit"
    );
    let _attached = upstream.attach();
    with_baggage(
        [
            KeyValue::new(BAGGAGE_USER_ID, "u-1234567890"),
            KeyValue::new(BAGGAGE_SESSION_REGION, "eu-west-1"),
        ],
        || {
            assert_eq!(
                baggage_value(BAGGAGE_USER_ID).as_deref(),
                Some("u-1234567890")
            );
            assert_eq!(
                baggage_value(BAGGAGE_SESSION_REGION).as_deref(),
                Some("eu-west-1")
            );
            assert_eq!(baggage_value("f"), None, "the upstream filler made room");
        },
    );
    // Upstream entries that still fit are kept.
    with_baggage([KeyValue::new(BAGGAGE_REQUEST_SOURCE, "web")], || {
        assert_eq!(baggage_value(BAGGAGE_USER_ID).as_deref(), Some("admin"));
    });
}

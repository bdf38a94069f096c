//! A simulated payment gateway: answers after a few milliseconds, slowly or with an error for a
//! share of the charges. Each answer follows from the seed and the order id, so a run can be
//! replayed with `--seed`.

use std::time::Duration;

use tracewire_sdk::tail::fnv1a64;

/// The gateway's answer to a charge it refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GatewayError {
    /// The acquirer did not answer in time.
    #[error("acquirer timed out after {0} ms")]
    Timeout(u64),
    /// The acquirer is down.
    #[error("acquirer unavailable (HTTP 503)")]
    Unavailable,
}

/// Why a payment failed: what `process-payment` records as its exception.
#[derive(Debug, thiserror::Error)]
#[error("payment gateway failed to charge order {order_id}")]
pub(crate) struct PaymentError {
    pub(crate) order_id: String,
    #[source]
    pub(crate) source: GatewayError,
}

/// A charge the gateway accepted.
#[derive(Debug, Clone)]
pub(crate) struct Charge {
    pub(crate) transaction_id: String,
}

/// The simulated gateway.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gateway {
    pub(crate) seed: u64,
    pub(crate) failure_rate: f64,
    pub(crate) slow_rate: f64,
}

/// What the gateway will do with one charge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plan {
    pub(crate) latency: Duration,
    pub(crate) fails: bool,
    pub(crate) slow: bool,
}

impl Gateway {
    /// What happens to the charge of `order_id`: the same answer for the same seed and order.
    pub(crate) fn plan(&self, order_id: &str) -> Plan {
        let mut state = self.seed ^ fnv1a64(order_id.as_bytes());
        let fails = unit(splitmix(&mut state)) < self.failure_rate;
        let slow = unit(splitmix(&mut state)) < self.slow_rate;
        let jitter = unit(splitmix(&mut state));
        let ms = if slow {
            // Over the 500 ms threshold of the article's latency policy.
            550.0 + 350.0 * jitter
        } else {
            3.0 + 12.0 * jitter
        };
        Plan {
            latency: Duration::from_micros((ms * 1000.0) as u64),
            fails,
            slow,
        }
    }

    /// Charges the order `order_id`.
    pub(crate) async fn charge(&self, order_id: &str) -> Result<Charge, GatewayError> {
        let plan = self.plan(order_id);
        tokio::time::sleep(plan.latency).await;
        if plan.fails {
            return Err(if plan.slow {
                GatewayError::Timeout(plan.latency.as_millis() as u64)
            } else {
                GatewayError::Unavailable
            });
        }
        let mut state = self.seed ^ fnv1a64(order_id.as_bytes()).rotate_left(17);
        Ok(Charge {
            transaction_id: format!("txn_{:016x}", splitmix(&mut state)),
        })
    }
}

/// SplitMix64: the next value of a small, well-mixed generator.
pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A value in `[0, 1)` from 64 random bits.
pub(crate) fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_answers() {
        let g = Gateway {
            seed: 7,
            failure_rate: 0.3,
            slow_rate: 0.2,
        };
        for i in 0..50 {
            let id = format!("ord-{i}");
            assert_eq!(g.plan(&id), g.plan(&id));
        }
    }

    #[test]
    fn rates_are_roughly_kept() {
        let g = Gateway {
            seed: 1,
            failure_rate: 0.1,
            slow_rate: 0.05,
        };
        let plans: Vec<Plan> = (0..10_000).map(|i| g.plan(&format!("ord-{i}"))).collect();
        let fails = plans.iter().filter(|p| p.fails).count();
        let slow = plans.iter().filter(|p| p.slow).count();
        assert!((800..1200).contains(&fails), "{fails} failures");
        assert!((350..650).contains(&slow), "{slow} slow");
        assert!(
            plans
                .iter()
                .all(|p| p.slow == (p.latency > Duration::from_millis(500)))
        );
    }

    #[test]
    fn rates_of_zero_and_one() {
        let never = Gateway {
            seed: 3,
            failure_rate: 0.0,
            slow_rate: 0.0,
        };
        let always = Gateway {
            seed: 3,
            failure_rate: 1.0,
            slow_rate: 1.0,
        };
        for i in 0..100 {
            let id = format!("ord-{i}");
            let (n, a) = (never.plan(&id), always.plan(&id));
            assert!(!n.fails && !n.slow);
            assert!(a.fails && a.slow);
        }
    }
}

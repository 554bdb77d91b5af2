//! The per-tenant request limit of the Graph-compatible API: a token bucket per
//! organization, full at the start, refilled at the configured rate per minute. Kept in
//! this process's memory (one bucket per organization that called, so bounded by the
//! organizations there are); behind several replicas, each holds its own.

use std::collections::HashMap;
use std::sync::Mutex;

/// Buckets kept before full (idle) ones are dropped: a full bucket says nothing a new one
/// would not.
const PRUNE_ABOVE: usize = 1024;

/// How many requests an organization may make per minute, and what each has left.
#[derive(Debug)]
pub struct RequestLimit {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// A request costs this many units; a bucket gains `per_minute` units a millisecond. In
/// whole numbers, so that no rounding lets a request through early.
const COST: i64 = 60_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Units left: a request may be made while at least [`COST`] remain.
    units: i64,
    /// When `units` was last brought up to date, in milliseconds.
    at_ms: i64,
}

impl RequestLimit {
    /// `per_minute` requests per organization and minute, in bursts of as many; 0 is no
    /// limit.
    pub fn new(per_minute: u32) -> RequestLimit {
        RequestLimit {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `tenant_id` at `now_ms`; when none is left, the whole seconds
    /// to wait before the next one is allowed.
    pub fn take(&self, tenant_id: &str, now_ms: i64) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let rate = i64::from(self.per_minute);
        let capacity = rate * COST;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| b.refilled(now_ms, rate, capacity).units < capacity);
        }
        let bucket = buckets.entry(tenant_id.to_string()).or_insert(Bucket {
            units: capacity,
            at_ms: now_ms,
        });
        *bucket = bucket.refilled(now_ms, rate, capacity);
        if bucket.units >= COST {
            bucket.units -= COST;
            Ok(())
        } else {
            let wait_ms = (COST - bucket.units + rate - 1) / rate;
            Err(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1))
        }
    }
}

impl Bucket {
    fn refilled(self, now_ms: i64, rate: i64, capacity: i64) -> Bucket {
        // A clock that steps back refills nothing.
        let elapsed = now_ms.saturating_sub(self.at_ms).max(0);
        Bucket {
            units: self
                .units
                .saturating_add(elapsed.saturating_mul(rate))
                .min(capacity),
            at_ms: now_ms.max(self.at_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_gets_its_burst_then_waits_for_the_refill() {
        let limit = RequestLimit::new(3);
        for _ in 0..3 {
            assert_eq!(limit.take("contoso", 1_000), Ok(()));
        }
        // One request comes back every 20 seconds.
        assert_eq!(limit.take("contoso", 1_000), Err(20));
        assert_eq!(limit.take("contoso", 6_000), Err(15));
        assert_eq!(limit.take("contoso", 21_000), Ok(()));
        assert_eq!(limit.take("contoso", 21_000), Err(20));
        // Another organization has its own.
        assert_eq!(limit.take("fabrikam", 21_000), Ok(()));
    }

    #[test]
    fn no_limit_is_no_limit_and_refills_never_pass_the_burst() {
        let off = RequestLimit::new(0);
        for _ in 0..10_000 {
            assert_eq!(off.take("contoso", 0), Ok(()));
        }
        let limit = RequestLimit::new(2);
        assert_eq!(limit.take("contoso", 0), Ok(()));
        // An hour idle refills to two, not more.
        for _ in 0..2 {
            assert_eq!(limit.take("contoso", 3_600_000), Ok(()));
        }
        assert!(limit.take("contoso", 3_600_000).is_err());
        // A clock that steps back neither refills nor panics.
        assert!(limit.take("contoso", 0).is_err());
    }

    #[test]
    fn idle_organizations_are_forgotten_when_many_called() {
        let limit = RequestLimit::new(60);
        for n in 0..=PRUNE_ABOVE {
            assert_eq!(limit.take(&format!("t{n}"), 0), Ok(()));
        }
        // A minute later all are full again: the next call keeps only its own.
        assert_eq!(limit.take("late", 60_000), Ok(()));
        let kept = limit.buckets.lock().map(|b| b.len()).unwrap_or_default();
        assert_eq!(kept, 1);
    }
}

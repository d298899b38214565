//! One request-rate limit shared by every request made through one connection (`Aws`), from
//! any task: requests are spaced evenly, so concurrent fetches never exceed the account's API
//! quota (CloudWatch Logs' GetLogEvents allows about 10 requests per second per account and
//! region). The SDK's own retries after throttling are paced by its backoff, not by this.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

const MAX_INTERVAL: Duration = Duration::from_secs(3600);

#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimit {
    /// At most `rate` requests per second; zero or less (or not finite) means no limit. The
    /// spacing is capped at an hour, so an absurdly low rate cannot overflow a clock.
    pub fn per_second(rate: f64) -> Self {
        let interval = if rate.is_finite() && rate > 0.0 {
            Duration::try_from_secs_f64(1.0 / rate)
                .unwrap_or(MAX_INTERVAL)
                .min(MAX_INTERVAL)
        } else {
            Duration::ZERO
        };
        RateLimit {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Waits for this caller's slot. Slots are handed out in call order.
    pub async fn wait(&self) {
        if self.interval.is_zero() {
            return;
        }
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_evenly() {
        let limit = RateLimit::per_second(10.0);
        let start = Instant::now();
        for _ in 0..11 {
            limit.wait().await;
        }
        // The first request goes at once, the next ten 100 ms apart.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn an_absurd_rate_is_capped_not_a_panic() {
        let limit = RateLimit::per_second(1e-300);
        let start = Instant::now();
        limit.wait().await;
        limit.wait().await;
        assert_eq!(start.elapsed(), MAX_INTERVAL);
    }

    #[tokio::test(start_paused = true)]
    async fn no_limit_never_waits() {
        let limit = RateLimit::per_second(0.0);
        let start = Instant::now();
        for _ in 0..100 {
            limit.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}

//! One request-rate limit shared by every task of the process: requests are spaced evenly, so
//! a burst of concurrent fetches never exceeds the account's API quota (CloudWatch Logs'
//! GetLogEvents allows about 10 requests per second per account and region).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimit {
    /// At most `rate` requests per second; zero or less (or not finite) means no limit.
    pub fn per_second(rate: f64) -> Self {
        let interval = if rate.is_finite() && rate > 0.0 {
            Duration::from_secs_f64(1.0 / rate)
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
    async fn no_limit_never_waits() {
        let limit = RateLimit::per_second(0.0);
        let start = Instant::now();
        for _ in 0..100 {
            limit.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}

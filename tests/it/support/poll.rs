//! The one bounded poll: wait for a condition instead of sleeping a fixed
//! delay and hoping.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often [`eventually`] checks.
const INTERVAL: Duration = Duration::from_millis(50);

/// Calls `check` every 50 ms until it returns `Some`, and returns that value;
/// panics naming `what` once `deadline` has passed.
pub(crate) async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for: {what}"
        );
        tokio::time::sleep(INTERVAL).await;
    }
}

//! [`Clock`]: an issuer's notion of "now", in UNIX seconds. It follows the
//! system clock, shifted by an offset or frozen at a fixed instant (test
//! controls: `PUT /_admin/clock`), and is read with two atomic loads, so the
//! token hot path never takes a lock for it.

use std::sync::atomic::{AtomicI64, Ordering};

/// Sentinel for "not frozen".
const RUNNING: i64 = i64::MIN;

/// An issuer's clock: the system clock plus an offset, or a frozen instant.
#[derive(Debug)]
pub struct Clock {
    offset: AtomicI64,
    frozen: AtomicI64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            offset: AtomicI64::new(0),
            frozen: AtomicI64::new(RUNNING),
        }
    }
}

/// What a [`Clock`] is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockSetting {
    /// The system clock shifted by this many seconds (0 = the system clock).
    Offset(i64),
    /// Stopped at this UNIX time.
    Frozen(i64),
}

impl Clock {
    /// Current time in UNIX seconds.
    pub fn now(&self) -> i64 {
        self.at(crate::unix_now())
    }

    /// What this clock reads when the system clock reads `system_now`.
    pub fn at(&self, system_now: i64) -> i64 {
        match self.frozen.load(Ordering::Relaxed) {
            RUNNING => system_now.saturating_add(self.offset.load(Ordering::Relaxed)),
            frozen => frozen,
        }
    }

    /// Sets the clock.
    pub fn set(&self, setting: ClockSetting) {
        match setting {
            ClockSetting::Offset(offset) => {
                self.offset.store(offset, Ordering::Relaxed);
                self.frozen.store(RUNNING, Ordering::Relaxed);
            }
            ClockSetting::Frozen(at) => {
                self.offset.store(0, Ordering::Relaxed);
                // i64::MIN is the "running" sentinel; nobody freezes at -292e9 years.
                self.frozen.store(at.max(RUNNING + 1), Ordering::Relaxed);
            }
        }
    }

    /// The current setting.
    pub fn setting(&self) -> ClockSetting {
        match self.frozen.load(Ordering::Relaxed) {
            RUNNING => ClockSetting::Offset(self.offset.load(Ordering::Relaxed)),
            frozen => ClockSetting::Frozen(frozen),
        }
    }

    /// Back to the system clock.
    pub fn reset(&self) {
        self.set(ClockSetting::Offset(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_freeze_and_reset() {
        let c = Clock::default();
        assert_eq!(c.at(1000), 1000);
        assert_eq!(c.setting(), ClockSetting::Offset(0));
        c.set(ClockSetting::Offset(-30));
        assert_eq!(c.at(1000), 970);
        c.set(ClockSetting::Frozen(5));
        assert_eq!(c.at(1000), 5);
        assert_eq!(c.at(2000), 5);
        assert_eq!(c.setting(), ClockSetting::Frozen(5));
        c.reset();
        assert_eq!(c.at(1000), 1000);
        c.set(ClockSetting::Offset(i64::MAX));
        assert_eq!(c.at(1000), i64::MAX, "saturates instead of wrapping");
        let now = c.now();
        assert!(now > 0);
    }
}

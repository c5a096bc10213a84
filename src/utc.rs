//! UTC calendar dates from UNIX times, with no date crate: RFC 3339 strings
//! for the request ledger and `mock-idp decode`, and the X.509 validity
//! dates of the Entra profile's certificate.

/// A UNIX time split into its proleptic Gregorian UTC fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Year (may be before 1970 or after 9999).
    pub year: i64,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month, 1-31.
    pub day: u32,
    /// Hour, 0-23.
    pub hour: u32,
    /// Minute, 0-59.
    pub minute: u32,
    /// Second, 0-59.
    pub second: u32,
}

impl Utc {
    /// The calendar fields of `unix` seconds since 1970-01-01T00:00:00Z
    /// (Howard Hinnant's `civil_from_days`).
    pub fn from_unix(unix: i64) -> Self {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        // Every narrowed value is within 0..=366 by construction.
        Utc {
            year,
            month: month as u32,
            day: day as u32,
            hour: (secs / 3600) as u32,
            minute: (secs % 3600 / 60) as u32,
            second: (secs % 60) as u32,
        }
    }

    /// `2024-01-31T12:00:00` (no zone suffix, no fraction).
    pub fn date_time(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// UNIX seconds as RFC 3339 UTC: `2024-01-31T12:00:00Z`.
pub fn rfc3339(unix: i64) -> String {
    format!("{}Z", Utc::from_unix(unix).date_time())
}

/// UNIX milliseconds as RFC 3339 UTC with milliseconds: `2024-01-31T12:00:00.123Z`.
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let utc = Utc::from_unix(unix_ms.div_euclid(1000));
    format!("{}.{:03}Z", utc.date_time(), unix_ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_102_444_800), "2100-01-01T00:00:00Z");
        assert_eq!(rfc3339_ms(951_782_400_999), "2000-02-29T00:00:00.999Z");
    }

    #[test]
    fn fields() {
        let t = Utc::from_unix(1_709_164_800); // 2024-02-29
        assert_eq!((t.year, t.month, t.day), (2024, 2, 29));
    }
}

//! Timestamps as text. One formatter for every date the tool prints (commit
//! dates of findings, pre-receive audit lines), through `jiff`, which gix
//! already links, instead of hand-written calendar arithmetic.

/// `secs` since the Unix epoch as RFC 3339 in UTC (`2026-01-02T03:04:05Z`).
///
/// Git stores whatever time a commit claims, and a crafted commit can claim
/// any `i64`. RFC 3339 only has four-digit years and jiff's timestamps end
/// on 9999-12-30T22:00:00Z, so times outside 0000-01-01T00:00:00Z..that end
/// are clamped to the bounds: the output always parses as RFC 3339 and
/// formatting never fails.
pub fn rfc3339(secs: i64) -> String {
    /// 0000-01-01T00:00:00Z.
    const YEAR_ZERO: i64 = -62_167_219_200;
    let max = jiff::Timestamp::MAX.as_second();
    jiff::Timestamp::from_second(secs.clamp(YEAR_ZERO, max))
        .unwrap_or(jiff::Timestamp::MAX)
        .to_string()
}

/// `ts` in UTC as `YYYY-MM-DDTHH:MM:SS`, without zone or fraction: the
/// shape GitLab's security-report schemas demand for `scan.start_time` and
/// `scan.end_time` (their pattern refuses a trailing `Z`).
pub fn utc_seconds(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::{rfc3339, utc_seconds};

    #[test]
    fn utc_seconds_has_no_zone_and_no_fraction() {
        let ts = jiff::Timestamp::new(1_767_323_045, 999_000_000).unwrap();
        assert_eq!(utc_seconds(ts), "2026-01-02T03:04:05");
    }

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_323_045), "2026-01-02T03:04:05Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn crafted_commit_times_are_clamped_to_four_digit_years() {
        assert_eq!(rfc3339(i64::MAX), "9999-12-30T22:00:00Z");
        assert_eq!(rfc3339(253_402_300_800), "9999-12-30T22:00:00Z");
        assert_eq!(rfc3339(i64::MIN), "0000-01-01T00:00:00Z");
        assert_eq!(rfc3339(-62_167_219_201), "0000-01-01T00:00:00Z");
    }
}

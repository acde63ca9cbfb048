//! Calendar dates of Unix times, in UTC (the civil-from-days conversion of
//! the proleptic Gregorian calendar, in 400-year eras of March-based years
//! so that the leap day ends a year), for timestamps forge writes.

/// A Unix time's UTC date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

impl Utc {
    pub fn of(epoch: i64) -> Utc {
        let (days, secs) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Utc {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: secs / 3_600,
            minute: secs % 3_600 / 60,
            second: secs % 60,
        }
    }

    /// `YYYY-MM-DDThh:mm:ssZ` (ISO 8601).
    pub fn iso8601(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `YYYY-MM-DD hh:mm:ss UTC`, for people.
    pub fn readable(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_known_times() {
        assert_eq!(Utc::of(0).iso8601(), "1970-01-01T00:00:00Z");
        assert_eq!(Utc::of(1_704_067_200).iso8601(), "2024-01-01T00:00:00Z");
        assert_eq!(
            Utc::of(951_782_400 + 3_661).readable(),
            "2000-02-29 01:01:01 UTC"
        );
        assert_eq!(Utc::of(-1).iso8601(), "1969-12-31T23:59:59Z");
        assert_eq!(Utc::of(1_796_213_890).readable(), "2026-12-02 12:18:10 UTC");
    }
}

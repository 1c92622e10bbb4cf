//! The clock seam (real and fake side by side) and the RFC 3339 timestamps the API uses; every
//! time-based behaviour (ages, deadlines, backoffs, cron) reads time through `Clock`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where time comes from; tests use `FakeClock` to move it without sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> SystemTime;
}

pub struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to.
pub struct FakeClock {
    micros: AtomicU64,
}

impl FakeClock {
    pub fn at(t: SystemTime) -> Self {
        FakeClock {
            micros: AtomicU64::new(
                t.duration_since(UNIX_EPOCH).unwrap_or_default().as_micros() as u64
            ),
        }
    }
    pub fn advance(&self, d: Duration) {
        self.micros
            .fetch_add(d.as_micros() as u64, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.micros.load(Ordering::SeqCst))
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn split(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(e) => (-(e.duration().as_secs() as i64), 0),
    }
}

fn format_parts(secs: i64) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `metav1.Time`: RFC 3339 with second precision, UTC (`2026-11-27T20:41:20Z`).
pub fn rfc3339(t: SystemTime) -> String {
    format!("{}Z", format_parts(split(t).0))
}

/// `metav1.MicroTime`: RFC 3339 with microseconds (`2026-11-27T20:41:20.123456Z`).
pub fn rfc3339_micro(t: SystemTime) -> String {
    let (s, us) = split(t);
    format!("{}.{us:06}Z", format_parts(s))
}

/// Parse an RFC 3339 timestamp (`Z` or `±hh:mm` offset, optional fraction).
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0u64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &s[start..i];
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
        micros = digits.parse().ok()?;
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        b'+' | b'-' if i + 6 == b.len() => {
            let sign = if b[i] == b'+' { 1 } else { -1 };
            sign * (num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se - offset;
    let base = if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs((-secs) as u64)
    };
    Some(base + Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_rfc3339_round_trip() {
        let cases = [
            (0u64, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_795_811_480, "2026-11-27T20:31:20Z"),
        ];
        for (secs, text) in cases {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(rfc3339(t), text);
            assert_eq!(parse_rfc3339(text), Some(t));
        }
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let t = parse_rfc3339("2026-11-27T21:31:20.5+01:00").unwrap();
        assert_eq!(rfc3339_micro(t), "2026-11-27T20:31:20.500000Z");
        assert_eq!(parse_rfc3339("not a time"), None);
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
    }

    #[test]
    fn fake_clock_moves_only_when_advanced() {
        let c = FakeClock::at(UNIX_EPOCH + Duration::from_secs(100));
        assert_eq!(c.now(), UNIX_EPOCH + Duration::from_secs(100));
        c.advance(Duration::from_secs(5));
        assert_eq!(c.now(), UNIX_EPOCH + Duration::from_secs(105));
    }
}

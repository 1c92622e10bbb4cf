//! Human-readable ages ("5m30s", "3d4h"), exactly as `k8s.io/apimachinery/pkg/util/duration`
//! renders them for `kubectl get` AGE columns and events; and Go's `time.ParseDuration`
//! (`1h30m`, `90s`, `1.5h`, `500ms`) for flags and fields that take a Go duration.

use std::time::Duration;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;

fn to_nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// `HumanDuration` of a non-negative duration: about 2–3 significant figures.
pub fn human_duration(d: Duration) -> String {
    human_duration_nanos(to_nanos(d))
}

/// `HumanDuration` of a signed number of seconds (negative ages come from clock skew).
pub fn human_duration_secs(seconds: i64) -> String {
    human_duration_nanos(seconds.saturating_mul(NANOS_PER_SECOND))
}

/// `HumanDuration` of a signed Go `time.Duration` (nanoseconds). Below -1s it is `<invalid>`;
/// from -1s up to 0 it is `0s` (tolerated skew); then `Ns` below 2 minutes, `Mm[Ss]` below
/// 10 minutes, `Mm` below 3 hours, `Hh[Mm]` below 8 hours, `Hh` below 48 hours, `Dd[Hh]`
/// below 8 days, `Dd` below 2 years, `Yy[Dd]` below 8 years, else `Yy` (365-day years).
pub fn human_duration_nanos(nanos: i64) -> String {
    let seconds = nanos / NANOS_PER_SECOND;
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = nanos / NANOS_PER_MINUTE;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = nanos / NANOS_PER_HOUR;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        format!("{hours}h{m}m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        format!("{}d{h}h", hours / 24)
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        format!("{}y{dy}d", hours / 24 / 365)
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// `ShortHumanDuration` of a non-negative duration: one unit only.
pub fn short_human_duration(d: Duration) -> String {
    short_human_duration_nanos(to_nanos(d))
}

/// `ShortHumanDuration` of a signed number of seconds.
pub fn short_human_duration_secs(seconds: i64) -> String {
    short_human_duration_nanos(seconds.saturating_mul(NANOS_PER_SECOND))
}

/// `ShortHumanDuration` of a signed Go `time.Duration` (nanoseconds): `<invalid>` below -1s,
/// `0s` up to 0, then `Ns` below a minute, `Mm` below an hour, `Hh` below a day, `Dd` below
/// 365 days, else `Yy`.
pub fn short_human_duration_nanos(nanos: i64) -> String {
    let seconds = nanos / NANOS_PER_SECOND;
    if seconds < -1 {
        "<invalid>".to_string()
    } else if seconds < 0 {
        "0s".to_string()
    } else if seconds < 60 {
        format!("{seconds}s")
    } else if nanos / NANOS_PER_MINUTE < 60 {
        format!("{}m", nanos / NANOS_PER_MINUTE)
    } else if nanos / NANOS_PER_HOUR < 24 {
        format!("{}h", nanos / NANOS_PER_HOUR)
    } else if nanos / NANOS_PER_HOUR < 24 * 365 {
        format!("{}d", nanos / NANOS_PER_HOUR / 24)
    } else {
        format!("{}y", nanos / NANOS_PER_HOUR / 24 / 365)
    }
}

/// A Go duration string (`1h30m`, `90s`, `1.5h`, `500ms`, `0`), as `time.ParseDuration` reads it
/// (non-negative only).
pub fn parse_go(s: &str) -> Option<Duration> {
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += value * unit;
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_as_time_parse_duration_does() {
        let cases = [
            ("1h30m", Some(5400.0)),
            ("1.5h", Some(5400.0)),
            ("90s", Some(90.0)),
            ("500ms", Some(0.5)),
            ("0", Some(0.0)),
            ("2m3.5s", Some(123.5)),
            ("5", None),
            ("x", None),
            ("", None),
            ("3d", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_go(text).map(|d| d.as_secs_f64()), want, "{text}");
        }
    }

    const S: i64 = 1;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;
    const D: i64 = 24 * H;
    const Y: i64 = 365 * D;

    #[test]
    fn human_durations_follow_upstream_boundaries() {
        let cases: &[(i64, &str)] = &[
            (-2 * S, "<invalid>"),
            (-S, "0s"),
            (0, "0s"),
            (S, "1s"),
            (59 * S, "59s"),
            (60 * S, "60s"),
            (2 * M - S, "119s"),
            (2 * M, "2m"),
            (2 * M + S, "2m1s"),
            (9 * M + 59 * S, "9m59s"),
            (10 * M, "10m"),
            (10 * M + 30 * S, "10m"),
            (3 * H - M, "179m"),
            (3 * H, "3h"),
            (3 * H + 5 * M, "3h5m"),
            (8 * H - M, "7h59m"),
            (8 * H, "8h"),
            (8 * H + 59 * M, "8h"),
            (48 * H - S, "47h"),
            (48 * H, "2d"),
            (2 * D + 5 * H, "2d5h"),
            (8 * D - H, "7d23h"),
            (8 * D, "8d"),
            (2 * Y - D, "729d"),
            (2 * Y, "2y"),
            (2 * Y + 10 * D, "2y10d"),
            (8 * Y - D, "7y364d"),
            (8 * Y, "8y"),
            (8 * Y + 100 * D, "8y"),
        ];
        for &(secs, want) in cases {
            assert_eq!(human_duration_secs(secs), want, "{secs}s");
        }
    }

    #[test]
    fn human_durations_truncate_sub_second_skew_toward_zero() {
        assert_eq!(human_duration_nanos(-1_999_999_999), "0s");
        assert_eq!(human_duration_nanos(-2_000_000_000), "<invalid>");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m5s");
    }

    #[test]
    fn short_human_durations_use_a_single_unit() {
        let cases: &[(i64, &str)] = &[
            (-2 * S, "<invalid>"),
            (-S, "0s"),
            (0, "0s"),
            (59 * S, "59s"),
            (M, "1m"),
            (H - S, "59m"),
            (H, "1h"),
            (D - S, "23h"),
            (D, "1d"),
            (Y - S, "364d"),
            (Y, "1y"),
            (3 * Y + 200 * D, "3y"),
        ];
        for &(secs, want) in cases {
            assert_eq!(short_human_duration_secs(secs), want, "{secs}s");
        }
        assert_eq!(short_human_duration(Duration::from_secs(90)), "1m");
    }
}

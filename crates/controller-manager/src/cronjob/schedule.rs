//! Pure cron helpers (`pkg/controller/cronjob/utils.go`, §6): parsing a schedule (5 fields or a
//! descriptor, in `spec.timeZone`), the next time after an instant, the most recent missed
//! time, and a Job's name from its scheduled time. Cron patterns are evaluated by `croner` in
//! the zone through `jiff`, so DST gaps and folds follow the zone's rules — with one difference
//! from upstream's robfig/cron: a time that falls in a DST gap runs when the clock jumps
//! (OCPS, croner) instead of being skipped that day; a time in a fold runs once, at the first.

use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Upstream's limit before warning `TooManyMissedTimes`.
pub const MAX_MISSED: i64 = 100;

/// A parsed schedule.
#[derive(Clone, Debug)]
pub enum Schedule {
    /// A cron pattern evaluated in a time zone.
    Cron(Box<Cron>, TimeZone),
    /// `@every <duration>` (robfig's ConstantDelaySchedule): whole seconds, at least 1s.
    Every(Duration),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleError {
    /// `UnknownTimeZone`.
    UnknownTimeZone(String),
    /// `UnparseableSchedule`.
    Unparseable(String),
}

impl std::fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScheduleError::UnknownTimeZone(m) | ScheduleError::Unparseable(m) => f.write_str(m),
        }
    }
}

/// Parse `schedule` (with an optional `TZ=`/`CRON_TZ=` prefix) in `time_zone` (IANA, UTC when
/// unset). Returns also whether the schedule carried its own TZ prefix (`UnsupportedSchedule`).
pub fn parse(schedule: &str, time_zone: Option<&str>) -> Result<(Schedule, bool), ScheduleError> {
    let mut s = schedule.trim();
    let mut zone = time_zone.map(str::to_string);
    let mut tz_prefix = false;
    for p in ["TZ=", "CRON_TZ="] {
        if let Some(rest) = s.strip_prefix(p) {
            let (z, r) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            zone = Some(z.to_string());
            s = r.trim();
            tz_prefix = true;
        }
    }
    let tz = match zone.as_deref() {
        None | Some("") | Some("UTC") | Some("Etc/UTC") => TimeZone::UTC,
        Some("Local") => TimeZone::system(),
        Some(z) => TimeZone::get(z)
            .map_err(|_| ScheduleError::UnknownTimeZone(format!("invalid timeZone: {z:?}")))?,
    };
    let unparseable =
        |e: String| ScheduleError::Unparseable(format!("unparseable schedule: {schedule:?} : {e}"));
    if let Some(d) = s.strip_prefix("@every ") {
        let d = apimachinery::duration::parse_go(d.trim())
            .ok_or_else(|| unparseable("bad duration".into()))?;
        // robfig rounds the delay down to whole seconds, at least one.
        let secs = d.as_secs().max(1);
        return Ok((Schedule::Every(Duration::from_secs(secs)), tz_prefix));
    }
    if s.split_whitespace().count() != 5 && !s.starts_with('@') {
        return Err(unparseable(format!(
            "expected exactly 5 fields, found {}",
            s.split_whitespace().count()
        )));
    }
    let s = if s.eq_ignore_ascii_case("@midnight") {
        "@daily"
    } else {
        s
    };
    let cron = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(&s.replace('?', "*"))
        .map_err(|e| unparseable(e.to_string()))?;
    Ok((Schedule::Cron(Box::new(cron), tz), tz_prefix))
}

fn to_ts(t: SystemTime) -> Timestamp {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn from_ts(t: Timestamp) -> SystemTime {
    let s = t.as_second();
    if s >= 0 {
        UNIX_EPOCH + Duration::from_secs(s as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(s.unsigned_abs())
    }
}

impl Schedule {
    /// The first scheduled time strictly after `t` (robfig `Next`: `t` is truncated to whole
    /// seconds first).
    pub fn next(&self, t: SystemTime) -> Option<SystemTime> {
        match self {
            Schedule::Every(d) => {
                let whole = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
                Some(UNIX_EPOCH + Duration::from_secs(whole) + *d)
            }
            Schedule::Cron(cron, tz) => {
                let z = to_ts(t).to_zoned(tz.clone());
                let n = cron.find_next_occurrence(&z, false).ok()?;
                Some(from_ts(n.timestamp()))
            }
        }
    }

    /// The zone scheduled times are shown in (the annotation).
    pub fn zone(&self) -> TimeZone {
        match self {
            Schedule::Cron(_, tz) => tz.clone(),
            Schedule::Every(_) => TimeZone::UTC,
        }
    }
}

/// `mostRecentScheduleTime`: the latest schedule in `(earliest, now]` and how many were
/// missed. `earliest` is `lastScheduleTime ?? creationTimestamp`, raised to
/// `now - startingDeadlineSeconds` when that is set.
pub fn most_recent(
    s: &Schedule,
    earliest: SystemTime,
    now: SystemTime,
    starting_deadline: Option<i64>,
) -> (Option<SystemTime>, i64) {
    let mut earliest = earliest;
    if let Some(sds) = starting_deadline {
        let floor = now
            .checked_sub(Duration::from_secs(sds.max(0) as u64))
            .unwrap_or(UNIX_EPOCH);
        earliest = earliest.max(floor);
    }
    let Some(t1) = s.next(earliest) else {
        return (None, 0);
    };
    if now < t1 {
        return (None, 0);
    }
    let Some(t2) = s.next(t1) else {
        return (Some(t1), 1);
    };
    if now < t2 {
        return (Some(t1), 1);
    }
    let period = t2.duration_since(t1).unwrap_or_default().as_secs().max(1) as i64;
    let since = now.duration_since(t1).unwrap_or_default().as_secs() as i64;
    let missed = since / period + 1;
    // Walk forward to the last schedule <= now (exact for irregular schedules, e.g. across DST
    // or month ends); the jump bounds the walk for regular ones.
    let mut last = t1;
    if missed > 2 {
        let jump = UNIX_EPOCH
            + Duration::from_secs((to_ts(t1).as_second() + (missed - 2) * period).max(0) as u64);
        // The schedule at or before `jump` (the previous of the next after jump - 1s).
        if jump <= now {
            let probe = jump - Duration::from_secs(1);
            if let Some(n) = s.next(probe) {
                if n <= now {
                    last = n;
                }
            }
        }
    }
    let mut guard = 0;
    while let Some(n) = s.next(last) {
        if n > now || guard > 100_000 {
            break;
        }
        last = n;
        guard += 1;
    }
    (Some(last), missed)
}

/// `getJobName`: `<cronjob>-<scheduled time in Unix minutes>`.
pub fn job_name(cronjob: &str, scheduled: SystemTime) -> String {
    let mins = scheduled
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or(0);
    format!("{cronjob}-{mins}")
}

/// The `batch.kubernetes.io/cronjob-scheduled-timestamp` value: RFC 3339 in the zone.
pub fn scheduled_timestamp(s: &Schedule, scheduled: SystemTime) -> String {
    let z = to_ts(scheduled).to_zoned(s.zone());
    z.strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
        .replace("+00:00", "Z")
}

/// RFC 1123Z (`Mon, 02 Jan 2006 15:04:05 -0700`), as the MissSchedule message shows it.
pub fn rfc1123z(s: &Schedule, t: SystemTime) -> String {
    to_ts(t)
        .to_zoned(s.zone())
        .strftime("%a, %d %b %Y %H:%M:%S %z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SystemTime {
        from_ts(s.parse::<Timestamp>().unwrap())
    }

    fn iso(t: SystemTime) -> String {
        to_ts(t).to_string()
    }

    #[test]
    fn next_times_follow_patterns_and_descriptors() {
        let cases = [
            (
                "*/1 * * * *",
                None,
                "2026-11-27T10:00:30Z",
                "2026-11-27T10:01:00Z",
            ),
            (
                "*/1 * * * *",
                None,
                "2026-11-27T10:01:00Z",
                "2026-11-27T10:02:00Z",
            ),
            (
                "*/15 * * * *",
                None,
                "2026-11-27T10:16:00Z",
                "2026-11-27T10:30:00Z",
            ),
            (
                "@hourly",
                None,
                "2026-11-27T10:16:00Z",
                "2026-11-27T11:00:00Z",
            ),
            (
                "@daily",
                None,
                "2026-11-27T10:16:00Z",
                "2026-11-28T00:00:00Z",
            ),
            (
                "@midnight",
                None,
                "2026-11-27T10:16:00Z",
                "2026-11-28T00:00:00Z",
            ),
            (
                "@weekly",
                None,
                "2026-11-27T10:16:00Z",
                "2026-11-29T00:00:00Z",
            ),
            (
                "@monthly",
                None,
                "2026-11-27T10:16:00Z",
                "2026-12-01T00:00:00Z",
            ),
            (
                "@yearly",
                None,
                "2026-11-27T10:16:00Z",
                "2027-01-01T00:00:00Z",
            ),
            (
                "@every 1h30m",
                None,
                "2026-11-27T10:16:00Z",
                "2026-11-27T11:46:00Z",
            ),
            (
                "0 9 * * MON-FRI",
                None,
                "2026-11-27T10:00:00Z",
                "2026-11-30T09:00:00Z",
            ),
            (
                "0 0 1 JAN *",
                None,
                "2026-11-27T10:00:00Z",
                "2027-01-01T00:00:00Z",
            ),
            (
                "30 2 * * *",
                Some("Europe/Berlin"),
                "2026-11-27T10:00:00Z",
                "2026-11-28T01:30:00Z",
            ),
            (
                "0 9 * * *",
                Some("America/New_York"),
                "2026-07-01T00:00:00Z",
                "2026-07-01T13:00:00Z",
            ),
            // DST starts in New York on 2026-03-08 at 02:00: 02:30 does not exist that day, and
            // croner (OCPS) runs it when the clock jumps, at 03:00 EDT (robfig skips the day).
            (
                "30 2 * * *",
                Some("America/New_York"),
                "2026-03-08T05:00:00Z",
                "2026-03-08T07:00:00Z",
            ),
            (
                "30 2 * * *",
                Some("America/New_York"),
                "2026-03-08T07:00:00Z",
                "2026-03-09T06:30:00Z",
            ),
            // DST ends on 2026-11-01: 01:30 happens twice; it runs once, at the first.
            (
                "30 1 * * *",
                Some("America/New_York"),
                "2026-11-01T04:00:00Z",
                "2026-11-01T05:30:00Z",
            ),
            (
                "30 1 * * *",
                Some("America/New_York"),
                "2026-11-01T05:30:00Z",
                "2026-11-02T06:30:00Z",
            ),
        ];
        for (sched, tz, from, want) in cases {
            let (s, _) = parse(sched, tz).unwrap();
            assert_eq!(
                iso(s.next(at(from)).unwrap()),
                want,
                "{sched} {tz:?} after {from}"
            );
        }
    }

    #[test]
    fn bad_schedules_and_zones_are_reported() {
        assert!(matches!(
            parse("* * * *", None),
            Err(ScheduleError::Unparseable(_))
        ));
        assert!(matches!(
            parse("61 * * * *", None),
            Err(ScheduleError::Unparseable(_))
        ));
        assert!(matches!(
            parse("* * * * *", Some("Mars/Olympus")),
            Err(ScheduleError::UnknownTimeZone(_))
        ));
        assert!(parse("TZ=Europe/Paris 0 1 * * *", None).unwrap().1);
    }

    #[test]
    fn the_most_recent_missed_time_is_the_last_schedule_not_after_now() {
        let (s, _) = parse("*/1 * * * *", None).unwrap();
        let created = at("2026-11-27T10:00:10Z");
        assert_eq!(
            most_recent(&s, created, at("2026-11-27T10:00:50Z"), None),
            (None, 0)
        );
        let (t, n) = most_recent(&s, created, at("2026-11-27T10:01:05Z"), None);
        assert_eq!((iso(t.unwrap()), n), ("2026-11-27T10:01:00Z".into(), 1));
        let (t, n) = most_recent(&s, created, at("2026-11-27T10:05:00Z"), None);
        assert_eq!((iso(t.unwrap()), n), ("2026-11-27T10:05:00Z".into(), 5));
        let (t, n) = most_recent(&s, created, at("2026-11-27T13:00:30Z"), None);
        assert_eq!((iso(t.unwrap()), n), ("2026-11-27T13:00:00Z".into(), 180));
        // startingDeadlineSeconds bounds how far back it looks.
        let (t, n) = most_recent(&s, created, at("2026-11-27T13:00:30Z"), Some(200));
        assert_eq!((iso(t.unwrap()), n), ("2026-11-27T13:00:00Z".into(), 3));
        let (s, _) = parse("0 0 1 * *", None).unwrap();
        let (t, _) = most_recent(
            &s,
            at("2026-01-15T00:00:00Z"),
            at("2026-06-20T00:00:00Z"),
            None,
        );
        assert_eq!(iso(t.unwrap()), "2026-06-01T00:00:00Z");
    }

    #[test]
    fn job_names_and_annotations_come_from_the_scheduled_time() {
        let t = at("2026-11-27T10:01:00Z");
        assert_eq!(
            job_name("hello", t),
            format!("hello-{}", 1_795_773_660 / 60)
        );
        let (s, _) = parse("* * * * *", None).unwrap();
        assert_eq!(scheduled_timestamp(&s, t), "2026-11-27T10:01:00Z");
        let (s, _) = parse("* * * * *", Some("Europe/Berlin")).unwrap();
        assert_eq!(scheduled_timestamp(&s, t), "2026-11-27T11:01:00+01:00");
        assert_eq!(rfc1123z(&s, t), "Fri, 27 Nov 2026 11:01:00 +0100");
    }
}

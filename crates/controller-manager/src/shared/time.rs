//! Conversions between `SystemTime` (what the `Clock` seam gives) and the API's `metav1.Time`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `metav1.Time` for `t`, truncated to whole seconds as the API serializes it.
pub fn to_time(t: SystemTime) -> Time {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Time(Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH))
}

pub fn from_time(t: &Time) -> SystemTime {
    let secs = t.0.as_second();
    let nanos = t.0.subsec_nanosecond().max(0) as u32;
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nanos)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_at_second_precision() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_811_480_750);
        assert_eq!(
            from_time(&to_time(t)),
            UNIX_EPOCH + Duration::from_secs(1_795_811_480)
        );
    }
}

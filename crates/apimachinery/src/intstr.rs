//! Int-or-percent values (`maxSurge: 25%`, `maxUnavailable: 1`) resolved against a total, as
//! `k8s.io/apimachinery/pkg/util/intstr.GetScaledValueFromIntOrPercent` does.

use serde_json::Value;

use crate::gofmt::go_quote;

/// Resolves an IntOrString JSON value against `total`: a number is returned as is, a
/// `"N%"` string is `N * total / 100` rounded up or down. Errors carry upstream's text, e.g.
/// `invalid value for IntOrString: invalid type: string is not a percentage`.
pub fn scaled_value_from_int_or_percent(
    int_or_percent: &Value,
    total: i32,
    round_up: bool,
) -> Result<i32, String> {
    let value = match int_or_percent {
        Value::Null => return Err("nil value for IntOrString".to_string()),
        Value::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => return Ok(i),
            None => {
                return Err(format!(
                    "invalid value for IntOrString: json: cannot unmarshal number {n} into Go value of type int32"
                ))
            }
        },
        Value::String(s) => s,
        _ => {
            return Err(
                "invalid value for IntOrString: invalid type: neither int nor percentage"
                    .to_string(),
            )
        }
    };
    let Some(digits) = value.strip_suffix('%') else {
        return Err(
            "invalid value for IntOrString: invalid type: string is not a percentage".to_string(),
        );
    };
    let percent = go_atoi(digits).map_err(|e| {
        format!(
            "invalid value for IntOrString: invalid value {}: {e}",
            go_quote(value)
        )
    })?;
    let scaled = percent as f64 * total as f64 / 100.0;
    let rounded = if round_up {
        scaled.ceil()
    } else {
        scaled.floor()
    };
    Ok(saturate_i32(rounded))
}

/// Rounds half away from zero to the nearest `i32`, saturating (upstream's `math.Round` then
/// `int32` conversion for in-range values).
pub fn round_to_i32(value: f64) -> i32 {
    saturate_i32(value.round())
}

fn saturate_i32(value: f64) -> i32 {
    if value.is_nan() {
        0
    } else if value >= i32::MAX as f64 {
        i32::MAX
    } else if value <= i32::MIN as f64 {
        i32::MIN
    } else {
        value as i32
    }
}

/// Go's `strconv.Atoi` on a 64-bit platform, with its error text.
fn go_atoi(s: &str) -> Result<i64, String> {
    let syntax = || format!("strconv.Atoi: parsing {}: invalid syntax", go_quote(s));
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go_quote(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn int_or_percent_values_scale_like_upstream() {
        let cases: Vec<(Value, i32, bool, Result<i32, &str>)> = vec![
            (json!(5), 10, true, Ok(5)),
            (json!(0), 10, false, Ok(0)),
            (json!("25%"), 10, true, Ok(3)),
            (json!("25%"), 10, false, Ok(2)),
            (json!("100%"), 7, false, Ok(7)),
            (json!("0%"), 7, true, Ok(0)),
            (json!("50%"), 3, true, Ok(2)),
            (json!("50%"), 3, false, Ok(1)),
            (json!("+10%"), 10, false, Ok(1)),
            (json!("-10%"), 10, false, Ok(-1)),
            (json!("150%"), 4, false, Ok(6)),
            (
                json!("25"),
                10,
                true,
                Err("invalid value for IntOrString: invalid type: string is not a percentage"),
            ),
            (
                json!("abc%"),
                10,
                true,
                Err("invalid value for IntOrString: invalid value \"abc%\": strconv.Atoi: parsing \"abc\": invalid syntax"),
            ),
            (
                json!("%"),
                10,
                true,
                Err("invalid value for IntOrString: invalid value \"%\": strconv.Atoi: parsing \"\": invalid syntax"),
            ),
            (
                json!("99999999999999999999%"),
                10,
                true,
                Err("invalid value for IntOrString: invalid value \"99999999999999999999%\": strconv.Atoi: parsing \"99999999999999999999\": value out of range"),
            ),
            (json!(null), 10, true, Err("nil value for IntOrString")),
            (
                json!(true),
                10,
                true,
                Err("invalid value for IntOrString: invalid type: neither int nor percentage"),
            ),
        ];
        for (input, total, round_up, want) in cases {
            let got = scaled_value_from_int_or_percent(&input, total, round_up);
            assert_eq!(
                got,
                want.map_err(str::to_string),
                "{input} of {total} up={round_up}"
            );
        }
    }

    #[test]
    fn rounding_goes_half_away_from_zero() {
        let cases = [
            (0.0, 0),
            (0.4, 0),
            (0.5, 1),
            (1.5, 2),
            (2.5, 3),
            (-0.5, -1),
            (-1.4, -1),
            (1e12, i32::MAX),
            (-1e12, i32::MIN),
        ];
        for (input, want) in cases {
            assert_eq!(round_to_i32(input), want, "{input}");
        }
    }
}

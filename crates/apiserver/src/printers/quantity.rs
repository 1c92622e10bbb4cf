//! `resource.Quantity` in its canonical string form (`Quantity.String()`), as the PV and
//! PVC CAPACITY columns print it: `1024Mi` → `1Gi`, `1.5Gi` → `1536Mi`, `1000` → `1k`,
//! `0.5` → `500m`, `1e4` → `10e3`, `0.1Ki` → `102400m`. Values are exact (i128 decimal
//! mantissa and exponent) and rounded up to the nano unit as the parser does.

/// The suffix family a quantity was written with, which its canonical form keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

/// `value = mantissa × 10^exponent`.
#[derive(Clone, Copy, Debug)]
struct Decimal {
    mantissa: i128,
    exponent: i32,
}

/// The canonical form of a quantity string; a string that does not parse is returned as is.
pub fn canonical(s: &str) -> String {
    parse(s)
        .and_then(|(d, f)| format(d, f))
        .unwrap_or_else(|| s.to_string())
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// `ParseQuantity`: sign, digits with an optional fraction, then a suffix (`Ki`…`Ei`,
/// `n u m k M G T P E`, or an `e`/`E` exponent).
fn parse(s: &str) -> Option<(Decimal, Format)> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let int_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (int_digits, rest) = rest.split_at(int_end);
    let (frac_digits, suffix) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            r.split_at(end)
        }
        None => ("", rest),
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let (base2_exp, base10_exp, mut format) = match suffix {
        "" => (0, 0, Format::DecimalSI),
        "n" => (0, -9, Format::DecimalSI),
        "u" => (0, -6, Format::DecimalSI),
        "m" => (0, -3, Format::DecimalSI),
        "k" => (0, 3, Format::DecimalSI),
        "M" => (0, 6, Format::DecimalSI),
        "G" => (0, 9, Format::DecimalSI),
        "T" => (0, 12, Format::DecimalSI),
        "P" => (0, 15, Format::DecimalSI),
        "E" => (0, 18, Format::DecimalSI),
        "Ki" => (10, 0, Format::BinarySI),
        "Mi" => (20, 0, Format::BinarySI),
        "Gi" => (30, 0, Format::BinarySI),
        "Ti" => (40, 0, Format::BinarySI),
        "Pi" => (50, 0, Format::BinarySI),
        "Ei" => (60, 0, Format::BinarySI),
        e if e.starts_with(['e', 'E']) => {
            let n = &e[1..];
            let digits = n.strip_prefix(['+', '-']).unwrap_or(n);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (0, n.parse::<i32>().ok()?, Format::DecimalExponent)
        }
        _ => return None,
    };
    let digits = format!("{int_digits}{frac_digits}");
    let mut mantissa: i128 = digits.parse().ok()?;
    mantissa = mantissa.checked_mul(1i128.checked_shl(base2_exp)?)?;
    if negative {
        mantissa = -mantissa;
    }
    let mut d = Decimal {
        mantissa,
        exponent: base10_exp - i32::try_from(frac_digits.len()).ok()?,
    };
    // A binary quantity strictly between 0 and 1 is shown in decimal.
    if format == Format::BinarySI && d.mantissa > 0 && !at_least(d, 1)? {
        format = Format::DecimalSI;
    }
    // Non-zero values round up (away from zero) to the nano unit.
    if d.exponent < -9 {
        let div = pow10(u32::try_from(-9 - d.exponent).ok()?)?;
        let q = d.mantissa / div;
        let r = d.mantissa % div;
        d.mantissa = q + r.signum();
        d.exponent = -9;
    }
    Some((d, format))
}

/// Whether |d| ≥ n.
fn at_least(d: Decimal, n: i128) -> Option<bool> {
    let m = d.mantissa.abs();
    Some(if d.exponent >= 0 {
        m.checked_mul(pow10(d.exponent as u32)?)
            .is_none_or(|v| v >= n)
    } else {
        m >= n.checked_mul(pow10(d.exponent.unsigned_abs())?)?
    })
}

/// The value as an integer, when it is one.
fn as_integer(d: Decimal) -> Option<i128> {
    if d.exponent >= 0 {
        d.mantissa.checked_mul(pow10(d.exponent as u32)?)
    } else {
        let div = pow10(d.exponent.unsigned_abs())?;
        (d.mantissa % div == 0).then(|| d.mantissa / div)
    }
}

/// Strip factors of `base` from `value`, counting them (`removeInt64Factors`).
fn remove_factors(value: i128, base: i128) -> (i128, i32) {
    let (mut v, mut times) = (value.abs(), 0);
    while v >= base && v % base == 0 {
        v /= base;
        times += 1;
    }
    (if value < 0 { -v } else { v }, times)
}

/// `CanonicalizeBytes`.
fn format(d: Decimal, mut format: Format) -> Option<String> {
    if d.mantissa == 0 {
        return Some("0".into());
    }
    if format == Format::BinarySI {
        // Small or fractional binary quantities are shown in decimal (no rounding).
        match as_integer(d) {
            Some(i) if i.abs() >= 1024 => {
                let (m, times) = remove_factors(i, 1024);
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].get(times as usize)?;
                return Some(format!("{m}{suffix}"));
            }
            _ => format = Format::DecimalSI,
        }
    }
    let (mut m, times) = remove_factors(d.mantissa, 10);
    let mut exponent = d.exponent + times;
    while exponent % 3 != 0 {
        m = m.checked_mul(10)?;
        exponent -= 1;
    }
    let suffix = match (format, exponent) {
        (_, 0) => String::new(),
        (Format::DecimalSI, -9) => "n".into(),
        (Format::DecimalSI, -6) => "u".into(),
        (Format::DecimalSI, -3) => "m".into(),
        (Format::DecimalSI, 3) => "k".into(),
        (Format::DecimalSI, 6) => "M".into(),
        (Format::DecimalSI, 9) => "G".into(),
        (Format::DecimalSI, 12) => "T".into(),
        (Format::DecimalSI, 15) => "P".into(),
        (Format::DecimalSI, 18) => "E".into(),
        (_, e) => format!("e{e}"),
    };
    Some(format!("{m}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn quantities_print_in_canonical_form() {
        let cases = [
            ("1Gi", "1Gi"),
            ("10Gi", "10Gi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("2048Ki", "2Mi"),
            ("1Ki", "1Ki"),
            ("512Ki", "512Ki"),
            ("0.1Ki", "102400m"),
            ("0.5Ki", "512"),
            ("100", "100"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("1G", "1G"),
            ("1.5G", "1500M"),
            ("1000M", "1G"),
            ("500Mi", "500Mi"),
            ("100m", "100m"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("0", "0"),
            ("0Gi", "0"),
            ("1e3", "1e3"),
            ("1e4", "10e3"),
            ("1E6", "1e6"),
            ("12e0", "12"),
            ("-1Gi", "-1Gi"),
            ("+2Gi", "2Gi"),
            ("0.0000000001", "1n"),
            ("1Ei", "1Ei"),
        ];
        for (input, want) in cases {
            assert_eq!(canonical(input), want, "{input}");
        }
    }

    #[test]
    fn strings_that_are_not_quantities_print_as_given() {
        for s in ["", "abc", "1Gb", ".", "1e", "Gi"] {
            assert_eq!(canonical(s), s);
        }
    }
}

//! Table-driven decoding of messages into JSON, and the special encodings.

use crate::error::{Error, ErrorKind};
use crate::schema::MESSAGES;
use crate::table::{Card, Field, Kind, Message, Special, Ty};
use crate::wire::{Reader, FIXED64, LEN, VARINT};
use base64::Engine as _;
use serde_json::{Map, Value};

/// How deep messages may nest (Kubernetes objects stay far below this).
const MAX_DEPTH: usize = 100;

/// The parts of a `runtime.Unknown` envelope.
pub struct Unknown<'a> {
    pub api_version: String,
    pub kind: String,
    pub raw: &'a [u8],
    pub content_encoding: String,
}

pub fn unknown(buf: &[u8]) -> Result<Unknown<'_>, Error> {
    let mut u = Unknown {
        api_version: String::new(),
        kind: String::new(),
        raw: &[],
        content_encoding: String::new(),
    };
    let mut r = Reader::new(buf);
    while !r.done() {
        let (num, wt) = r.key()?;
        match (num, wt) {
            (1, LEN) => {
                let mut tm = Reader::new(r.len_delimited()?);
                while !tm.done() {
                    let (n, w) = tm.key()?;
                    match (n, w) {
                        (1, LEN) => u.api_version = string(tm.len_delimited()?)?,
                        (2, LEN) => u.kind = string(tm.len_delimited()?)?,
                        (1 | 2, w) => return Err(bad_wire(w, "length-delimited")),
                        _ => tm.skip(w)?,
                    }
                }
            }
            (2, LEN) => u.raw = r.len_delimited()?,
            (3, LEN) => u.content_encoding = string(r.len_delimited()?)?,
            (4, LEN) => r.skip(LEN)?, // contentType: the object is always protobuf here
            (1..=4, w) => return Err(bad_wire(w, "length-delimited")),
            _ => r.skip(wt)?,
        }
    }
    Ok(u)
}

/// Decode `buf` as `msg` into a JSON value.
pub fn message_value(buf: &[u8], msg: &'static Message, depth: usize) -> Result<Value, Error> {
    match msg.kind {
        Kind::Plain => {
            let mut out = Map::new();
            message_into(buf, msg, &mut out, depth)?;
            Ok(Value::Object(out))
        }
        Kind::Special(s) => special(buf, s),
    }
}

/// Decode `buf` as the plain message `msg`, adding its fields to `out`.
pub fn message_into(
    buf: &[u8],
    msg: &'static Message,
    out: &mut Map<String, Value>,
    depth: usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::new(ErrorKind::TooDeep));
    }
    let mut r = Reader::new(buf);
    while !r.done() {
        let (num, wt) = r.key()?;
        match msg.field(num) {
            Some(field) => field_into(&mut r, field, wt, out, depth)?,
            None => r.skip(wt)?,
        }
    }
    Ok(())
}

fn field_into(
    r: &mut Reader<'_>,
    field: &'static Field,
    wt: u8,
    out: &mut Map<String, Value>,
    depth: usize,
) -> Result<(), Error> {
    let name = field.json;
    match field.card {
        Card::Inline => {
            expect(wt, LEN)?;
            let Ty::Msg(i) = field.ty else {
                unreachable!("inline fields are messages")
            };
            message_into(r.len_delimited()?, &MESSAGES[i as usize], out, depth + 1)
        }
        Card::One => {
            if let Ty::Msg(i) = field.ty {
                let msg = &MESSAGES[i as usize];
                if msg.kind == Kind::Plain {
                    expect(wt, LEN).map_err(|e| e.within(name))?;
                    let bytes = r.len_delimited().map_err(|e| e.within(name))?;
                    // A repeated occurrence of a message field merges into the earlier one.
                    let slot = out
                        .entry(name.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if !slot.is_object() {
                        *slot = Value::Object(Map::new());
                    }
                    let Value::Object(m) = slot else {
                        unreachable!()
                    };
                    return message_into(bytes, msg, m, depth + 1).map_err(|e| e.within(name));
                }
            }
            let v = single(r, field.ty, wt, depth).map_err(|e| e.within(name))?;
            if !field.keep_zero && is_zero(field.ty, &v) {
                out.remove(name);
            } else {
                out.insert(name.to_string(), v);
            }
            Ok(())
        }
        Card::Rep => {
            let arr = match out
                .entry(name.to_string())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(a) => a,
                other => {
                    *other = Value::Array(Vec::new());
                    other.as_array_mut().expect("array")
                }
            };
            let packable = !matches!(field.ty, Ty::Str | Ty::Bytes | Ty::Msg(_));
            if packable && wt == LEN {
                let mut p = Reader::new(r.len_delimited().map_err(|e| e.within(name))?);
                while !p.done() {
                    let wt = if field.ty == Ty::F64 { FIXED64 } else { VARINT };
                    let v = single(&mut p, field.ty, wt, depth)
                        .map_err(|e| e.within(format!("[{}]", arr.len())).within(name))?;
                    arr.push(v);
                }
                return Ok(());
            }
            let v = single(r, field.ty, wt, depth)
                .map_err(|e| e.within(format!("[{}]", arr.len())).within(name))?;
            arr.push(v);
            Ok(())
        }
        Card::Map => {
            expect(wt, LEN).map_err(|e| e.within(name))?;
            let entry = r.len_delimited().map_err(|e| e.within(name))?;
            let (k, v) = map_entry(entry, field.ty, depth).map_err(|e| e.within(name))?;
            match out
                .entry(name.to_string())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                Value::Object(m) => {
                    m.insert(k, v);
                }
                other => *other = Value::Object(Map::from_iter([(k, v)])),
            }
            Ok(())
        }
    }
}

/// One value of type `ty` with wire type `wt`.
fn single(r: &mut Reader<'_>, ty: Ty, wt: u8, depth: usize) -> Result<Value, Error> {
    Ok(match ty {
        Ty::I32 => {
            expect(wt, VARINT)?;
            Value::from(r.varint()? as i64 as i32)
        }
        Ty::I64 => {
            expect(wt, VARINT)?;
            Value::from(r.varint()? as i64)
        }
        Ty::Bool => {
            expect(wt, VARINT)?;
            Value::Bool(r.varint()? != 0)
        }
        Ty::F64 => {
            expect(wt, FIXED64)?;
            let f = f64::from_bits(r.fixed64()?);
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
        Ty::Str => {
            expect(wt, LEN)?;
            Value::String(string(r.len_delimited()?)?)
        }
        Ty::Bytes => {
            expect(wt, LEN)?;
            Value::String(base64::engine::general_purpose::STANDARD.encode(r.len_delimited()?))
        }
        Ty::Msg(i) => {
            expect(wt, LEN)?;
            message_value(r.len_delimited()?, &MESSAGES[i as usize], depth + 1)?
        }
    })
}

/// A `map<string, T>` entry: key 1, value 2 (a missing value is the type's zero value).
fn map_entry(buf: &[u8], ty: Ty, depth: usize) -> Result<(String, Value), Error> {
    let mut key = String::new();
    let mut value = None;
    let mut r = Reader::new(buf);
    while !r.done() {
        let (num, wt) = r.key()?;
        match num {
            1 => {
                expect(wt, LEN)?;
                key = string(r.len_delimited()?)?;
            }
            2 => {
                value = Some(
                    single(&mut r, ty, wt, depth).map_err(|e| e.within(format!("[{key:?}]")))?,
                )
            }
            _ => r.skip(wt)?,
        }
    }
    let value = match value {
        Some(v) => v,
        None => match ty {
            Ty::Msg(i) => message_value(&[], &MESSAGES[i as usize], depth + 1)?,
            Ty::Str | Ty::Bytes => Value::String(String::new()),
            Ty::Bool => Value::Bool(false),
            Ty::I32 | Ty::I64 => Value::from(0),
            Ty::F64 => Value::from(0.0),
        },
    };
    Ok((key, value))
}

/// Go's `omitempty` zero values (scalars and int-or-string).
fn is_zero(ty: Ty, v: &Value) -> bool {
    let scalar = match ty {
        Ty::Msg(i) => MESSAGES[i as usize].kind == Kind::Special(Special::IntOrString),
        _ => true,
    };
    scalar
        && match v {
            Value::String(s) => s.is_empty(),
            Value::Bool(b) => !b,
            Value::Number(n) => n.as_f64() == Some(0.0),
            _ => false,
        }
}

fn special(buf: &[u8], s: Special) -> Result<Value, Error> {
    // Every special message has at most fields 1..=3 of simple types; read them generically.
    let mut ints = [0i64; 3];
    let mut bytes: [&[u8]; 3] = [&[], &[], &[]];
    let mut r = Reader::new(buf);
    while !r.done() {
        let (num, wt) = r.key()?;
        let idx = num as usize - 1;
        let want_len = matches!(
            (s, num),
            (Special::IntOrString, 3)
                | (
                    Special::Quantity | Special::FieldsV1 | Special::RawExtension,
                    1
                )
        );
        if idx >= 3 || (s != Special::IntOrString && num > 2) {
            r.skip(wt)?;
        } else if want_len {
            expect(wt, LEN)?;
            bytes[idx] = r.len_delimited()?;
        } else if matches!(
            s,
            Special::Quantity | Special::FieldsV1 | Special::RawExtension
        ) {
            r.skip(wt)?;
        } else {
            expect(wt, VARINT)?;
            ints[idx] = r.varint()? as i64;
        }
    }
    Ok(match s {
        Special::Time | Special::MicroTime => {
            // Go marshals the zero time as an empty message; its JSON is null.
            const GO_ZERO_SECONDS: i64 = -62_135_596_800;
            let (secs, nanos) = (ints[0], ints[1] as i32);
            if buf.is_empty() || (secs == GO_ZERO_SECONDS && nanos == 0) {
                Value::Null
            } else {
                Value::String(rfc3339(secs, nanos, s == Special::MicroTime))
            }
        }
        Special::Duration => Value::String(go_duration(ints[0])),
        Special::IntOrString => {
            if ints[0] == 1 {
                Value::String(string(bytes[2])?)
            } else {
                Value::from(ints[1] as i32)
            }
        }
        Special::Quantity => {
            let q = string(bytes[0])?;
            Value::String(if q.is_empty() { "0".into() } else { q })
        }
        Special::FieldsV1 | Special::RawExtension => {
            if bytes[0].is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(bytes[0])
                    .map_err(|e| Error::new(ErrorKind::InvalidJson(e.to_string())))?
            }
        }
    })
}

fn string(b: &[u8]) -> Result<String, Error> {
    String::from_utf8(b.to_vec()).map_err(|_| Error::new(ErrorKind::InvalidUtf8))
}

fn expect(wt: u8, want: u8) -> Result<(), Error> {
    if wt == want {
        Ok(())
    } else {
        Err(bad_wire(
            wt,
            match want {
                VARINT => "varint",
                FIXED64 => "fixed64",
                LEN => "length-delimited",
                _ => "fixed32",
            },
        ))
    }
}

fn bad_wire(wire_type: u8, expected: &'static str) -> Error {
    Error::new(ErrorKind::BadWireType {
        wire_type,
        expected,
    })
}

/// `2006-01-02T15:04:05Z` (Go's RFC3339 in UTC), or with `.000000` microseconds.
pub fn rfc3339(secs: i64, nanos: i32, micros: bool) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, sod / 60 % 60, sod % 60);
    if micros {
        let us = nanos.clamp(0, 999_999_999) / 1000;
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{us:06}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5s`, `300ms`, `2µs`, `0s`.
pub fn go_duration(ns: i64) -> String {
    let neg = ns < 0;
    let mut u = ns.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        if u == 0 {
            return "0s".into();
        }
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (frac, rest) = fraction(u, prec);
        out = format!("{rest}{frac}{unit}");
    } else {
        let (frac, rest) = fraction(u, 9);
        u = rest;
        let secs = format!("{}{frac}s", u % 60);
        u /= 60;
        if u > 0 {
            let mins = u % 60;
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&format!("{mins}m"));
        }
        out.push_str(&secs);
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// The fraction `v / 10^prec` as `.ddd` without trailing zeros (empty when zero), and the
/// integer part.
fn fraction(mut v: u64, prec: u32) -> (String, u64) {
    let mut digits = Vec::new();
    let mut print = false;
    for _ in 0..prec {
        let d = (v % 10) as u8;
        print = print || d != 0;
        if print {
            digits.push(b'0' + d);
        }
        v /= 10;
    }
    if print {
        digits.push(b'.');
    }
    digits.reverse();
    (String::from_utf8(digits).expect("ascii"), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(rfc3339(0, 0, false), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_323_045, 999, false), "2026-01-02T03:04:05Z");
        assert_eq!(
            rfc3339(1_767_323_045, 123_456_789, true),
            "2026-01-02T03:04:05.123456Z"
        );
        assert_eq!(rfc3339(951_782_400, 0, false), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1, 0, false), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn durations() {
        let s = 1_000_000_000i64;
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(1), "1ns");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(300_000_000), "300ms");
        assert_eq!(go_duration(s), "1s");
        assert_eq!(go_duration(90 * s), "1m30s");
        assert_eq!(go_duration(3600 * s), "1h0m0s");
        assert_eq!(go_duration(3723 * s + s / 2), "1h2m3.5s");
        assert_eq!(go_duration(-5 * s), "-5s");
    }
}
